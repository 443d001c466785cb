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
//! by an 8-byte *slot word*) and two counters that only grow: `head`, the number of records
//! the producer has published, written only by the producer; and `tail`, the number of
//! records the consumer has released, written only by the consumer. Record number `n` lives
//! in slot `n % S`.
//!
//! - The ring is **empty** when `tail == head`, **full** when `head - tail == S`.
//! - Slots `tail .. head` belong to the consumer; all the others to the producer. A side only
//!   touches the slots it owns, so a slot's bytes never need a lock.
//! - The slot word says which record the slot holds and how long it is: its low 32 bits are
//!   the record's **stamp**, `(n + 1) as u32` (the `head` that publishes record `n`), its high
//!   32 bits the length. See [`layout::slot_word`].
//! - The producer fills slot `head % S`, then stores the slot word with `Release`, then
//!   `head + 1`. The consumer waiting for record `n` loads the slot word with `Acquire` until
//!   its stamp is `n + 1`: then the bytes are there too, and it knows their length.
//! - The consumer copies slot `tail % S` out, then stores `tail + 1` with `Release`; the
//!   producer loads `tail` with `Acquire` before reusing the slot, so the copy is finished.
//!   It re-reads `tail` only when the ring looks full.
//! - Why the consumer polls the slot, not `head`: the record then crosses from the producer's
//!   core to the consumer's in the lines it polls, and `head` never leaves the producer's
//!   core. With `head`, every record cost two trips one after the other: `head`'s line, then
//!   the slot's. `head` stays for [`Ring::pending`] and for whoever looks from outside.
//! - A stale slot cannot pass for a new one: it holds record `n - S` (stamp `n + 1 - S`) or,
//!   in the first lap, nothing (zero, and the first lap's stamps are 1..=S). `S` is at most
//!   65536, so 32 bits of stamp never wrap into each other. The counters are 64-bit: at a
//!   billion records a second they wrap after 584 years.
//! - While it polls the slot word, the consumer also prefetches the slot's next lines (up to
//!   256 bytes; `__builtin_prefetch` in C): they arrive with the word, not one trip after it.
//! - After publishing, the producer *demotes* the record's lines (x86 `cldemote`) from its
//!   core's private cache to the shared L3, where the consumer's read finds them sooner.
//! - [`Consumer::recv`] copies the record out; [`Consumer::recv_with`] lets a closure read it in
//!   place and releases the slot when the closure returns.
//! - [`Producer::send`] copies a record in; [`Producer::send_with`] lets a closure write it (an
//!   encoder, say) and publishes it when the closure returns its length. The closure writes
//!   in place when `max_len` is over [`STAGE_BYTES`]; a smaller record is written into the
//!   producer's own buffer and copied in at once, because an encoder writing the lines that a
//!   waiting consumer polls would have to win them back store after store.
//!
//! A waiting side (consumer on an empty ring, producer on a full one) spins for a few tens of
//! microseconds and then sleeps on a futex, and the other side pays a `FUTEX_WAKE` only when
//! it sees the waiter's "sleeping" flag: see [`wait`](crate#waiting) below and `wait.rs`.
//! The layout, byte by byte, is in `layout.rs`.
//!
//! # Waiting
//!
//! Spin with `std::hint::spin_loop()` for at most [`DEFAULT_SPIN`], re-reading only what the
//! peer publishes (the consumer: the slot word; the producer: `tail`) and the clock every 64
//! rounds, then `FUTEX_WAIT` on our own flag with a 100 ms timeout. Only the sleeping phase
//! looks at the rest: whether the peer closed or went away, and each timeout checks the peer
//! with `kill(pid, 0)`: a peer killed by `kill -9` is reported within about 0.1 s. Ctrl-C is
//! noticed through [`ipc_common::signals::check`] at the same moments.
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
//! # The programs
//!
//! The ring has no binaries of its own: `shm-sender --ring` and `shm-receiver --ring` are
//! a thin flag over its program code here: [`RingArgs`] (`--ring`, `--name`), [`RingSender`]
//! (an `Outbox`: `sender.rs`), [`RingReceiver`] (an `Inbox`: `receiver.rs`), and the
//! clean-up of a ring whose receiver was killed (`orphan.rs`).
//!
//! All the `unsafe` (mmap, munmap, the futex system call, the accesses to the mapping, the
//! prefetch and `cldemote` hints) is in the private `sys` module, which explains why each
//! access is sound.

#![deny(unsafe_code)]

#[allow(unsafe_code)]
mod sys;

mod args;
mod consumer;
pub mod layout;
mod orphan;
mod peek;
mod producer;
mod receiver;
mod ring;
mod sender;
mod wait;

pub use args::{RingArgs, MIN_SLOT_SIZE};
pub use consumer::Consumer;
pub use peek::{peek, End, EndSeen};
pub use producer::{Producer, STAGE_BYTES};
pub use receiver::RingReceiver;
pub use ring::Ring;
pub use sender::RingSender;
pub use wait::{DEFAULT_SPIN, PEER_CHECK};

/// How often one end had to sleep, and how often it woke its peer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WaitStats {
    /// Times this end went to sleep in FUTEX_WAIT (after spinning in vain).
    pub sleeps: u64,
    /// Times this end paid a FUTEX_WAKE system call because its peer slept.
    pub wakes: u64,
}
