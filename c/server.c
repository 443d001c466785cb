/*
 * server.c - the tutorial's TCP server: listens on port 9734, prints every line a client
 * sends, serves one client after another, and stops after a client sends `end`.
 *
 * Calls: socket(AF_INET, SOCK_STREAM, 0); setsockopt(SO_REUSEADDR); bind(127.0.0.1:port);
 * listen(fd, 5); then per client accept(), read() via fgets() on fdopen(), close().
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
 * with fgets; return values not checked.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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
    fprintf(stderr, "usage: %s [-P PORT]   (default 9734)\n", prog);
    exit(2);
}

/* Prints each line of one client; returns 1 when the client sent `end`. */
static int serve(int client_fd)
{
    char line[LINE_SIZE];
    FILE *in = fdopen(client_fd, "r");
    int ended = 0;

    if (in == NULL)
        die("fdopen");
    while (!ended && fgets(line, sizeof line, in) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        printf("You wrote: %s\n", line);
        fflush(stdout);
        ended = strcmp(line, "end") == 0;
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
