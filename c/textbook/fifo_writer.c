/*
 * fifo_writer.c - the tutorial's named-pipe writer, reconstructed from the tutorial and kept
 * with its bugs, as a student finds it (the bugs are fixed in c/fifo_writer.c; the Rust port
 * is crates/fifo/examples/fifo_writer.rs). Start fifo_reader first: it makes /tmp/my_fifo.
 *
 * Each line typed is written with fgets' newline AND the NUL after it,
 * write(fd, buf, strlen(buf) + 1): "hello\n\0". The reader prints it with printf("%s"), which
 * stops at that NUL. The line that starts with "end" is written too, then the writer stops.
 *
 * Its bugs, kept on purpose: fgets returning NULL (end of input) is not checked, so without a
 * last "end" line it writes the previous line again and again until the reader goes away (and
 * SIGPIPE kills it silently); open() and write() are not checked.
 */
#include<stdio.h>
#include<stdlib.h>
#include<string.h>
#include<fcntl.h>
#include<unistd.h>
#include<sys/types.h>
#include<sys/stat.h>

#define FIFO_NAME "/tmp/my_fifo"

int main()
{
    int fd;
    char buf[100];

    if (access(FIFO_NAME, W_OK) == -1) {
        perror(FIFO_NAME);
        exit(1);
    }
    printf("File Permissions Are OK\n");
    fd = open(FIFO_NAME, O_WRONLY);
    while (1) {
        printf("Enter Data To Be Written..\n");
        fgets(buf, sizeof(buf), stdin);
        write(fd, buf, strlen(buf) + 1);
        printf("Written Successfully...\n");
        if (strncmp(buf, "end", 3) == 0)
            break;
    }
    close(fd);
    return 0;
}
