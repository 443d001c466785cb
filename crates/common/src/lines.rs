//! `--wire c` over byte streams (FIFO, stream socket): one text per message, as the
//! tutorial's C programs write them and read them back.
//!
//! C writers end a text in one of three ways, and a reader must take all three:
//! - a line, `write(fd, line, len + 1)` after `fgets`: `"hello\n"` (c/fifo_writer.c, our
//!   `--wire c` senders);
//! - a C string with its NUL, `write(fd, buf, strlen(buf) + 1)` after `scanf("%s")`:
//!   `"hello\0"`;
//! - both, `strlen(buf) + 1` after `fgets` (the tutorial's fifo_writer.c): `"hello\n\0"`.
//!
//! So the rule here: **a text ends at its newline or at its NUL, whichever comes first; a NUL
//! right after the end of a text ends nothing and is skipped** (the NUL of `"hello\n\0"`, the
//! zeros a `write(fd, buf, sizeof(buf))` sends after its text). An empty line (`"\n"`) is an
//! empty text, as `fgets` reads it. A last text with neither, at the end of the stream, still
//! counts. The newline stays part of the record, for [`CDecoder`] to drop (with a `\r`).
//!
//! A text is bounded by the C program's buffer ([`CLayout::size`]); a longer one is reported
//! as [`Delivery::Garbled`] once, and reading goes on after its end. One of our own
//! length-prefixed frames (a sender started without `--wire c`) is recognised at the start
//! of a text and reported as Garbled with the hint to use `--wire bincode`, instead of being
//! cut at its zero bytes into junk texts. The end of the stream is [`Delivery::Closed`].

use std::io::{ErrorKind, Read, Write};

use crate::clayout::{CDecoder, CLayout};
use crate::codec::ours_in_c;
use crate::error::{Error, Result};
use crate::message::Message;
use crate::receiver::{Delivery, Inbox};
use crate::sender::Outbox;
use crate::signals;
use crate::wire::{self, WireError, FRAME_HEADER};

/// Reads C texts from a byte stream.
#[derive(Debug)]
pub struct CLineReader<R: Read> {
    input: R,
    decoder: CDecoder,
    /// Bytes read and not taken yet.
    pending: Vec<u8>,
    /// How far `pending` is known to hold no newline and no NUL.
    scanned: usize,
    /// Skipping the rest of a text that was too long.
    skipping: bool,
    /// One of our frames came: the next text may be another, even if fewer than its
    /// header's bytes are here yet.
    frames_seen: bool,
    eof: bool,
    what: String,
}

/// Whether the bytes at the start of a text are one of our frames.
enum Frame {
    /// Yes: a length prefix and a Message, this many bytes in all.
    Whole(usize),
    /// Maybe: a plausible length prefix and the start of a Message; more bytes will tell.
    Partial,
    /// No: C text.
    No,
}

