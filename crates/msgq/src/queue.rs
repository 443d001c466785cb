//! One face for both kinds of queue, so that msgq-sender and msgq-receiver read the same
//! whichever kernel object carries the messages: the shared options (`--key`, `--mode`,
//! `--posix`, `--name`), opening, and what the ready lines say. Sending is
//! [`QueueOutbox`](crate::QueueOutbox), receiving [`QueueInbox`](crate::QueueInbox).

use std::fmt;

use clap::{Args, ValueEnum};

use ipc_common::clayout::{self, CLayout};
use ipc_common::cli::{KeyArg, ModeArg, DEFAULT_POSIX_NAME};
use ipc_common::codec::WireArg;
use ipc_common::{program, Error, Result};

use crate::posix::{Access, PosixQueue};
use crate::sysv::{ModeRule, MsgQueue};

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

impl QueueArgs {
    /// Checks what clap cannot, before any queue is touched: `--wire c` speaks to the C
    /// programs, which use System V queues (a usage error with `--posix`). Warns about a
    /// `--mode` open to other users.
    pub fn check(&self, wire: &WireArg) -> Result<()> {
        if wire.is_c() && self.posix {
            return Err(Error::usage(
                "--wire c",
                "the C programs use System V message queues, not POSIX ones: leave out --posix",
            ));
        }
        self.mode.mode.warn_if_open();
        Ok(())
    }
}

/// How many bytes each `--wire c` message's text buffer has, sent whole
/// (`msgsnd(msgid, &some_data, sizeof some_data.some_text, 0)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CTextSize {
    /// msg2.c as printed: some_text sized MAX_TEXT, which it defines as 512
    #[value(name = "512")]
    MaxText,
    /// the common student variant: some_text sized BUFSIZ (8192 with glibc)
    #[value(name = "8192")]
    Bufsiz,
}

impl CTextSize {
    /// The C layout of that buffer.
    pub fn layout(self) -> &'static CLayout {
        match self {
            CTextSize::MaxText => &clayout::MSGQ,
            CTextSize::Bufsiz => &clayout::MSGQ_BUFSIZ,
        }
    }
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
    /// or `mq_open(name, O_CREAT, mode, &attr)`). With `--wire c` an existing queue of ours may
    /// also have the textbook's mode 0666 ([`ModeRule::OrTextbook`]).
    pub fn open_or_create(args: &QueueArgs, role: Role, wire: &WireArg) -> Result<Self> {
        let mode = args.mode.mode;
        let mut queue = if args.posix {
            Queue::Posix(PosixQueue::open_or_create(&args.name, mode, access(role))?)
        } else {
            let rule = mode_rule(wire);
            Queue::SystemV(MsgQueue::open_or_create_with(args.key.key, mode, rule)?)
        };
        queue.take_ownership(role);
        Ok(queue)
    }

    /// Opens the queue `args` names only if it exists (C: `msgget(key, 0)`, `mq_open(name, ...)`).
    pub fn open_existing(args: &QueueArgs, role: Role, wire: &WireArg) -> Result<Option<Self>> {
        let mode = args.mode.mode;
        let queue = if args.posix {
            PosixQueue::open_existing(&args.name, mode, access(role))?.map(Queue::Posix)
        } else {
            MsgQueue::open_existing_with(args.key.key, mode, mode_rule(wire))?.map(Queue::SystemV)
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

    /// A sender that stops early (Ctrl-C, SIGTERM, an error) after its first message leaves
    /// the queue, and what it holds, to the receiver: this says so, as the receiver's guard
    /// does when it keeps a queue. C: `msgctl(id, IPC_STAT, &ds)` for `msg_qnum`, or
    /// `mq_getattr(mqd, &attr)` for `mq_curmsgs`.
    pub fn tell_kept(&self) {
        let program = program::name();
        let Ok(messages) = self.messages() else {
            return;
        };
        let plural = if messages == 1 { "" } else { "s" };
        eprintln!("{program}: kept {self} with {messages} undelivered message{plural}");
        let remove = match self {
            Queue::SystemV(queue) => format!("`ipcrm -q {}`", queue.id()),
            Queue::Posix(queue) => format!(
                "`rm /dev/mqueue{}` (mqueue file system mounted on /dev/mqueue)",
                queue.name()
            ),
        };
        let drain = match self {
            Queue::SystemV(queue) => queue.drain_command(),
            Queue::Posix(queue) => queue.drain_command(),
        };
        eprintln!("hint: drain it with `{drain}` (the receiver), or remove it with {remove}");
    }

    /// How many messages are in the queue now.
    pub fn messages(&self) -> Result<u64> {
        match self {
            Queue::SystemV(queue) => queue.stat().map(|stat| stat.messages),
            Queue::Posix(queue) => queue.attr().map(|attr| attr.messages as u64),
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

/// `--wire c` pairs with the textbook's programs, which create every queue 0666: such a queue
/// of ours is accepted (with a warning). Our own wire keeps the exact-mode check.
fn mode_rule(wire: &WireArg) -> ModeRule {
    if wire.is_c() {
        ModeRule::OrTextbook
    } else {
        ModeRule::Exact
    }
}

fn access(role: Role) -> Access {
    match role {
        Role::Sender => Access::Send,
        Role::Receiver => Access::Receive,
    }
}

impl From<MsgQueue> for Queue {
    fn from(queue: MsgQueue) -> Self {
        Queue::SystemV(queue)
    }
}

impl From<PosixQueue> for Queue {
    fn from(queue: PosixQueue) -> Self {
        Queue::Posix(queue)
    }
}
