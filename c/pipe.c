/*
 * pipe.c - the tutorial's pipe program: one pipe, one fork, the parent writes a line and the
 * child reads it.
 *
 * Calls, in order: pipe(fds); fork(); parent: close(fds[0]), write(fds[1]), close(fds[1]),
 * waitpid(); child: close(fds[1]), read(fds[0]) until end-of-file, close(fds[0]).
 *
 * Usage:  ./build/pipe            (type one line)
 *         echo "Hello Linux" | ./build/pipe
 * Milestones go to stderr; the data the child read goes to stdout.
 * Rust port: crates/pipe/src/bin/pipe-demo.rs (pipe-demo).
 *
 * Classic bugs of the tutorial's version, fixed here (look for "FIX"):
 *  - unused pipe ends left open: a reader that still holds a write end never sees end-of-file;
 *  - write(fds[1], buf, sizeof(buf)) writes the garbage after the text too;
 *  - scanf("%s", buf) overflows buf and stops at the first space;
 *  - no wait(): the parent may exit before the child prints, leaving a zombie;
 *  - return values of pipe, fork, read and write never checked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define BUF_SIZE 4096 /* PIPE_BUF: one write of at most this many bytes is atomic */

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static int child(int read_end)
{
    char buf[BUF_SIZE + 1];
    size_t have = 0;
    ssize_t n;

    fprintf(stderr, "Child Process\n");
    /* A pipe is a byte stream: one read may return part of what was written. Read until
     * end-of-file, which comes once every write end is closed. */
    while (have < BUF_SIZE && (n = read(read_end, buf + have, BUF_SIZE - have)) != 0) {
        if (n < 0)
            die("read");
        have += (size_t)n;
    }
    buf[have] = '\0';
    if (close(read_end) < 0)
        die("close");
    fprintf(stderr, "Pipe Read Successfully\n");
    printf("%s\n", buf);
    return 0;
}

static int parent(int write_end, pid_t pid)
{
    char buf[BUF_SIZE];
    size_t len = 0;
    const char *p;
    int status;

    fprintf(stderr, "Parent Process....\n");
    fprintf(stderr, "Enter Data To Be Written To Pipe\n");
    /* FIX: scanf("%s", buf) had no bound and stopped at the first space; fgets is bounded
     * by sizeof buf and keeps the whole line. */
    if (fgets(buf, sizeof buf, stdin) != NULL) {
        len = strcspn(buf, "\n");
        buf[len] = '\0';
    }
    /* FIX: write exactly the text, not sizeof(buf) bytes of text plus garbage. Loop because
     * write may move fewer bytes than asked. */
    for (p = buf; p < buf + len;) {
        ssize_t n = write(write_end, p, (size_t)(buf + len - p));
        if (n < 0)
            die("write");
        p += n;
    }
    /* Closing the write end is what gives the child its end-of-file. */
    if (close(write_end) < 0)
        die("close");
    fprintf(stderr, "Pipe Written Successfully..\n");
    /* FIX: wait for the child, so it is reaped and its output comes before we exit. */
    if (waitpid(pid, &status, 0) < 0)
        die("waitpid");
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int main(void)
{
    int fds[2];
    pid_t pid;

    if (pipe(fds) < 0)
        die("pipe");
    fprintf(stderr, "Pipe Created Successfully...\n");
    fprintf(stderr, "Descriptors are: %d %d\n", fds[0], fds[1]);
    fflush(stdout); /* nothing buffered may be printed twice after fork */
    pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        /* FIX: the child only reads: close its copy of the write end, or read never
         * returns end-of-file (the child itself would still hold a writer). */
        if (close(fds[1]) < 0)
            die("close");
        return child(fds[0]);
    }
    /* FIX: the parent only writes: close its copy of the read end. */
    if (close(fds[0]) < 0)
        die("close");
    return parent(fds[1], pid);
}
