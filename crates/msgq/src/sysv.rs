//! [`MsgQueue`]: one System V message queue, owned by one guard.
//!
//! The life of the queue, as the textbook's msg2.c and msg1.c live it:
//!
//! | step | C | Rust |
//! |---|---|---|
//! | find or create | `msgget((key_t)1234, 0666 \| IPC_CREAT)` | [`MsgQueue::open_or_create`] (0600 unless `--mode`; [`MsgQueue::open_or_create_with`] and [`ModeRule::OrTextbook`] also take a queue of ours the textbook made 0666) |
//! | find only | `msgget(1234, 0)` | [`MsgQueue::open_existing`] |
//! | send | `msgsnd(id, &buf, len, 0)` | [`MsgQueue::send`] |
//! | receive | `msgrcv(id, &buf, BUFSIZ, type, 0)` | [`MsgQueue::receive`] |
//! | look | `msgctl(id, IPC_STAT, &ds)` | [`MsgQueue::stat`] |
//! | remove | `msgctl(id, IPC_RMID, 0)` | dropping an owning guard, **only if the queue is empty** |
//!
//! A System V queue is a kernel object with a key and no file: it lives until someone removes
//! it (`IPC_RMID`, `ipcrm -q`) or the machine reboots, whoever created it and whether or not any
//! process has it open. That is what makes it useful (a sender can finish before a receiver
//! starts) and what makes it leak. So exactly one guard owns the queue, and its `Drop` removes it
//! only when nothing would be lost: when the queue still holds messages it is kept, and the
//! program says how many and how to drain or remove it.

use std::fmt;

use nix::errno::Errno;
use nix::libc::{self, c_int, c_long};
use nix::unistd::geteuid;

use ipc_common::cli::{
    foreign_refusal, not_ours_to_remove, ForeignObject, Key, Mode, DEFAULT_MODE,
};
use ipc_common::creation::create_or_open;
use ipc_common::error::describe_errno;
use ipc_common::{ownership, program, signals, sysvipc, Error, Result};

use crate::limits::{SysvLimits, MSGMAX_FILE, MSGMNB_FILE};
use crate::sys::{self, MsgBuf, MsqId, MsqStat};

/// One System V message queue. Not `Clone`: one guard per queue per process.
#[derive(Debug)]
pub struct MsgQueue {
    id: MsqId,
    key: Key,
    mode: Mode,
    /// The owner flag: when set, `Drop` removes the queue if it is empty.
    remove_when_empty: bool,
    created: bool,
    limits: SysvLimits,
    /// The queue's byte capacity (`msg_qbytes`) when we opened it.
    max_bytes: u64,
    /// The msgbuf of msgsnd/msgrcv: room for msgmax bytes of text.
    buf: MsgBuf,
    full_reported: bool,
    /// The queue's owner (`msg_perm.uid`): our uid, or another user's who shares it 0666.
    owner_uid: u32,
}

impl MsgQueue {
    /// C: `msgget(key, mode | IPC_CREAT | IPC_EXCL)`, and if the queue already exists,
    /// `msgget(key, 0)` (through [`create_or_open`]). Either way the queue must be ours (our
    /// uid) and have `mode`.
    pub fn open_or_create(key: Key, mode: Mode) -> Result<Self> {
        MsgQueue::open_or_create_with(key, mode, ModeRule::Exact)
    }

    /// [`MsgQueue::open_or_create`], with `rule` saying which modes an existing queue may have.
    pub fn open_or_create_with(key: Key, mode: Mode, rule: ModeRule) -> Result<Self> {
        let limits = SysvLimits::read()?;
        let flags = libc::IPC_CREAT | libc::IPC_EXCL | mode.0 as c_int;
        let create_exclusive = || match sys::msgget(key.0, flags) {
            Ok(id) => {
                ownership::record_sysv(sysvipc::Kind::Queue, key.0, id.raw());
                MsgQueue::checked(id, key, mode, rule, true, limits).map(Some)
            }
            Err(Errno::EEXIST) => Ok(None),
            Err(errno) => Err(msgget_error(key, errno)),
        };
        let open_existing = || MsgQueue::find(key, mode, rule, limits);
        let what = format!("message queue key {key}");
        create_or_open(&what, create_exclusive, open_existing).map(|opened| opened.into_inner())
    }

