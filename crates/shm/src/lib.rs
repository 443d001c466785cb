//! System V shared memory: the fastest IPC, because nothing is copied through the kernel.
//!
//! A segment is memory that the kernel maps into every process that attaches it: what one
//! process writes, the others read at once, with no system call in between. That is also the
//! catch the tutorial points out: shared memory "doesn't provide any synchronization
//! facilities", so this crate hands slots over with two counting semaphores of crates/sem
//! (see [`handoff`]). Life of a segment, with the C calls beside the Rust:
//!
//! | step | C | Rust (this crate) |
//! |---|---|---|
//! | create | `shmget((key_t)1234, size, 0600 \| IPC_CREAT)` | [`ShmSegment::create`] |
//! | find | `shmget(key, 0, 0)` | [`ShmSegment::open`] |
//! | attach | `shared_memory = shmat(shmid, (void *)0, 0)` | inside both, kept in the guard |
//! | use | `strncpy(shared_stuff->some_text, buffer, TEXT_SZ)` | the handoff lends the slot as a slice between its P and V (memcpy, encode in place); [`ShmSegment::write`] / [`ShmSegment::read`] are volatile copies for `--no-sync` and `--wire c` |
//! | inspect | `shmctl(shmid, IPC_STAT, &ds)` | [`ShmSegment::stat`] (size, attach count) |
//! | detach | `shmdt(shared_memory)` | dropping the [`ShmSegment`] guard |
//! | remove | `shmctl(shmid, IPC_RMID, 0)` | dropping the owning guard |
//!
//! All the `unsafe` (the calls into libc and the accesses to the mapped memory) is in the
//! private `sys` module, which explains why the accesses are sound.

#![deny(unsafe_code)]

#[allow(unsafe_code)]
mod sys;

pub mod cwire;
pub mod handoff;
pub mod ring_mode;
pub mod segment;

pub use handoff::{Channel, Layout, ShmReader, ShmWriter, SlotArgs};
pub use segment::ShmSegment;
pub use sys::{ShmId, ShmStat};
