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
//! This file is the guard (open or create, check, remove); `transfer.rs` sends and receives,
//! in waits bounded by [`WAIT_SLICE`] so that Ctrl-C still works.

use std::fmt;

use nix::errno::Errno;
use nix::mqueue::{MQ_OFlag, MqAttr, MqdT};
use nix::sys::stat::Mode as StatMode;
use nix::sys::time::TimeSpec;
use nix::unistd::geteuid;

use ipc_common::cli::{check_posix_name, not_ours_to_remove, Mode, DEFAULT_MODE};
use ipc_common::creation::create_or_open;
use ipc_common::error::describe_errno;
use ipc_common::{program, Error, Result};

use crate::limits::{PosixLimits, MSGSIZE_MAX_FILE, MSG_MAX_FILE};
// The mq_* calls, wrapped once so that --trace shows them (crate::mq).
use crate::mq::{fchmod, fstat, mq_close, mq_getattr, mq_open, mq_unlink};

mod transfer;

use transfer::slice_from_now;
pub use transfer::WAIT_SLICE;

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
    /// The owner flag: when set, `Drop` unlinks the queue if it is empty.
    unlink_when_empty: bool,
    created: bool,
    message_size: usize,
    full_reported: bool,
    /// Where the current wait slice ends: renewed, [`WAIT_SLICE`] from now, only when a wait
    /// runs out, not before every call (reading the clock costs about as much as 1 KiB of
    /// copying, and a queue that keeps moving never waits that long).
    wait_until: TimeSpec,
    /// The queue's owner (`st_uid`): our uid, or another user's who shares it 0666.
    owner_uid: u32,
}

impl PosixQueue {
    /// C: `mq_open(name, O_CREAT | O_EXCL | ..., mode, &attr)`, and if it exists,
    /// `mq_open(name, ...)` (through [`create_or_open`]). A queue we create gets `mq_maxmsg` =
    /// msg_max and `mq_msgsize` = msgsize_max, read from /proc. Either way it must be ours and
    /// have `mode`.
    pub fn open_or_create(name: &str, mode: Mode, access: Access) -> Result<Self> {
        check_name(name)?;
        let limits = PosixLimits::read()?;
        let attr = MqAttr::new(0, limits.msg_max as _, limits.msgsize_max as _, 0);
        let flags = open_flags(access) | MQ_OFlag::O_CREAT | MQ_OFlag::O_EXCL;
        let exact = StatMode::from_bits_truncate(mode.0);
        let create_exclusive = || {
            match mq_open(name, flags, exact, Some(&attr)) {
            Ok(mqd) => {
                // mq_open applies the umask (0022 would turn 0666 into 0644): set the exact mode.
                if let Err(errno) = fchmod(&mqd, exact) {
                    // We created it a moment ago and it is empty: remove it again.
                    let _ = mq_close(mqd);
                    let _ = mq_unlink(name);
                    return Err(Error::sys(format!("setting the mode of {name} to {mode}"), errno));
                }
                ipc_common::ownership::record_posix_queue(name);
                PosixQueue::checked(mqd, name, mode, true).map(Some)
            }
            Err(Errno::EEXIST) => Ok(None),
            Err(Errno::EINVAL) => Err(Error::new(
                format!("creating POSIX message queue {name}"),
                format!(
                    "mq_maxmsg {} or mq_msgsize {} refused (EINVAL): the limits are {MSG_MAX_FILE} and {MSGSIZE_MAX_FILE}",
                    limits.msg_max, limits.msgsize_max
                ),
            )),
            Err(errno) => Err(open_error(format!("creating POSIX message queue {name}"), errno)),
        }
        };
        let open_existing = || PosixQueue::open_existing(name, mode, access);
        let what = format!("POSIX message queue {name}");
        create_or_open(&what, create_exclusive, open_existing).map(|opened| opened.into_inner())
    }

    /// C: `mq_open(name, O_RDONLY or O_WRONLY)`: the existing queue, or `None` if there is none.
    pub fn open_existing(name: &str, mode: Mode, access: Access) -> Result<Option<Self>> {
        check_name(name)?;
        match mq_open(name, open_flags(access), StatMode::empty(), None) {
            Ok(mqd) => PosixQueue::checked(mqd, name, mode, false).map(Some),
            Err(Errno::ENOENT) => Ok(None),
            Err(errno) => Err(open_error(
                format!("opening POSIX message queue {name}"),
                errno,
            )),
        }
    }

