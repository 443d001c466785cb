//! [`FifoWriter`]: one message, one `write(2)`, at most PIPE_BUF bytes, so several senders
//! can share one FIFO.
//!
//! POSIX promises that a `write` of at most `PIPE_BUF` bytes (4096 on Linux, `<limits.h>`) to a
//! pipe or FIFO is atomic: its bytes land in the pipe together, never interleaved with the
//! bytes of another writer. A larger write may be split, and two senders' halves could then
//! interleave, which the receiver would see as garbage. So each frame (4-byte length prefix +
//! encoded message, see `ipc_common::wire`) is written with a single `write` call, and a
//! message whose frame is larger than PIPE_BUF is refused with an error: we do not split
//! messages (no framing could reassemble the pieces of concurrent senders without a
//! sender-and-part header, which would make the FIFO's wire format differ from the pipe's).
//!
//! This is also why the shared `stream::FrameWriter` is not used here: it batches many frames
//! into one 64 KiB write, fast for one writer, but not atomic.
//!
//! The descriptor stays `O_NONBLOCK`: before each write we `poll` for `POLLOUT` (through
//! `signals::wait_fd`, which Ctrl-C wakes), and a non-blocking write of at most PIPE_BUF bytes
//! writes all of them or fails with `EAGAIN` (pipe(7)), never a part.
//!
//! **The experiment `--allow-split`** ([`FifoWriter::allow_split`]) shows why: a frame larger
//! than PIPE_BUF is then written in PIPE_BUF-sized pieces, one `write` each, with a 1 ms pause
//! between them (as when the scheduler preempts a writer, or a blocking write waits for room
//! and the kernel moves the bytes in parts). With several such senders on one FIFO the pieces
//! interleave, and the receiver reads a frame made of two senders' bytes: it stops with
//! "not a valid Message" or "truncated frame".

use std::os::fd::{AsFd, OwnedFd};

use ipc_common::message::{Body, Message};
use ipc_common::sender::Outbox;
use ipc_common::wire::{self, FRAME_HEADER};
use ipc_common::{signals, Error, Result};
use nix::errno::Errno;
use nix::poll::PollFlags;

use crate::fifo::{note, Fifo};

/// The most bytes one `write(2)` moves atomically into a pipe or FIFO (C: `PIPE_BUF`).
pub const PIPE_BUF: usize = nix::libc::PIPE_BUF;

/// `--allow-split`: the pause between two pieces of a frame, which lets other writers in.
const SPLIT_PAUSE: std::time::Duration = std::time::Duration::from_millis(1);

/// Checks, before anything is sent, that `msg` fits in one atomic write: a usage error
/// (exit 2) naming PIPE_BUF if its frame (length prefix + encoding) is larger.
pub fn check_fits(msg: &Message) -> Result<()> {
    let mut encoded = Vec::new();
    wire::encode(msg, &mut encoded)
        .map_err(|err| Error::new("encoding a message", err.to_string()))?;
    match oversize(msg, FRAME_HEADER + encoded.len()) {
        None => Ok(()),
        Some((what, why, hint)) => Err(Error::usage(what, why).with_hint(hint)),
    }
}

/// What is wrong with a frame of `len` bytes for `msg`, if it is larger than PIPE_BUF:
/// (what, why, hint) for the error.
fn oversize(msg: &Message, len: usize) -> Option<(String, String, String)> {
    if len <= PIPE_BUF {
        return None;
    }
    let (field, limit) = match &msg.body {
        Body::Payload { bytes, .. } => ("--size", PIPE_BUF.saturating_sub(len - bytes.len())),
        Body::Text(text) => ("a line", PIPE_BUF.saturating_sub(len - text.len())),
        Body::End | Body::Ack => ("a message", PIPE_BUF),
    };
    Some((
        format!("sending message {}", msg.seq),
        format!(
            "it takes {len} bytes on the FIFO, more than PIPE_BUF ({PIPE_BUF} bytes), the most \
             one write(2) puts into a FIFO atomically"
        ),
        format!(
            "keep {field} to at most {limit} bytes, so that concurrent senders never interleave"
        ),
    ))
}

/// The write end of a FIFO, with the [`Fifo`] guard it came from.
///
/// Field order matters: Rust drops fields in declaration order, so the guard removes the FIFO
/// (if this sender created it) *before* the write end is closed. A receiver waiting for more
/// senders sees end-of-file only after the path is gone, and then makes a new FIFO instead of
/// reopening one that is about to disappear.
#[derive(Debug)]
pub struct FifoWriter {
    fifo: Fifo,
    fd: OwnedFd,
    frame: Vec<u8>,
    encoded: Vec<u8>,
    announce_texts: bool,
    /// `--allow-split`: write a frame over PIPE_BUF in pieces instead of refusing it.
    split: bool,
    /// `--wire c`: one line of text per message instead of a frame (crate::cwire).
    c_wire: bool,
}

impl FifoWriter {
    /// Wraps the write end `fd` of `fifo`. With `announce_texts`, prints the tutorial's
    /// `Written Successfully...` on stderr after each text message.
    pub fn new(fifo: Fifo, fd: OwnedFd, announce_texts: bool) -> Self {
        FifoWriter {
            fifo,
            fd,
            frame: Vec::with_capacity(PIPE_BUF),
            encoded: Vec::with_capacity(PIPE_BUF),
            announce_texts,
            split: false,
            c_wire: false,
        }
    }

    /// `--wire c`: write each message as the C programs do, its text and a newline.
    #[must_use]
    pub fn c_wire(mut self) -> Self {
        self.c_wire = true;
        self
    }

