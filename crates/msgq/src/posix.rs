//! [`PosixQueue`]: one POSIX message queue (`mq_open`), owned by one guard.
//!
//! POSIX queues are the newer interface to the same idea, wrapped by nix's `mqueue` module:
//!
//! | step | C | Rust |
//! |---|---|---|
//! | find or create | `mq_open("/name", O_CREAT \| O_RDWR, 0600, &attr)` | [`PosixQueue::open_or_create`] |
//! | find only | `mq_open("/name", O_RDONLY)` | [`PosixQueue::open_existing`] |
//! | send | `mq_send(mqd, buf, len, priority)` (here `mq_timedsend`, below) | [`PosixQueue::send`] |
//! | receive | `mq_receive(mqd, buf, msgsize, &priority)` (here `mq_timedreceive`) | [`PosixQueue::receive`] |
//! | look | `mq_getattr(mqd, &attr)`, `fstat(mqd)` | [`PosixQueue::attr`] |
//! | close / remove | `mq_close(mqd)`, `mq_unlink("/name")` | dropping the guard (unlink: owner only, if empty) |
//!
//! What differs from System V:
//! - a queue has a **name** (`/ipc-pairs`), not a key, and lives in the `mqueue` file system
//!   (`/dev/mqueue/ipc-pairs` where it is mounted); `mq_unlink` removes the name;
//! - each message has a **priority** instead of a type: `mq_receive` always returns the oldest
//!   message of the highest priority, so there is no "only type T";
//! - its size is fixed when it is created: at most `mq_maxmsg` messages (msg_max, 10 by default)
//!   of at most `mq_msgsize` bytes (msgsize_max, 8192);
//! - the waiting calls are restarted after a signal handler installed with `SA_RESTART`, as
//!   ctrlc's is (signal(7)), where System V's msgsnd/msgrcv fail with `EINTR`.
//!
//! ## Waiting, and still stopping on Ctrl-C
//!
//! The tutorial's way, a blocking `mq_receive`, is the fastest: the kernel hands a message
//! straight to a receiver that sleeps *in* mq_receive ("pipelined" send, ipc/mqueue.c), and one
//! call does the whole job. But after Ctrl-C the kernel restarts it (`SA_RESTART`), so a
//! receiver on an empty queue would never notice. So we block, but never for long: every
//! wait is `mq_timedreceive` / `mq_timedsend` with an absolute deadline [`WAIT_SLICE`] (100 ms)
//! ahead. When it passes (`ETIMEDOUT`) we check for a stop ([`signals::check`]) and wait
//! again: Ctrl-C takes effect within 100 ms, and a message costs one system call, as in C.
//! `--nowait` is the same call with a deadline already past (`{0, 0}`): on an empty or full
//! queue the kernel then fails with `ETIMEDOUT` at once, as `O_NONBLOCK` would with `EAGAIN`.
//! The sender says once that the queue is full: until it has, it tries first with the past
//! deadline, and from then on goes straight to the bounded wait.
//!
//! The deadline is renewed only when a slice runs out (`wait_until`), not before each call: a
//! queue that keeps moving then never reads the clock, and a deadline gone stale costs one
//! `ETIMEDOUT` at most every 100 ms. It is on `CLOCK_REALTIME` (the only
//! clock these calls take): if the clock is set back during a wait, that wait, and a Ctrl-C
//! during it, lasts longer by as much.
//!
//! What this replaced: an `O_NONBLOCK` descriptor and a `poll` (on the queue and the Ctrl-C
//! pipe) after each `EAGAIN`, so three system calls per wait, and no pipelined hand-over (a
//! receiver asleep in `poll` is not a receiver in mq_receive). Its round trip took about 1.2x
//! C's; this one's takes within 1.1x, like a plain blocking call (crates/msgq/README.md has
//! the figures).

use std::fmt;
use std::os::fd::AsFd;
use std::time::{Duration, SystemTime};

use nix::errno::Errno;
use nix::mqueue::{MQ_OFlag, MqAttr, MqdT};

