//! Reads and writes on a socket that wake on Ctrl-C and never wait for ever on a stuck peer.
//!
//! `FrameReader`/`FrameWriter` (crates/common) frame messages over any `Read`/`Write`. Here we
//! give them a socket whose every wait goes through `signals::wait_fd` (C: `poll` on the socket
//! and on the Ctrl-C wake-up pipe), with a bound:
//!
//! - [`TimedReader`] knows where the frames are. Between two frames the peer may be silent as
//!   long as it likes (a person typing into socket-client), unless an `idle` bound is given
//!   (the client waiting for an acknowledgement). Once the first byte of a frame has arrived,
//!   the rest of the frame must follow within `frame_timeout`: a peer that sends half a frame
//!   and then nothing gets a `TimedOut` error, and the server drops it.
//! - [`TimedWriter`] waits at most `timeout` for room in the socket's send buffer: a peer that
//!   stops reading its replies is dropped too, instead of blocking our `write` for ever.
//!
//! The reader cannot see frames inside `FrameReader`'s buffer, so it follows them itself: it
//! watches the 4-byte length prefixes go by in the bytes it hands up ([`FrameTracker`]).
//! The C programs' lines (`--wire c`) have no frames: [`TimedReader::for_lines`] follows none
//! and waits for ever, as server.c's `fgets` does.

use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use nix::poll::PollFlags;

use ipc_common::signals::{self, Stopped};
use ipc_common::wire::FRAME_HEADER;

use crate::datagram::retry;
use crate::stream::Stream;

/// Follows frame boundaries in a byte stream of `[u32 length, LE][length bytes]` frames.
#[derive(Debug, Default, Clone)]
pub struct FrameTracker {
    header: [u8; FRAME_HEADER],
    header_got: usize,
    body_left: u64,
}

impl FrameTracker {
    /// True when every byte seen so far belongs to a complete frame.
    pub fn at_boundary(&self) -> bool {
        self.header_got == 0 && self.body_left == 0
    }

    /// Follows `bytes`, the next bytes of the stream. Returns true if a frame ended inside them.
    pub fn advance(&mut self, mut bytes: &[u8]) -> bool {
        let mut completed = false;
        while !bytes.is_empty() {
            if self.body_left > 0 {
                let take = self.body_left.min(bytes.len() as u64);
                self.body_left -= take;
                bytes = &bytes[take as usize..];
                completed |= self.body_left == 0;
                continue;
            }
            let take = (FRAME_HEADER - self.header_got).min(bytes.len());
            self.header[self.header_got..self.header_got + take].copy_from_slice(&bytes[..take]);
            self.header_got += take;
            bytes = &bytes[take..];
            if self.header_got == FRAME_HEADER {
                self.header_got = 0;
                self.body_left = u64::from(u32::from_le_bytes(self.header));
                completed |= self.body_left == 0;
            }
        }
        completed
    }
}

/// The read half of a socket for `FrameReader`: interruptible, with an idle bound between
/// frames (optional) and a bound on finishing a started frame.
#[derive(Debug)]
pub struct TimedReader<'a> {
    stream: &'a Stream,
    /// `None`: the stream carries no frames (the C programs' lines), so nothing is timed.
    tracker: Option<FrameTracker>,
    idle: Option<Duration>,
    frame_timeout: Duration,
    frame_deadline: Option<Instant>,
}

impl<'a> TimedReader<'a> {
    /// `idle`: how long the peer may stay silent between frames (`None`: for ever);
    /// `frame_timeout`: how long it may take to finish a frame it has started.
    pub fn new(stream: &'a Stream, idle: Option<Duration>, frame_timeout: Duration) -> Self {
        TimedReader {
            stream,
            tracker: Some(FrameTracker::default()),
            idle,
            frame_timeout,
            frame_deadline: None,
        }
    }

    /// A reader for a stream without frames (`--wire c`): the peer may be silent for as long
    /// as it likes, also in the middle of a line; only Ctrl-C ends the wait. A NUL byte is an
    /// `InvalidData` error at once.
    pub fn for_lines(stream: &'a Stream) -> Self {
        TimedReader {
            stream,
            tracker: None,
            idle: None,
            frame_timeout: Duration::ZERO,
            frame_deadline: None,
        }
    }
}