    /// C: `msgget(key, 0)`: the existing queue, or `None` when there is none with this key.
    pub fn open_existing(key: Key, mode: Mode) -> Result<Option<Self>> {
        MsgQueue::open_existing_with(key, mode, ModeRule::Exact)
    }

    /// [`MsgQueue::open_existing`], with `rule` saying which modes the queue may have.
    pub fn open_existing_with(key: Key, mode: Mode, rule: ModeRule) -> Result<Option<Self>> {
        MsgQueue::find(key, mode, rule, SysvLimits::read()?)
    }

    fn find(key: Key, mode: Mode, rule: ModeRule, limits: SysvLimits) -> Result<Option<Self>> {
        match sys::msgget(key.0, 0) {
            Ok(id) => MsgQueue::checked(id, key, mode, rule, false, limits).map(Some),
            Err(Errno::ENOENT) => Ok(None),
            Err(errno) => Err(msgget_error(key, errno)),
        }
    }

    /// Checks that the queue is ours (our uid), or another user's shared with exactly the
    /// `--mode` asked for (0666), and has the mode asked for (or one `rule` allows). Until the checks pass, the guard owns the queue only if we just created it (it
    /// is then ours and empty, and an error removes it again); a queue we found is never
    /// touched by a failed check.
    fn checked(
        id: MsqId,
        key: Key,
        mode: Mode,
        rule: ModeRule,
        created: bool,
        limits: SysvLimits,
    ) -> Result<Self> {
        let mut queue = MsgQueue {
            id,
            key,
            mode,
            remove_when_empty: created,
            created,
            limits,
            max_bytes: 0,
            buf: MsgBuf::with_capacity(limits.msgmax),
            full_reported: false,
            owner_uid: geteuid().as_raw(),
        };
        let what = format!("opening message queue key {key}");
        // msgget(key, 0) asks for no permission, so a queue we may not read is found, and
        // IPC_STAT is what says EACCES: describe it as msgget would.
        let stat = sys::msgctl_stat(id).map_err(|errno| msgget_error(key, errno))?;
        let me = geteuid().as_raw();
        if stat.uid != me {
            // Another user's queue: only one they opened with the mode we were given (0666).
            if !mode.admits_foreign(stat.mode) {
                let found = ForeignObject {
                    noun: "queue",
                    id_name: "msqid",
                    id: id.raw(),
                    ipcrm: "-q",
                    uid: stat.uid,
                    mode: stat.mode,
                };
                return Err(foreign_refusal(what, found, mode));
            }
            mode.note_foreign(&queue.to_string(), stat.uid);
            queue.owner_uid = stat.uid;
        }
        if stat.mode != mode.0 && rule.allows(stat.mode) {
            // A queue of ours that the textbook's programs made: usable, but say what it allows.
            eprintln!(
                "{}: warning: {queue} has the textbook's mode {:04o} (msg1.c and msg2.c create it so): \
                 any user on this machine can read its messages or inject their own; \
                 accepted because of --wire c (ours create 0600)",
                program::name(),
                stat.mode
            );
            queue.mode = Mode(stat.mode);
        } else if stat.mode != mode.0 {
            return Err(Error::new(
                what,
                format!("it has mode {:04o}, not the {mode} asked for (msqid {id})", stat.mode),
            )
            .with_hint(format!(
                "pass --mode {:04o} to use it as it is, or remove it (ipcrm -q {id}), or choose another --key",
                stat.mode
            )));
        }
        queue.max_bytes = stat.max_bytes;
        Ok(queue)
    }

    /// Sets the owner flag: when set, dropping the guard removes the queue if it is empty
    /// (the receiver's `msgctl(IPC_RMID)`), and keeps it, saying so, if it is not.
    pub fn remove_when_done(&mut self, owner: bool) {
        self.remove_when_empty = owner;
    }

    /// True when this process created the queue (rather than finding it).
    pub fn created(&self) -> bool {
        self.created
    }

    /// The queue id (`ipcs -q`'s msqid column).
    pub fn id(&self) -> MsqId {
        self.id
    }

    /// The key it was found by.
    pub fn key(&self) -> Key {
        self.key
    }

    /// The limits read from /proc when it was opened.
    pub fn limits(&self) -> SysvLimits {
        self.limits
    }

