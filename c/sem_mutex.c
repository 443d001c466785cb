/*
 * sem_mutex.c - the textbook's semaphore program (sem1.c), fixed: several copies take turns in
 * a critical section guarded by one System V semaphore. Each prints its character on entering
 * and again on leaving, so on a shared terminal the characters always come in pairs
 * (XXOOXXOO...), never interleaved (XOXO), then "\n<pid> - finished" as sem1.c does.
 *
 * The set is sem1.c's, unchanged on the wire: ONE semaphore (key 1234 by default), 1 = free,
 * P = {0, -1, SEM_UNDO}, V = {0, +1, SEM_UNDO}. So this program takes turns with the textbook's
 * sem1 and with the Rust sem-mutex (crates/sem), whichever of them initialises.
 *
 * Calls: semget(key, 1, 0600 | IPC_CREAT | IPC_EXCL) + semctl(SETVAL, 1) in the first copy,
 * semget(key, 1, 0) + semctl(IPC_STAT) in the others; semop() with SEM_UNDO for P (-1) and
 * V (+1); semctl(GETNCNT) and semctl(id, 0, IPC_RMID) in the first copy at the end.
 *
 * Usage:  ./build/sem_mutex -i [-w N] [-l MS] [-k KEY] [-r ROUNDS] [-d MAX_MS]  (first copy: X)
 *         ./build/sem_mutex    [-k KEY] [-r ROUNDS] [-d MAX_MS]                 (the others: O)
 *   -i         initialise the set (like sem1 with an argument), print X, remove the set at the
 *              end; a set made by a copy started first that waits for its initialiser (sem1
 *              without an argument: nobody has used it yet) is taken over
 *   -w N       (with -i) wait until N other copies wait for the lock before starting
 *   -l MS      (with -i) the linger time of the removal rule below (default 3000)
 *   -k KEY     System V key, decimal or 0x-hex (default 1234)
 *   -r ROUNDS  how many times to enter the critical section (default 10)
 *   -d MAX_MS  longest random pause inside and outside it, in milliseconds (default 1000)
 * Run it:  ./build/sem_mutex -i -w 1 & ./build/sem_mutex
 *          ./build/sem_mutex -i & ./textbook/build/sem1      (the textbook's copy joins)
 * Rust port: sem-mutex (crates/sem); line by line: cargo run -p ipc-sem --example sem1.
 *
 * Who removes the set: the -i copy, at the end. sem1.c cannot say when it is done, so the -i
 * copy takes the lock itself (nobody is inside) and holds it; once no process has waited for
 * it (GETNCNT 0) for the linger time, it removes the set; when somebody waits, it lets them in
 * and tries again. sem1 never pauses more than 1 s outside the critical section.
 *
 * Classic bugs fixed (look for "FIX"): every copy did semget(IPC_CREAT) and the first one
 * initialised it, racing with the others (now: create-exclusive, then open-existing, and a set
 * already in use is never re-initialised); the first copy slept 10 seconds and then removed
 * the set under the others' feet (now the removal rule above); no SEM_UNDO on the mutex left
 * it locked for ever when a copy died in the critical section (sem1.c has it; many copies of
 * it do not); semctl's union semun was used without being defined; mode 0666.
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


enum { MUTEX = 0 }; /* the one semaphore: 1 = the critical section is free */

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
            "usage: %s [-i [-w N] [-l MS]] [-k KEY] [-r ROUNDS] [-d MAX_MS]\n"
            "  -i: the first copy (initialises, prints X, removes); without it: prints O\n",
            prog);
    exit(2);
}

