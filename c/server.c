/*
 * server.c - the tutorial's TCP server: listens on port 9734 and serves one client after
 * another, both kinds of client on the same port:
 *  - the textbook's client.c (Beginning Linux Programming, ch. 15), which writes one char and
 *    waits for the answer: it gets char + 1 back, as from the textbook's server.c, and the
 *    server prints "char from client = A, sent back B";
 *  - line clients (our client.c, telnet, nc -C): every line is printed as "You wrote: ...";
 *    a line ending in \r\n is accepted as one ending in \n.
 * It stops after a line client sends `end` (C's strncmp(line, "end", 3) == 0), or after one
 * one-char exchange (that is a one-char client's whole conversation).
 *
 * Telling them apart: the first byte is read; if it is not a line break and nothing more
 * arrives within ONE_CHAR_WAIT_MS (poll), it is a one-char client. A line client writes its
 * whole line at once, so the rest of the line is already there.
 *
 * Calls: socket(AF_INET, SOCK_STREAM, 0); setsockopt(SO_REUSEADDR); bind(127.0.0.1:port);
 * listen(fd, 5); then per client accept(), read() of the first byte, poll(), then either
 * write() of the answer or fgets() on fdopen() for the lines, close().
 *
 * Usage:  ./build/server [-P PORT]             (default 9734; 0 lets the kernel choose)
 * Other end: ./build/client [-P PORT] [HOST].
 *   Terminal 1: ./build/server             Terminal 2: ./build/client localhost
 * Rust port: socket-server (crates/socket).
 *
 * Classic bugs fixed (look for "FIX"): sin_port = 9734 without htons() listened on port 9734
 * byte-swapped (9510 on a little-endian machine) -> htons; INADDR_ANY exposed the demo to the
 * whole network -> 127.0.0.1; no SO_REUSEADDR, so a restart failed with "Address already in
 * use" for a minute (TIME_WAIT); a single read() was taken as a whole message -> lines read
 * with fgets; return values not checked; the textbook's read() of the one char was not
 * checked, so a client that closed without sending got an uninitialised char back; a client
 * that went away before the answer killed the server with SIGPIPE -> SIGPIPE ignored.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#define LINE_SIZE 4096
#define ONE_CHAR_WAIT_MS 200 /* as socket-server --wire c (crates/socket/src/one_char.rs) */

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static void usage(const char *prog)
{
    fprintf(stderr, "usage: %s [-P PORT]   (default 9734)\n", prog);
    exit(2);
}

/* The textbook's exchange: ch++, write it back. Returns 1 (the conversation is over). */
static int answer_one_char(int client_fd, char ch)
{
    char reply = (char)(ch + 1);

    if (write(client_fd, &reply, 1) != 1)
        perror("write"); /* FIX: checked; the client may have gone */
    printf("char from client = %c, sent back %c\n", ch, reply);
    fflush(stdout);
    if (close(client_fd) < 0)
        perror("close");
    return 1;
}

/* Serves one client; returns 1 when the server is done (the client sent `end`, or did the
 * one-char exchange). */
static int serve(int client_fd)
{
    char line[LINE_SIZE], first;
    struct pollfd more = { .fd = client_fd, .events = POLLIN };
    FILE *in;
    ssize_t n;
    int ended = 0;

    n = read(client_fd, &first, 1);
    if (n <= 0) { /* FIX: the textbook used ch even when read returned 0 or -1 */
        if (n < 0)
            perror("read");
        close(client_fd);
        return 0;
    }
    if (first != '\n' && first != '\r') {
        int ready = poll(&more, 1, ONE_CHAR_WAIT_MS);
        if (ready < 0)
            perror("poll");
        if (ready == 0) /* one char, and then nothing: the textbook's client */
            return answer_one_char(client_fd, first);
    }

    in = fdopen(client_fd, "r");
    if (in == NULL)
        die("fdopen");
    if (ungetc((unsigned char)first, in) == EOF) /* the first byte belongs to the first line */
        die("ungetc");
    while (!ended && fgets(line, sizeof line, in) != NULL) {
        size_t len = strcspn(line, "\n");

        line[len] = '\0';
        if (len > 0 && line[len - 1] == '\r')
            line[len - 1] = '\0'; /* FIX: telnet and nc -C end lines with \r\n */
        printf("You wrote: %s\n", line);
        fflush(stdout);
        ended = strncmp(line, "end", 3) == 0; /* the C end rule, as every --wire c receiver */
    }
    if (ferror(in))
        perror("read"); /* a client that breaks off does not stop the server */
    if (fclose(in) != 0)
        perror("close");
    return ended;
}

int main(int argc, char *argv[])
{
    struct sockaddr_in address;
    socklen_t len;
    long port = 9734;
    char *end;
    int opt, server_fd, one = 1, ended = 0;

    while ((opt = getopt(argc, argv, "P:")) != -1) {
        if (opt != 'P')
            usage(argv[0]);
        port = strtol(optarg, &end, 10);
        if (*optarg == '\0' || *end != '\0' || port < 0 || port > 65535)
            usage(argv[0]);
    }
    if (optind != argc)
        usage(argv[0]);
    /* FIX: a client that leaves before its answer must not kill the server (SIGPIPE). */
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
        die("signal");

    server_fd = socket(AF_INET, SOCK_STREAM, 0);
    if (server_fd < 0)
        die("socket");
    /* FIX: without SO_REUSEADDR, restarting the server right after a conversation fails
     * with EADDRINUSE while the old connection sits in TIME_WAIT. */
    if (setsockopt(server_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
        die("setsockopt(SO_REUSEADDR)");
    memset(&address, 0, sizeof address);
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* FIX: not the whole network */
    address.sin_port = htons((unsigned short)port);   /* FIX: network byte order */
    if (bind(server_fd, (struct sockaddr *)&address, sizeof address) < 0) {
        int err = errno; /* perror may change errno */
        perror("bind");
        if (err == EADDRINUSE)
            fprintf(stderr, "hint: another server uses port %ld; choose one with -P\n", port);
        exit(1);
    }
    if (listen(server_fd, 5) < 0)
        die("listen");
    len = sizeof address;
    if (getsockname(server_fd, (struct sockaddr *)&address, &len) < 0)
        die("getsockname");

    while (!ended) {
        int client_fd;

        fprintf(stderr, "server waiting on port %d\n", ntohs(address.sin_port));
        client_fd = accept(server_fd, NULL, NULL);
        if (client_fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            die("accept");
        }
        ended = serve(client_fd);
    }
    if (close(server_fd) < 0)
        die("close");
    return 0;
}