    /// C: `msgctl(id, IPC_STAT, &ds)`.
    pub fn stat(&self) -> Result<MsqStat> {
        sys::msgctl_stat(self.id).map_err(|errno| Error::sys(format!("looking at {self}"), errno))
    }

    /// C: `msgctl(id, IPC_SET, &ds)` with `ds.msg_qbytes = bytes`: the bytes of text the
    /// queue may hold (lowering it is the owner's right; raising it over msgmnb is root's).
    pub fn set_max_bytes(&mut self, bytes: u64) -> Result<()> {
        sys::msgctl_set_qbytes(self.id, bytes)
            .map_err(|errno| Error::sys(format!("setting the capacity of {self}"), errno))?;
        self.max_bytes = bytes;
        Ok(())
    }

    /// Sends `bytes` (an encoded Message, or the bench's raw bytes) as one kernel message
    /// of type `mtype` (> 0). C: `msgsnd(id, &buf, len, 0)`, the bytes copied behind the
    /// type into `buf.mtext` as C fills it.
    ///
    /// A message larger than msgmax (or than the whole queue) is refused before the call,
    /// naming the limit and its file. A full queue blocks, saying so once on stderr; with
    /// `nowait` (`IPC_NOWAIT`) it is an error instead. Ctrl-C interrupts the blocked call (EINTR).
    pub fn send(&mut self, bytes: &[u8], mtype: c_long, nowait: bool) -> Result<()> {
        self.send_with(bytes.len(), mtype, nowait, |text| {
            text.copy_from_slice(bytes);
            Ok(bytes.len())
        })
    }

    /// Like [`send`](Self::send), but `fill` writes the message (at most `max_len` bytes)
    /// straight into `buf.mtext`, the struct msgsnd sends from, and returns its length: a
    /// sender encodes there (one copy of a payload fewer).
    pub fn send_with(
        &mut self,
        max_len: usize,
        mtype: c_long,
        nowait: bool,
        fill: impl FnOnce(&mut [u8]) -> Result<usize>,
    ) -> Result<()> {
        self.check_size(max_len)?;
        let len = fill(&mut self.buf.text_mut()[..max_len])?;
        if len > max_len {
            return Err(Error::new(
                format!("sending to {self}"),
                format!("the message claims {len} bytes, more than the {max_len} it was given"),
            ));
        }
        self.buf.set_mtype(mtype);
        // First without waiting, so that we can say once that the queue is full before we block.
        match sys::msgsnd(self.id, &self.buf, len, libc::IPC_NOWAIT) {
            Ok(()) => return Ok(()),
            Err(Errno::EAGAIN) if nowait => {
                let why = match self.stat() {
                    Ok(stat) => format!(
                        "queue full: it holds {} messages, {} of {} bytes (IPC_NOWAIT)",
                        stat.messages, stat.bytes, stat.max_bytes
                    ),
                    Err(_) => "queue full (IPC_NOWAIT)".to_string(),
                };
                return Err(Error::new(format!("sending to {self}"), why).with_hint(
                    "start a receiver to make room, or leave out --nowait to wait for one",
                ));
            }
            Err(Errno::EAGAIN) => self.report_full(),
            Err(Errno::EINTR) => signals::check()?,
            Err(errno) => return Err(self.send_error(errno)),
        }
        loop {
            match sys::msgsnd(self.id, &self.buf, len, 0) {
                Ok(()) => return Ok(()),
                // A signal handler ran: stop if it was Ctrl-C/SIGTERM, else block again.
                Err(Errno::EINTR) => signals::check()?,
                Err(errno) => return Err(self.send_error(errno)),
            }
        }
    }

    /// Refuses a message of `len` bytes that the kernel would refuse (EINVAL) or that could
    /// never fit the queue (it would block for ever).
    fn check_size(&self, len: usize) -> Result<()> {
        if len > self.limits.msgmax {
            return Err(self.size_error(len));
        }
        if len as u64 > self.max_bytes {
            return Err(Error::new(
                format!("sending a message of {len} bytes to {self}"),
                format!(
                    "it is larger than the whole queue, which holds {} bytes (msg_qbytes, from {MSGMNB_FILE} when the queue was created)",
                    self.max_bytes
                ),
            )
            .with_hint("send smaller messages (--size), or raise the limit: sysctl kernel.msgmnb=BYTES and use a new queue"));
        }
        Ok(())
    }

