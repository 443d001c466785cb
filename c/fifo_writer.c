/*
 * fifo_writer.c - the tutorial's named-pipe writer: opens the FIFO the reader made and writes
 * each line typed.
 *
 * Calls: access(path, W_OK); lstat() (is it a FIFO?); open(path, O_WRONLY) (blocks until the
 * reader has it open); write(); close().
 *
 * Usage:  ./build/fifo_writer [-p PATH]        (default /tmp/my_fifo)
 * Other end (start it first, it creates the FIFO): ./build/fifo_reader [-p PATH].
 *   Terminal 1: ./build/fifo_reader        Terminal 2: ./build/fifo_writer
 * The line `end`, or the end of input (Ctrl-D), ends both.
 * Rust port: fifo-sender (crates/fifo).
 *
 * Classic bugs fixed (look for "FIX"): scanf("%s") into a fixed buffer (overflow, stops at a
 * space) -> fgets with a bound; write(fd, buf, sizeof buf) wrote garbage after the text ->
 * exactly the line plus its newline, looping over partial writes; a reader that went away
 * killed the writer silently with SIGPIPE -> we ignore SIGPIPE and report EPIPE.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define LINE_SIZE 4096

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static void usage(const char *prog)
{
    fprintf(stderr, "usage: %s [-p PATH]   (default /tmp/my_fifo)\n", prog);
    exit(2);
}

/* Writes all of buf: write() may move fewer bytes than asked. */
static void write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("write");
        }
        buf += n;
        len -= (size_t)n;
    }
}

int main(int argc, char *argv[])
{
    const char *fifo_path = "/tmp/my_fifo";
    char line[LINE_SIZE];
    struct stat st;
    int opt, fd, ended = 0;

    while ((opt = getopt(argc, argv, "p:")) != -1) {
        if (opt == 'p')
            fifo_path = optarg;
        else
            usage(argv[0]);
    }
    if (optind != argc)
        usage(argv[0]);

    /* FIX: a vanished reader gives EPIPE from write(), reported, instead of a silent death. */
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
        die("signal");

    if (access(fifo_path, W_OK) < 0) {
        perror(fifo_path);
        fprintf(stderr, "hint: start fifo_reader first (it creates the FIFO)\n");
        exit(1);
    }
    if (lstat(fifo_path, &st) < 0)
        die("lstat");
    if (!S_ISFIFO(st.st_mode)) {
        fprintf(stderr, "%s is not a FIFO: choose another path with -p\n", fifo_path);
        exit(1);
    }
    fprintf(stderr, "File Permissions Are OK\n");

    fd = open(fifo_path, O_WRONLY); /* blocks until the reader opens its end */
    if (fd < 0)
        die("open");

    while (!ended) {
        size_t len;

        fprintf(stderr, "Enter Data To Be Written..\n");
        /* FIX: fgets is bounded by sizeof line; scanf("%s") was not. */
        if (fgets(line, sizeof line, stdin) == NULL) {
            if (ferror(stdin))
                die("reading standard input");
            strcpy(line, "end"); /* end of input: tell the reader we are done */
        }
        len = strcspn(line, "\n");
        line[len] = '\0';
        ended = strcmp(line, "end") == 0;
        /* FIX: write the text and its newline (the message boundary), not sizeof(line). */
        line[len] = '\n';
        write_all(fd, line, len + 1);
        fprintf(stderr, "Written Successfully...\n");
    }
    if (close(fd) < 0)
        die("close");
    return 0;
}
