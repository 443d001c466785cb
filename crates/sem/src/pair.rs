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

use ipc_common::cli::{Key, Mode};
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

/// What the receiver took from the set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taken {
    /// One message was posted.
    Message,
    /// A sender posted its End.
    End,
}

/// The receiver's view of the set: creates it, takes posts, removes it when dropped.
#[derive(Debug)]
pub struct SignalReceiver {
    set: SemSet,
}

impl SignalReceiver {
    /// Creates the set (C: `semget(key, 4, IPC_CREAT | IPC_EXCL | mode)` + SETVAL). A set that
    /// already exists under `key` is an error: another receiver, or one left behind.
    pub fn create(program: &'static str, key: Key, mode: Mode) -> Result<SignalReceiver> {
        let Some(set) = SemSet::create(program, key, NSEMS, mode)? else {
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
        Ok(SignalReceiver { set })
    }

    /// Waits for the next post and says what it was (C: `semop` P on ANY, then a P with
    /// IPC_NOWAIT on MSGS, else on ENDS, each returning one unit of ROOM).
    pub fn take(&self) -> Result<Taken> {
        self.set.op([Op::wait(ANY)], "waiting for a signal")?;
        let message = [Op::wait(MSGS).nowait(), Op::post(ROOM)];
        if self.set.op_timeout(
            message,
            std::time::Duration::ZERO,
            "taking a message signal",
        )? {
            return Ok(Taken::Message);
        }
        let end = [Op::wait(ENDS).nowait(), Op::post(ROOM)];
        if self
            .set
            .op_timeout(end, std::time::Duration::ZERO, "taking an End signal")?
        {
            return Ok(Taken::End);
        }
        Err(Error::new(
            "taking a signal",
            "ANY was posted but neither MSGS nor ENDS was: another program changed the semaphores",
        ))
    }

    /// The set (its id and key, for messages).
    pub fn set(&self) -> &SemSet {
        &self.set
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
    pub fn open(program: &'static str, key: Key) -> Result<SignalSender> {
        let set = SemSet::open(program, key, NSEMS).map_err(|err| {
            if err.errno() == Some(nix::errno::Errno::ENOENT) {
                err.with_hint("start sem-receiver first (it creates the set), or run make demo-sem")
            } else {
                err
            }
        })?;
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