    fn size_error(&self, len: usize) -> Error {
        Error::new(
            format!("sending a message of {len} bytes to {self}"),
            format!(
                "it is larger than msgmax, the limit of {} bytes per message ({MSGMAX_FILE})",
                self.limits.msgmax
            ),
        )
        .with_hint("send smaller messages (--size), or raise the limit: sysctl kernel.msgmax=BYTES")
    }

    /// Says once, on stderr, that msgsnd is about to block on a full queue.
    fn report_full(&mut self) {
        if self.full_reported {
            return;
        }
        self.full_reported = true;
        let contents = match self.stat() {
            Ok(stat) => format!(
                " ({} messages, {} of {} bytes)",
                stat.messages, stat.bytes, stat.max_bytes
            ),
            Err(_) => String::new(),
        };
        eprintln!(
            "{}: {self} is full{contents}: waiting in msgsnd until a receiver makes room",
            program::name()
        );
    }

    fn send_error(&self, errno: Errno) -> Error {
        let what = format!("sending to {self}");
        match errno {
            Errno::EIDRM | Errno::EINVAL => Error::new(what, format!("the queue was removed ({errno:?})"))
                .with_hint("a receiver finished and removed it, or someone ran ipcrm: start the receiver again"),
            Errno::EACCES => Error::sys(what, errno).with_hint("the queue's mode no longer lets us write to it"),
            _ => Error::sys(what, errno),
        }
    }

    /// Takes the next message of type `mtype` (msgrcv's meaning: 0 any, T > 0 only T, T < 0
    /// the lowest type <= |T| first) and replaces `out` with its bytes. C: `msgrcv(id, &buf,
    /// msgmax, mtype, 0)`.
    ///
    /// Blocks on an empty queue; with `nowait` (`IPC_NOWAIT`) returns false (and leaves `out`
    /// untouched) instead. Ctrl-C interrupts the blocked call (EINTR).
    pub fn receive(&mut self, mtype: c_long, nowait: bool, out: &mut Vec<u8>) -> Result<bool> {
        let taken = self.receive_with(mtype, nowait, |text| {
            out.clear();
            out.extend_from_slice(text);
        })?;
        Ok(taken.is_some())
    }

    /// Like [`receive`](Self::receive), but lends the message's text to `use_text` where
    /// msgrcv put it, in our `struct msgbuf`, instead of copying it out: a receiver decodes
    /// it there (one copy of a payload fewer). `None` on an empty queue with `nowait`.
    pub fn receive_with<R>(
        &mut self,
        mtype: c_long,
        nowait: bool,
        use_text: impl FnOnce(&[u8]) -> R,
    ) -> Result<Option<R>> {
        let flags = if nowait { libc::IPC_NOWAIT } else { 0 };
        loop {
            match sys::msgrcv(self.id, &mut self.buf, mtype, flags) {
                Ok(len) => return Ok(Some(use_text(&self.buf.text()[..len]))),
                Err(Errno::ENOMSG) if nowait => return Ok(None),
                // A signal handler ran: stop if it was Ctrl-C/SIGTERM, else block again.
                Err(Errno::EINTR) => signals::check()?,
                Err(Errno::E2BIG) => {
                    return Err(Error::new(
                        format!("receiving from {self}"),
                        format!(
                            "the next message is larger than msgmax, {} bytes ({MSGMAX_FILE}), so it stays in the queue (E2BIG)",
                            self.limits.msgmax
                        ),
                    )
                    .with_hint("msgmax was lowered after it was sent: raise it again (sysctl kernel.msgmax=BYTES)"))
                }
                Err(errno @ (Errno::EIDRM | Errno::EINVAL)) => {
                    return Err(Error::new(format!("receiving from {self}"), format!("the queue was removed ({errno:?})"))
                        .with_hint("someone ran ipcrm, or another receiver finished and removed it"))
                }
                Err(errno) => return Err(Error::sys(format!("receiving from {self}"), errno)),
            }
        }
    }

    /// The command that drains this queue, for the "kept" message.
    pub(crate) fn drain_command(&self) -> String {
        let key = if self.key.0 > 0 {
            self.key.0.to_string()
        } else {
            format!("0x{:08x}", self.key.0 as u32)
        };
        let mode = if self.mode == DEFAULT_MODE {
            String::new()
        } else {
            format!(" --mode {}", self.mode)
        };
        let wire = ipc_common::codec::drain_option();
        format!("msgq-receiver --key {key}{mode}{wire} --nowait")
    }
}