// The mq_* calls, wrapped once so that --trace shows them (crate::mq).
use crate::mq::{mq_close, mq_getattr, mq_open, mq_timedreceive, mq_timedsend, mq_unlink};
use nix::sys::stat::{fchmod, fstat, Mode as StatMode};
use nix::sys::time::TimeSpec;
use nix::unistd::geteuid;

use ipc_common::cli::{Mode, DEFAULT_MODE};
use ipc_common::error::describe_errno;
use ipc_common::{signals, wire, Error, Message, Result};

use crate::limits::{PosixLimits, MSGSIZE_MAX_FILE, MSG_MAX_FILE};

/// The longest one wait lasts before we look for Ctrl-C/SIGTERM and wait again: how late a
/// stop can be noticed while a queue stays empty (or full).
pub const WAIT_SLICE: Duration = Duration::from_millis(100);

/// A deadline already past (the epoch): the call tries once and never sleeps (`--nowait`).
const NO_WAIT: TimeSpec = TimeSpec::new(0, 0);

/// The absolute deadline [`WAIT_SLICE`] from now, on `CLOCK_REALTIME` (what
/// `SystemTime::now` reads, and the clock mq_timedsend/mq_timedreceive compare against).
fn slice_from_now() -> TimeSpec {
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    TimeSpec::from_duration(now + WAIT_SLICE)
}

/// Which way this process uses the queue (the `O_RDONLY` / `O_WRONLY` of mq_open).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// `O_WRONLY`: mq_send only.
    Send,
    /// `O_RDONLY`: mq_receive only.
    Receive,
}

/// The attributes of an open queue (C: `struct mq_attr` from mq_getattr).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueAttr {
    /// The most messages it holds (`mq_maxmsg`).
    pub max_messages: usize,
    /// The largest message it takes (`mq_msgsize`).
    pub message_size: usize,
    /// Messages in it now (`mq_curmsgs`).
    pub messages: usize,
}

/// One open POSIX message queue. Not `Clone`: one guard per queue per process.
#[derive(Debug)]
pub struct PosixQueue {
    /// Always `Some` until `Drop` closes it.
    mqd: Option<MqdT>,
    name: String,
    mode: Mode,
    program: &'static str,
    /// The owner flag: when set, `Drop` unlinks the queue if it is empty.
    unlink_when_empty: bool,
    created: bool,
    message_size: usize,
    scratch: Vec<u8>,
    full_reported: bool,
    /// Where the current wait slice ends: renewed, [`WAIT_SLICE`] from now, only when a wait
    /// runs out, not before every call (reading the clock costs about as much as 1 KiB of
    /// copying, and a queue that keeps moving never waits that long).
    wait_until: TimeSpec,
}

impl PosixQueue {
    /// C: `mq_open(name, O_CREAT | O_EXCL | ..., mode, &attr)`, and if it exists,
    /// `mq_open(name, ...)`. A queue we create gets `mq_maxmsg` = msg_max and `mq_msgsize` =
    /// msgsize_max, read from /proc. Either way it must be ours and have `mode`.
    pub fn open_or_create(
        name: &str,
        mode: Mode,
        access: Access,
        program: &'static str,
    ) -> Result<Self> {
        check_name(name)?;
        let limits = PosixLimits::read()?;
        let attr = MqAttr::new(0, limits.msg_max as _, limits.msgsize_max as _, 0);
        let flags = open_flags(access) | MQ_OFlag::O_CREAT | MQ_OFlag::O_EXCL;
        let what = format!("creating POSIX message queue {name}");
        match mq_open(name, flags, StatMode::from_bits_truncate(mode.0), Some(&attr)) {
            Ok(mqd) => {
                // mq_open applies the umask (0022 would turn 0666 into 0644): set the exact mode.
                if let Err(errno) = fchmod(mqd.as_fd(), StatMode::from_bits_truncate(mode.0)) {
                    // We created it a moment ago and it is empty: remove it again.
                    let _ = mq_close(mqd);
                    let _ = mq_unlink(name);
                    return Err(Error::sys(format!("setting the mode of {name} to {mode}"), errno));
                }
                PosixQueue::checked(mqd, name, mode, program, true)
            }
            Err(Errno::EEXIST) => match PosixQueue::open_existing(name, mode, access, program)? {
                Some(queue) => Ok(queue),
                None => PosixQueue::open_or_create(name, mode, access, program),
            },
            Err(Errno::EINVAL) => Err(Error::new(
                what,
                format!(
                    "mq_maxmsg {} or mq_msgsize {} refused (EINVAL): the limits are {MSG_MAX_FILE} and {MSGSIZE_MAX_FILE}",
                    limits.msg_max, limits.msgsize_max
                ),
            )),
            Err(errno) => Err(open_error(what, errno)),
        }
    }

