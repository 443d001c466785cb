//! The sem-sender / sem-receiver protocol: a semaphore carries no data, only a count.
//!
//! The receiver creates a set of four semaphores; each sender posts to it. A post is one
//! atomic `semop` of several operations (all happen, or none), so the counts always agree:
//!
//! | semaphore | starts at | a message post | an End post | the receiver takes one |
//! |---|---|---|---|---|
//! | `MSGS` | 0 | +1 | | -1 if it can (messages first) |
//! | `ENDS` | 0 | | +1 | -1 when `MSGS` is 0 |
//! | `ANY` | 0 | +1 | +1 | -1 (this is what it waits on) |
//! | `ROOM` | 32767 | -1 (waits when 0) | -1 | +1 |
//!
//! Why not one semaphore? The receiver must tell a message from the End without losing a
//! post: it waits on `ANY` (whatever comes), then takes a message if one is counted, else an
//! End. A sender posts its End after all its messages, so preferring messages never counts an
//! End before a message posted earlier. `ROOM` bounds the counts: a semaphore cannot pass
//! 32767 (SEMVMX; `semop` would fail with ERANGE), so a fast sender waits instead of failing.

use std::time::Duration;

use ipc_common::cli::{Key, Mode, DEFAULT_MODE};
use ipc_common::receiver::{Delivery, Inbox};
use ipc_common::sender::Outbox;
use ipc_common::{Error, Message, Result};

use crate::set::{Op, SemSet, SEMVMX};

/// Semaphore counting posted messages.
pub const MSGS: u16 = 0;
/// Semaphore counting posted Ends.
pub const ENDS: u16 = 1;
/// Semaphore counting every post: what the receiver waits on.
pub const ANY: u16 = 2;
/// Semaphore counting the posts that may still be made before the receiver catches up.
pub const ROOM: u16 = 3;
/// Semaphores in the set.
pub const NSEMS: u16 = 4;

/// The receiver's view of the set: creates it, takes posts, removes it when dropped.
///
/// The semaphores say neither who posted nor in which order, so the receiver numbers the
/// messages itself: signal N is message N of one anonymous sender, and each End closes a
/// sender of its own. The summary can then count what arrived; lost, duplicated and reordered
/// stay 0 because a counter cannot show them.
#[derive(Debug)]
pub struct SignalReceiver {
    set: SemSet,
    signals: u64,
    ends: u32,
}

impl SignalReceiver {
    /// Creates the set (C: `semget(key, 4, IPC_CREAT | IPC_EXCL | mode)` + SETVAL). A set that
    /// already exists under `key` is an error: another receiver, or one left behind.
    pub fn create(key: Key, mode: Mode) -> Result<SignalReceiver> {
        let Some(set) = SemSet::create(key, NSEMS, mode)? else {
            return Err(Error::new(
                format!("creating the semaphore set with key {key}"),
                "a semaphore set with this key already exists (EEXIST)",
            )
            .with_hint(format!(
                "another sem-receiver (or the shm pair) may be using key {}; if not, remove the \
                 leftover with ipcrm -S {} or make clean-ipc",
                key.0, key.0
            )));
        };
        set.initialise(&[0, 0, 0, SEMVMX as u16])?;
        Ok(SignalReceiver {
            set,
            signals: 0,
            ends: 0,
        })
    }

    /// Takes one unit of `kind` if there is one, without waiting (C: `semop` of
    /// `{kind, -1, IPC_NOWAIT}` and `{ROOM, +1}`).
    fn take(&self, kind: u16, what: &str) -> Result<bool> {
        let ops = [Op::wait(kind).nowait(), Op::post(ROOM)];
        self.set.op_timeout(ops, Duration::ZERO, what)
    }

    /// The set (its id and key, for messages).
    pub fn set(&self) -> &SemSet {
        &self.set
    }
}

impl Inbox for SignalReceiver {
    /// Waits for the next post and says what it was (C: `semop` P on ANY, then a P with
    /// IPC_NOWAIT on MSGS, else on ENDS, each returning one unit of ROOM): a message becomes
    /// the text `signal N received`, an End the End of anonymous sender number E.
    fn receive(&mut self) -> Result<Delivery> {
        self.set.op([Op::wait(ANY)], "waiting for a signal")?;
        if self.take(MSGS, "taking a message signal")? {
            self.signals += 1;
            let text = format!("signal {} received", self.signals);
            return Ok(Delivery::Message(Message::text(0, self.signals, text)));
        }
        if self.take(ENDS, "taking an End signal")? {
            self.ends += 1;
            return Ok(Delivery::Message(Message::end(self.ends, 1)));
        }
        Err(Error::new(
            "taking a signal",
            "ANY was posted but neither MSGS nor ENDS was: another program changed the semaphores",
        ))
    }
}

/// A sender's view of the set: posts one V per message and one for the End.
#[derive(Debug)]
pub struct SignalSender {
    set: SemSet,
}

impl SignalSender {
    /// Finds the set the receiver created (C: `semget(key, 0, 0)`) and waits until it is
    /// initialised.
    pub fn open(key: Key) -> Result<SignalSender> {
        SignalSender::open_shared(key, DEFAULT_MODE)
    }

    /// [`open`](SignalSender::open), joining a set of another user only when `mode` (the
    /// sender's `--mode`) opens it to others and equals the set's mode (0666).
    pub fn open_shared(key: Key, mode: Mode) -> Result<SignalSender> {
        let set = SemSet::open(key, NSEMS).map_err(|err| {
            if err.errno() == Some(nix::errno::Errno::ENOENT) {
                err.with_hint("start sem-receiver first (it creates the set), or run make demo-sem")
            } else {
                err
            }
        })?;
        set.check_shared(mode)?;
        Ok(SignalSender { set })
    }

    /// The set (its id and key, for messages).
    pub fn set(&self) -> &SemSet {
        &self.set
    }
}

impl Outbox for SignalSender {
    /// One V per message: `{ROOM -1, MSGS +1, ANY +1}`, or for the End `{ROOM -1, ENDS +1,
    /// ANY +1}`, in one atomic `semop`. The message's text or payload is not sent anywhere:
    /// a semaphore has no room for data.
    fn send(&mut self, msg: &Message) -> Result<()> {
        let kind = if msg.is_end() { ENDS } else { MSGS };
        self.set.op(
            [Op::wait(ROOM), Op::post(kind), Op::post(ANY)],
            &format!("posting signal {}", msg.seq),
        )
    }
}
