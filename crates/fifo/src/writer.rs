//! [`FifoWriter`]: one message, one `write(2)`, at most PIPE_BUF bytes, so several senders
//! can share one FIFO.
//!
//! POSIX promises that a `write` of at most `PIPE_BUF` bytes (4096 on Linux, `<limits.h>`) to a
//! pipe or FIFO is atomic: its bytes land in the pipe together, never interleaved with the
//! bytes of another writer. A larger write may be split, and two senders' halves could then
//! interleave, which the receiver would see as garbage. So each message (a frame: 4-byte
//! length prefix + encoded message, see `ipc_common::wire`; or with `--wire c` a line) goes
//! out with a single `write` call, and a message whose frame is larger than PIPE_BUF is
//! refused with an error: we do not split messages (no framing could reassemble the pieces of
//! concurrent senders without a sender-and-part header, which would make the FIFO's wire
//! format differ from the pipe's).
//!
//! The encoding is the common stream outbox `--wire` chose (`FrameWriter` or `CLineWriter`);
//! what is FIFO-specific is here: the PIPE_BUF check, and one flush per message, so that
//! `FrameWriter` never batches several frames into one 64 KiB write (fast for one writer,
//! but not atomic).
//!
//! The descriptor stays `O_NONBLOCK`: each write `poll`s for `POLLOUT` first (through
//! `TracedFd`, which Ctrl-C wakes), and a non-blocking write of at most PIPE_BUF bytes writes
//! all of them or fails with `EAGAIN` (pipe(7)), never a part.
//!
//! **The experiment `--allow-split`** shows why: a frame larger than PIPE_BUF is then written
//! in PIPE_BUF-sized pieces, one `write` each, with a 1 ms pause after each piece (as when the
//! scheduler preempts a writer, or a blocking write waits for room and the kernel moves the
//! bytes in parts). With several such senders on one FIFO the pieces interleave, and the
//! receiver reads a frame made of two senders' bytes: it stops with "not a valid Message" or
//! "truncated frame".

use std::io::{self, Write};
use std::os::fd::OwnedFd;
use std::time::Duration;

use ipc_common::clayout::FIFO;
use ipc_common::cli::MessageSource;
use ipc_common::codec::{StreamOutbox, WireArg};
use ipc_common::message::{Body, Message};
use ipc_common::sender::Outbox;
use ipc_common::trace::TracedFd;
use ipc_common::wire::{self, FRAME_HEADER};
use ipc_common::{program, Error, Result};

use crate::args::WriterArgs;
use crate::fifo::{note, Fifo};

/// The most bytes one `write(2)` moves atomically into a pipe or FIFO (C: `PIPE_BUF`).
pub const PIPE_BUF: usize = nix::libc::PIPE_BUF;

/// What EPIPE means on a FIFO.
const RECEIVER_GONE: &str = "the receiver closed the FIFO";

/// `--allow-split`: the pause after each piece of a frame, which lets other writers in.
const SPLIT_PAUSE: Duration = Duration::from_millis(1);

/// Checks, before the FIFO is touched, that every message of `source` can be sent: with
/// `--wire c`, that it has a C form (texts of at most 4094 bytes, no newline, no NUL);
/// otherwise that each frame fits in one atomic write, unless `split` (the experiment, which
/// says what it does on stderr). A usage error (exit 2) otherwise.
pub fn check_source(source: &MessageSource, wire: &WireArg, split: bool) -> Result<()> {
    if wire.is_c() {
        return FIFO.check_source(source);
    }
    if split {
        note(format_args!(
            "{}: --allow-split: messages over PIPE_BUF ({PIPE_BUF} bytes) go in pieces; with \
             several senders, watch the receiver fail on mixed-up frames",
            program::name()
        ));
        return Ok(());
    }
    let me = std::process::id();
    if let Some(count) = source.count {
        // The last payload has the largest sequence number, so the longest encoding.
        check_fits(&Message::payload(me, count.max(1), source.size))?;
    }
    for (seq, text) in (1u64..).zip(&source.messages) {
        check_fits(&Message::text(me, seq, text.as_str()))?;
    }
    Ok(())
}

/// Checks that the frame of `msg` (length prefix + encoding) fits in one atomic write: a
/// usage error (exit 2) naming PIPE_BUF if it is larger.
pub fn check_fits(msg: &Message) -> Result<()> {
    match oversize(msg) {
        None => Ok(()),
        Some((what, why, hint)) => Err(Error::usage(what, why).with_hint(hint)),
    }
}

