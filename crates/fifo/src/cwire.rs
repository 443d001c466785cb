//! `--wire c`: the byte layout of the tutorial's C programs (c/fifo_writer.c and
//! c/fifo_reader.c) instead of our length-prefixed bincode frames, so that a Rust end works
//! with a C end.
//!
//! ```c
//! #define LINE_SIZE 4096
//! write_all(fd, line, len + 1);               /* the writer: the text, then '\n' */
//! while (fgets(line, sizeof line, fifo))      /* the reader: one line per message */
//! ```
//!
//! One message is one line: the text and a newline, `end` last. A text of at most 4094
//! bytes (what the reader's `fgets(line, 4096, ...)` takes back whole) and its newline stay
//! under PIPE_BUF (4096) bytes, so each line is still one atomic `write`. The C layout has no sender pid and no sequence number: a receiver numbers the
//! lines in arrival order (sender pid 0), so the summary cannot count lost or duplicated
//! messages. Generated payloads (`--count`) have no C form.

use std::io::{BufRead, BufReader, Read};
use std::os::fd::OwnedFd;

use clap::Args;

use ipc_common::ctext::{CText, Terminator, C_END};
use ipc_common::message::Body;
use ipc_common::receiver::Inbox;
use ipc_common::signals;
use ipc_common::trace::TracedFd;
use ipc_common::{Error, Message, Result};

use crate::fifo::{note, Fifo};

/// The C programs' line buffer: `char line[LINE_SIZE]` with LINE_SIZE 4096 (text, newline or
/// NUL included).
pub const C_LINE: usize = 4096;
/// That buffer, as the checks of `--wire c` see it.
const C_TEXT_BUFFER: CText = CText {
    declaration: "char line[4096]",
    size: C_LINE,
    terminator: Terminator::Newline,
};

pub use ipc_common::ctext::Wire;

/// `--wire bincode|c`, for fifo-sender and fifo-receiver.
#[derive(Debug, Clone, Args)]
pub struct WireArg {
    /// Byte layout in the FIFO: ours (length-prefixed bincode Messages) or the C programs'
    /// (c/fifo_*.c: one line of text per message), to talk to them
    #[arg(long, value_enum, default_value_t = Wire::Bincode)]
    pub wire: Wire,
}

/// Checks, before the FIFO is touched, that the sender's messages have a C form: texts of at
/// most 4094 bytes, without a newline (it would end the line) or a NUL (C strings end there).
pub fn check_source(source: &ipc_common::cli::MessageSource) -> Result<()> {
    C_TEXT_BUFFER.check_source(source)
}

/// `msg` in the C layout, into `line`: the text and a newline; End is the line `end`.
pub fn encode(msg: &Message, line: &mut Vec<u8>) -> Result<()> {
    let text = match &msg.body {
        Body::Text(text) => text.as_str(),
        Body::End => C_END,
        Body::Payload { .. } | Body::Ack => {
            return Err(Error::usage(
                "--wire c",
                "the C programs carry text lines only, not generated payloads",
            ))
        }
    };
    C_TEXT_BUFFER
        .check_text(text)
        .map_err(|why| Error::new(format!("sending message {}", msg.seq), why))?;
    line.clear();
    line.extend_from_slice(text.as_bytes());
    line.push(b'\n');
    Ok(())
}

/// The receiver's loop in the C layout: like [`crate::receive`] (the same ready line, the same
/// reopening when every writer has closed the FIFO), reading one line per message.
pub fn receive(fifo: &mut Fifo, inbox: &mut Inbox) -> Result<()> {
    let mut lines = line_reader(crate::reader::reopen(fifo)?);
    announce(fifo, "");
    let mut received = 0u64;
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = (&mut lines)
            .take(C_LINE as u64)
            .read_until(b'\n', &mut line)
            .map_err(|err| {
                signals::io_context(err, format!("reading {}", fifo.path().display()))
            })?;
        if read == 0 {
            // Every writer closed the FIFO before all the `end`s we wait for: reopen.
            let fresh = crate::reader::reopen(fifo)?;
            lines = line_reader(fresh);
            announce(fifo, "every writer closed it; ");
            continue;
        }
        if line.last() == Some(&b'\n') {
            line.pop();
        }
        received += 1;
        let text = String::from_utf8_lossy(&line);
        let msg = if text == C_END {
            Message::end(0, received)
        } else {
            Message::text(0, received, text)
        };
        if inbox.take(&msg)? {
            return Ok(());
        }
    }
}

fn line_reader(fd: OwnedFd) -> BufReader<TracedFd<OwnedFd>> {
    BufReader::new(TracedFd::new(fd))
}

fn announce(fifo: &Fifo, why: &str) {
    note(format_args!(
        "{}: {why}waiting for a sender to open {}",
        fifo.program(),
        fifo.path().display()
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_a_line_and_end_is_the_line_end() {
        let mut line = Vec::new();
        encode(&Message::text(1, 1, "hello"), &mut line).expect("fits");
        assert_eq!(line, b"hello\n");
        encode(&Message::end(1, 2), &mut line).expect("fits");
        assert_eq!(line, b"end\n");
        assert!(encode(&Message::payload(1, 1, 3), &mut line).is_err());
        assert!(encode(&Message::text(1, 1, "two\nlines"), &mut line).is_err());
        assert!(encode(&Message::text(1, 1, "x".repeat(C_LINE - 2)), &mut line).is_ok());
        assert_eq!(
            line.len(),
            C_LINE - 1,
            "fgets(line, 4096) reads it back whole"
        );
        assert!(encode(&Message::text(1, 1, "x".repeat(C_LINE - 1)), &mut line).is_err());
    }
}
