//! Sending and receiving on a [`PosixQueue`]: waiting, and still stopping on Ctrl-C.
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
//! C's; this one's takes within 1.1x, like a plain blocking call (the figures are in
//! tools/bench/README.md).

use std::time::{Duration, SystemTime};

use nix::errno::Errno;
use nix::sys::time::TimeSpec;

use ipc_common::{program, signals, Error, Result};

use crate::limits::MSGSIZE_MAX_FILE;
// The mq_* calls, wrapped once so that --trace shows them (crate::mq).
use crate::mq::{mq_timedreceive, mq_timedsend};

use super::PosixQueue;

/// The longest one wait lasts before we look for Ctrl-C/SIGTERM and wait again: how late a
/// stop can be noticed while a queue stays empty (or full).
pub const WAIT_SLICE: Duration = Duration::from_millis(100);

/// A deadline already past (the epoch): the call tries once and never sleeps (`--nowait`).
const NO_WAIT: TimeSpec = TimeSpec::new(0, 0);

/// The absolute deadline [`WAIT_SLICE`] from now, on `CLOCK_REALTIME` (what
/// `SystemTime::now` reads, and the clock mq_timedsend/mq_timedreceive compare against).
pub(super) fn slice_from_now() -> TimeSpec {
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    TimeSpec::from_duration(now + WAIT_SLICE)
}

impl PosixQueue {
    /// Sends `bytes` (an encoded Message, or the bench's raw bytes) as one message with
    /// `priority`. C: `mq_send(mqd, buf, len, priority)`, here `mq_timedsend`.
    ///
    /// A message larger than the queue's `mq_msgsize` is refused before the call. A full queue
    /// waits (saying so once), in slices that Ctrl-C ends; with `nowait` it is an error.
    pub fn send(&mut self, bytes: &[u8], priority: u32, nowait: bool) -> Result<()> {
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
            program::name()
        );
    }

    /// Takes the oldest message of the highest priority and replaces `buf` with its bytes (on
    /// an empty queue with `nowait`, `buf` is left empty and the answer is false). C:
    /// `mq_receive(mqd, buf, msgsize, &prio)`, here `mq_timedreceive`.
    ///
    /// Waits on an empty queue, in slices that Ctrl-C ends; with `nowait` returns at once.
    pub fn receive(&mut self, nowait: bool, buf: &mut Vec<u8>) -> Result<bool> {
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
                Ok(_) => return Ok(true),
                Err(Errno::ETIMEDOUT) if nowait => return Ok(false),
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
}
