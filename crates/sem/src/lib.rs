//! System V semaphores: counters in the kernel that processes wait on and post to.
//!
//! A semaphore set is a kernel object named by a key, like a message queue; it holds counters
//! that never go below zero. P ("wait") takes one, sleeping while the counter is zero; V
//! ("post") adds one, waking a sleeper. Several operations on several semaphores can be done
//! in one atomic call. Life of a set, with the C calls beside the Rust:
//!
//! | step | C | Rust (this crate) |
//! |---|---|---|
//! | create | `semget(key, n, IPC_CREAT \| IPC_EXCL \| 0600)` | [`SemSet::create`] |
//! | initialise | `semctl(id, i, SETVAL, arg)` | [`SemSet::initialise`] (without the classic race) |
//! | find | `semget(key, 0, 0)` | [`SemSet::open`] |
//! | P / V | `semop(id, &sops, n)`, `semtimedop(..., &timeout)` | [`SemSet::op`], [`SemSet::op_timeout`] with [`Op`] |
//! | inspect | `semctl(id, i, GETVAL)`, `semctl(id, 0, IPC_STAT, arg)` | [`SemSet::value`], [`SemSet::stat`] |
//! | remove | `semctl(id, 0, IPC_RMID)` | dropping the owning [`SemSet`] guard |
//!
//! Three uses in this workspace:
//!
//! - [`pair`]: `sem-sender` posts one V per message and `sem-receiver` counts them;
//! - [`mutex`]: `sem-mutex`, the textbook's critical section on sem1.c's one-semaphore layout
//!   (`SEM_UNDO` releases a dead holder), so it takes turns with sem1.c itself;
//! - crates/shm: the empty/full slot counting of the shared-memory pair.
//!
//! The line-by-line port of sem1.c (`cargo run -p ipc-sem --example sem1 -- x`) uses the calls
//! by their C names, from [`calls`]. All the `unsafe` (the calls into libc) is in the private
//! `sys` module.

#![deny(unsafe_code)]

#[allow(unsafe_code)]
mod sys;

pub mod args;
pub mod calls;
pub mod mutex;
pub mod pair;
pub mod set;

pub use args::SetArgs;
pub use set::{Op, SemSet, SEMVMX};
pub use sys::{SemId, SemStat};
