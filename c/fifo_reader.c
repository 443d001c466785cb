/*
 * fifo_reader.c - the tutorial's named-pipe reader: creates the FIFO, prints each line a writer
 * sends, removes the FIFO at the end.
 *
 * Calls: mkfifo(path, 0600); open(path, O_RDONLY) (blocks until a writer opens it);
 * read() via fgets() on fdopen(); close(); unlink(path).
 *
 * Usage:  ./build/fifo_reader [-p PATH]        (default /tmp/my_fifo)
 * Other end: ./build/fifo_writer [-p PATH]. Two terminals:
 *   Terminal 1: ./build/fifo_reader        Terminal 2: ./build/fifo_writer
 * Type lines in the writer; the line `end` (or end of input there) ends both.
 * Rust port: fifo-receiver (crates/fifo).
 *
 * Classic bugs fixed (look for "FIX"): mode 0666/0777 let every user inject data (we use 0600);
 * the FIFO was never unlinked (we unlink it, also on Ctrl-C); read(fd, buf, sizeof buf)
 * treated one read as one message and printed an unterminated buffer (we read whole lines,
 * NUL-terminated and bounded); return values not checked.
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

static const char *fifo_path = "/tmp/my_fifo";
static volatile sig_atomic_t created;

/* Ctrl-C / SIGTERM, even while blocked in open(): remove the FIFO we made and exit, right in
 * the handler (unlink, write and _exit are async-signal-safe). A flag for the main code to
 * check would race: a signal just before open() blocks would be lost. */
static void on_signal(int sig)
{
    static const char note[] = "interrupted: FIFO removed\n";

    (void)sig;
    if (created)
        unlink(fifo_path);
    if (write(2, note, sizeof note - 1) < 0) {
        /* nothing more we can do in a handler */
    }
    _exit(130);
}

static void cleanup(void)
{
    /* FIX: the tutorial left the FIFO in /tmp for ever. Only the creator removes it. */
    if (created && unlink(fifo_path) < 0)
        perror("unlink");
    created = 0;
}

static void die(const char *what)
{
    perror(what);
    cleanup();
    exit(1);
}

static void usage(const char *prog)
{
    fprintf(stderr, "usage: %s [-p PATH]   (default /tmp/my_fifo)\n", prog);
    exit(2);
}

int main(int argc, char *argv[])
{
    struct sigaction sa;
    struct stat st;
    char line[LINE_SIZE];
    FILE *fifo;
    int opt, fd;

    while ((opt = getopt(argc, argv, "p:")) != -1) {
        if (opt == 'p')
            fifo_path = optarg;
        else
            usage(argv[0]);
    }
    if (optind != argc)
        usage(argv[0]);

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0)
        die("sigaction");

    /* FIX: mode 0600, not the tutorial's 0777: only we may read or write. */
    if (mkfifo(fifo_path, 0600) == 0) {
        created = 1;
        fprintf(stderr, "Fifo Created Successfully...\n");
    } else if (errno == EEXIST && lstat(fifo_path, &st) == 0 && S_ISFIFO(st.st_mode)) {
        fprintf(stderr, "%s already exists: using it (whoever made it removes it)\n", fifo_path);
    } else if (errno == EEXIST) {
        fprintf(stderr, "%s exists and is not a FIFO: choose another path with -p\n", fifo_path);
        exit(1);
    } else {
        die("mkfifo");
    }

    fprintf(stderr, "waiting for a writer on %s\n", fifo_path);
    fd = open(fifo_path, O_RDONLY); /* blocks until a writer opens the other end */
    if (fd < 0)
        die("open");
    fifo = fdopen(fd, "r");
    if (fifo == NULL)
        die("fdopen");

    /* FIX: a FIFO is a byte stream; one read() is not one message. Each message is one line,
     * and fgets() (bounded by sizeof line) reassembles it whatever the reads return. */
    while (fgets(line, sizeof line, fifo) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        printf("Data From Named Pipe Is: %s\n", line);
        fflush(stdout);
        if (strcmp(line, "end") == 0)
            break;
    }
    if (ferror(fifo))
        die("read");
    if (fclose(fifo) != 0)
        die("close");
    cleanup();
    return 0;
}