    /// The `--allow-split` experiment: frames larger than PIPE_BUF are written in PIPE_BUF
    /// pieces (one `write` each, 1 ms apart) instead of being refused, so that concurrent
    /// senders interleave.
    #[must_use]
    pub fn allow_split(mut self) -> Self {
        self.split = true;
        self
    }

    /// The FIFO we write to.
    pub fn fifo(&self) -> &Fifo {
        &self.fifo
    }

    /// Writes the frame: one `write` when it fits in PIPE_BUF (always, unless `--allow-split`),
    /// else PIPE_BUF-sized pieces, 1 ms apart.
    fn write_frame(&self) -> Result<()> {
        if self.frame.len() <= PIPE_BUF {
            return self.write_once(&self.frame);
        }
        for (index, piece) in self.frame.chunks(PIPE_BUF).enumerate() {
            if index > 0 {
                std::thread::sleep(SPLIT_PAUSE);
            }
            self.write_once(piece)?;
        }
        Ok(())
    }

    /// C: `write(fd, data, len)`, once, after `poll` says there is room; `data` is at most
    /// PIPE_BUF bytes, so the kernel takes all of it or none.
    fn write_once(&self, data: &[u8]) -> Result<()> {
        let what = || format!("writing to {}", self.fifo.path().display());
        loop {
            signals::wait_fd(self.fd.as_fd(), PollFlags::POLLOUT, None)?;
            match crate::calls::write(&self.fd, data) {
                Ok(n) if n == data.len() => return Ok(()),
                Ok(n) => {
                    // pipe(7) rules this out for writes of at most PIPE_BUF bytes.
                    return Err(Error::new(
                        what(),
                        format!("the kernel took only {n} of {} bytes", data.len()),
                    ));
                }
                // EAGAIN: another sender filled the room poll saw; wait again.
                Err(Errno::EAGAIN | Errno::EINTR) => continue,
                // SIGPIPE is ignored in Rust programs, so a vanished reader shows up as EPIPE.
                Err(Errno::EPIPE) => {
                    return Err(Error::new(what(), "the receiver closed the FIFO (EPIPE)")
                        .with_hint("the receiver exited or was stopped before reading everything: check its output"));
                }
                Err(errno) => return Err(Error::sys(what(), errno)),
            }
        }
    }
}

impl Outbox for FifoWriter {
    fn send(&mut self, msg: &Message) -> Result<()> {
        if self.c_wire {
            crate::cwire::encode(msg, &mut self.frame)?;
            self.write_frame()?;
            if self.announce_texts && matches!(msg.body, Body::Text(_)) {
                note(format_args!("Written Successfully..."));
            }
            return Ok(());
        }
        wire::encode(msg, &mut self.encoded)
            .map_err(|err| Error::new("encoding a message", err.to_string()))?;
        let len = FRAME_HEADER + self.encoded.len();
        if let Some((what, why, hint)) = oversize(msg, len).filter(|_| !self.split) {
            return Err(Error::new(what, why).with_hint(hint));
        }
        let prefix = u32::try_from(self.encoded.len())
            .unwrap_or(u32::MAX)
            .to_le_bytes();
        self.frame.clear();
        self.frame.extend_from_slice(&prefix);
        self.frame.extend_from_slice(&self.encoded);
        self.write_frame()?;
        if self.announce_texts && matches!(msg.body, Body::Text(_)) {
            note(format_args!("Written Successfully..."));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The largest payload size that passes `check_fits` for this process's pid and `seq`.
    fn largest_fitting(seq: u64) -> usize {
        let me = std::process::id();
        (0..=PIPE_BUF)
            .rev()
            .find(|&size| check_fits(&Message::payload(me, seq, size)).is_ok())
            .expect("an empty payload fits")
    }

    #[test]
    fn a_frame_of_exactly_pipe_buf_fits_and_one_byte_more_does_not() {
        let me = std::process::id();
        let size = largest_fitting(7);
        let mut encoded = Vec::new();
        wire::encode(&Message::payload(me, 7, size), &mut encoded).expect("encodes");
        assert_eq!(
            FRAME_HEADER + encoded.len(),
            PIPE_BUF,
            "the largest fitting frame is PIPE_BUF"
        );
        let err = check_fits(&Message::payload(me, 7, size + 1)).expect_err("one byte too many");
        assert_eq!(err.exit_code(), 2);
        assert!(
            err.to_string().contains("more than PIPE_BUF (4096 bytes)"),
            "{err}"
        );
    }

    #[test]
    fn the_hint_names_the_largest_size_that_fits() {
        let me = std::process::id();
        let size = largest_fitting(1);
        let err = check_fits(&Message::payload(me, 1, 4000 + 200)).expect_err("too large");
        let hint = err.hint().unwrap_or_default();
        assert!(
            hint.contains(&format!("at most {size} bytes")),
            "{hint} (largest is {size})"
        );
        let text = "t".repeat(5000);
        let err = check_fits(&Message::text(me, 1, text)).expect_err("too large");
        assert!(
            err.hint()
                .unwrap_or_default()
                .starts_with("keep a line to at most"),
            "{err:?}"
        );
    }

    #[test]
    fn small_messages_fit() {
        let me = std::process::id();
        assert!(check_fits(&Message::payload(me, 5000, 1000)).is_ok());
        assert!(check_fits(&Message::text(me, 1, "hello")).is_ok());
        assert!(check_fits(&Message::end(me, u64::MAX - 1)).is_ok());
    }
}
