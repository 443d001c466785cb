//! System V shared memory: the fastest IPC, because nothing is copied through the kernel.
//!
//! A segment is memory that the kernel maps into every process that attaches it: what one
//! process writes, the others read at once, with no system call in between. That is also the
//! catch the tutorial points out: shared memory "doesn't provide any synchronization
//! facilities". The textbook's shm1.c and shm2.c poll a `written_by_you` flag (one spinning,
//! one with `sleep(1)`); here two counting semaphores of crates/sem hand slots over, with no
//! busy waiting and no sleeping. `--wire c` speaks the textbook's flag protocol instead, to
//! pair with its programs ([`FlagChannel`]).
//! Life of a segment, with the C calls beside the Rust:
//!
//! | step | C | Rust (this crate) |
//! |---|---|---|
//! | create | `shmget((key_t)1234, size, 0600 \| IPC_CREAT)` | [`ShmSegment::create`] (from [`Channel::attach`]) |
//! | find | `shmget(key, 0, 0)` | [`ShmSegment::open`] |
//! | attach | `shared_memory = shmat(shmid, (void *)0, 0)` | inside both, kept in the guard |
//! | use | `strncpy(shared_stuff->some_text, buffer, TEXT_SZ)` | [`ShmWriter`] / [`ShmReader`] lend the slot as a slice between P and V (encode or `memcpy` in place); [`ShmSegment::write`] / [`ShmSegment::read`] are volatile copies for `--no-sync` and `--wire c` |
//! | the textbook's struct | `struct shared_use_st *shared_stuff` | [`shared_use::SharedUseSt`], with [`shared_use::shmget`], [`shared_use::shmat`], [`shared_use::shmdt`], [`shared_use::shmctl`] by their C names (the examples `shm1`, `shm2`) |
//! | inspect | `shmctl(shmid, IPC_STAT, &ds)` | [`ShmSegment::stat`] (size, attach count) |
//! | detach | `shmdt(shared_memory)` | dropping the [`ShmSegment`] guard |
//! | remove | `shmctl(shmid, IPC_RMID, 0)` | dropping the owning guard |
//!
//! # The handoff
//!
//! ```text
//! sender, per message                     receiver, per message
//!   P(EMPTY) and P(WRITER), atomically      P(FULL)
//!   write slot `write_index % S`             read slot `read_index % S`
//!   V(WRITER) and V(FULL), atomically       V(EMPTY)
//! ```
//!
//! A record is one bincode `Message` on the typed path (`Outbox::send`, `Inbox::receive`), or
//! bytes as they are on the raw path ipc-bench uses (`send_bytes`, `receive_bytes`); both go
//! through the same slot protocol. Between its P and its V a side has the slot to itself, so it
//! works on the slot in place, as C does with the pointer `shmat` returned: one copy of the
//! payload on each side (see crates/shm/src/sys.rs for why that is sound).
//!
//! `--slots 1` is the tutorial's single buffer (the two sides take turns); more slots let
//! both run at once. WRITER (with SEM_UNDO) lets several senders share one receiver.
//!
//! **What the guarantees cost.** Each side makes two `semop` calls per message, as the C
//! version does, but the sender's carry several operations each. The kernel runs a
//! single-operation `semop` under that one semaphore's lock, and one with several operations
//! under the lock of the whole set, so the two ends then contend for one lock: a fraction of
//! a microsecond per small message, nothing measurable at 64 KiB, where the copies dominate.
//! No cheaper split keeps the guarantees: handing over must post FULL and cancel EMPTY's
//! undo (two operations on EMPTY) in one atomic call.
//!
//! # Files
//!
//! - `layout.rs`: the header and the slots ([`Layout`]);
//! - `channel.rs`: the segment and the semaphore set, who creates and removes ([`Channel`]);
//! - `writer.rs`, `reader.rs`: the two ends of the handoff ([`ShmWriter`], [`ShmReader`]);
//! - `unsynced.rs`: the `--no-sync` experiment ([`UnsyncedWriter`], [`UnsyncedReader`]);
//! - `flag_handoff.rs`: `--wire c`, the textbook's `written_by_you` flag protocol
//!   ([`FlagChannel`]);
//! - `shared_use.rs`: the textbook's `struct shared_use_st` and the calls by their C names, for
//!   the examples (crates/shm/examples/shm1.rs, shm2.rs);
//! - `args.rs`: `--slot-size`, `--slots`, `--no-sync` ([`SlotArgs`]);
//! - `segment.rs`, `sys.rs`: the segment's guard and every `unsafe` line (the libc calls and
//!   the accesses to the mapped memory, with why each is sound).
//!
//! `shm-sender --ring` / `shm-receiver --ring` run the lock-free ring of crates/ring instead
//! (`ipc_ring::RingSender`, `ipc_ring::RingReceiver`).

#![deny(unsafe_code)]

#[allow(unsafe_code)]
mod sys;

mod args;
mod channel;
mod flag_handoff;
pub mod layout;
mod reader;
mod segment;
pub mod shared_use;
mod unsynced;
mod writer;

pub use args::{ShmArgs, SlotArgs};
pub use channel::{Channel, EMPTY, FULL, INDEX, NSEMS, WRITER};
pub use flag_handoff::{FlagChannel, SHARED_USE_ST};
pub use layout::{Geometry, Layout, MIN_SLOT_SIZE};
pub use reader::ShmReader;
pub use segment::ShmSegment;
pub use sys::{ShmId, ShmStat};
pub use unsynced::{UnsyncedReader, UnsyncedWriter};
pub use writer::ShmWriter;