    /// C: `mq_open(name, O_RDONLY or O_WRONLY)`: the existing queue, or `None` if there is none.
    pub fn open_existing(
        name: &str,
        mode: Mode,
        access: Access,
        program: &'static str,
    ) -> Result<Option<Self>> {
        check_name(name)?;
        match mq_open(name, open_flags(access), StatMode::empty(), None) {
            Ok(mqd) => PosixQueue::checked(mqd, name, mode, program, false).map(Some),
            Err(Errno::ENOENT) => Ok(None),
            Err(errno) => Err(open_error(
                format!("opening POSIX message queue {name}"),
                errno,
            )),
        }
    }

    /// Builds the guard once the queue is known to be ours (owner and mode, from `fstat` on the
    /// queue's descriptor). On an error the descriptor is closed and nothing is unlinked.
    fn checked(
        mqd: MqdT,
        name: &str,
        mode: Mode,
        program: &'static str,
        created: bool,
    ) -> Result<Self> {
        let mut queue = PosixQueue {
            mqd: Some(mqd),
            name: name.to_string(),
            mode,
            program,
            // Until the checks pass, only a queue we just created (ours, empty) is removed again.
            unlink_when_empty: created,
            created,
            message_size: 0,
            scratch: Vec::new(),
            full_reported: false,
            wait_until: slice_from_now(),
        };
        let what = format!("opening {queue}");
        let stat = fstat(queue.mqd()?.as_fd()).map_err(|errno| Error::sys(what.clone(), errno))?;
        let me = geteuid().as_raw();
        let found_mode = stat.st_mode & 0o777;
        if stat.st_uid != me {
            return Err(Error::new(
                what,
                format!(
                    "it belongs to uid {} (mode {found_mode:04o}), not to us (uid {me})",
                    stat.st_uid
                ),
            )
            .with_hint(format!(
                "choose another --name, or ask uid {} to remove it",
                stat.st_uid
            )));
        }
        if found_mode != mode.0 {
            return Err(Error::new(
                what,
                format!("it has mode {found_mode:04o}, not the {mode} asked for"),
            )
            .with_hint(format!(
                "pass --mode {found_mode:04o} to use it as it is, or choose another --name"
            )));
        }
        queue.message_size = queue.attr()?.message_size;
        Ok(queue)
    }

    fn mqd(&self) -> Result<&MqdT> {
        self.mqd
            .as_ref()
            .ok_or_else(|| Error::new(format!("using {self}"), "the queue is already closed"))
    }

    /// Sets the owner flag: when set, dropping the guard unlinks the queue if it is empty, and
    /// keeps it, saying so, if it is not.
    pub fn remove_when_done(&mut self, owner: bool) {
        self.unlink_when_empty = owner;
    }

    /// True when this process created the queue (rather than finding it).
    pub fn created(&self) -> bool {
        self.created
    }

    /// The queue's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// C: `mq_getattr(mqd, &attr)`.
    pub fn attr(&self) -> Result<QueueAttr> {
        let attr = mq_getattr(self.mqd()?)
            .map_err(|errno| Error::sys(format!("looking at {self}"), errno))?;
        Ok(QueueAttr {
            max_messages: usize::try_from(attr.maxmsg()).unwrap_or(0),
            message_size: usize::try_from(attr.msgsize()).unwrap_or(0),
            messages: usize::try_from(attr.curmsgs()).unwrap_or(0),
        })
    }

