//! [`FifoReader`]: the receiver's [`Inbox`], reading one FIFO across one or many senders, in
//! either `--wire` layout (our frames or the C programs' texts, each ended by a newline or a
//! NUL: see `ipc_common::lines`).
//!
//! A FIFO gives end-of-file (`read` returns 0) once the *last* writer has closed it. Senders
//! that overlap in time keep it open between them, but with `--senders N` the next sender may
//! come after the previous one has gone. There are two classic ways to keep reading:
//!
//! - **hold a dummy write end**: the receiver also opens the FIFO for writing, so the writer
//!   count never drops to zero and end-of-file never comes. Simple, but the receiver then
//!   cannot notice that every sender has gone, and a sender that created the FIFO and removed
//!   it on exit would leave us reading a FIFO nobody can find any more.
//! - **reopen** (what we do): on end-of-file, open the path again and only *then* close the old
//!   descriptor. Both descriptors name the same pipe, so the FIFO always has a reader: a sender
//!   opening it in between neither fails with `ENXIO` nor loses data, and bytes already in the
//!   pipe are read through the new descriptor. A fresh descriptor also sleeps in `poll` until
//!   the next writer comes (Linux reports `POLLHUP` to a reader only after a writer has come
//!   and gone since *its* open), where the old one would report end-of-file again and again.
//!   If the FIFO was removed meanwhile (a sender that created it has finished), we find or
//!   create the one now at the path, as at the start.
//!
//! Every frame (or C line) arrives whole, whichever sender wrote it, because each sender
//! writes one with a single atomic `write` (see `writer.rs`).

use std::os::fd::OwnedFd;

use ipc_common::clayout::FIFO;
use ipc_common::codec::{StreamInbox, WireArg};
use ipc_common::error::ErrorKind;
use ipc_common::receiver::{Delivery, Inbox};
use ipc_common::trace::TracedFd;
use ipc_common::{program, Error, Result};

use crate::fifo::{note, Fifo};

/// The read end of a FIFO, with the [`Fifo`] guard it came from (dropping the reader closes
/// the descriptor, then removes the FIFO if we created it: C `close(fd)`, `unlink(path)`).
#[derive(Debug)]
pub struct FifoReader {
    input: StreamInbox<TracedFd<OwnedFd>>,
    fifo: Fifo,
    wire: WireArg,
}

impl FifoReader {
    /// Opens `fifo` for reading (C: `open(path, O_RDONLY)`, here non-blocking: see `fifo.rs`)
    /// and prints `PROGRAM: waiting for a sender to open PATH` on stderr, the ready line.
    pub fn open(mut fifo: Fifo, wire: &WireArg) -> Result<FifoReader> {
        let fd = reopen(&mut fifo)?;
        let input = wire.stream_inbox(TracedFd::new(fd), &FIFO, what(&fifo));
        let reader = FifoReader {
            input,
            fifo,
            wire: *wire,
        };
        reader.announce("");
        Ok(reader)
    }

    /// End-of-file: every writer closed the FIFO before all the Ends we wait for. Opens the
    /// FIFO again, and only then closes the old read end (by replacing it).
    fn reopen(&mut self) -> Result<()> {
        let fresh = TracedFd::new(reopen(&mut self.fifo)?);
        match &mut self.input {
            // The C lines carry no numbers: keep counting where we were.
            StreamInbox::Lines(lines) => lines.reopen(fresh),
            StreamInbox::Frames(_) => {
                self.input = self.wire.stream_inbox(fresh, &FIFO, what(&self.fifo));
            }
        }
        self.announce("every writer closed it; ");
        Ok(())
    }

    fn announce(&self, why: &str) {
        note(format_args!(
            "{}: {why}waiting for a sender to open {}",
            program::name(),
            self.fifo.path().display()
        ));
    }

    /// A frame that is too large, truncated or not a Message (no errno behind it) means
    /// something other than fifo-sender wrote into the FIFO: say so.
    fn not_ours_hint(&self, err: Error) -> Error {
        if err.errno().is_some() || err.kind() != ErrorKind::Runtime || err.hint().is_some() {
            return err;
        }
        err.with_hint(format!(
            "only fifo-sender's messages can be read here; did another program \
             (e.g. echo text > {}) write into the FIFO?",
            self.fifo.path().display()
        ))
    }
}

impl Inbox for FifoReader {
    /// The next message, read through as many reopenings as it takes (C: `read(fd, ...)`).
    fn receive(&mut self) -> Result<Delivery> {
        loop {
            match self.input.receive() {
                Ok(Delivery::Closed) => self.reopen()?,
                Ok(delivery) => return Ok(delivery),
                Err(err) => return Err(self.not_ours_hint(err)),
            }
        }
    }

    /// The raw path (ipc-bench): exactly `buf.len()` bytes, as the common stream reads them.
    fn receive_bytes(&mut self, buf: &mut Vec<u8>) -> Result<()> {
        self.input.receive_bytes(buf)
    }
}

/// How errors name the FIFO: `reading /tmp/my_fifo`.
fn what(fifo: &Fifo) -> String {
    format!("reading {}", fifo.path().display())
}

/// Opens the FIFO at the path for reading: the same one if it is still there, else the one
/// someone made since, or a new one of ours.
fn reopen(fifo: &mut Fifo) -> Result<OwnedFd> {
    loop {
        if fifo.still_at_path() {
            if let Some(fd) = fifo.open_reader()? {
                return Ok(fd);
            }
        }
        let (path, mode) = (fifo.path().to_path_buf(), fifo.allowed());
        *fifo = Fifo::open_or_create(&path, mode)?;
        note(format_args!(
            "{}: the FIFO was removed or replaced; {}",
            program::name(),
            fifo.milestone()
        ));
    }
}
