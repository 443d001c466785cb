//! [`MsgQueue`]: one System V message queue, owned by one guard.
//!
//! The life of the queue, as the tutorial's sender.c and receiver.c live it:
//!
//! | step | C | Rust |
//! |---|---|---|
//! | find or create | `msgget((key_t)1234, 0666 \| IPC_CREAT)` | [`MsgQueue::open_or_create`] (0600 unless `--mode`) |
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

use ipc_common::cli::{Key, Mode, DEFAULT_MODE};
use ipc_common::error::describe_errno;
use ipc_common::{signals, wire, Error, Message, Result};

use crate::cwire;
use crate::limits::{SysvLimits, MSGMAX_FILE, MSGMNB_FILE};
use crate::sys::{self, MsgBuf, MsqId, MsqStat};

/// One System V message queue. Not `Clone`: one guard per queue per process.
#[derive(Debug)]
pub struct MsgQueue {
    id: MsqId,
    key: Key,
    mode: Mode,
    program: &'static str,
    /// The owner flag: when set, `Drop` removes the queue if it is empty.
    remove_when_empty: bool,
    created: bool,
    limits: SysvLimits,
    /// The queue's byte capacity (`msg_qbytes`) when we opened it.
    max_bytes: u64,
    /// `--wire c`: the C layout of a message, before it is copied behind the type in `buf`.
    scratch: Vec<u8>,
    /// The msgbuf of msgsnd/msgrcv: room for msgmax bytes of text.
    buf: MsgBuf,
    full_reported: bool,
    /// `--wire c`: the C programs' layout instead of bincode Messages (see crate::cwire).
    c_wire: Option<cwire::Decoder>,
}

impl MsgQueue {
    /// C: `msgget(key, mode | IPC_CREAT | IPC_EXCL)`, and if the queue already exists,
    /// `msgget(key, 0)`. Either way the queue must be ours (our uid) and have `mode`.
    pub fn open_or_create(key: Key, mode: Mode, program: &'static str) -> Result<Self> {
        let limits = SysvLimits::read()?;
        let flags = libc::IPC_CREAT | libc::IPC_EXCL | mode.0 as c_int;
        match sys::msgget(key.0, flags) {
            Ok(id) => MsgQueue::checked(id, key, mode, program, true, limits),
            Err(Errno::EEXIST) => match MsgQueue::open_existing(key, mode, program)? {
                Some(queue) => Ok(queue),
                // Removed between our two msgget calls: create it after all.
                None => MsgQueue::open_or_create(key, mode, program),
            },
            Err(errno) => Err(msgget_error(key, errno)),
        }
    }

    /// C: `msgget(key, 0)`: the existing queue, or `None` when there is none with this key.
    pub fn open_existing(key: Key, mode: Mode, program: &'static str) -> Result<Option<Self>> {
        let limits = SysvLimits::read()?;
        match sys::msgget(key.0, 0) {
            Ok(id) => MsgQueue::checked(id, key, mode, program, false, limits).map(Some),
            Err(Errno::ENOENT) => Ok(None),
            Err(errno) => Err(msgget_error(key, errno)),
        }
    }