    /// Sends `msg` as one message with `priority`. C: `mq_send(mqd, buf, len, priority)`.
    ///
    /// A message larger than the queue's `mq_msgsize` is refused before the call. A full queue
    /// waits (saying so once), in slices that Ctrl-C ends; with `nowait` it is an error.
    pub fn send(&mut self, msg: &Message, priority: u32, nowait: bool) -> Result<()> {
        let mut encoded = std::mem::take(&mut self.scratch);
        let sent = match wire::encode(msg, &mut encoded) {
            Ok(()) => self.send_bytes(&encoded, priority, nowait),
            Err(err) => Err(err.context(format!("encoding a message for {self}"))),
        };
        self.scratch = encoded;
        sent
    }

    /// Sends `bytes` as they are (no Message around them) as one message with `priority`: the
    /// raw path of ipc-bench. Same limits, waiting and errors as [`send`](Self::send).
    pub fn send_bytes(&mut self, bytes: &[u8], priority: u32, nowait: bool) -> Result<()> {
        let len = bytes.len();
        if len > self.message_size {
            return Err(Error::new(
                format!("sending a message of {len} bytes to {self}"),
                format!(
                    "it is larger than the queue's mq_msgsize, {} bytes (new queues get {MSGSIZE_MAX_FILE})",
                    self.message_size
                ),
            )
            .with_hint("send smaller messages (--size), or raise the limit: sysctl fs.mqueue.msgsize_max=BYTES and use a new queue"));
        }
        // Until we have said that the queue is full, try first without waiting (C:
        // mq_timedsend with a deadline already past), so that we can say it before we block.
        if nowait || !self.full_reported {
            loop {
                match mq_timedsend(self.mqd()?, bytes, priority, &NO_WAIT) {
                    Ok(()) => return Ok(()),
                    Err(Errno::ETIMEDOUT) if nowait => return Err(self.full_error()),
                    Err(Errno::ETIMEDOUT) => break,
                    // A signal handler without SA_RESTART ran: stop if it was Ctrl-C, else retry.
                    Err(Errno::EINTR) => signals::check()?,
                    Err(errno) => return Err(self.send_error(len, errno)),
                }
            }
            self.report_full();
        }
        loop {
            // C: mq_timedsend(mqd, buf, len, priority, &deadline), at most WAIT_SLICE ahead.
            match mq_timedsend(self.mqd()?, bytes, priority, &self.wait_until) {
                Ok(()) => return Ok(()),
                // The slice ran out (or a handler without SA_RESTART ran): stop if it was
                // Ctrl-C/SIGTERM, else wait again, in a new slice.
                Err(Errno::ETIMEDOUT | Errno::EINTR) => {
                    signals::check()?;
                    self.wait_until = slice_from_now();
                }
                Err(errno) => return Err(self.send_error(len, errno)),
            }
        }
    }

    /// `--nowait` found the queue full.
    fn full_error(&self) -> Error {
        let contents = match self.attr() {
            Ok(attr) => format!(
                ": it holds {} of {} messages",
                attr.messages, attr.max_messages
            ),
            Err(_) => String::new(),
        };
        Error::new(
            format!("sending to {self}"),
            format!("queue full{contents} (--nowait)"),
        )
        .with_hint("start a receiver to make room, or leave out --nowait to wait for one")
    }

    fn send_error(&self, len: usize, errno: Errno) -> Error {
        match errno {
            Errno::EMSGSIZE => Error::sys(
                format!("sending a message of {len} bytes to {self}"),
                Errno::EMSGSIZE,
            ),
            errno => Error::sys(format!("sending to {self}"), errno),
        }
    }

    fn report_full(&mut self) {
        if self.full_reported {
            return;
        }
        self.full_reported = true;
        let contents = match self.attr() {
            Ok(attr) => format!(" ({} of {} messages)", attr.messages, attr.max_messages),
            Err(_) => String::new(),
        };
        eprintln!(
            "{}: {self} is full{contents}: waiting until a receiver makes room",
            self.program
        );
    }

