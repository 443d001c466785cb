/*
 * msgq_receiver.c - the textbook's msg1.c (Beginning Linux Programming, ch. 14; as printed in
 * textbook/msg1.c) with its bugs fixed: gets the queue with key 1234, prints every message,
 * and removes the queue after a text that starts with "end".
 *
 * On the wire it is msg1.c exactly, so it pairs with textbook/msg2.c, with msgq_sender.c and
 * with `msgq-sender --wire c`: struct my_msg_st { long int my_msg_type; char
 * some_text[BUFSIZ]; }, msgrcv of up to BUFSIZ bytes (msg2.c sends 512, its BUFSIZ variant
 * 8192), the text up to its NUL, printed with the newline the sender's fgets kept.
 *
 * Calls: msgget(key, 0600 | IPC_CREAT); msgrcv(id, &some_data, BUFSIZ, 0, 0) in a loop;
 * msgctl(id, IPC_RMID, NULL).
 *
 * Usage:  ./build/msgq_receiver [-k KEY]        (KEY decimal or 0x-hex, default 1234)
 * Other end: ./build/msgq_sender [-k KEY] (or textbook/msg2). Either may start first: the
 * queue keeps the messages until they are read.
 *   Terminal 1: ./build/msgq_receiver      Terminal 2: ./build/msgq_sender
 * Rust: msgq-receiver --wire c (crates/msgq); line by line: crates/msgq/examples/msg1.rs.
 *
 * Classic bugs fixed (look for "FIX"): mode 0666 let any user read or inject messages (0600);
 * a message without a terminating NUL was printed past its end (strnlen bounds it); a text
 * without its newline ran into the next line (one is added); msgrcv failed on a signal that
 * was not ours (EINTR, retried); the queue was leaked when the program was interrupted
 * (Ctrl-C also removes it).
 * Not a bug, kept: the end rule strncmp(text, "end", 3) == 0. It is the protocol: msg2.c
 * stops sending after any line that starts with "end" (say "endless"), so a receiver that
 * compared the whole text with strcmp would wait for ever.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <unistd.h>

/* The textbook's message: mtype first (a long, > 0), then the data. msgsnd/msgrcv sizes count
 * only the data, never the mtype. msg1.c receives into BUFSIZ bytes, so a sender's 512-byte
 * (MAX_TEXT) and 8192-byte (BUFSIZ) messages both arrive whole. */
struct my_msg_st {
    long int my_msg_type;
    char some_text[BUFSIZ];
};

static volatile sig_atomic_t msgid = -1;

/* Ctrl-C / SIGTERM. Setting a flag for the main loop would race: a signal that lands after
 * the check but before msgrcv blocks would be lost, and msgrcv would wait for ever. So the
 * handler itself removes the queue (msgctl is one system call, no locks, no stdio) and ends
 * the process with _exit, which is async-signal-safe. */
static void on_signal(int sig)
{
    static const char note[] = "interrupted: queue removed\n";

    (void)sig;
    if (msgid >= 0)
        msgctl(msgid, IPC_RMID, NULL);
    if (write(2, note, sizeof note - 1) < 0) {
        /* nothing more we can do in a handler */
    }
    _exit(130);
}

static void remove_queue(void)
{
    /* FIX (tutorial had it, most copies forget it): the queue outlives every process until
     * IPC_RMID. */
    if (msgid >= 0 && msgctl(msgid, IPC_RMID, NULL) < 0)
        perror("msgctl(IPC_RMID)");
    msgid = -1;
}

static void die(const char *what)
{
    perror(what);
    remove_queue();
    exit(1);
}

static void usage(const char *prog)
{
    fprintf(stderr, "usage: %s [-k KEY]   (decimal or 0x-hex, default 1234)\n", prog);
    exit(2);
}

int main(int argc, char *argv[])
{
    struct my_msg_st some_data;
    struct sigaction sa;
    key_t key = 1234;
    char *end;
    int opt;

    while ((opt = getopt(argc, argv, "k:")) != -1) {
        if (opt != 'k')
            usage(argv[0]);
        key = (key_t)strtoul(optarg, &end, 0);
        if (*optarg == '\0' || *end != '\0' || key == IPC_PRIVATE)
            usage(argv[0]);
    }
    if (optind != argc)
        usage(argv[0]);

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0)
        die("sigaction");

    /* FIX: 0600, not 0666. */
    msgid = msgget(key, 0600 | IPC_CREAT);
    if (msgid < 0)
        die("msgget");
    fprintf(stderr, "waiting for messages on key %d (0x%08x), queue id %d\n", (int)key,
            (unsigned)key, msgid);

    for (;;) {
        size_t len;

        /* msgtyp 0: the first message of any type. A message longer than BUFSIZ stays in the
         * queue (E2BIG): die says so. */
        ssize_t n = msgrcv(msgid, &some_data, sizeof some_data.some_text, 0, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("msgrcv");
        }
        /* FIX: never trust the sender to have sent the NUL: the text ends at its first NUL or
         * after the n bytes received, whichever comes first. */
        len = strnlen(some_data.some_text, (size_t)n);
        /* The text keeps the newline the sender's fgets read, as msg1.c prints it. FIX: a
         * text without one still gets its own line. */
        printf("You wrote: %.*s%s", (int)len, some_data.some_text,
               len > 0 && some_data.some_text[len - 1] == '\n' ? "" : "\n");
        fflush(stdout);
        /* The protocol's end rule (see the header): any text that starts with "end". */
        if (len >= 3 && strncmp(some_data.some_text, "end", 3) == 0)
            break;
    }
    remove_queue();
    return 0;
}
