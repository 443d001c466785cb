//! One face for both kinds of queue, so that msgq-sender and msgq-receiver read the same
//! whichever kernel object carries the messages: the shared options (`--key`, `--mode`,
//! `--posix`, `--name`), opening, sending and receiving one Message per kernel message.

use std::fmt;

use clap::Args;
use nix::libc::c_long;

use ipc_common::cli::{KeyArg, ModeArg, DEFAULT_POSIX_NAME};
use ipc_common::sender::Outbox;
use ipc_common::{Error, Message, Result};

use crate::posix::{Access, PosixQueue};
use crate::sysv::MsgQueue;

/// The options both programs share: which queue, and with which mode.
#[derive(Debug, Clone, Args)]
pub struct QueueArgs {
    #[command(flatten)]
    pub key: KeyArg,
    #[command(flatten)]
    pub mode: ModeArg,
    /// Use a POSIX message queue (mq_open) instead of a System V one (msgget)
    #[arg(long, conflicts_with = "key")]
    pub posix: bool,
    /// Name of the POSIX message queue (with --posix)
    #[arg(long, value_name = "/NAME", default_value = DEFAULT_POSIX_NAME, requires = "posix")]
    pub name: String,
}

/// Which end of the pair this process is: decides the access mode and who owns the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Puts messages in. Removes the queue only if it created it and never sent anything.
    Sender,
    /// Takes messages out. Owns the queue: removes it when done if it is empty.
    Receiver,
}

/// An open queue of either kind, under its guard.
#[derive(Debug)]
pub enum Queue {
    /// A System V queue (msgget and friends).
    SystemV(MsgQueue),
    /// A POSIX queue (mq_open and friends).
    Posix(PosixQueue),
}

impl Queue {
    /// Opens the queue `args` names, creating it if needed (C: `msgget(key, mode | IPC_CREAT)`
    /// or `mq_open(name, O_CREAT, mode, &attr)`).
    pub fn open_or_create(args: &QueueArgs, role: Role, program: &'static str) -> Result<Self> {
        let mode = args.mode.mode;
        let mut queue = if args.posix {
            Queue::Posix(PosixQueue::open_or_create(
                &args.name,
                mode,
                access(role),
                program,
            )?)
        } else {
            Queue::SystemV(MsgQueue::open_or_create(args.key.key, mode, program)?)
        };
        queue.take_ownership(role);
        Ok(queue)
    }

    /// Opens the queue `args` names only if it exists (C: `msgget(key, 0)`, `mq_open(name, ...)`).
    pub fn open_existing(
        args: &QueueArgs,
        role: Role,
        program: &'static str,
    ) -> Result<Option<Self>> {
        let mode = args.mode.mode;
        let queue = if args.posix {
            PosixQueue::open_existing(&args.name, mode, access(role), program)?.map(Queue::Posix)
        } else {
            MsgQueue::open_existing(args.key.key, mode, program)?.map(Queue::SystemV)
        };
        Ok(queue.map(|mut queue| {
            queue.take_ownership(role);
            queue
        }))
    }

    /// The receiver owns the queue; a sender owns it only while it has created it and sent
    /// nothing (so that a sender that fails or is stopped before its first message leaves
    /// nothing behind).
    fn take_ownership(&mut self, role: Role) {
        let owner = match role {
            Role::Receiver => true,
            Role::Sender => self.created(),
        };
        self.remove_when_done(owner);
    }

    /// Sets the guard's owner flag.
    pub fn remove_when_done(&mut self, owner: bool) {
        match self {
            Queue::SystemV(queue) => queue.remove_when_done(owner),
            Queue::Posix(queue) => queue.remove_when_done(owner),
        }
    }