    /// Checks that the queue is ours (our uid) and has the mode asked for. Until the checks
    /// pass, the guard owns the queue only if we just created it (it is then ours and empty, and
    /// an error removes it again); a queue we found is never touched by a failed check.
    fn checked(
        id: MsqId,
        key: Key,
        mode: Mode,
        program: &'static str,
        created: bool,
        limits: SysvLimits,
    ) -> Result<Self> {
        let mut queue = MsgQueue {
            id,
            key,
            mode,
            program,
            remove_when_empty: created,
            created,
            limits,
            max_bytes: 0,
            scratch: Vec::new(),
            buf: MsgBuf::with_capacity(limits.msgmax),
            full_reported: false,
            c_wire: None,
        };
        let what = format!("opening message queue key {key}");
        // msgget(key, 0) asks for no permission, so a queue we may not read is found, and
        // IPC_STAT is what says EACCES: describe it as msgget would.
        let stat = sys::msgctl_stat(id).map_err(|errno| msgget_error(key, errno))?;
        let me = geteuid().as_raw();
        if stat.uid != me {
            return Err(Error::new(
                what,
                format!(
                    "it belongs to uid {} (mode {:04o}, msqid {id}), not to us (uid {me})",
                    stat.uid, stat.mode
                ),
            )
            .with_hint(format!(
                "choose another --key, or ask uid {} to remove it (ipcrm -q {id})",
                stat.uid
            )));
        }
        if stat.mode != mode.0 {
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

    /// `--wire c`: from now on send and receive the C programs' `struct { long mtype; char
    /// text[512]; }` (the text and its NUL) instead of bincode Messages.
    pub fn use_c_wire(&mut self) {
        self.c_wire = Some(cwire::Decoder::default());
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

    /// Sends `msg` as one kernel message of type `mtype` (> 0). C: `msgsnd(id, &buf, len, 0)`.
    ///
    /// The Message is encoded straight into the msgbuf, behind its type, as C fills
    /// `buf.mtext`. A message larger than msgmax (or than the whole queue) is refused before the
    /// call, naming the limit and its file. A full queue blocks, saying so once on stderr; with
    /// `nowait` (`IPC_NOWAIT`) it is an error instead. Ctrl-C interrupts the blocked call (EINTR).
    pub fn send(&mut self, msg: &Message, mtype: c_long, nowait: bool) -> Result<()> {
        let len = match self.c_wire {
            Some(_) => {
                cwire::encode(msg, &mut self.scratch)?;
                self.check_size(self.scratch.len())?;
                self.buf.text_mut()[..self.scratch.len()].copy_from_slice(&self.scratch);
                self.scratch.len()
            }
            None => match wire::encode_into_slice(msg, self.buf.text_mut()) {
                Ok(len) => len,
                Err(wire::WireError::TooLarge { len, .. }) => {
                    return Err(self.size_error(len as usize));
                }
                Err(err) => return Err(err.context(format!("encoding a message for {self}"))),
            },
        };
        self.check_size(len)?;
        self.send_text(len, mtype, nowait)
    }

    /// Sends `bytes` as they are (no Message around them) as one kernel message of type
    /// `mtype`: the raw path of ipc-bench. Same limits, blocking and errors as [`send`](Self::send).
    pub fn send_bytes(&mut self, bytes: &[u8], mtype: c_long, nowait: bool) -> Result<()> {
        self.check_size(bytes.len())?;
        self.buf.text_mut()[..bytes.len()].copy_from_slice(bytes);
        self.send_text(bytes.len(), mtype, nowait)
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

    /// Sends the first `len` bytes of the msgbuf's text with type `mtype`.
    fn send_text(&mut self, len: usize, mtype: c_long, nowait: bool) -> Result<()> {
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
            self.program
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

    /// Takes the next message of type `mtype` (msgrcv's meaning: 0 any, T > 0 only T, T < 0 the
    /// lowest type <= |T| first). C: `msgrcv(id, &buf, msgmax, mtype, 0)`.
    ///
    /// Blocks on an empty queue; with `nowait` (`IPC_NOWAIT`) returns `None` instead. Ctrl-C
    /// interrupts the blocked call (EINTR). Bytes that are not a Message are an error. The
    /// Message is decoded straight out of the msgbuf.
    pub fn receive(&mut self, mtype: c_long, nowait: bool) -> Result<Option<Message>> {
        let Some(len) = self.receive_text(mtype, nowait)? else {
            return Ok(None);
        };
        let text = &self.buf.text()[..len];
        if let Some(decoder) = &mut self.c_wire {
            return Ok(Some(decoder.decode(text)));
        }
        wire::decode(text).map(Some).map_err(|err| {
            err.context(format!(
                "reading a message of type {} from {self}",
                self.buf.mtype()
            ))
        })
    }

    /// Takes the next message of type `mtype` as bytes (no Message expected): the raw path of
    /// ipc-bench. Replaces `out` with them; false (and `out` untouched) when `nowait` found the
    /// queue empty. Same waiting and errors as [`receive`](Self::receive).
    pub fn receive_bytes(
        &mut self,
        mtype: c_long,
        nowait: bool,
        out: &mut Vec<u8>,
    ) -> Result<bool> {
        let Some(len) = self.receive_text(mtype, nowait)? else {
            return Ok(false);
        };
        out.clear();
        out.extend_from_slice(&self.buf.text()[..len]);
        Ok(true)
    }

    /// msgrcv into our msgbuf; the length of the text it got, `None` if `nowait` found nothing.
    fn receive_text(&mut self, mtype: c_long, nowait: bool) -> Result<Option<usize>> {
        let flags = if nowait { libc::IPC_NOWAIT } else { 0 };
        loop {
            match sys::msgrcv(self.id, &mut self.buf, mtype, flags) {
                Ok(len) => return Ok(Some(len)),
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
    fn drain_command(&self) -> String {
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
        format!("msgq-receiver --key {key}{mode} --nowait")
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
        let program = self.program;
        let id = self.id;
        match sys::msgctl_stat(id) {
            Ok(stat) if stat.messages == 0 => match sys::msgctl_rmid(id) {
                Ok(()) => eprintln!("{program}: removed {self} (msgctl IPC_RMID)"),
                Err(Errno::EINVAL | Errno::EIDRM) => eprintln!("{program}: {self} was already removed"),
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
            let found = match find_in_proc(key) {
                Some((id, uid, mode)) => format!(": it belongs to uid {uid} with mode {mode:04o} (msqid {id})"),
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

/// Looks `key` up in /proc/sysvipc/msg (what `ipcs -q` reads): (msqid, owner uid, mode).
fn find_in_proc(key: Key) -> Option<(i64, u32, u32)> {
    let table = std::fs::read_to_string("/proc/sysvipc/msg").ok()?;
    // Columns: key msqid perms cbytes qnum lspid lrpid uid gid cuid cgid stime rtime ctime.
    table.lines().skip(1).find_map(|line| {
        let cols: Vec<&str> = line.split_whitespace().collect();
        if cols.len() < 8 || cols[0].parse::<i64>().ok()? != i64::from(key.0) {
            return None;
        }
        let mode = u32::from_str_radix(cols[2], 8).ok()? & 0o777;
        Some((cols[1].parse().ok()?, cols[7].parse().ok()?, mode))
    })
}