impl<R: Read> CLineReader<R> {
    /// Texts of `layout` from `input`; `what` names the stream in errors (`reading /tmp/my_fifo`).
    pub fn new(input: R, layout: &'static CLayout, what: impl Into<String>) -> Self {
        CLineReader {
            input,
            decoder: layout.decoder(),
            pending: Vec::with_capacity(2 * layout.size),
            scanned: 0,
            skipping: false,
            frames_seen: false,
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
        self.frames_seen = false;
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

    /// Takes `pending[..len]` out and decodes `pending[..text]` (the text, and its newline
    /// if a newline ended it); the terminator, if any, goes too.
    fn take(&mut self, text: usize, len: usize) -> Delivery {
        let record: Vec<u8> = self.pending.drain(..len).take(text).collect();
        self.scanned = 0;
        self.decoder.decode(&record)
    }

    /// Is `pending` (at the start of a text) one of our frames? Only a length prefix no
    /// larger than the C buffer is considered, and a Message that decodes exactly: a C text
    /// such as `"hi\n\0"` makes a huge length, and one such as `"a\0"` followed by zeros
    /// (a `sizeof(buf)` writer) decodes with bytes left over.
    fn frame(&self) -> Frame {
        let limit = self.decoder.layout().size;
        let len = match wire::frame_length(&self.pending) {
            Ok(Some(len)) if (1..=limit).contains(&len) => len,
            _ => return Frame::No,
        };
        let body = &self.pending[FRAME_HEADER..];
        if body.len() >= len {
            return match wire::decode(&body[..len]) {
                Ok(_) => Frame::Whole(FRAME_HEADER + len),
                Err(_) => Frame::No,
            };
        }
        match wire::decode(body) {
            Err(WireError::Truncated { .. }) if !body.is_empty() => Frame::Partial,
            _ => Frame::No,
        }
    }
}

impl<R: Read> Inbox for CLineReader<R> {
    fn receive(&mut self) -> Result<Delivery> {
        let limit = self.decoder.layout().size;
        loop {
            if !self.skipping && self.scanned == 0 {
                // At the start of a text: NULs here end nothing (after "hello\n\0", or the
                // zeros of a whole-buffer write).
                let nuls = self.pending.iter().take_while(|&&b| b == 0).count();
                self.pending.drain(..nuls);
                if self.frames_seen && self.pending.len() < FRAME_HEADER && !self.eof {
                    self.fill()?;
                    continue;
                }
                match self.frame() {
                    Frame::Whole(len) => {
                        self.frames_seen = true;
                        let frame: Vec<u8> = self.pending.drain(..len).collect();
                        let declaration = self.decoder.layout().declaration;
                        return Ok(ours_in_c(&frame, declaration).unwrap_or_else(|| {
                            Delivery::Garbled(format!(
                                "a record that is not C text ({declaration})"
                            ))
                        }));
                    }
                    Frame::Partial if !self.eof => {
                        self.fill()?;
                        continue;
                    }
                    Frame::Partial => {
                        self.pending.clear();
                        return Ok(Delivery::Garbled(
                            "the start of one of our encoded Messages, cut short by the end of \
                             the stream: the sender speaks --wire bincode; start this end \
                             without --wire c"
                                .into(),
                        ));
                    }
                    Frame::No => {}
                }
            }
            let window = self.pending.len().min(limit);
            let end = self.pending[self.scanned..window]
                .iter()
                .position(|&b| b == b'\n' || b == 0)
                .map(|at| self.scanned + at);
            match end {
                Some(at) if self.skipping => {
                    // The rest of a text that was too long: drop it, go on with the next.
                    self.pending.drain(..=at);
                    (self.scanned, self.skipping) = (0, false);
                    continue;
                }
                // The newline stays in the record (the decoder drops it), the NUL does not.
                Some(at) if self.pending[at] == b'\n' => return Ok(self.take(at + 1, at + 1)),
                Some(at) => return Ok(self.take(at, at + 1)),
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
                return Ok(self.take(all, all));
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

    fn ends_conversation(&self, text: &str) -> bool {
        crate::clayout::is_c_end(text.as_bytes())
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

    /// A stream that returns at most `.1` bytes per read, as a pipe may.
    struct Chunks<'a>(&'a [u8], usize);

    impl Read for Chunks<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.0.len().min(self.1).min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn read_chunks(bytes: &[u8], chunk: usize) -> Vec<Delivery> {
        let mut reader = CLineReader::new(Chunks(bytes, chunk), &FIFO, "reading");
        let mut out = Vec::new();
        loop {
            match reader.receive().expect("reads") {
                Delivery::Closed => return out,
                other => out.push(other),
            }
        }
    }

    fn texts(got: &[Delivery]) -> Vec<String> {
        got.iter()
            .map(|delivery| match delivery {
                Delivery::Message(msg) if msg.is_end() => "END".to_string(),
                Delivery::Message(msg) => match &msg.body {
                    crate::message::Body::Text(text) => text.clone(),
                    other => panic!("{other:?}"),
                },
                other => panic!("expected a text, got {other:?}"),
            })
            .collect()
    }

    #[test]
    fn a_text_ends_at_its_newline_or_its_nul_and_a_nul_after_a_text_is_skipped() {
        // fgets + write(len + 1), scanf + strlen(buf) + 1, fgets + strlen(buf) + 1, an empty
        // line the tutorial's writer sent, a CRLF line, a last text with neither.
        let stream = b"line\nstring\0both\n\0\n\0crlf\r\nlast";
        let expected = ["line", "string", "both", "", "crlf", "last"];
        assert_eq!(texts(&read_all(stream)), expected);
        assert_eq!(
            texts(&read_chunks(stream, 1)),
            expected,
            "the same, one byte per read"
        );
    }

    #[test]
    fn a_whole_buffer_writer_is_read_text_by_text() {
        // write(fd, buf, sizeof(buf)) with char buf[100]: the text, its NUL, then zeros.
        let mut stream = Vec::new();
        for text in ["a", "hello there", "end"] {
            let start = stream.len();
            stream.extend_from_slice(text.as_bytes());
            stream.resize(start + 100, 0);
        }
        assert_eq!(texts(&read_all(&stream)), ["a", "hello there", "END"]);
        assert_eq!(texts(&read_all(b"hello\r\nend\r\n")), ["hello", "END"]);
    }

    #[test]
    fn our_own_frames_are_named_not_cut_into_junk_texts() {
        let mut stream = Vec::new();
        wire::append_frame(&Message::text(4242, 1, "hello"), &mut stream).expect("encodes");
        wire::append_frame(&Message::end(4242, 2), &mut stream).expect("encodes");
        // Whole, and cut after each frame's header and a little (a frame arrives whole when
        // its sender wrote it with one write; a reader may still take it in two reads).
        for got in [read_all(&stream), read_chunks(&stream, 6)] {
            assert_eq!(got.len(), 2, "one warning per frame: {got:?}");
            match &got[..] {
                [Delivery::Garbled(text), Delivery::ForeignEnd(end)] => {
                    assert!(text.contains("--wire bincode"), "{text}");
                    assert!(end.contains("--wire bincode"), "our End ends it: {end}");
                }
                other => panic!("{other:?}"),
            }
        }
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
