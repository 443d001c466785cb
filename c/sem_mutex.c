/*
 * sem_mutex.c - the tutorial's semaphore program: several copies take turns in a critical
 * section guarded by one System V semaphore. Each prints its character on entering and again
 * on leaving, so on a shared terminal the characters always come in pairs (XXOOXXOO...), never
 * interleaved (XOXO).
 *
 * Calls: semget(key, 2, 0600 | IPC_CREAT | IPC_EXCL) + semctl(SETALL) in the first copy,
 * semget(key, 2, 0) in the others; semop() with SEM_UNDO for P (-1) and V (+1);
 * semctl(id, 0, IPC_RMID) in the first copy at the end.
 *
 * Usage:  ./build/sem_mutex -i [-w N] [-k KEY] [-r ROUNDS] [-d MAX_MS]   (the first copy: X)
 *         ./build/sem_mutex    [-k KEY] [-r ROUNDS] [-d MAX_MS]          (the others: O)
 *   -i         create and initialise the set, print X, remove the set at the end
 *   -w N       (with -i) wait until N other copies have joined before starting
 *   -k KEY     System V key, decimal or 0x-hex (default 1234)
 *   -r ROUNDS  how many times to enter the critical section (default 10)
 *   -d MAX_MS  longest random pause inside and outside it, in milliseconds (default 1000)
 * Run it:  ./build/sem_mutex -i -w 1 & ./build/sem_mutex
 * Rust port: sem-mutex (crates/sem).
 *
 * The set holds two semaphores: [0] the mutex (starts at 1), [1] how many other copies are
 * running (starts at 0; each adds 1 with SEM_UNDO, so the kernel takes it back when they exit,
 * even when they are killed).
 *
 * Classic bugs fixed (look for "FIX"): every copy did semget(IPC_CREAT) and the first one
 * initialised it, racing with the others (now: create-exclusive, then open-existing); the first
 * copy slept 10 seconds and then removed the set under the others' feet (now it waits until the
 * count of others is 0); no SEM_UNDO on the mutex left it locked for ever when a copy died in
 * the critical section; semctl's union semun was used without being defined; mode 0666.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* FIX: the caller must define union semun (man 2 semctl); glibc does not. */
union semun {
    int val;
    struct semid_ds *buf;
    unsigned short *array;
};

enum { MUTEX = 0, OTHERS = 1 };

static volatile sig_atomic_t sem_id = -1;
static int owner;

/* Ctrl-C / SIGTERM in the first copy: remove the set right here and _exit (a flag checked by
 * the main code would race with a semop about to block). The other copies keep the default
 * action, dying at once: SEM_UNDO gives back what they held. */
static void on_signal(int sig)
{
    static const char note[] = "\ninterrupted: semaphore set removed\n";

    (void)sig;
    if (sem_id >= 0)
        semctl(sem_id, 0, IPC_RMID);
    if (write(2, note, sizeof note - 1) < 0) {
        /* nothing more we can do in a handler */
    }
    _exit(130);
}

static void remove_set(void)
{
    if (owner && sem_id >= 0 && semctl(sem_id, 0, IPC_RMID) < 0)
        perror("semctl(IPC_RMID)");
    sem_id = -1;
}

static void die(const char *what)
{
    perror(what);
    remove_set();
    exit(1);
}

static void usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s [-i [-w N]] [-k KEY] [-r ROUNDS] [-d MAX_MS]\n"
            "  -i: the first copy (creates, prints X, removes); without it: prints O\n",
            prog);
    exit(2);
}

/* semop on one semaphore. EIDRM: the first copy removed the set (it was interrupted). */
static void sem_change(unsigned short num, short op, short flags)
{
    struct sembuf sb;

    sb.sem_num = num;
    sb.sem_op = op;
    sb.sem_flg = flags;
    while (semop(sem_id, &sb, 1) < 0) {
        if (errno == EIDRM || errno == EINVAL) {
            fprintf(stderr, "\nthe semaphore set was removed (the first copy stopped)\n");
            exit(1);
        }
        if (errno != EINTR)
            die("semop");
    }
}

static void pause_ms(long max_ms)
{
    struct timespec ts;
    long ms = max_ms > 0 ? rand() % (max_ms + 1) : 0;

    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    nanosleep(&ts, NULL);
}