/* semop on the semaphore. EIDRM: the first copy removed the set (it was interrupted). */
static void sem_change(short op, short flags)
{
    struct sembuf sb;

    sb.sem_num = MUTEX;
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

static void sleep_ms(long ms)
{
    struct timespec ts;

    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    nanosleep(&ts, NULL);
}

static void pause_ms(long max_ms)
{
    sleep_ms(max_ms > 0 ? rand() % (max_ms + 1) : 0);
}

/* How many processes wait in a P on the semaphore (semctl GETNCNT). */
static int waiting(void)
{
    int n = semctl(sem_id, MUTEX, GETNCNT);

    if (n < 0)
        die("semctl(GETNCNT)");
    return n;
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

/* Opens the existing set with `key` and checks it is sem1.c's: one semaphore. Returns the
 * semid_ds (for sem_otime), exits on error. */
static struct semid_ds open_set(key_t key)
{
    struct semid_ds ds;
    union semun arg;

    sem_id = semget(key, 1, 0); /* FIX: open existing; the -i copy initialised it */
    if (sem_id < 0) {
        int err = errno; /* perror may change errno */
        perror("semget");
        if (err == ENOENT)
            fprintf(stderr, "hint: start the first copy with -i\n");
        exit(1);
    }
    arg.buf = &ds;
    if (semctl(sem_id, 0, IPC_STAT, arg) < 0)
        die("semctl(IPC_STAT)");
    if (ds.sem_nsems != 1) {
        fprintf(stderr, "the semaphore set with key %d has %lu semaphores; this program uses "
                        "sem1.c's set of one\nhint: choose another -k, or remove it: ipcrm -S %d\n",
                (int)key, (unsigned long)ds.sem_nsems, (int)key);
        exit(1);
    }
    if (ds.sem_perm.mode & 077)
        fprintf(stderr, "warning: the semaphore set has mode %04o: every user can take or free "
                        "the lock (sem1.c creates it 0666)\n", (unsigned)(ds.sem_perm.mode & 0777));
    return ds;
}

/* The -i copy: create the set, or take over one nobody has used yet (made by a copy started
 * first, such as sem1 without an argument, waiting for its initialiser). */
static void create_set(key_t key)
{
    /* FIX: create-exclusive, so exactly one copy creates the set. */
    sem_id = semget(key, 1, 0600 | IPC_CREAT | IPC_EXCL);
    if (sem_id >= 0) {
        fprintf(stderr, "semaphore set created: key %d (0x%08x), id %d\n", (int)key,
                (unsigned)key, sem_id);
        return;
    }
    if (errno != EEXIST)
        die("semget");
    /* FIX: never re-initialise a set in use (sem_otime != 0: somebody has done a semop). */
    if (open_set(key).sem_otime != 0) {
        fprintf(stderr, "the semaphore set with key %d is in use: is another -i copy (or sem1 "
                        "with an argument) running?\nhint: start this one without -i to join "
                        "it; ipcrm -S %d removes a leftover\n", (int)key, (int)key);
        exit(1);
    }
    owner = 1;
    fprintf(stderr, "semaphore set created: key %d (0x%08x), id %d (taken over: it was made by "
                    "a copy waiting for its initialiser)\n", (int)key, (unsigned)key, sem_id);
}

/* The removal rule: hold the lock with nobody waiting for `linger_ms`, then IPC_RMID. */
static void remove_when_unused(long linger_ms)
{
    for (;;) {
        long quiet = 0;

        sem_change(-1, SEM_UNDO); /* P: now nobody is inside */
        while (waiting() == 0 && quiet < linger_ms) {
            sleep_ms(10);
            quiet += 10;
        }
        if (quiet >= linger_ms && waiting() == 0)
            break;
        sem_change(1, SEM_UNDO); /* somebody waits: V, let them in, try again */
    }
    remove_set(); /* still holding the lock: never in the middle of somebody's pair */
}

int main(int argc, char *argv[])
{
    struct sigaction sa;
    key_t key = 1234;
    long rounds = 10, max_ms = 1000, wait_for = 0, linger_ms = 3000;
    char op_char = 'O';
    int opt, i;

    while ((opt = getopt(argc, argv, "iw:l:k:r:d:")) != -1) {
        switch (opt) {
        case 'i': owner = 1; op_char = 'X'; break;
        case 'w': wait_for = number(optarg, argv[0]); break;
        case 'l': linger_ms = number(optarg, argv[0]); break;
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
        union semun arg;
        struct sembuf mark[2] = { { MUTEX, 1, 0 }, { MUTEX, -1, IPC_NOWAIT } };

        create_set(key);
        if (wait_for > 0) {
            /* The set is still 0 (locked): the others queue up in their P. */
            fprintf(stderr, "waiting for %ld other cop%s\n", wait_for, wait_for == 1 ? "y" : "ies");
            while (waiting() < wait_for)
                sleep_ms(10);
        }
        arg.val = 1;
        if (semctl(sem_id, MUTEX, SETVAL, arg) < 0)
            die("semctl(SETVAL)");
        /* One semop that changes nothing (+1 then -1, atomically) so sem_otime says "in use". */
        if (semop(sem_id, mark, 2) < 0)
            die("semop");
    } else {
        open_set(key);
        fprintf(stderr, "joined the semaphore set: key %d (0x%08x), id %d\n", (int)key,
                (unsigned)key, sem_id);
    }

    for (i = 0; i < rounds; i++) {
        /* P: wait until the semaphore is 1 and take it. FIX: SEM_UNDO, so if we die inside
         * the critical section the kernel gives it back. */
        sem_change(-1, SEM_UNDO);
        putchar(op_char); /* entering */
        fflush(stdout);
        pause_ms(max_ms / 2);
        putchar(op_char); /* leaving */
        fflush(stdout);
        sem_change(1, SEM_UNDO); /* V: give it back */
        pause_ms(max_ms / 2);
    }
    printf("\n%d - finished\n", (int)getpid());
    fflush(stdout);

    if (owner) {
        /* FIX: instead of sleep(10) and removing whoever still runs, the removal rule. */
        fprintf(stderr, "removing the semaphore set once nobody has waited for it for %ld ms\n",
                linger_ms);
        remove_when_unused(linger_ms);
    }
    return 0;
}
