/*
 * msgq_receiver.c - the tutorial's message queue receiver.c: gets the queue with key 1234,
 * prints every message, and removes the queue after the message `end`.
 *
 * Calls: msgget(key, 0600 | IPC_CREAT); msgrcv(id, &msg, sizeof msg.text, 0, 0) in a loop;
 * msgctl(id, IPC_RMID, NULL).
 *
 * Usage:  ./build/msgq_receiver [-k KEY]        (KEY decimal or 0x-hex, default 1234)
 * Other end: ./build/msgq_sender [-k KEY]. Either may start first: the queue keeps the
 * messages until they are read.
 *   Terminal 1: ./build/msgq_receiver      Terminal 2: ./build/msgq_sender
 * Rust port: msgq-receiver (crates/msgq).
 *
 * Classic bugs fixed (look for "FIX"): mode 0666 let any user read or inject messages (0600);
 * strncmp(text, "end", 3) also stopped at "endless" (we compare the whole text); a message
 * without a terminating NUL was printed past its end (we terminate within the buffer); the
 * queue was leaked when the program was interrupted (Ctrl-C also removes it).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <unistd.h>

#define MAX_TEXT 512

/* The tutorial's message: mtype first (a long, > 0), then the data. msgsnd/msgrcv sizes count
 * only the data, never the mtype. */
struct my_msg_st {
    long int my_msg_type;
    char some_text[MAX_TEXT];
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
    struct my_msg_st msg;
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
        /* msgtyp 0: the first message of any type. */
        ssize_t n = msgrcv(msgid, &msg, sizeof msg.some_text, 0, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("msgrcv");
        }
        /* FIX: never trust the sender to have sent the NUL. */
        msg.some_text[(size_t)n < sizeof msg.some_text ? (size_t)n : sizeof msg.some_text - 1] = '\0';
        printf("You wrote: %s\n", msg.some_text);
        fflush(stdout);
        /* FIX: strncmp(..., "end", 3) matched "endless" too. */
        if (strcmp(msg.some_text, "end") == 0)
            break;
    }
    remove_queue();
    return 0;
}
