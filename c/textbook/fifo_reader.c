/*
 * fifo_reader.c - the tutorial's named-pipe reader, reconstructed from the tutorial and kept
 * with its bugs, as a student finds it (the bugs are fixed in c/fifo_reader.c; the Rust port
 * is crates/fifo/examples/fifo_reader.rs). Start it first: it makes /tmp/my_fifo.
 *
 * It prints what each read() returned, printf("Data From Named Pipe Is: %s", buf), with no
 * newline of its own: the writer's fgets kept one. It stops at a text that starts with "end"
 * or when every writer has closed the FIFO, then removes it.
 *
 * Its bugs, kept on purpose: mode 0666, so every user may write into (or read from) the FIFO
 * (and mkfifo's failure is not checked); one read() is taken as one message, so two texts that
 * arrived together print as one, and from "hello\n\0world\n\0" printf shows only "hello\n";
 * Ctrl-C, the usual way to stop it, leaves the FIFO in /tmp; open() is not checked.
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
    int fd, n;
    char buf[100];

    if (mkfifo(FIFO_NAME, 0666) == 0)
        printf("Fifo Created Successfully...\n");
    fd = open(FIFO_NAME, O_RDONLY);
    while ((n = read(fd, buf, sizeof(buf) - 1)) > 0) {
        buf[n] = '\0';
        printf("Data From Named Pipe Is: %s", buf);
        if (strncmp(buf, "end", 3) == 0)
            break;
    }
    close(fd);
    unlink(FIFO_NAME);
    return 0;
}