/// Which modes an existing queue of ours may have for us to use it. A queue of another user is
/// used only with exactly the `--mode` asked for, when that mode opens it to others
/// ([`Mode::admits_foreign`]), whatever the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ModeRule {
    /// Exactly the mode asked for (`--mode`, default 0600): our own programs' rule.
    #[default]
    Exact,
    /// The mode asked for, or the textbook's world-open 0666: `--wire c`, which pairs with
    /// msg1.c and msg2.c, and they create every queue with `0666 | IPC_CREAT`. Accepting it
    /// prints a warning saying what 0666 allows.
    OrTextbook,
}

/// The mode the textbook's programs give every object they create.
pub const TEXTBOOK_MODE: u32 = 0o666;

impl ModeRule {
    /// True when a queue with `mode` (not the one asked for) is usable under this rule.
    pub fn allows(self, mode: u32) -> bool {
        self == ModeRule::OrTextbook && mode == TEXTBOOK_MODE
    }
}

impl fmt::Display for MsgQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "message queue key {}", self.key)
    }
}

impl Drop for MsgQueue {
    /// The owner removes the queue (`msgctl(IPC_RMID)`) if it is empty, and otherwise keeps it
    /// and says so: removing a queue discards its messages, and messages are never dropped
    /// silently. Never panics; a failed cleanup is one warning line.
    fn drop(&mut self) {
        if !self.remove_when_empty {
            return;
        }
        let program = program::name();
        let id = self.id;
        match sys::msgctl_stat(id) {
            Ok(stat) if stat.messages == 0 => match sys::msgctl_rmid(id) {
                Ok(()) => {
                    ownership::forget_sysv(sysvipc::Kind::Queue, id.raw());
                    eprintln!("{program}: removed {self} (msgctl IPC_RMID)")
                }
                Err(Errno::EINVAL | Errno::EIDRM) => eprintln!("{program}: {self} was already removed"),
                // IPC_RMID needs the owner, the creator or root: the messages were delivered,
                // so this is a note, not a failure.
                Err(Errno::EPERM) if self.owner_uid != geteuid().as_raw() => eprintln!(
                    "{program}: {self} is empty and was not removed: {}",
                    not_ours_to_remove("the queue", self.owner_uid, &format!("ipcrm -q {id}"))
                ),
                Err(errno) => eprintln!(
                    "{program}: warning: could not remove {self}: {}; remove it with ipcrm -q {id}",
                    describe_errno(errno)
                ),
            },
            Ok(stat) => {
                let plural = if stat.messages == 1 { "" } else { "s" };
                eprintln!(
                    "{program}: kept {self} with {} undelivered message{plural}",
                    stat.messages
                );
                eprintln!(
                    "hint: drain it with `{}`, or remove it with `ipcrm -q {id}`",
                    self.drain_command()
                );
            }
            Err(Errno::EINVAL | Errno::EIDRM) => eprintln!("{program}: {self} was already removed"),
            Err(errno) => eprintln!(
                "{program}: warning: could not look at {self} before removing it: {}; it was kept (ipcrm -q {id} removes it)",
                describe_errno(errno)
            ),
        }
    }
}

/// The error of a failed msgget, naming the key as `ipcs` shows it and what holds it.
fn msgget_error(key: Key, errno: Errno) -> Error {
    let what = format!("opening message queue key {key}");
    match errno {
        Errno::EACCES => {
            // What `ipcs -q` would show of the queue that refused us.
            let found = match sysvipc::find(sysvipc::Kind::Queue, key.0) {
                Some(row) => format!(
                    ": it belongs to uid {} with mode {:04o} (msqid {})",
                    row.uid,
                    row.mode(),
                    row.id
                ),
                None => String::new(),
            };
            Error::new(what, format!("{}{found}", describe_errno(errno)))
                .with_hint("choose another --key, or ask the queue's owner to remove it (ipcrm -q ID) or open it to you")
        }
        Errno::ENOSPC => Error::sys(what, errno).with_hint(
            "the system's limit of message queues (/proc/sys/kernel/msgmni) is reached: see ipcs -q; make clean-ipc removes ours",
        ),
        _ => Error::sys(what, errno),
    }
}
