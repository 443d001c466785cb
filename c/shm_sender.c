/*
 * shm_sender.c - the textbook's shared memory producer (shm2.c), bugs fixed: attaches the
 * segment `struct shared_use_st` with key 1234 (creating it if the consumer has not), and
 * puts each line typed there, one at a time, waiting while the last one is not taken.
 *
 * The segment and the flag protocol are the textbook's, byte for byte (c/textbook/shm_com.h):
 * it pairs with the textbook's shm1, with shm_receiver.c, with `shm-receiver --wire c` and
 * with `cargo run -p ipc-shm --example shm1`. How the flag works: see shm_receiver.c.
 *
 * Calls: shmget(key, sizeof(struct shared_use_st), 0600 | IPC_CREAT | IPC_EXCL), or
 * shmget(key, 0, 0) + shmctl(IPC_STAT) to attach an existing one of the right size;
 * shmat(id, NULL, 0); shmdt(); shmctl(IPC_STAT), and IPC_RMID only as said below.
 *
 * Usage:  ./build/shm_sender [-k KEY]          (KEY decimal or 0x-hex, default 1234)
 * Other end: ./build/shm_receiver [-k KEY] (either may start first).
 *   Terminal 1: ./build/shm_receiver       Terminal 2: ./build/shm_sender
 * The line `end`, or the end of input (Ctrl-D), ends both. Rust port: shm-sender --wire c
 * (crates/shm); line by line: crates/shm/examples/shm2.rs.
 *
 * Who removes the segment: the consumer, always. Like shm2.c we leave it when we finish: our
 * last text, `end`, waits in it for the consumer. Only if we created it and are stopped early
 * (Ctrl-C, SIGTERM) with nobody else attached do we remove it: no consumer has come.
 *
 * Classic bugs fixed (look for "FIX"): `while (written_by_you == 1) sleep(1);` on a plain int
 * -> an acquire load every 5 ms (a second's sleep made every text wait up to a second), and a
 * release store of 1 after the text; fgets(buffer, BUFSIZ) then strncpy(text, buffer,
 * TEXT_SZ) could leave the text without a NUL -> at most 2046 bytes, then "\n" and the NUL;
 * fgets' NULL at the end of input was ignored (shm2 resent the last line for ever) -> `end`;
 * mode 0666 -> 0600; every call checked.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <time.h>
#include <unistd.h>

#define TEXT_SZ 2048

struct shared_use_st { /* the textbook's shm_com.h, unchanged */
    int written_by_you;
    char some_text[TEXT_SZ];
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    int saved = errno, fd;

    (void)sig;
    stop = 1; /* the waits below see it within 5 ms; a blocked fgets returns NULL (EINTR) */
    /* FIX: a signal that lands just before fgets calls read(2) would leave that read blocked
     * for ever (the flag was set, but no call was interrupted): stdin becomes /dev/null, so
     * that read returns at once (end of input). open, dup2 and close are async-signal-safe. */
    fd = open("/dev/null", O_RDONLY);
    if (fd >= 0) {
        dup2(fd, STDIN_FILENO);
        close(fd);
    }
    errno = saved;
}

static void usage(const char *prog)
{
    fprintf(stderr, "usage: %s [-k KEY]   (decimal or 0x-hex, default 1234)\n", prog);
    exit(2);
}

/* Stopped early (Ctrl-C, SIGTERM, an input error): detach; remove the segment only if we made
 * it and nobody else is attached (no consumer came). Returns the exit code. */
static int leave(int shm_id, struct shared_use_st *shared, int created, int code)
{
    struct shmid_ds ds;

    if (shmdt(shared) < 0)
        perror("shmdt");
    if (created && shmctl(shm_id, IPC_STAT, &ds) == 0 && ds.shm_nattch == 0) {
        if (shmctl(shm_id, IPC_RMID, NULL) < 0)
            perror("shmctl(IPC_RMID)");
        fprintf(stderr, "\nno consumer came: segment removed\n");
    }
    if (code == 130)
        fprintf(stderr, "\ninterrupted\n");
    return code;
}

