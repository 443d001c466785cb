/* ring.c: the same lock-free SPSC ring as crates/ring, in C11 atomics + futex.
 * Two rings (one per direction) in one MAP_SHARED mapping made before fork. Same geometry
 * (slot = size + 256, about 2 MiB of slots, 2..256), same protocol: head/tail counters on
 * their own 128-byte lines, Release/Acquire, spin 50 us then FUTEX_WAIT on a "sleeping" flag
 * that the other side clears and FUTEX_WAKEs only when set. The consumer prefetches a slot's
 * first 256 bytes before reading its length word, and copies as many bytes as that word says. */
#include "bench.h"
#include <linux/futex.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#define LINE 128
#define PREFETCH_BYTES 256
struct ring {
    _Alignas(LINE) _Atomic uint64_t head;
    _Alignas(LINE) _Atomic uint64_t tail;
    _Alignas(LINE) _Atomic uint32_t consumer_sleeping;
    _Alignas(LINE) _Atomic uint32_t producer_sleeping;
    _Alignas(LINE) unsigned char slots[];
};

static struct ring *rings[2]; /* 0: parent -> child, 1: child -> parent */
static size_t slot_size, nslots, stride, ring_bytes;
static uint64_t head_of[2], tail_of[2];

static void futex_wait(_Atomic uint32_t *w, uint32_t v) {
    struct timespec ts = {0, 100 * 1000 * 1000};
    syscall(SYS_futex, (uint32_t *)w, FUTEX_WAIT, v, &ts, NULL, 0);
}
static void futex_wake(_Atomic uint32_t *w) { syscall(SYS_futex, (uint32_t *)w, FUTEX_WAKE, 1, NULL, NULL, 0); }

/* Spin ~50 us, then sleep until ready(r) holds. */
static void wait_until(struct ring *r, int (*ready)(struct ring *, uint64_t), uint64_t arg,
                       _Atomic uint32_t *sleeping) {
    long long start = now_ns();
    for (unsigned i = 0;; i++) {
        if (ready(r, arg)) return;
        __builtin_ia32_pause();
        if ((i & 63) == 63 && now_ns() - start > 50000) break;
    }
    for (;;) {
        atomic_store(sleeping, 1);
        atomic_thread_fence(memory_order_seq_cst);
        if (ready(r, arg)) { atomic_store(sleeping, 0); return; }
        futex_wait(sleeping, 1);
        atomic_store(sleeping, 0);
        if (ready(r, arg)) return;
    }
}
static void wake(_Atomic uint32_t *sleeping) {
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(sleeping, memory_order_relaxed) && atomic_exchange(sleeping, 0)) futex_wake(sleeping);
}
static int has_space(struct ring *r, uint64_t head) {
    return head - atomic_load_explicit(&r->tail, memory_order_acquire) < nslots;
}
static int has_data(struct ring *r, uint64_t tail) {
    return atomic_load_explicit(&r->head, memory_order_acquire) != tail;
}

static void mech_setup(size_t size) {
    slot_size = size + 256;
    nslots = (2u << 20) / slot_size;
    if (nslots < 2) nslots = 2;
    if (nslots > 256) nslots = 256;
    stride = (8 + slot_size + 63) / 64 * 64;
    ring_bytes = (sizeof(struct ring) + nslots * stride + 4095) / 4096 * 4096;
    unsigned char *m = mmap(0, 2 * ring_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (m == MAP_FAILED) die("mmap");
    rings[0] = (struct ring *)m;
    rings[1] = (struct ring *)(m + ring_bytes);
}
static void mech_open(int side) { (void)side; }
static void mech_send(int side, const void *buf, size_t len) {
    struct ring *r = rings[side];
    uint64_t head = head_of[side];
    if (!has_space(r, head)) wait_until(r, has_space, head, &r->producer_sleeping);
    unsigned char *slot = r->slots + (head % nslots) * stride;
    uint64_t l = len;
    memcpy(slot, &l, 8);
    memcpy(slot + 8, buf, len);
    atomic_store_explicit(&r->head, head + 1, memory_order_release);
    head_of[side] = head + 1;
    wake(&r->consumer_sleeping);
}
static void mech_recv(int side, void *buf, size_t len) {
    struct ring *r = rings[1 - side];
    uint64_t tail = tail_of[side];
    if (!has_data(r, tail)) wait_until(r, has_data, tail, &r->consumer_sleeping);
    unsigned char *slot = r->slots + (tail % nslots) * stride;
    /* Fetch the slot's first lines at once: the copy's reads depend on the length word, so
     * without this the second line is fetched only after the first arrived. */
    for (size_t off = 0; off < stride && off < PREFETCH_BYTES; off += 64) __builtin_prefetch(slot + off);
    uint64_t l;
    memcpy(&l, slot, 8);
    /* The record says how long it is (a consumer does not know beforehand): copy that many
     * bytes, then check it is what the bench sent. */
    if (l > len) { fprintf(stderr, "c-bench: error: bad record length\n"); exit(1); }
    memcpy(buf, slot + 8, l);
    if (l != len) { fprintf(stderr, "c-bench: error: bad record length\n"); exit(1); }
    atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
    tail_of[side] = tail + 1;
    wake(&r->producer_sleeping);
}
static void mech_cleanup(void) {}
