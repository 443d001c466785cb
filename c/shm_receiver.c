/*
 * shm_receiver.c - the textbook's shared memory consumer (shm1.c), bugs fixed: creates (or
 * attaches) the segment `struct shared_use_st` with key 1234, prints each text the producer
 * puts there, and removes the segment after `end`.
 *
 * The segment and the flag protocol are the textbook's, byte for byte (c/textbook/shm_com.h),
 * so this pairs with the textbook's shm2, with shm_sender.c, with `shm-sender --wire c` and
 * with `cargo run -p ipc-shm --example shm2`:
 *   struct shared_use_st { int written_by_you; char some_text[TEXT_SZ]; };   (2052 bytes)
 *   producer: while (written_by_you == 1) wait; copy "text\n" and its NUL; written_by_you = 1;
 *   consumer: wait for written_by_you == 1; print the text; written_by_you = 0;
 *   both stop after a text that starts with "end".
 *
 * Calls: shmget(key, sizeof(struct shared_use_st), 0600 | IPC_CREAT | IPC_EXCL), or
 * shmget(key, 0, 0) + shmctl(IPC_STAT) to attach an existing one of the right size;
 * shmat(id, NULL, 0); shmdt(); shmctl(id, IPC_RMID, NULL).
 *
 * Usage:  ./build/shm_receiver [-k KEY]        (KEY decimal or 0x-hex, default 1234)
 * Other end: ./build/shm_sender [-k KEY] (either may start first).
 *   Terminal 1: ./build/shm_receiver       Terminal 2: ./build/shm_sender
 * Rust port: shm-receiver --wire c (crates/shm); line by line: crates/shm/examples/shm1.rs.
 *
 * Classic bugs fixed (look for "FIX"): the flag was a plain int read in a 100% CPU spin (no
 * memory ordering: the text may be seen before it is complete) -> acquire load, release store,
 * a 5 ms nanosleep between looks; `written_by_you = 0` at start threw away a text written
 * before we started -> only a segment we created starts at 0, and the kernel zeroed it; mode
 * 0666 -> 0600; the segment leaked on Ctrl-C -> removed on Ctrl-C and SIGTERM too; "%s" of a
 * text without NUL could read past the segment -> bounded copy; shmat's (void *)-1.
 */
#include <errno.h>
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
    (void)sig;
    stop = 1; /* the poll loop below sees it within 5 ms */
}

static int shm_id = -1;
static struct shared_use_st *shared = (void *)-1;

static void remove_all(void)
{
    if (shared != (void *)-1 && shmdt(shared) < 0)
        perror("shmdt");
    shared = (void *)-1;
    /* FIX: IPC_RMID (also after Ctrl-C), so the segment does not outlive us. */
    if (shm_id >= 0 && shmctl(shm_id, IPC_RMID, NULL) < 0)
        perror("shmctl(IPC_RMID)");
    shm_id = -1;
}

static void die(const char *what)
{
    perror(what);
    remove_all();
    exit(1);
}

static void usage(const char *prog)
{
    fprintf(stderr, "usage: %s [-k KEY]   (decimal or 0x-hex, default 1234)\n", prog);
    exit(2);
}

int main(int argc, char *argv[])
{
    const struct timespec poll_interval = { 0, 5 * 1000 * 1000 }; /* 5 ms */
    char text[TEXT_SZ + 1];
    struct shmid_ds ds;
    struct sigaction sa;
    key_t key = 1234;
    char *end;
    int opt, created = 1;

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

    /* FIX: 0600, not 0666. Create, or attach the producer's segment if it came first. */
    shm_id = shmget(key, sizeof(struct shared_use_st), 0600 | IPC_CREAT | IPC_EXCL);
    if (shm_id < 0 && errno == EEXIST) {
        created = 0;
        shm_id = shmget(key, 0, 0);
        if (shm_id < 0)
            die("shmget");
        if (shmctl(shm_id, IPC_STAT, &ds) < 0)
            die("shmctl(IPC_STAT)");
        if (ds.shm_segsz != sizeof(struct shared_use_st)) {
            fprintf(stderr, "the segment with key %d is %zu bytes, not struct shared_use_st's "
                            "%zu: not the textbook's layout (shm-receiver without --wire c?)\n",
                    (int)key, (size_t)ds.shm_segsz, sizeof(struct shared_use_st));
            shm_id = -1; /* not ours to remove */
            exit(1);
        }
    }
    if (shm_id < 0)
        die("shmget");
    shared = shmat(shm_id, NULL, 0);
    if (shared == (void *)-1) /* FIX: shmat fails with (void *)-1, not NULL */
        die("shmat");
    /* FIX: no `written_by_you = 0` here. A segment we created was zeroed by the kernel; one we
     * found may hold a text the producer wrote before we started, and that is for us. */
    fprintf(stderr, "Memory attached at %p (%s); waiting for text on key %d (0x%08x)\n",
            (void *)shared, created ? "created" : "found", (int)key, (unsigned)key);

    while (!stop) {
        /* FIX: an acquire load: once we see 1, the producer's text is all there. */
        if (__atomic_load_n(&shared->written_by_you, __ATOMIC_ACQUIRE) == 0) {
            nanosleep(&poll_interval, NULL); /* FIX: no 100% CPU spin (EINTR: look again) */
            continue;
        }
        /* FIX: bounded copy, always NUL-terminated, even if the producer sent no NUL. */
        memcpy(text, shared->some_text, TEXT_SZ);
        text[TEXT_SZ] = '\0';
        /* FIX: a release store: our copy is done before the producer may write again. */
        __atomic_store_n(&shared->written_by_you, 0, __ATOMIC_RELEASE);
        printf("You wrote: %s", text);
        if (text[0] == '\0' || text[strlen(text) - 1] != '\n')
            putchar('\n'); /* a producer that sent no newline still gets its own line */
        fflush(stdout);
        if (strncmp(text, "end", 3) == 0) {
            remove_all();
            return 0;
        }
    }
    remove_all();
    fprintf(stderr, "interrupted: segment removed\n");
    return 130;
}