impl Read for TimedReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let (timeout, why) = match self.frame_deadline {
                Some(deadline) => (
                    Some(deadline.saturating_duration_since(Instant::now())),
                    stalled("stopped in the middle of a frame", self.frame_timeout),
                ),
                None => (
                    self.idle,
                    stalled("sent nothing", self.idle.unwrap_or_default()),
                ),
            };
            wait(self.stream, PollFlags::POLLIN, timeout, why)?;
            // C: read(fd, buf, len); non-blocking, so a spurious wake-up is EAGAIN, not a hang.
            let n = match crate::calls::read(self.stream, buf) {
                Ok(n) => n,
                Err(err) if retry(&err) => continue,
                Err(err) => return Err(err),
            };
            let Some(tracker) = &mut self.tracker else {
                return not_c_text(&buf[..n]).map(|()| n);
            };
            let was_at_boundary = tracker.at_boundary();
            let completed = tracker.advance(&buf[..n]);
            if tracker.at_boundary() {
                self.frame_deadline = None;
            } else if was_at_boundary || completed {
                // A new frame started in these bytes: its clock starts now.
                self.frame_deadline = Some(Instant::now() + self.frame_timeout);
            }
            return Ok(n);
        }
    }
}

/// The write half of a socket for `FrameWriter`: interruptible, and a peer that leaves no room
/// in its receive buffer for `timeout` gets a `TimedOut` error instead of blocking us.
#[derive(Debug)]
pub struct TimedWriter<'a> {
    stream: &'a Stream,
    timeout: Duration,
    failed: bool,
}

impl<'a> TimedWriter<'a> {
    /// Writes to `stream`, waiting at most `timeout` each time its send buffer is full.
    pub fn new(stream: &'a Stream, timeout: Duration) -> Self {
        TimedWriter {
            stream,
            timeout,
            failed: false,
        }
    }
}

impl Write for TimedWriter<'_> {
    /// Once a write has failed (or timed out), every later one fails at once: the stream may
    /// end inside a frame, and the `BufWriter` above us tries to flush again when dropped.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.failed {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "an earlier write failed",
            ));
        }
        loop {
            let why = stalled("has not read what we sent", self.timeout);
            let written = wait(self.stream, PollFlags::POLLOUT, Some(self.timeout), why)
                // C: write(fd, buf, len); it may take only part of buf: write_all loops.
                .and_then(|()| crate::calls::write(self.stream, buf));
            match written {
                Err(err) if retry(&err) => continue,
                Err(err) => {
                    self.failed = true;
                    return Err(err);
                }
                ok => return ok,
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A line stream (`--wire c`) refuses a NUL byte as soon as it arrives: C text has none, and
/// a peer that sends one (most likely our own frames, whose length prefix holds zeros) may
/// never send the newline that would end its "line".
fn not_c_text(bytes: &[u8]) -> io::Result<()> {
    if bytes.contains(&0) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "it sent a NUL byte, which is not C text (socket-client sends lines only with --wire c)",
        ));
    }
    Ok(())
}

/// The text of a timeout error: `the peer stopped in the middle of a frame for 5 s`.
fn stalled(what: &str, after: Duration) -> String {
    format!("the peer {what} for {} s", after.as_secs_f64())
}

/// `poll`s the socket for `events` (and the Ctrl-C pipe). A stop becomes the `Stopped` error
/// that `signals::io_context` maps to exit 130; a timeout becomes `TimedOut` with `why`.
fn wait(
    stream: &Stream,
    events: PollFlags,
    timeout: Option<Duration>,
    why: String,
) -> io::Result<()> {
    match signals::wait_fd(stream.as_fd(), events, timeout) {
        Ok(true) => Ok(()),
        Ok(false) => Err(io::Error::new(io::ErrorKind::TimedOut, why)),
        Err(_) if signals::stop_requested() => Err(io::Error::other(Stopped)),
        Err(err) => Err(io::Error::other(err.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(len: u32) -> Vec<u8> {
        let mut bytes = len.to_le_bytes().to_vec();
        bytes.resize(FRAME_HEADER + len as usize, 7);
        bytes
    }

    #[test]
    fn the_tracker_finds_boundaries_in_any_split() {
        let mut stream = frame(10);
        stream.extend(frame(0));
        stream.extend(frame(300));
        let boundaries = [14, 18, stream.len()];
        for chunk in 1..stream.len() {
            let mut tracker = FrameTracker::default();
            let mut seen = 0;
            for piece in stream.chunks(chunk) {
                tracker.advance(piece);
                seen += piece.len();
                assert_eq!(
                    tracker.at_boundary(),
                    boundaries.contains(&seen),
                    "chunk {chunk} at {seen}"
                );
            }
        }
    }

    #[test]
    fn a_completed_frame_is_reported() {
        let mut tracker = FrameTracker::default();
        assert!(!tracker.advance(&frame(5)[..6]));
        assert!(tracker.advance(&frame(5)[6..]));
        assert!(tracker.at_boundary());
    }
}
