/*
 * shm_sender.c - the tutorial's shared memory sender (shm2.c): attaches the receiver's
 * 1024-byte segment with key 1234 and puts each line typed there, one at a time.
 *
 * Calls: semget(key, 2, 0); shmget(key, 1024, 0); shmat(id, NULL, 0); semop() P(empty) /
 * V(full) around each write; shmdt().
 *
 * Usage:  ./build/shm_sender [-k KEY]          (KEY decimal or 0x-hex, default 1234)
 * Other end (start it first, it creates the segment): ./build/shm_receiver [-k KEY].
 *   Terminal 1: ./build/shm_receiver       Terminal 2: ./build/shm_sender
 * The line `end`, or the end of input (Ctrl-D), ends both. Rust port: shm-sender (crates/shm).
 * How the two semaphores hand the segment back and forth: see shm_receiver.c.
 *
 * Classic bugs fixed (look for "FIX"): `while (written_by_you == 1) sleep(1);` busy-waited ->
 * semop blocks; fgets(buffer, BUFSIZ) then strncpy(text, buffer, TEXT_SZ) could leave the
 * text without a NUL -> snprintf bounded by the segment; shmget(IPC_CREAT) in the sender
 * created a segment nobody would remove -> open existing only.
 */
#include <errno.h>
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

enum { EMPTY = 0, FULL = 1 };

static int sem_id = -1;

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

static void sem_change(unsigned short num, short op)
{
    struct sembuf sb = { num, op, 0 };

    while (semop(sem_id, &sb, 1) < 0) {
        if (errno == EIDRM) {
            fprintf(stderr, "the receiver removed the semaphores: it has stopped\n");
            exit(1);
        }
        if (errno != EINTR)
            die("semop");
    }
}

int main(int argc, char *argv[])
{
    struct shared_use_st *shared;
    char line[SEGMENT_SIZE];
    key_t key = 1234;
    char *end;
    int opt, shm_id = -1, running = 1;

    while ((opt = getopt(argc, argv, "k:")) != -1) {
        if (opt != 'k')
            usage(argv[0]);
        key = (key_t)strtoul(optarg, &end, 0);
        if (*optarg == '\0' || *end != '\0' || key == IPC_PRIVATE)
            usage(argv[0]);
    }
    if (optind != argc)
        usage(argv[0]);

    /* FIX: open existing only; the receiver creates and removes. */
    sem_id = semget(key, 2, 0);
    if (sem_id >= 0)
        shm_id = shmget(key, SEGMENT_SIZE, 0);
    if (sem_id < 0 || shm_id < 0) {
        int err = errno;
        perror(sem_id < 0 ? "semget" : "shmget");
        if (err == ENOENT)
            fprintf(stderr, "hint: start shm_receiver first (it creates the segment)\n");
        exit(1);
    }
    shared = shmat(shm_id, NULL, 0);
    if (shared == (void *)-1)
        die("shmat");

    while (running) {
        fprintf(stderr, "Enter some text: ");
        if (fgets(line, sizeof line, stdin) == NULL) {
            if (ferror(stdin))
                die("reading standard input");
            snprintf(line, sizeof line, "end"); /* end of input */
        }
        line[strcspn(line, "\n")] = '\0';
        sem_change(EMPTY, -1); /* FIX: wait until the receiver has taken the last text */
        /* FIX: bounded and always NUL-terminated. */
        snprintf(shared->some_text, sizeof shared->some_text, "%s", line);
        sem_change(FULL, 1); /* tell the receiver */
        if (strcmp(line, "end") == 0)
            running = 0;
    }
    fprintf(stderr, "\n");
    if (shmdt(shared) < 0)
        die("shmdt");
    return 0;
}
