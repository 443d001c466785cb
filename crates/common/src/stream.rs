//! Messages over byte streams (pipes, FIFOs, stream sockets): buffered, framed, interruptible.
//!
//! A byte stream has no message boundaries: `write(fd, a)` then `write(fd, b)` may be read as
//! one chunk or as many. [`FrameWriter`] and [`FrameReader`] put the boundaries back with the
//! 4-byte length prefix of `wire.rs`, and buffer 64 KiB so that small messages do not cost one
//! system call each.

use std::io::{BufReader, BufWriter, ErrorKind, Read, Write};

use nix::errno::Errno;

use crate::error::{Error, Result};
use crate::message::{Body, Message};
use crate::sender::Outbox;
use crate::signals;
use crate::wire;

/// The buffer size of both ends: 64 KiB, the default capacity of a Linux pipe.
const BUFFER: usize = 64 * 1024;

/// Writes framed messages to a byte stream. Texts and End are flushed at once (a person is
/// waiting for them); generated payloads are batched until the buffer is full.
#[derive(Debug)]
pub struct FrameWriter<W: Write> {
    out: BufWriter<W>,
    scratch: Vec<u8>,
    what: String,
    peer_gone: &'static str,
}

impl<W: Write> FrameWriter<W> {
    /// `what` names the stream in errors (`writing to the pipe`); `peer_gone` says what EPIPE
    /// means here (`the receiver closed the pipe`).
    pub fn new(out: W, what: impl Into<String>, peer_gone: &'static str) -> Self {
        FrameWriter {
            out: BufWriter::with_capacity(BUFFER, out),
            scratch: Vec::new(),
            what: what.into(),
            peer_gone,
        }
    }

    /// Writes out whatever is buffered.
    pub fn flush(&mut self) -> Result<()> {
        self.out.flush().map_err(|err| self.error(err))
    }

    /// Flushes and gives the stream back (dropping it closes the write end: the reader's EOF).
    pub fn into_inner(mut self) -> Result<W> {
        self.flush()?;
        self.out
            .into_inner()
            .map_err(|err| Error::io(self.what.clone(), err.error()))
    }

    fn error(&self, err: std::io::Error) -> Error {
        if err.raw_os_error() == Some(Errno::EPIPE as i32) || err.kind() == ErrorKind::BrokenPipe {
            Error::new(self.what.clone(), format!("{} (EPIPE)", self.peer_gone))
        } else {
            signals::io_context(err, self.what.clone())
        }
    }
}

impl<W: Write> Outbox for FrameWriter<W> {
    fn send(&mut self, msg: &Message) -> Result<()> {
        let written = wire::write_frame(&mut self.out, msg, &mut self.scratch);
        written.map_err(|err| self.error(err))?;
        if !matches!(msg.body, Body::Payload { .. }) {
            self.flush()?;
        }
        Ok(())
    }
}

/// Reads framed messages from a byte stream.
#[derive(Debug)]
pub struct FrameReader<R: Read> {
    input: BufReader<R>,
    buf: Vec<u8>,
    what: String,
}

impl<R: Read> FrameReader<R> {
    /// `what` names the stream in errors (`reading the pipe`).
    pub fn new(input: R, what: impl Into<String>) -> Self {
        FrameReader {
            input: BufReader::with_capacity(BUFFER, input),
            buf: Vec::new(),
            what: what.into(),
        }
    }

    /// The next message; `None` when the writer closed the stream between two frames.
    /// A frame that is too large, truncated or not a Message is an error.
    pub fn next_message(&mut self) -> Result<Option<Message>> {
        wire::read_frame(&mut self.input, &mut self.buf)
            .map_err(|err| err.context(self.what.clone()))
    }

    /// The underlying stream.
    pub fn get_ref(&self) -> &R {
        self.input.get_ref()
    }
}

/// Reads messages into `inbox` until it is done (every expected End arrived). A stream that
/// ends before that is an error: the writer went away without its End.
pub fn receive_all<R: Read>(
    reader: &mut FrameReader<R>,
    inbox: &mut crate::receiver::Inbox,
) -> Result<()> {
    while let Some(msg) = reader.next_message()? {
        if inbox.take(&msg)? {
            return Ok(());
        }
    }
    Err(Error::new(
        reader.what.clone(),
        "the stream ended before the sender's End message",
    )
    .with_hint("the sender exited early: check its error message"))
}