    /// Takes the oldest message of the highest priority. C: `mq_receive(mqd, buf, msgsize, &prio)`.
    ///
    /// Waits on an empty queue, in slices that Ctrl-C ends; with `nowait` returns `None`.
    pub fn receive(&mut self, nowait: bool) -> Result<Option<Message>> {
        let mut buf = std::mem::take(&mut self.scratch);
        let got = self.receive_into(nowait, &mut buf);
        let decoded = match got {
            Ok(Some(priority)) => wire::decode(&buf).map(Some).map_err(|err| {
                err.context(format!(
                    "reading a message of priority {priority} from {self}"
                ))
            }),
            Ok(None) => Ok(None),
            Err(err) => Err(err),
        };
        self.scratch = buf;
        decoded
    }

    /// Takes the next message as bytes (no Message expected): the raw path of ipc-bench.
    /// Replaces `out` with them; false when `nowait` found the queue empty. Same waiting and
    /// errors as [`receive`](Self::receive).
    pub fn receive_bytes(&mut self, nowait: bool, out: &mut Vec<u8>) -> Result<bool> {
        Ok(self.receive_into(nowait, out)?.is_some())
    }

    /// mq_timedreceive into `buf` (emptied, then exactly the message); its priority, `None` if
    /// `nowait` found nothing.
    fn receive_into(&mut self, nowait: bool, buf: &mut Vec<u8>) -> Result<Option<u32>> {
        loop {
            let mut priority = 0u32;
            let deadline = if nowait { NO_WAIT } else { self.wait_until };
            // C: mq_timedreceive(mqd, buf, msgsize, &priority, &deadline): blocks on an empty
            // queue until a message comes or the deadline passes.
            match mq_timedreceive(
                self.mqd()?,
                buf,
                self.message_size,
                &mut priority,
                &deadline,
            ) {
                Ok(_) => return Ok(Some(priority)),
                Err(Errno::ETIMEDOUT) if nowait => return Ok(None),
                // The slice ran out (or a handler without SA_RESTART ran): stop if it was
                // Ctrl-C/SIGTERM, else wait again, in a new slice.
                Err(Errno::ETIMEDOUT | Errno::EINTR) => {
                    signals::check()?;
                    self.wait_until = slice_from_now();
                }
                Err(errno) => return Err(Error::sys(format!("receiving from {self}"), errno)),
            }
        }
    }

    fn drain_command(&self) -> String {
        let mode = if self.mode == DEFAULT_MODE {
            String::new()
        } else {
            format!(" --mode {}", self.mode)
        };
        format!("msgq-receiver --posix --name {}{mode} --nowait", self.name)
    }
}

impl fmt::Display for PosixQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "POSIX message queue {}", self.name)
    }
}

impl Drop for PosixQueue {
    /// The owner unlinks the queue (`mq_unlink`) if it is empty, and otherwise keeps it and
    /// says so; then the descriptor is closed (`mq_close`). Never panics.
    fn drop(&mut self) {
        let Some(mqd) = self.mqd.take() else { return };
        let program = self.program;
        if self.unlink_when_empty {
            let curmsgs = mq_getattr(&mqd).map(|attr| attr.curmsgs());
            match curmsgs {
                Ok(0) => match mq_unlink(self.name.as_str()) {
                    Ok(()) => eprintln!("{program}: removed {self} (mq_unlink)"),
                    Err(Errno::ENOENT) => eprintln!("{program}: {self} was already removed"),
                    Err(errno) => eprintln!(
                        "{program}: warning: could not remove {self}: {}",
                        describe_errno(errno)
                    ),
                },
                Ok(messages) => {
                    let plural = if messages == 1 { "" } else { "s" };
                    eprintln!("{program}: kept {self} with {messages} undelivered message{plural}");
                    eprintln!(
                        "hint: drain it with `{}`, or remove it with `rm /dev/mqueue{}` (mqueue file system mounted on /dev/mqueue)",
                        self.drain_command(),
                        self.name
                    );
                }
                Err(errno) => eprintln!(
                    "{program}: warning: could not look at {self} before removing it: {}; it was kept",
                    describe_errno(errno)
                ),
            }
        }
        if let Err(errno) = mq_close(mqd) {
            eprintln!(
                "{program}: warning: could not close {self}: {}",
                describe_errno(errno)
            );
        }
    }
}

