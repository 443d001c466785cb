//! `--wire c`: the protocol of the tutorial's C programs (c/server.c and c/client.c) instead
//! of our length-prefixed bincode frames and acknowledgements, so that a Rust end works with a
//! C end over TCP.
//!
//! ```c
//! #define LINE_SIZE 4096
//! write_all(fd, line, len + 1);                  /* client.c: the text, then '\n' */
//! while (fgets(line, sizeof line, in) != NULL)   /* server.c: one line per message */
//! ```
//!
//! One message is one line: the text and a newline; the line `end` ends the conversation
//! (client.c sends it also at the end of its input, and server.c stops after it). Nothing
//! comes back: the C server sends no acknowledgement, so a client in this mode only knows
//! that the kernel took its bytes, not that the server read them.
//!
//! The bounds come from `fgets(line, 4096, ...)`, which keeps at most 4095 bytes and its NUL:
//! - what we **send** must arrive as one line at server.c: at most 4094 bytes of text, so that
//!   the text and its newline fit in 4095 (a 4095-byte text would reach the C server as two
//!   lines: the text, then an empty one). No newline inside (it would end the line early) and
//!   no NUL (printf stops there). Generated payloads (`--count`) have no C form.
//! - what we **accept** is what client.c can send: a line of at most 4096 bytes, newline
//!   included (client.c cuts a longer typed line into pieces itself). A longer line, or a NUL
//!   byte (not C text: for example our own bincode frames, whose length prefix holds zeros),
//!   gets the client dropped with one clear line, and counts as corrupt.
//!
//! The C layout has no sender pid and no sequence number: the server numbers each client's
//! lines in arrival order (sender pid 0), so its summary cannot count lost or duplicated
//! messages. A silent client is never dropped in this mode, also in the middle of a line: the
//! C protocol has no frames to time, and the C server waits for ever too. It holds up only its
//! own thread.

use std::io::{ErrorKind, Write};

use clap::Args;

use ipc_common::cli::MessageSource;
use ipc_common::ctext::{CText, Terminator, C_END};
use ipc_common::sender::Outbox;
use ipc_common::{signals, Error, Message, Result};

use crate::stream::Stream;
use crate::timed::{TimedReader, TimedWriter};

/// The C programs' line buffer: `char line[LINE_SIZE]` with LINE_SIZE 4096.
pub const C_LINE: usize = 4096;

/// That buffer, as the checks of `--wire c` see it: server.c reads it with `fgets`, so a text
/// reaches it as one line only up to 4094 bytes (the newline and fgets' NUL take the rest).
const C_TEXT_BUFFER: CText = CText {
    declaration: "char line[4096]",
    size: C_LINE,
    terminator: Terminator::Newline,
};

/// The longest text we send.
pub const MAX_SENT_TEXT: usize = C_LINE - 2;

pub use ipc_common::ctext::Wire;

/// `--wire bincode|c`, for socket-server and socket-client.
#[derive(Debug, Clone, Args)]
pub struct WireArg {
    /// Protocol on the connection: ours (length-prefixed bincode Messages, acknowledged) or the
    /// C programs' (c/server.c, c/client.c: one line of text per message, TCP only), to talk
    /// to them
    #[arg(long, value_enum, default_value_t = Wire::Bincode)]
    pub wire: Wire,
}

/// Refuses `--wire c` with a Unix domain socket or UDP: the C programs speak TCP only.
pub fn check_transport(unix: bool, udp: bool) -> Result<()> {
    let other = match (unix, udp) {
        (true, _) => "--unix",
        (_, true) => "--udp",
        _ => return Ok(()),
    };
    Err(Error::usage(
        format!("--wire c with {other}"),
        "the C programs (c/server.c, c/client.c) speak TCP only",
    )
    .with_hint(format!(
        "leave out {other} to talk to them over TCP, or leave out --wire c"
    )))
}

/// Checks, before connecting, that the client's messages have a C form: texts of at most
/// 4094 bytes, without a newline or a NUL.
pub fn check_source(source: &MessageSource) -> Result<()> {
    C_TEXT_BUFFER.check_source(source)
}

/// `msg` as client.c sends it, into `line`: the text and a newline; End is the line `end`.
pub fn encode(msg: &Message, line: &mut Vec<u8>) -> Result<()> {
    let text = C_TEXT_BUFFER.text_of(msg)?;
    line.clear();
    line.extend_from_slice(text.as_bytes());
    line.push(b'\n');
    Ok(())
}

/// The client's end in the C protocol: client.c's `write_all(fd, line, len + 1)` per message,
/// and no reading at all.
#[derive(Debug)]
pub struct LineWriter<'a> {
    writer: TimedWriter<'a>,
    line: Vec<u8>,
    sent: u64,
}

impl<'a> LineWriter<'a> {
    /// Writes to `stream`; waits at most `timeout` each time its send buffer is full (a
    /// server that stopped reading).
    pub fn new(stream: &'a Stream, timeout: std::time::Duration) -> Self {
        LineWriter {
            writer: TimedWriter::new(stream, timeout),
            line: Vec::with_capacity(C_LINE),
            sent: 0,
        }
    }