    /// Builds the guard once the queue is known to be ours (owner and mode, from `fstat` on the
    /// queue's descriptor). On an error the descriptor is closed and nothing is unlinked.
    fn checked(mqd: MqdT, name: &str, mode: Mode, created: bool) -> Result<Self> {
        let mut queue = PosixQueue {
            mqd: Some(mqd),
            name: name.to_string(),
            mode,
            // Until the checks pass, only a queue we just created (ours, empty) is removed again.
            unlink_when_empty: created,
            created,
            message_size: 0,
            full_reported: false,
            wait_until: slice_from_now(),
            owner_uid: geteuid().as_raw(),
        };
        let what = format!("opening {queue}");
        let stat = fstat(queue.mqd()?).map_err(|errno| Error::sys(what.clone(), errno))?;
        let me = geteuid().as_raw();
        let found_mode = stat.st_mode & 0o777;
        if stat.st_uid != me {
            // Another user's queue: only one they opened with the mode we were given (0666).
            if !mode.admits_foreign(found_mode) {
                let hint = if found_mode & 0o077 != 0 && found_mode != mode.0 {
                    format!(
                        "to share it as its owner meant, pass --mode {found_mode:04o} (its mode); or choose another --name"
                    )
                } else {
                    format!(
                        "choose another --name, or ask uid {} to remove it; a queue is shared only \
                         when its owner made it with --mode 0666 and you pass --mode 0666 too",
                        stat.st_uid
                    )
                };
                return Err(Error::new(
                    what,
                    format!(
                        "it belongs to uid {} (mode {found_mode:04o}), not to us (uid {me})",
                        stat.st_uid
                    ),
                )
                .with_hint(hint));
            }
            mode.note_foreign(&queue.to_string(), stat.st_uid);
            queue.owner_uid = stat.st_uid;
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

    pub(crate) fn drain_command(&self) -> String {
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
        let program = program::name();
        if self.unlink_when_empty {
            let curmsgs = mq_getattr(&mqd).map(|attr| attr.curmsgs());
            match curmsgs {
                Ok(0) => match mq_unlink(self.name.as_str()) {
                    Ok(()) => {
                        ipc_common::ownership::forget_posix_queue(&self.name);
                        eprintln!("{program}: removed {self} (mq_unlink)")
                    }
                    Err(Errno::ENOENT) => eprintln!("{program}: {self} was already removed"),
                    // /dev/mqueue is sticky (1777), as /tmp is: only the queue's owner or root
                    // may unlink it. The messages were delivered: a note, not a failure.
                    Err(Errno::EACCES | Errno::EPERM) if self.owner_uid != geteuid().as_raw() => {
                        eprintln!(
                            "{program}: {self} is empty and was not removed: {}",
                            not_ours_to_remove(
                                "the queue",
                                self.owner_uid,
                                &format!("rm /dev/mqueue{}", self.name)
                            )
                        )
                    }
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

/// The one POSIX name check ([`check_posix_name`]), as a usage error naming `--name`.
fn check_name(name: &str) -> Result<()> {
    check_posix_name(name).map_err(|why| {
        Error::usage(format!("--name {name}"), why).with_hint("for example --name /ipc-pairs")
    })
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
        let mut rx = PosixQueue::open_or_create(&name, DEFAULT_MODE, Access::Receive)
            .expect("creates the queue");
        let mut tx = PosixQueue::open_existing(&name, DEFAULT_MODE, Access::Send)
            .expect("opens it")
            .expect("it exists");
        // Whatever the buffer held before, it ends up exactly the message.
        let mut buf = vec![7u8; 100];
        tx.send(b"hello", 3, true).expect("room for one");
        assert!(rx.receive(true, &mut buf).expect("mq_timedreceive"));
        assert_eq!(buf, b"hello");
        // Empty: the deadline {0, 0} makes mq_timedreceive return ETIMEDOUT at once.
        assert!(!rx.receive(true, &mut buf).expect("mq_timedreceive"));
        assert!(buf.is_empty());
        // Full: --nowait is an error naming the queue's size, not a wait.
        let max = rx.attr().expect("mq_getattr").max_messages;
        for _ in 0..max {
            tx.send(b"x", 0, true).expect("room");
        }
        let err = tx.send(b"x", 0, true).expect_err("full");
        assert!(err.to_string().contains("queue full"), "{err}");
        for _ in 0..max {
            assert!(rx.receive(false, &mut buf).expect("mq_timedreceive"));
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
