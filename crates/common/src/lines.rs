//! `--wire c` over byte streams (FIFO, stream socket): one text line per message, as the
//! tutorial's C programs write them (`write(fd, line, len + 1)`) and read them back
//! (`fgets(line, sizeof line, stream)`).
//!
//! A line is bounded by the C program's buffer ([`CLayout::size`]); a longer one, or one with
//! a NUL byte (not C text: most likely our own frames), is reported as
//! [`Delivery::Garbled`] once, and reading goes on after its newline. The end of the stream
//! is [`Delivery::Closed`]; a last line without its newline still counts, as `fgets` returns
//! it.

use std::io::{ErrorKind, Read, Write};

use crate::clayout::{CDecoder, CLayout};
use crate::error::{Error, Result};
use crate::message::Message;
use crate::receiver::{Delivery, Inbox};
use crate::sender::Outbox;
use crate::signals;

/// Reads C text lines from a byte stream.
#[derive(Debug)]
pub struct CLineReader<R: Read> {
    input: R,
    decoder: CDecoder,
    /// Bytes read and not taken yet.
    pending: Vec<u8>,
    /// How far `pending` is known to hold no newline.
    scanned: usize,
    /// Skipping the rest of a line that was too long.
    skipping: bool,
    eof: bool,
    what: String,
}

impl<R: Read> CLineReader<R> {
    /// Lines of `layout` from `input`; `what` names the stream in errors (`reading /tmp/my_fifo`).
    pub fn new(input: R, layout: &'static CLayout, what: impl Into<String>) -> Self {
        CLineReader {
            input,
            decoder: layout.decoder(),
            pending: Vec::with_capacity(2 * layout.size),
            scanned: 0,
            skipping: false,
            eof: false,
            what: what.into(),
        }
    }

    /// The underlying stream.
    pub fn get_ref(&self) -> &R {
        &self.input
    }

    /// Replaces the stream (a FIFO reopened after every writer closed it), keeping the count.
    pub fn reopen(&mut self, input: R) {
        self.input = input;
        self.pending.clear();
        (self.scanned, self.skipping, self.eof) = (0, false, false);
    }

    /// Reads once more; returns false at the end of the stream.
    fn fill(&mut self) -> Result<bool> {
        let mut chunk = [0u8; 4096];
        let n = loop {
            match self.input.read(&mut chunk) {
                Ok(n) => break n,
                Err(err) if err.kind() == ErrorKind::Interrupted => continue,
                Err(err) => return Err(signals::io_context(err, self.what.clone())),
            }
        };
        self.pending.extend_from_slice(&chunk[..n]);
        self.eof = n == 0;
        Ok(n > 0)
    }

    /// Takes `pending[..len]` out and decodes it (the line, its newline included).
    fn take(&mut self, len: usize) -> Delivery {
        let line: Vec<u8> = self.pending.drain(..len).collect();
        self.scanned = 0;
        self.decoder.decode(&line)
    }
}

impl<R: Read> Inbox for CLineReader<R> {
    fn receive(&mut self) -> Result<Delivery> {
        let limit = self.decoder.layout().size;
        loop {
            let window = self.pending.len().min(limit);
            let newline = self.pending[self.scanned..window]
                .iter()
                .position(|&b| b == b'\n')
                .map(|at| self.scanned + at);
            match newline {
                Some(at) if self.skipping => {
                    // The rest of a line that was too long: drop it, go on with the next.
                    self.pending.drain(..=at);
                    (self.scanned, self.skipping) = (0, false);
                    continue;
                }
                Some(at) => return Ok(self.take(at + 1)),
                None if window == limit => {
                    self.pending.clear();
                    self.scanned = 0;
                    if !std::mem::replace(&mut self.skipping, true) {
                        return Ok(Delivery::Garbled(format!(
                            "a line longer than the C programs' {} ({} bytes with its newline)",
                            self.decoder.layout().declaration,
                            limit
                        )));
                    }
                }
                None => self.scanned = window,
            }
            if self.eof || !self.fill()? {
                if self.pending.is_empty() || self.skipping {
                    self.pending.clear();
                    return Ok(Delivery::Closed);
                }
                let all = self.pending.len();
                return Ok(self.take(all));
            }
        }
    }
}

/// Writes C text lines to a byte stream.
#[derive(Debug)]
pub struct CLineWriter<W: Write> {
    output: W,
    layout: &'static CLayout,
    line: Vec<u8>,
    what: String,
    peer_gone: String,
    sent: u64,
}

impl<W: Write> CLineWriter<W> {
    /// Lines of `layout` into `output`; `what` names the stream in errors (`writing to
    /// /tmp/my_fifo`), `peer_gone` says what EPIPE means there.
    pub fn new(
        output: W,
        layout: &'static CLayout,
        what: impl Into<String>,
        peer_gone: impl Into<String>,
    ) -> Self {
        CLineWriter {
            output,
            layout,
            line: Vec::with_capacity(layout.size),
            what: what.into(),
            peer_gone: peer_gone.into(),
            sent: 0,
        }
    }

    /// Text lines sent so far (`end` not counted).
    pub fn sent(&self) -> u64 {
        self.sent
    }

    /// The underlying stream.
    pub fn get_ref(&self) -> &W {
        &self.output
    }
}

impl<W: Write> Outbox for CLineWriter<W> {
    /// One `write` of the text and its newline (`end` for End).
    fn send(&mut self, msg: &Message) -> Result<()> {
        self.layout.encode(msg, &mut self.line)?;
        self.output.write_all(&self.line).map_err(|err| {
            if matches!(
                err.kind(),
                ErrorKind::BrokenPipe | ErrorKind::ConnectionReset
            ) {
                Error::new(self.what.clone(), format!("{} (EPIPE)", self.peer_gone))
            } else {
                signals::io_context(err, self.what.clone())
            }
        })?;
        if !msg.is_end() {
            self.sent += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clayout::FIFO;

    fn read_all(bytes: &[u8]) -> Vec<Delivery> {
        let mut reader = CLineReader::new(bytes, &FIFO, "reading a test stream");
        let mut out = Vec::new();
        loop {
            match reader.receive().expect("reads") {
                Delivery::Closed => return out,
                other => out.push(other),
            }
        }
    }

    #[test]
    fn one_message_per_line_and_a_last_line_without_newline() {
        let got = read_all(b"hello\nworld\nend");
        assert_eq!(
            got,
            vec![
                Delivery::Message(Message::text(0, 1, "hello")),
                Delivery::Message(Message::text(0, 2, "world")),
                Delivery::Message(Message::end(0, 3)),
            ]
        );
    }

    #[test]
    fn a_line_too_long_is_garbled_once_and_the_next_line_still_arrives() {
        let mut bytes = vec![b'x'; 10_000];
        bytes.extend_from_slice(b"\nafter\n");
        let got = read_all(&bytes);
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(matches!(got[0], Delivery::Garbled(_)));
        assert_eq!(got[1], Delivery::Message(Message::text(0, 1, "after")));
    }

    #[test]
    fn the_writer_writes_what_the_reader_reads() {
        let mut writer = CLineWriter::new(Vec::new(), &FIFO, "writing", "gone");
        writer.send(&Message::text(1, 1, "hi")).expect("fits");
        writer.send(&Message::end(1, 2)).expect("fits");
        assert_eq!(writer.get_ref(), b"hi\nend\n");
        assert_eq!(writer.sent(), 1);
    }
}
