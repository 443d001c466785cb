/*
 * msgq_sender.c - the tutorial's message queue sender.c: gets the queue with key 1234 and
 * sends each line typed as one message; the line `end` ends the conversation.
 *
 * Calls: msgget(key, 0600 | IPC_CREAT); msgsnd(id, &msg, strlen(text) + 1, 0) per line.
 *
 * Usage:  ./build/msgq_sender [-k KEY]          (KEY decimal or 0x-hex, default 1234)
 * Other end: ./build/msgq_receiver [-k KEY], which removes the queue after `end`.
 *   Terminal 1: ./build/msgq_receiver      Terminal 2: ./build/msgq_sender
 * The end of input (Ctrl-D) sends `end` too.
 * Rust port: msgq-sender (crates/msgq).
 *
 * Classic bugs fixed (look for "FIX"): fgets(buffer, BUFSIZ) then strcpy into the 512-byte
 * text overflowed it -> fgets straight into the message with sizeof as the bound;
 * msgsnd(..., MAX_TEXT, ...) always sent 512 bytes, garbage included -> strlen + 1;
 * mode 0666 -> 0600.
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

int main(int argc, char *argv[])
{
    struct my_msg_st msg;
    key_t key = 1234;
    char *end;
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
        /* FIX: bounded by the message's own buffer; no BUFSIZ buffer + strcpy overflow. */
        if (fgets(msg.some_text, sizeof msg.some_text, stdin) == NULL) {
            if (ferror(stdin))
                die("reading standard input");
            snprintf(msg.some_text, sizeof msg.some_text, "end"); /* end of input */
        }
        msg.some_text[strcspn(msg.some_text, "\n")] = '\0';
        msg.my_msg_type = 1;
        /* FIX: send the text and its NUL, not MAX_TEXT bytes. msgsnd restarts nothing after a
         * signal: retry on EINTR. */
        while (msgsnd(msgid, &msg, strlen(msg.some_text) + 1, 0) < 0) {
            if (errno != EINTR)
                die("msgsnd");
        }
        if (strcmp(msg.some_text, "end") == 0)
            running = 0;
    }
    fprintf(stderr, "\n");
    return 0;
}
