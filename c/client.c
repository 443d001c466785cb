/*
 * client.c - the tutorial's TCP client: connects to the server on HOST port 9734 and sends
 * each line typed; the line `end` ends the conversation (and the server).
 * With -c CHAR it is the textbook's client.c (Beginning Linux Programming, ch. 15) instead:
 * it writes the one char, reads the server's answer (char + 1) and prints
 * "char from server = B". It pairs with the textbook's server.c, ./build/server and
 * socket-server --wire c.
 *
 * Calls: getaddrinfo(HOST, PORT, {AF_INET, SOCK_STREAM}); socket(); connect(); write() per
 * line (or write() of the char, read() of the answer); close().
 *
 * Usage:  ./build/client [-P PORT] [-c CHAR] [HOST]   (default localhost, port 9734)
 * Other end (start it first): ./build/server [-P PORT].
 *   Terminal 1: ./build/server             Terminal 2: ./build/client localhost
 * The end of input (Ctrl-D) sends `end` too. A client that breaks off without `end` only ends
 * its own connection: the server waits for the next one. Rust port: socket-client (crates/socket).
 *
 * Classic bugs fixed (look for "FIX"): a hard-coded inet_addr("127.0.0.1") (HOST ignored) or
 * the obsolete gethostbyname -> getaddrinfo resolves HOST; sin_port = 9734 without htons() -> getaddrinfo fills the port in
 * network byte order; "oops: client1" with no reason -> perror names the errno and a hint;
 * a server that went away killed the client with SIGPIPE -> ignored, EPIPE reported; the
 * textbook's read() of the answer was not checked, so a server that closed without answering
 * printed an uninitialised char -> read's result checked, the case named.
 */
#include <errno.h>
#include <netdb.h>
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
    fprintf(stderr, "usage: %s [-P PORT] [-c CHAR] [HOST]   (default localhost, port 9734)\n",
            prog);
    exit(2);
}

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

/* The textbook's exchange: write one char, read one back, print it. */
static int one_char(int fd, char ch)
{
    ssize_t n;

    write_all(fd, &ch, 1);
    n = read(fd, &ch, 1);
    if (n < 0 && errno != ECONNRESET) /* reset: it closed without reading all we sent */
        die("read");
    if (n <= 0) { /* FIX: the textbook printed whatever was in ch */
        fprintf(stderr, "the server closed the connection without answering\n"
                        "hint: the server must do the one-char exchange (the textbook's server.c, "
                        "./build/server, socket-server --wire c)\n");
        exit(1);
    }
    printf("char from server = %c\n", ch);
    if (close(fd) < 0)
        die("close");
    return 0;
}

int main(int argc, char *argv[])
{
    const char *host = "localhost", *port = "9734";
    struct addrinfo hints, *addrs, *a;
    char line[LINE_SIZE];
    const char *ch = NULL;
    int opt, rc, fd = -1, ended = 0, err = 0;

    while ((opt = getopt(argc, argv, "P:c:")) != -1) {
        if (opt == 'P')
            port = optarg;
        else if (opt == 'c' && strlen(optarg) == 1)
            ch = optarg;
        else
            usage(argv[0]);
    }
    if (argc - optind > 1)
        usage(argv[0]);
    if (optind < argc)
        host = argv[optind];
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
        die("signal");

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET; /* the server listens on IPv4 127.0.0.1 */
    hints.ai_socktype = SOCK_STREAM;
    /* FIX: resolve HOST (and the port, into network byte order) with getaddrinfo. */
    rc = getaddrinfo(host, port, &hints, &addrs);
    if (rc != 0) {
        fprintf(stderr, "%s port %s: %s\n", host, port, gai_strerror(rc));
        exit(1);
    }
    for (a = addrs; a != NULL && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd < 0)
            die("socket");
        if (connect(fd, a->ai_addr, a->ai_addrlen) < 0) {
            err = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(addrs);
    if (fd < 0) {
        errno = err;
        perror("connect");
        fprintf(stderr, "hint: start ./build/server first (port %s)\n", port);
        exit(1);
    }
    fprintf(stderr, "connected to %s port %s\n", host, port);
    if (ch != NULL)
        return one_char(fd, *ch);

    while (!ended) {
        size_t len;

        fprintf(stderr, "Enter some text: ");
        if (fgets(line, sizeof line, stdin) == NULL) {
            if (ferror(stdin))
                die("reading standard input");
            snprintf(line, sizeof line, "end"); /* end of input ends the conversation too */
        }
        len = strcspn(line, "\n");
        line[len] = '\0';
        ended = strcmp(line, "end") == 0;
        line[len] = '\n'; /* the newline marks where each message ends in the byte stream */
        write_all(fd, line, len + 1);
    }
    fprintf(stderr, "\n");
    if (close(fd) < 0)
        die("close");
    return 0;
}