static long number(const char *text, const char *prog)
{
    char *end;
    long value = strtol(text, &end, 0);

    if (*text == '\0' || *end != '\0' || value < 0)
        usage(prog);
    return value;
}

static key_t parse_key(const char *text, const char *prog)
{
    char *end;
    key_t key = (key_t)strtoul(text, &end, 0);

    if (*text == '\0' || *end != '\0' || key == IPC_PRIVATE)
        usage(prog);
    return key;
}

int main(int argc, char *argv[])
{
    struct sigaction sa;
    key_t key = 1234;
    long rounds = 10, max_ms = 1000, wait_for = 0;
    char op_char = 'O';
    int opt, i;

    while ((opt = getopt(argc, argv, "iw:k:r:d:")) != -1) {
        switch (opt) {
        case 'i': owner = 1; op_char = 'X'; break;
        case 'w': wait_for = number(optarg, argv[0]); break;
        case 'k': key = parse_key(optarg, argv[0]); break;
        case 'r': rounds = number(optarg, argv[0]); break;
        case 'd': max_ms = number(optarg, argv[0]); break;
        default: usage(argv[0]);
        }
    }
    if (optind != argc || (wait_for > 0 && !owner) || wait_for > 1000)
        usage(argv[0]);
    srand((unsigned)getpid());

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    if (owner && (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0))
        die("sigaction");

    if (owner) {
        unsigned short start[2] = { 1, 0 };
        union semun arg;

        /* FIX: create-exclusive, so exactly one copy initialises the set. */
        sem_id = semget(key, 2, 0600 | IPC_CREAT | IPC_EXCL);
        if (sem_id < 0) {
            int err = errno; /* perror may change errno */
            perror("semget");
            if (err == EEXIST)
                fprintf(stderr, "hint: a set with key %d exists: is another -i copy running?"
                                " (ipcrm -S %d removes a leftover)\n", (int)key, (int)key);
            exit(1);
        }
        arg.array = start;
        if (semctl(sem_id, 0, SETALL, arg) < 0)
            die("semctl(SETALL)");
        fprintf(stderr, "semaphore set created: key %d (0x%08x), id %d\n", (int)key,
                (unsigned)key, sem_id);
        if (wait_for > 0) {
            /* Wait until OTHERS >= N, atomically taking N and giving it back. */
            struct sembuf both[2] = { { OTHERS, (short)-wait_for, 0 },
                                      { OTHERS, (short)wait_for, 0 } };
            fprintf(stderr, "waiting for %ld other cop%s\n", wait_for, wait_for == 1 ? "y" : "ies");
            while (semop(sem_id, both, 2) < 0) {
                if (errno != EINTR)
                    die("semop");
            }
        }
    } else {
        sem_id = semget(key, 2, 0); /* FIX: open existing; the -i copy initialised it */
        if (sem_id < 0) {
            int err = errno;
            perror("semget");
            if (err == ENOENT)
                fprintf(stderr, "hint: start the first copy with -i\n");
            exit(1);
        }
        /* Count ourselves in; SEM_UNDO takes us out again when we exit, however we exit. */
        sem_change(OTHERS, 1, SEM_UNDO);
        fprintf(stderr, "joined the semaphore set: key %d (0x%08x), id %d\n", (int)key,
                (unsigned)key, sem_id);
    }

    for (i = 0; i < rounds; i++) {
        /* P: wait until the mutex is 1 and take it. FIX: SEM_UNDO, so if we die inside the
         * critical section the kernel gives it back. */
        sem_change(MUTEX, -1, SEM_UNDO);
        putchar(op_char); /* entering */
        fflush(stdout);
        pause_ms(max_ms / 2);
        putchar(op_char); /* leaving */
        fflush(stdout);
        sem_change(MUTEX, 1, SEM_UNDO); /* V: give it back */
        pause_ms(max_ms / 2);
    }
    printf("\n%d - finished\n", (int)getpid());
    fflush(stdout);

    if (owner) {
        /* FIX: instead of sleep(10), wait until every other copy has gone (OTHERS == 0). */
        sem_change(OTHERS, 0, 0);
        remove_set();
    }
    return 0;
}