int main(int argc, char *argv[])
{
    const struct timespec poll_interval = { 0, 5 * 1000 * 1000 }; /* 5 ms */
    struct shared_use_st *shared;
    char buffer[TEXT_SZ]; /* FIX: room for 2046 bytes of text, "\n" and the NUL */
    struct shmid_ds ds;
    struct sigaction sa;
    key_t key = 1234;
    char *end;
    size_t len;
    int opt, shm_id, created = 1, running = 1, polls;

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
    sa.sa_handler = on_signal; /* no SA_RESTART: fgets is interrupted too */
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0) {
        perror("sigaction");
        exit(1);
    }

    /* FIX: 0600, not 0666. Create, or attach the consumer's segment if it came first. */
    shm_id = shmget(key, sizeof(struct shared_use_st), 0600 | IPC_CREAT | IPC_EXCL);
    if (shm_id < 0 && errno == EEXIST) {
        created = 0;
        shm_id = shmget(key, 0, 0);
        if (shm_id >= 0 && shmctl(shm_id, IPC_STAT, &ds) < 0) {
            perror("shmctl(IPC_STAT)");
            exit(1);
        }
        if (shm_id >= 0 && ds.shm_segsz != sizeof(struct shared_use_st)) {
            fprintf(stderr, "the segment with key %d is %zu bytes, not struct shared_use_st's "
                            "%zu: not the textbook's layout (shm-receiver without --wire c?)\n",
                    (int)key, (size_t)ds.shm_segsz, sizeof(struct shared_use_st));
            exit(1);
        }
    }
    if (shm_id < 0) {
        perror("shmget");
        exit(1);
    }
    shared = shmat(shm_id, NULL, 0);
    if (shared == (void *)-1) { /* FIX: shmat fails with (void *)-1, not NULL */
        perror("shmat");
        if (created && shmctl(shm_id, IPC_RMID, NULL) < 0)
            perror("shmctl(IPC_RMID)");
        exit(1);
    }
    fprintf(stderr, "Memory attached at %p (%s)\n", (void *)shared,
            created ? "created" : "found");

    while (running) {
        /* FIX: an acquire load every 5 ms, not sleep(1) on a plain int. */
        polls = 0;
        while (__atomic_load_n(&shared->written_by_you, __ATOMIC_ACQUIRE) == 1) {
            if (stop)
                return leave(shm_id, shared, created, 130);
            nanosleep(&poll_interval, NULL);
            if (++polls % 200 == 0) /* once a second, as shm2 says it */
                fprintf(stderr, "waiting for client...\n");
        }
        fprintf(stderr, "Enter some text: ");
        /* FIX: at most 2046 bytes (TEXT_SZ - 2) per read, so "\n" and the NUL always fit. */
        if (fgets(buffer, TEXT_SZ - 1, stdin) == NULL) {
            if (stop)
                return leave(shm_id, shared, created, 130);
            if (ferror(stdin)) {
                perror("reading standard input");
                return leave(shm_id, shared, created, 1);
            }
            strcpy(buffer, "end\n"); /* FIX: the end of input ends, as `end` does */
        }
        len = strlen(buffer);
        if (len == 0 || buffer[len - 1] != '\n') {
            /* FIX: a line longer than 2046 bytes arrives in pieces, each with its newline. */
            buffer[len++] = '\n';
            buffer[len] = '\0';
        }
        /* FIX: bounded, with its NUL (len + 1 <= TEXT_SZ). */
        memcpy(shared->some_text, buffer, len + 1);
        /* FIX: a release store: the text is in place before the consumer can see the 1. */
        __atomic_store_n(&shared->written_by_you, 1, __ATOMIC_RELEASE);

        if (strncmp(buffer, "end", 3) == 0)
            running = 0;
    }

    if (shmdt(shared) < 0) {
        perror("shmdt");
        exit(1);
    }
    return 0;
}
