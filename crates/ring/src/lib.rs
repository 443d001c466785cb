//! A lock-free single-producer single-consumer ring in POSIX shared memory.
//!
//! The tutorial hands shared memory over with semaphores: every message costs at least two
//! `semop` system calls, and a sleeping process has to be woken by the kernel. This ring needs
//! no system call at all while both sides keep up: the producer and the consumer each own one
//! counter in the shared memory and only *read* the other's.
//!
//! # The slot protocol
//!
//! The ring is `S` fixed-size slots (each holds a record of up to `slot_size` bytes, preceded
//! by its length) and two counters that only grow: `head`, the number of records the producer
//! has published, written only by the producer; and `tail`, the number of records the consumer
//! has released, written only by the consumer. Record number `n` lives in slot `n % S`.
//!
//! - The ring is **empty** when `tail == head`, **full** when `head - tail == S`.
//! - Slots `tail .. head` belong to the consumer; all the others to the producer. A side only
//!   touches the slots it owns, so a slot's bytes never need a lock.
//! - The producer fills slot `head % S`, then stores `head + 1` with `Release`; the consumer
//!   loads `head` with `Acquire` before reading the slot, so the bytes are there.
//! - The consumer copies slot `tail % S` out, then stores `tail + 1` with `Release`; the
//!   producer loads `tail` with `Acquire` before reusing the slot, so the copy is finished.
//! - The counters are 64-bit: at a billion records a second they wrap after 584 years.
//! - [`Consumer::recv`] copies the record out; [`Consumer::recv_with`] lets a closure read it in
//!   place and releases the slot when the closure returns.
//! - [`Producer::send`] copies a record in; [`Producer::send_with`] lets a closure write it in
//!   place (an encoder, say) and publishes it when the closure returns its length.
//! - Before reading a slot's length word, the consumer prefetches the slot's first lines
//!   (`__builtin_prefetch` in C): otherwise the copy, whose end depends on that length, would
//!   fetch the record's second cache line from the producer's core only after the first.
//!
//! A waiting side (consumer on an empty ring, producer on a full one) spins for a few tens of
//! microseconds and then sleeps on a futex, and the other side pays a `FUTEX_WAKE` only when
//! it sees the waiter's "sleeping" flag: see [`wait`](crate#waiting) below and `wait.rs`.
//! The layout, byte by byte, is in `layout.rs`.
//!
//! # Waiting
//!
//! Spin with `std::hint::spin_loop()` for at most [`DEFAULT_SPIN`], re-reading only the peer's
//! counter (and the clock every 64 rounds), then `FUTEX_WAIT` on our own flag with a 100 ms
//! timeout. Only the sleeping phase looks at the rest: whether the peer closed or went away,
//! and each timeout checks the peer with `kill(pid, 0)`: a peer killed by `kill -9` is
//! reported within about 0.1 s. Ctrl-C is noticed through [`ipc_common::signals::check`] at
//! the same moments.
//!
//! # Use
//!
//! ```no_run
//! use ipc_ring::{Consumer, Producer, Ring};
//! # fn main() -> ipc_common::Result<()> {
//! // Terminal 1: the consumer creates the ring (and removes it when done).
//! let mut rx = Consumer::new(Ring::create("/my-ring", 4096, 8, ipc_common::cli::DEFAULT_MODE)?)?;
//! // Terminal 2: the producer opens it.
//! let mut tx = Producer::new(Ring::open("/my-ring")?)?;
//! tx.send(b"hello")?;
//! tx.close()?;
//! let mut buf = Vec::new();
//! while rx.recv(&mut buf)? {
//!     println!("{}", String::from_utf8_lossy(&buf));
//! }
//! # Ok(()) }
//! ```
//!
//! All the `unsafe` (mmap, munmap, the futex system call, the accesses to the mapping) is in
//! the private `sys` module, which explains why each access is sound.

#![deny(unsafe_code)]

#[allow(unsafe_code)]
mod sys;

mod consumer;
pub mod layout;
mod peek;
mod producer;
mod ring;
mod wait;

pub use consumer::Consumer;
pub use peek::{peek, End, EndSeen};
pub use producer::Producer;
pub use ring::Ring;
pub use wait::{process_alive, DEFAULT_SPIN, PEER_CHECK};

/// How often one end had to sleep, and how often it woke its peer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WaitStats {
    /// Times this end went to sleep in FUTEX_WAIT (after spinning in vain).
    pub sleeps: u64,
    /// Times this end paid a FUTEX_WAKE system call because its peer slept.
    pub wakes: u64,
}