    /// Text lines written so far (the `end` line is not counted).
    pub fn sent(&self) -> u64 {
        self.sent
    }
}

impl Outbox for LineWriter<'_> {
    fn send(&mut self, msg: &Message) -> Result<()> {
        encode(msg, &mut self.line)?;
        // C: write_all(fd, line, len + 1): write() in a loop until every byte is taken.
        self.writer.write_all(&self.line).map_err(|err| {
            if matches!(
                err.kind(),
                ErrorKind::BrokenPipe | ErrorKind::ConnectionReset
            ) {
                Error::new(
                    format!("sending line {}", msg.seq),
                    "the server closed the connection",
                )
                .with_hint("the C server stops after the first client's end; start it again")
            } else {
                signals::io_context(err, format!("sending line {}", msg.seq))
            }
        })?;
        if !msg.is_end() {
            self.sent += 1;
        }
        Ok(())
    }
}

/// The server's end in the C protocol: server.c's `fgets` loop on one client's connection,
/// each line turned into a Message numbered in arrival order.
#[derive(Debug)]
pub struct LineReader<'a> {
    reader: TimedReader<'a>,
    /// Bytes received and not yet handed out (at most one line and one read's worth).
    pending: Vec<u8>,
    /// Where the newline search resumes in `pending` (bytes before it hold none).
    scanned: usize,
    received: u64,
    eof: bool,
}

impl<'a> LineReader<'a> {
    /// Reads lines from `stream`, waiting for each as long as it takes (Ctrl-C still wakes it).
    pub fn new(stream: &'a Stream) -> Self {
        LineReader {
            reader: TimedReader::for_lines(stream),
            pending: Vec::with_capacity(2 * C_LINE),
            scanned: 0,
            received: 0,
            eof: false,
        }
    }

    /// The next line as a Message (`end` is End); `None` when the client closed the connection
    /// between two lines. A last line without its newline is taken as it is, as `fgets` does.
    /// A line over 4096 bytes or a NUL byte is an error without an errno (the client is
    /// dropped as corrupt); a failed read keeps its errno.
    pub fn next_message(&mut self) -> Result<Option<Message>> {
        loop {
            // The line must end within the first C_LINE bytes.
            let window = self.pending.len().min(C_LINE);
            let newline = self.pending[self.scanned..window]
                .iter()
                .position(|&b| b == b'\n')
                .map(|at| self.scanned + at);
            if self.pending[..newline.unwrap_or(window)].contains(&0) {
                return Err(Error::new(
                    "reading its next line",
                    "it sent a NUL byte, which is not C text (socket-client sends lines only \
                     with --wire c)",
                ));
            }
            if let Some(end) = newline {
                return Ok(Some(self.take(end + 1, end)));
            }
            if window == C_LINE {
                return Err(Error::new(
                    "reading its next line",
                    format!(
                        "a line longer than {C_LINE} bytes, the C programs' char line[{C_LINE}]"
                    ),
                ));
            }
            self.scanned = window;
            if self.eof {
                if self.pending.is_empty() {
                    return Ok(None);
                }
                let all = self.pending.len();
                return Ok(Some(self.take(all, all)));
            }
            self.fill()?;
        }
    }

    /// One `read` into `pending`; sets `eof` when the client has closed its end.
    fn fill(&mut self) -> Result<()> {
        let mut chunk = [0u8; C_LINE];
        // C: read(fd, buf, len), which fgets makes when its buffer is empty.
        let n = std::io::Read::read(&mut self.reader, &mut chunk)
            .map_err(|err| signals::io_context(err, "reading its next line"))?;
        self.pending.extend_from_slice(&chunk[..n]);
        self.eof = n == 0;
        Ok(())
    }

    /// Takes the first `consumed` bytes of `pending`, of which the first `text_end` are the
    /// line's text, as the next Message.
    fn take(&mut self, consumed: usize, text_end: usize) -> Message {
        self.received += 1;
        let text = String::from_utf8_lossy(&self.pending[..text_end]).into_owned();
        self.pending.drain(..consumed);
        self.scanned = 0;
        if text == C_END {
            Message::end(0, self.received)
        } else {
            Message::text(0, self.received, text)
        }
    }
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
        assert!(encode(&Message::text(1, 1, "a\0b"), &mut line).is_err());
    }

    #[test]
    fn the_c_servers_fgets_bounds_the_text() {
        let mut line = Vec::new();
        assert!(encode(&Message::text(1, 1, "x".repeat(MAX_SENT_TEXT)), &mut line).is_ok());
        assert_eq!(line.len(), C_LINE - 1, "fgets keeps sizeof line - 1 bytes");
        assert!(encode(
            &Message::text(1, 1, "x".repeat(MAX_SENT_TEXT + 1)),
            &mut line
        )
        .is_err());
    }

    #[test]
    fn tcp_only() {
        assert!(check_transport(false, false).is_ok());
        assert_eq!(
            check_transport(true, false).map_err(|e| e.exit_code()),
            Err(2)
        );
        assert_eq!(
            check_transport(false, true).map_err(|e| e.exit_code()),
            Err(2)
        );
    }
}
