/*
 * shm_receiver.c - the tutorial's shared memory receiver (shm1.c): creates a 1024-byte segment
 * with key 1234, prints each text the sender puts there, removes everything after `end`.
 *
 * Calls: semget(key, 2, 0600 | IPC_CREAT | IPC_EXCL) + semctl(SETALL {1, 0});
 * shmget(key, 1024, 0600 | IPC_CREAT | IPC_EXCL); shmat(id, NULL, 0); semop() P(full) / V(empty)
 * around each read; shmdt(); shmctl(id, IPC_RMID, NULL); semctl(id, 0, IPC_RMID).
 *
 * Usage:  ./build/shm_receiver [-k KEY]        (KEY decimal or 0x-hex, default 1234)
 * Other end (start it second): ./build/shm_sender [-k KEY].
 *   Terminal 1: ./build/shm_receiver       Terminal 2: ./build/shm_sender
 * Rust port: shm-receiver (crates/shm).
 *
 * The handoff. The segment holds one text at a time. Two semaphores (a set with the same key:
 * keys of segments and of semaphore sets are separate namespaces) take turns:
 *   [0] EMPTY, starts at 1: the sender waits on it (P) before writing, we give it back (V)
 *       once we have copied the text out;
 *   [1] FULL, starts at 0: we wait on it (P) until the sender has written (V).
 * No SEM_UNDO here: these are counts handed between two processes, not a lock one holds.
 *
 * Classic bugs fixed (look for "FIX"): the tutorial polled a `written_by_you` flag in a busy
 * loop with sleep(1) (slow, burns CPU, and with no memory barrier not even correct) -> block in
 * semop; mode 0666 -> 0600; the segment was leaked when the program was interrupted -> Ctrl-C
 * removes it too; shmat's error value (void *)-1 was compared with NULL in some copies.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <unistd.h>

#define SEGMENT_SIZE 1024

struct shared_use_st {
    char some_text[SEGMENT_SIZE];
};

union semun { /* the caller defines it (man 2 semctl) */
    int val;
    struct semid_ds *buf;
    unsigned short *array;
};

enum { EMPTY = 0, FULL = 1 };

static volatile sig_atomic_t sem_id = -1, shm_id = -1;
static struct shared_use_st *volatile shared = (void *)-1;

/* Ctrl-C / SIGTERM: remove everything right here and _exit. A flag checked by the main loop
 * would race with semop (a signal just before it blocks is lost). shmdt/shmctl/semctl are
 * plain system calls (no locks, no stdio), and _exit is async-signal-safe. */
static void on_signal(int sig)
{
    static const char note[] = "interrupted: segment and semaphores removed\n";

    (void)sig;
    if (shared != (void *)-1)
        shmdt(shared);
    if (shm_id >= 0)
        shmctl(shm_id, IPC_RMID, NULL);
    if (sem_id >= 0)
        semctl(sem_id, 0, IPC_RMID);
    if (write(2, note, sizeof note - 1) < 0) {
        /* nothing more we can do in a handler */
    }
    _exit(130);
}

static void remove_all(void)
{
    if (shared != (void *)-1 && shmdt(shared) < 0)
        perror("shmdt");
    shared = (void *)-1;
    /* FIX: IPC_RMID, so the segment does not outlive us. */
    if (shm_id >= 0 && shmctl(shm_id, IPC_RMID, NULL) < 0)
        perror("shmctl(IPC_RMID)");
    shm_id = -1;
    if (sem_id >= 0 && semctl(sem_id, 0, IPC_RMID) < 0)
        perror("semctl(IPC_RMID)");
    sem_id = -1;
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

static void sem_change(unsigned short num, short op)
{
    struct sembuf sb = { num, op, 0 };

    while (semop(sem_id, &sb, 1) < 0) {
        if (errno != EINTR)
            die("semop");
    }
}

int main(int argc, char *argv[])
{
    unsigned short start[2] = { 1, 0 };
    char text[SEGMENT_SIZE];
    struct sigaction sa;
    union semun arg;
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

    /* Create-exclusive: a leftover from a crashed run is reported, not silently reused. */
    sem_id = semget(key, 2, 0600 | IPC_CREAT | IPC_EXCL);
    if (sem_id < 0) {
        int err = errno; /* perror may change errno */
        perror("semget");
        if (err == EEXIST)
            fprintf(stderr, "hint: is another shm_receiver running? a leftover goes with "
                            "ipcrm -S %d, or ipc-doctor --clean\n", (int)key);
        exit(1);
    }
    arg.array = start;
    if (semctl(sem_id, 0, SETALL, arg) < 0)
        die("semctl(SETALL)");
    shm_id = shmget(key, SEGMENT_SIZE, 0600 | IPC_CREAT | IPC_EXCL);
    if (shm_id < 0) {
        int err = errno;
        perror("shmget");
        if (err == EEXIST)
            fprintf(stderr, "hint: a segment with key %d exists: ipcrm -M %d, or "
                            "ipc-doctor --clean\n", (int)key, (int)key);
        remove_all();
        exit(1);
    }
    shared = shmat(shm_id, NULL, SHM_RDONLY);
    if (shared == (void *)-1) /* FIX: shmat fails with (void *)-1, not NULL */
        die("shmat");
    fprintf(stderr, "Memory attached; waiting for text on key %d (0x%08x)\n", (int)key,
            (unsigned)key);

    for (;;) {
        sem_change(FULL, -1); /* FIX: block until the sender has written; no busy-wait */
        memcpy(text, shared->some_text, sizeof text);
        sem_change(EMPTY, 1); /* the sender may write the next one */
        text[sizeof text - 1] = '\0';
        printf("You wrote: %s\n", text);
        fflush(stdout);
        if (strcmp(text, "end") == 0)
            break;
    }
    remove_all();
    return 0;
}