/// What is wrong with the frame of `msg`, if it is larger than PIPE_BUF: (what, why, hint).
fn oversize(msg: &Message) -> Option<(String, String, String)> {
    let len = FRAME_HEADER.saturating_add(wire::encoded_len(msg));
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

/// The FIFO's write end as `std::io::Write`, under the common stream outboxes: each `write`
/// is one `write(2)` after `poll` says there is room (C: `write(fd, buf, n)`). With
/// `--allow-split`, a `write` of more than PIPE_BUF bytes writes the first PIPE_BUF only and
/// pauses; `write_all` then comes back for the rest.
#[derive(Debug)]
struct FifoFd {
    fd: TracedFd<OwnedFd>,
    split: bool,
}

impl Write for FifoFd {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.split && buf.len() > PIPE_BUF {
            let written = self.fd.write(&buf[..PIPE_BUF])?;
            std::thread::sleep(SPLIT_PAUSE);
            return Ok(written);
        }
        self.fd.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The write end of a FIFO, with the [`Fifo`] guard it came from.
///
/// Field order matters: Rust drops fields in declaration order, so the guard removes the FIFO
/// (if this sender created it) *before* the write end is closed. A receiver waiting for more
/// senders sees end-of-file only after the path is gone, and then makes a new FIFO instead of
/// reopening one that is about to disappear.
#[derive(Debug)]
pub struct FifoWriter {
    /// Held for its `Drop` (C: `unlink(path)`, if we created the FIFO).
    _fifo: Fifo,
    out: StreamOutbox<FifoFd>,
    /// `--allow-split`: write a frame over PIPE_BUF in pieces instead of refusing it.
    split: bool,
}

impl FifoWriter {
    /// Opens `fifo` for writing, waiting for a receiver (C: `open(path, O_WRONLY)`; here
    /// non-blocking and retried, up to `--timeout`: see [`Fifo::open_writer`]), and prints
    /// `PROGRAM: a receiver opened PATH`. Writes in the layout `wire` chose; `--allow-split`
    /// is the experiment. Prints the tutorial's `Written Successfully...` on stderr after each
    /// text message.
    pub fn open(mut fifo: Fifo, how: &WriterArgs, wire: &WireArg) -> Result<Self> {
        let fd = fifo.open_writer(how.timeout)?;
        let shown = fifo.path().display().to_string();
        note(format_args!(
            "{}: a receiver opened {shown}",
            program::name()
        ));
        let fd = FifoFd {
            fd: TracedFd::new(fd),
            split: how.allow_split,
        };
        let out = wire.stream_outbox(fd, &FIFO, format!("writing to {shown}"), RECEIVER_GONE);
        Ok(FifoWriter {
            _fifo: fifo,
            out,
            split: how.allow_split,
        })
    }
}

impl Outbox for FifoWriter {
    /// One message, one `write` (C: `write(fd, buf, n)`): refused first if its frame is over
    /// PIPE_BUF (not with `--allow-split`; a C line always fits), then flushed at once.
    fn send(&mut self, msg: &Message) -> Result<()> {
        if let (StreamOutbox::Frames(_), false) = (&self.out, self.split) {
            if let Some((what, why, hint)) = oversize(msg) {
                return Err(Error::new(what, why).with_hint(hint));
            }
        }
        self.out
            .send(msg)
            .and_then(|()| self.out.flush())
            .map_err(receiver_gone_hint)?;
        if matches!(msg.body, Body::Text(_)) {
            note(format_args!("Written Successfully..."));
        }
        Ok(())
    }

    /// The raw path (ipc-bench): `bytes` as they are, no frame.
    fn send_bytes(&mut self, bytes: &[u8]) -> Result<()> {
        self.out.send_bytes(bytes).map_err(receiver_gone_hint)
    }

    fn flush(&mut self) -> Result<()> {
        self.out.flush().map_err(receiver_gone_hint)
    }

    fn ends_conversation(&self, text: &str) -> bool {
        self.out.ends_conversation(text)
    }
}

/// EPIPE (SIGPIPE is ignored in Rust programs, so a vanished reader shows up as EPIPE): say
/// what the user can do about it.
fn receiver_gone_hint(err: Error) -> Error {
    if err.hint().is_none() && err.to_string().contains("(EPIPE)") {
        err.with_hint(
            "the receiver exited or was stopped before reading everything: check its output",
        )
    } else {
        err
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
