/* shmsem.c: System V shared memory handed over with System V semaphores, the tutorial's way,
 * with SLOTS slots per direction: semaphore "empty" (starts at SLOTS) and "full" (starts at 0);
 * the writer waits on empty, copies into the slot, posts full; the reader mirrors it. */
#include "bench.h"
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/shm.h>

static int shmid, semid;
static unsigned char *mem;
static size_t slot_bytes;
static uint64_t wpos[2], rpos[2];

static void sem_op(int num, int delta) {
    struct sembuf op = {(unsigned short)num, (short)delta, 0};
    while (semop(semid, &op, 1) != 0) if (errno != EINTR) die("semop");
}
static void mech_setup(size_t size) {
    slot_bytes = (8 + size + 63) / 64 * 64;
    shmid = shmget(IPC_PRIVATE, 2 * (size_t)g_slots * slot_bytes, 0600 | IPC_CREAT);
    if (shmid < 0) die("shmget");
    mem = shmat(shmid, 0, 0);
    if (mem == (void *)-1) die("shmat");
    semid = semget(IPC_PRIVATE, 4, 0600 | IPC_CREAT); /* per direction d: 2d = empty, 2d+1 = full */
    if (semid < 0) die("semget");
    unsigned short init[4] = {(unsigned short)g_slots, 0, (unsigned short)g_slots, 0};
    if (semctl(semid, 0, SETALL, init) != 0) die("semctl");
}
static void mech_open(int side) { (void)side; }
static void mech_send(int side, const void *buf, size_t len) {
    int d = side;
    sem_op(2 * d, -1);
    unsigned char *slot = mem + ((size_t)d * g_slots + wpos[d] % g_slots) * slot_bytes;
    uint64_t l = len;
    memcpy(slot, &l, 8);
    memcpy(slot + 8, buf, len);
    wpos[d]++;
    sem_op(2 * d + 1, +1);
}
static void mech_recv(int side, void *buf, size_t len) {
    int d = 1 - side;
    sem_op(2 * d + 1, -1);
    unsigned char *slot = mem + ((size_t)d * g_slots + rpos[d] % g_slots) * slot_bytes;
    uint64_t l;
    memcpy(&l, slot, 8);
    if (l != len) { fprintf(stderr, "c-bench: error: bad length\n"); exit(1); }
    memcpy(buf, slot + 8, len);
    rpos[d]++;
    sem_op(2 * d, +1);
}
static void mech_cleanup(void) { shmdt(mem); shmctl(shmid, IPC_RMID, 0); semctl(semid, 0, IPC_RMID); }
