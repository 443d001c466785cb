/* ring.c: the same lock-free SPSC ring as crates/ring, in C11 atomics + futex.
 * Two rings (one per direction) in one MAP_SHARED mapping made before fork. Same geometry
 * (slot = size + 256, about 2 MiB of slots, 2..256), same protocol: each slot starts with a
 * word (stamp = low 32 bits of the head that publishes it, length above), stored last with
 * Release; the consumer polls the slot word, never `head`. head/tail counters on their own
 * 128-byte lines; the producer reads tail only when the ring looks full. Spin 50 us, then
 * FUTEX_WAIT on a "sleeping" flag that the other side clears and FUTEX_WAKEs only when set.
 * After publishing, the producer demotes the record's lines to the shared cache (cldemote). */
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
static uint64_t head_of[2], tail_of[2], tail_seen[2]; /* tail_seen: the consumer's tail as last read */

static void futex_wait(_Atomic uint32_t *w, uint32_t v) {
    struct timespec ts = {0, 100 * 1000 * 1000};
    syscall(SYS_futex, (uint32_t *)w, FUTEX_WAIT, v, &ts, NULL, 0);
}
static void futex_wake(_Atomic uint32_t *w) { syscall(SYS_futex, (uint32_t *)w, FUTEX_WAKE, 1, NULL, NULL, 0); }

static _Atomic uint64_t *slot_word(struct ring *r, uint64_t n) {
    return (_Atomic uint64_t *)(r->slots + (n % nslots) * stride);
}
/* The slot word: stamp (low 32 bits of the head that publishes the record) | length << 32. */
static uint64_t pack(uint64_t published, size_t len) { return (uint64_t)len << 32 | (uint32_t)published; }

/* Spin ~50 us, then sleep until ready(r, arg) holds. Inlined into each caller, as Rust inlines
 * its spin loop: ready() is then a direct, inlined call, with the slot's address worked out
 * once, not a call through a pointer that divides by nslots in every round. */
static inline __attribute__((always_inline)) void wait_until(struct ring *r, int (*ready)(struct ring *, uint64_t), uint64_t arg,
                       _Atomic uint32_t *sleeping) {
    long long start = 0;
    for (unsigned i = 1;; i++) {
        if (ready(r, arg)) return;
        __builtin_ia32_pause();
        if ((i & 63) == 0) {
            if (!start) start = now_ns();
            else if (now_ns() - start > 50000) break;
        }
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
static inline void demote(const unsigned char *p, size_t len) {
    for (size_t off = 0; off < len; off += 64) __asm__ volatile("cldemote %0" : : "m"(p[off]));
}
static int has_space(struct ring *r, uint64_t head) {
    return head - atomic_load_explicit(&r->tail, memory_order_acquire) < nslots;
}
/* Record number `tail` is in its slot when the slot word's stamp is tail + 1. Each look also
 * prefetches the slot's next lines (up to PREFETCH_BYTES), so that they travel with the word
 * instead of being asked for only once the word has arrived. */
static inline int has_record(struct ring *r, uint64_t tail) {
    _Atomic uint64_t *word = slot_word(r, tail);
    for (size_t off = 64; off < stride && off < PREFETCH_BYTES; off += 64) __builtin_prefetch((unsigned char *)word + off);
    return (uint32_t)atomic_load_explicit(word, memory_order_acquire) == (uint32_t)(tail + 1);
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
    if (head - tail_seen[side] >= nslots) { /* looks full: read the consumer's tail (again) */
        if (!has_space(r, head)) wait_until(r, has_space, head, &r->producer_sleeping);
        tail_seen[side] = atomic_load_explicit(&r->tail, memory_order_acquire);
    }
    unsigned char *slot = (unsigned char *)slot_word(r, head);
    memcpy(slot + 8, buf, len);
    head_of[side] = ++head;
    atomic_store_explicit((_Atomic uint64_t *)slot, pack(head, len), memory_order_release);
    atomic_store_explicit(&r->head, head, memory_order_release);
    wake(&r->consumer_sleeping);
    demote(slot, 8 + len);
}
static void mech_recv(int side, void *buf, size_t len) {
    struct ring *r = rings[1 - side];
    uint64_t tail = tail_of[side];
    if (!has_record(r, tail)) wait_until(r, has_record, tail, &r->consumer_sleeping);
    unsigned char *slot = (unsigned char *)slot_word(r, tail);
    /* The record says how long it is (a consumer does not know beforehand): copy that many
     * bytes, then check it is what the bench sent. */
    uint64_t l = atomic_load_explicit((_Atomic uint64_t *)slot, memory_order_relaxed) >> 32;
    if (l > len) { fprintf(stderr, "c-bench: error: bad record length\n"); exit(1); }
    memcpy(buf, slot + 8, l);
    if (l != len) { fprintf(stderr, "c-bench: error: bad record length\n"); exit(1); }
    tail_of[side] = ++tail;
    atomic_store_explicit(&r->tail, tail, memory_order_release);
    wake(&r->producer_sleeping);
}
static void mech_cleanup(void) {}