/// The direction and O_CLOEXEC; no O_NONBLOCK: we wait in the call itself, in bounded slices.
fn open_flags(access: Access) -> MQ_OFlag {
    let direction = match access {
        Access::Send => MQ_OFlag::O_WRONLY,
        Access::Receive => MQ_OFlag::O_RDONLY,
    };
    direction | MQ_OFlag::O_CLOEXEC
}

/// A POSIX queue name is `/` and up to 255 more bytes, with no other `/` (mq_overview(7)).
pub fn check_name(name: &str) -> Result<()> {
    let valid = name.len() > 1
        && name.len() <= 256
        && name.starts_with('/')
        && !name[1..].contains('/')
        && !name.contains('\0');
    if valid {
        Ok(())
    } else {
        Err(Error::usage(
            format!("--name {name}"),
            "a POSIX queue name is a slash and up to 255 characters without another slash",
        )
        .with_hint("for example --name /ipc-pairs"))
    }
}

fn open_error(what: String, errno: Errno) -> Error {
    match errno {
        Errno::EACCES => Error::sys(what, errno)
            .with_hint("the queue belongs to another user or its mode does not let us in: choose another --name"),
        Errno::EMFILE | Errno::ENOSPC => Error::sys(what, errno).with_hint(
            "too many POSIX queues (/proc/sys/fs/mqueue/queues_max, RLIMIT_MSGQUEUE): make clean-ipc removes ours",
        ),
        _ => Error::sys(what, errno),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_before_the_kernel_sees_them() {
        assert!(check_name("/ipc-pairs").is_ok());
        for bad in ["ipc-pairs", "/", "/a/b", ""] {
            let err = check_name(bad).expect_err(bad);
            assert_eq!(err.exit_code(), 2, "{bad}");
        }
        assert!(check_name(&format!("/{}", "x".repeat(256))).is_err());
    }

    /// A unique queue name for one test: /ipt-msgq-unit-PID-N.
    fn unique_queue_name() -> String {
        let path = ipc_testkit::unique_path("msgq-unit");
        let file = path.file_name().expect("a file name").to_string_lossy();
        format!("/{file}")
    }

    /// Unlinks the queue even when an assertion fails half-way.
    struct Unlink(String);

    impl Drop for Unlink {
        fn drop(&mut self) {
            let _ = crate::mq::mq_unlink(&self.0);
        }
    }

    #[test]
    fn a_message_replaces_the_buffer_and_nowait_never_sleeps() {
        let name = unique_queue_name();
        let _cleanup = Unlink(name.clone());
        let mut rx = PosixQueue::open_or_create(&name, DEFAULT_MODE, Access::Receive, "test")
            .expect("creates the queue");
        let mut tx = PosixQueue::open_existing(&name, DEFAULT_MODE, Access::Send, "test")
            .expect("opens it")
            .expect("it exists");
        // Whatever the buffer held before, it ends up exactly the message.
        let mut buf = vec![7u8; 100];
        tx.send_bytes(b"hello", 3, true).expect("room for one");
        assert!(rx.receive_bytes(true, &mut buf).expect("mq_timedreceive"));
        assert_eq!(buf, b"hello");
        // Empty: the deadline {0, 0} makes mq_timedreceive return ETIMEDOUT at once.
        assert!(!rx.receive_bytes(true, &mut buf).expect("mq_timedreceive"));
        assert!(buf.is_empty());
        // Full: --nowait is an error naming the queue's size, not a wait.
        let max = rx.attr().expect("mq_getattr").max_messages;
        for _ in 0..max {
            tx.send_bytes(b"x", 0, true).expect("room");
        }
        let err = tx.send_bytes(b"x", 0, true).expect_err("full");
        assert!(err.to_string().contains("queue full"), "{err}");
        for _ in 0..max {
            assert!(rx.receive_bytes(false, &mut buf).expect("mq_timedreceive"));
        }
        drop(tx);
        drop(rx); // the owner, empty: unlinks it
        assert_eq!(
            crate::mq::mq_unlink(&name),
            Err(Errno::ENOENT),
            "the queue was removed"
        );
    }
}
