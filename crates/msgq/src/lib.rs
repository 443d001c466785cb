//! Message queues: the kernel keeps a list of messages that outlives both programs.
//!
//! The textbook's msg2.c puts each line into a System V message queue with key 1234, and
//! msg1.c takes them out until `end` (examples/msg2.rs and examples/msg1.rs port them line by
//! line). What makes a queue different from a pipe or a FIFO:
//! it keeps message boundaries (one `msgsnd` is one `msgrcv`), each message has a **type** a
//! receiver can select by, and the queue **persists**: a sender can put 100 messages in and
//! exit, and a receiver started an hour later still gets all of them.
//!
//! The kernel object's life, with the C calls beside the Rust:
//!
//! | step | C (msg2.c / msg1.c) | Rust (this crate) |
//! |---|---|---|
//! | create or find | `msgid = msgget((key_t)1234, 0666 \| IPC_CREAT);` | [`MsgQueue::open_or_create`] (mode 0600 unless `--mode`) |
//! | send | `msgsnd(msgid, &some_data, MAX_TEXT, 0);` | [`QueueOutbox`] encodes one `Message` per kernel message, [`MsgQueue::send`] sends it |
//! | receive | `msgrcv(msgid, &some_data, BUFSIZ, msg_to_receive, 0);` | [`MsgQueue::receive`], then [`QueueInbox`] decodes |
//! | look | `msgctl(msgid, IPC_STAT, &ds);` | [`MsgQueue::stat`] |
//! | remove | `msgctl(msgid, IPC_RMID, 0);` | dropping the receiver's [`MsgQueue`] guard, if the queue is empty |
//!
//! The POSIX interface (`mq_open`, `mq_send`, `mq_receive`, `mq_unlink`; here mostly via nix,
//! and `mq_timedsend`/`mq_timedreceive`, so that Ctrl-C still works, via `sys`) does the same
//! with a name instead of a key and priorities instead of types: [`PosixQueue`].
//!
//! Modules, one concept each: `sys` (the unsafe calls: System V, and the two timed POSIX
//! queue calls nix lacks; private), `mq` (the POSIX queue calls as `--trace` shows them), [`sysv`] (the
//! [`MsgQueue`] guard), [`posix`] (the [`PosixQueue`] guard), [`limits`] (msgmax and friends,
//! read from /proc), [`queue`] (one face for both: the shared options, opening), [`outbox`]
//! ([`QueueOutbox`], how the sender puts messages in) and [`inbox`] ([`QueueInbox`], how the
//! receiver takes them out). `--wire c` is `ipc_common::codec` with the C layout
//! `ipc_common::clayout::MSGQ` (or `MSGQ_BUFSIZ`), and an existing queue may then also have
//! the textbook's mode 0666 ([`sysv::ModeRule`]). [`textbook`] is the C calls one to one,
//! under their names, for the line-by-line ports in examples/ (msg1.rs, msg2.rs).

#![deny(unsafe_code)]

#[allow(unsafe_code)]
mod sys;

pub mod inbox;
pub mod limits;
mod mq;
pub mod outbox;
pub mod posix;
pub mod queue;
pub mod sysv;
pub mod textbook;

pub use inbox::QueueInbox;
pub use outbox::QueueOutbox;
pub use posix::PosixQueue;
pub use queue::{CTextSize, Queue, QueueArgs, Role};
pub use sys::{MsqId, MsqStat};
pub use sysv::{ModeRule, MsgQueue};

/// The largest POSIX message priority plus one (C: `MQ_PRIO_MAX`, 32768 on Linux).
pub const MQ_PRIO_MAX: u32 = 32768;
