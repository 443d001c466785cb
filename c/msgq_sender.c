/*
 * msgq_sender.c - the textbook's msg2.c (Beginning Linux Programming, ch. 14; as printed in
 * textbook/msg2.c) with its bugs fixed: gets the queue with key 1234 and sends each line typed
 * as one message; a line that starts with "end" is the last one.
 *
 * On the wire it is msg2.c exactly, so it pairs with textbook/msg1.c, with msgq_receiver.c
 * and with `msgq-receiver --wire c`: struct my_msg_st { long int my_msg_type; char
 * some_text[MAX_TEXT]; } with MAX_TEXT 512, type 1, the line as fgets read it (newline kept)
 * and its NUL, and every msgsnd sends the whole MAX_TEXT-byte buffer.
 *
 * Calls: msgget(key, 0600 | IPC_CREAT); msgsnd(id, &some_data, MAX_TEXT, 0) per line.
 *
 * Usage:  ./build/msgq_sender [-k KEY]          (KEY decimal or 0x-hex, default 1234)
 * Other end: ./build/msgq_receiver [-k KEY] (or textbook/msg1), which removes the queue after
 * the "end" line.
 *   Terminal 1: ./build/msgq_receiver      Terminal 2: ./build/msgq_sender
 * The end of input (Ctrl-D) sends "end" too.
 * Rust: msgq-sender --wire c (crates/msgq); line by line: crates/msgq/examples/msg2.rs.
 *
 * Classic bugs fixed (look for "FIX"): strcpy of a BUFSIZ-byte line into the 512-byte text
 * overflowed it -> the length is checked and a longer line refused; fgets' NULL at the end of
 * input was ignored, so the last line was sent again for ever -> "end\n" is sent; the bytes
 * after the NUL were uninitialized stack memory, sent to the queue -> zeroed; a last line
 * without its newline ran into the receiver's next line -> the newline is added; msgsnd
 * failed on a signal (EINTR) -> retried; mode 0666 -> 0600.
 * Not a bug, kept: the end rule strncmp(text, "end", 3) == 0 is the protocol. msg1.c stops on
 * it, and so must every receiver: after any line that starts with "end" nothing more comes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <unistd.h>

#define MAX_TEXT 512

struct my_msg_st {
    long int my_msg_type;
    char some_text[MAX_TEXT];
};

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static void usage(const char *prog)
{
    fprintf(stderr, "usage: %s [-k KEY]   (decimal or 0x-hex, default 1234)\n", prog);
    exit(2);
}

/* Reads and drops the rest of a line longer than the buffer fgets was given. */
static void skip_rest_of_line(void)
{
    int c;

    while ((c = getchar()) != EOF && c != '\n')
        ;
}

int main(int argc, char *argv[])
{
    struct my_msg_st some_data;
    char buffer[BUFSIZ];
    key_t key = 1234;
    char *end;
    size_t len;
    int opt, msgid, running = 1;

    while ((opt = getopt(argc, argv, "k:")) != -1) {
        if (opt != 'k')
            usage(argv[0]);
        key = (key_t)strtoul(optarg, &end, 0);
        if (*optarg == '\0' || *end != '\0' || key == IPC_PRIVATE)
            usage(argv[0]);
    }
    if (optind != argc)
        usage(argv[0]);

    msgid = msgget(key, 0600 | IPC_CREAT); /* FIX: 0600, not 0666 */
    if (msgid < 0)
        die("msgget");

    while (running) {
        fprintf(stderr, "Enter some text: ");
        if (fgets(buffer, sizeof buffer, stdin) == NULL) {
            /* FIX: the end of input (or an error) ends the conversation; msg2.c ignored the
             * NULL and sent the same buffer again for ever. */
            if (ferror(stdin))
                perror("reading standard input");
            snprintf(buffer, sizeof buffer, "end\n");
        }
        len = strlen(buffer);
        if (len > 0 && buffer[len - 1] != '\n') {
            if (!feof(stdin)) {
                /* fgets stopped at the end of its buffer: a line longer than BUFSIZ. */
                skip_rest_of_line();
                len = sizeof buffer; /* refused below */
            } else if (len + 1 < sizeof buffer) {
                /* FIX: a last line without its newline still ends the receiver's line. */
                buffer[len++] = '\n';
                buffer[len] = '\0';
            }
        }
        /* FIX: strcpy(some_data.some_text, buffer) wrote past MAX_TEXT bytes. The line, its
         * newline and the NUL must fit: at most MAX_TEXT - 2 bytes of text. */
        if (len >= sizeof some_data.some_text) {
            fprintf(stderr, "line too long: at most %d bytes fit in some_text[%d]; not sent\n",
                    MAX_TEXT - 2, MAX_TEXT);
            continue;
        }
        /* FIX: zero the buffer, so the bytes after the NUL (sent too) are not stack garbage. */
        memset(&some_data, 0, sizeof some_data);
        some_data.my_msg_type = 1;
        memcpy(some_data.some_text, buffer, len + 1);
        /* The whole buffer, as msg2.c: msgsnd(msgid, &some_data, MAX_TEXT, 0). It is not
         * restarted after a signal handler: FIX: retry on EINTR. */
        while (msgsnd(msgid, &some_data, MAX_TEXT, 0) < 0) {
            if (errno != EINTR)
                die("msgsnd");
        }
        if (strncmp(buffer, "end", 3) == 0)
            running = 0;
    }
    fprintf(stderr, "\n");
    return 0;
}
