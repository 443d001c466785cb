//! The receiver's loop: read frames from the FIFO, across one or many senders.
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
//! Every frame arrives whole, whichever sender wrote it, because each sender writes a frame
//! with one atomic `write` (see `writer.rs`).

use std::os::fd::OwnedFd;

use ipc_common::error::ErrorKind;
use ipc_common::receiver::Inbox;
use ipc_common::stream::FrameReader;
use ipc_common::trace::TracedFd;
use ipc_common::{Error, Result};

use crate::fifo::{note, Fifo};

/// Opens `fifo` for reading and reads messages into `inbox` until every expected End has
/// arrived, reopening the FIFO whenever all its writers have closed it. Prints
/// `PROGRAM: waiting for a sender to open PATH` on stderr (the ready line) once the FIFO is
/// open, and again each time it waits for a new writer.
pub fn receive(fifo: &mut Fifo, inbox: &mut Inbox) -> Result<()> {
    let first = reopen(fifo)?;
    let mut reader = frame_reader(fifo, first);
    announce(fifo, "");
    loop {
        match reader
            .next_message()
            .map_err(|err| not_ours_hint(err, fifo))?
        {
            Some(msg) => {
                if inbox.take(&msg)? {
                    return Ok(());
                }
            }
            None => {
                // End-of-file: every writer closed the FIFO before all the Ends we wait for.
                let fresh = reopen(fifo)?; // the new read end first...
                reader = frame_reader(fifo, fresh); // ...then the old one is closed here
                announce(fifo, "every writer closed it; ");
            }
        }
    }
}

/// A frame that is too large, truncated or not a Message (no errno behind it) means something
/// other than fifo-sender wrote into the FIFO: say so.
fn not_ours_hint(err: Error, fifo: &Fifo) -> Error {
    if err.errno().is_some() || err.kind() != ErrorKind::Runtime || err.hint().is_some() {
        return err;
    }
    err.with_hint(format!(
        "only fifo-sender's framed messages can be read here; did another program \
         (e.g. echo text > {}) write into the FIFO?",
        fifo.path().display()
    ))
}

fn announce(fifo: &Fifo, why: &str) {
    note(format_args!(
        "{}: {why}waiting for a sender to open {}",
        fifo.program(),
        fifo.path().display()
    ));
}

fn frame_reader(fifo: &Fifo, fd: OwnedFd) -> FrameReader<TracedFd<OwnedFd>> {
    FrameReader::new(
        TracedFd::new(fd),
        format!("reading {}", fifo.path().display()),
    )
}

/// Opens the FIFO at the path for reading: the same one if it is still there, else the one
/// someone made since, or a new one of ours.
pub(crate) fn reopen(fifo: &mut Fifo) -> Result<OwnedFd> {
    loop {
        if fifo.still_at_path() {
            if let Some(fd) = fifo.open_reader()? {
                return Ok(fd);
            }
        }
        let (path, mode, program) = (fifo.path().to_path_buf(), fifo.allowed(), fifo.program());
        *fifo = Fifo::open_or_create(&path, mode, program)?;
        let milestone = if fifo.created() {
            crate::CREATED
        } else {
            crate::PERMISSIONS_OK
        };
        note(format_args!(
            "{program}: the FIFO was removed or replaced; {milestone}"
        ));
    }
}