    /// Chooses the byte layout of the messages (`--wire`): the C programs' one exists for
    /// System V queues only (c/msgq_*.c use msgget).
    pub fn set_wire(&mut self, wire: crate::cwire::Wire) -> Result<()> {
        match (self, wire) {
            (_, crate::cwire::Wire::Bincode) => Ok(()),
            (Queue::SystemV(queue), crate::cwire::Wire::C) => {
                queue.use_c_wire();
                Ok(())
            }
            (Queue::Posix(_), crate::cwire::Wire::C) => Err(Error::usage(
                "--wire c",
                "the C programs use System V message queues, not POSIX ones",
            )),
        }
    }

    /// True when this process created the queue.
    pub fn created(&self) -> bool {
        match self {
            Queue::SystemV(queue) => queue.created(),
            Queue::Posix(queue) => queue.created(),
        }
    }

    /// Where it is, for the ready line: `msqid 3` or the POSIX limits.
    pub fn details(&self) -> String {
        match self {
            Queue::SystemV(queue) => {
                let limits = queue.limits();
                format!(
                    "msqid {}, msgmax {} bytes per message, msgmnb {} bytes per queue",
                    queue.id(),
                    limits.msgmax,
                    limits.msgmnb
                )
            }
            Queue::Posix(queue) => match queue.attr() {
                Ok(attr) => format!(
                    "mq_maxmsg {} messages of mq_msgsize {} bytes",
                    attr.max_messages, attr.message_size
                ),
                Err(_) => String::new(),
            },
        }
    }

    /// How many messages are in the queue now.
    pub fn messages(&self) -> Result<u64> {
        match self {
            Queue::SystemV(queue) => queue.stat().map(|stat| stat.messages),
            Queue::Posix(queue) => queue.attr().map(|attr| attr.messages as u64),
        }
    }

    /// Takes the next message. `mtype` is msgrcv's type (System V only; POSIX always gives
    /// the highest priority first). `None` only with `nowait` on an empty queue.
    pub fn receive(&mut self, mtype: c_long, nowait: bool) -> Result<Option<Message>> {
        match self {
            Queue::SystemV(queue) => queue.receive(mtype, nowait),
            Queue::Posix(queue) => queue.receive(nowait),
        }
    }
}

impl fmt::Display for Queue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Queue::SystemV(queue) => queue.fmt(f),
            Queue::Posix(queue) => queue.fmt(f),
        }
    }
}

fn access(role: Role) -> Access {
    match role {
        Role::Sender => Access::Send,
        Role::Receiver => Access::Receive,
    }
}

/// The sender's [`Outbox`]: one msgsnd (type `mtype`) or mq_send (priority) per message.
#[derive(Debug)]
pub struct QueueOutbox {
    queue: Queue,
    /// System V message type, or POSIX priority.
    tag: c_long,
    nowait: bool,
    sent: u64,
}

impl QueueOutbox {
    /// Sends into `queue` with System V type / POSIX priority `tag`; `nowait` makes a full
    /// queue an error instead of a wait.
    pub fn new(queue: Queue, tag: c_long, nowait: bool) -> Self {
        QueueOutbox {
            queue,
            tag,
            nowait,
            sent: 0,
        }
    }

    /// The queue.
    pub fn queue(&self) -> &Queue {
        &self.queue
    }

    /// Messages sent so far, End included.
    pub fn sent(&self) -> u64 {
        self.sent
    }
}

impl Outbox for QueueOutbox {
    fn send(&mut self, msg: &Message) -> Result<()> {
        match &mut self.queue {
            Queue::SystemV(queue) => queue.send(msg, self.tag, self.nowait)?,
            Queue::Posix(queue) => {
                let priority = u32::try_from(self.tag)
                    .ok()
                    .filter(|p| *p < crate::MQ_PRIO_MAX)
                    .ok_or_else(|| {
                        Error::usage(
                            format!("--priority {}", self.tag),
                            format!("a POSIX priority is 0 to {}", crate::MQ_PRIO_MAX - 1),
                        )
                    })?;
                queue.send(msg, priority, self.nowait)?
            }
        }
        if self.sent == 0 {
            // From the first message on, the queue holds data a receiver is owed: never remove it.
            self.queue.remove_when_done(false);
        }
        self.sent += 1;
        Ok(())
    }
}
