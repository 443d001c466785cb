//! Messages over byte streams (pipes, FIFOs, stream sockets): buffered, framed, interruptible.
//!
//! A byte stream has no message boundaries: `write(fd, a)` then `write(fd, b)` may be read as
//! one chunk or as many. [`FrameWriter`] and [`FrameReader`] put the boundaries back with the
//! 4-byte length prefix of `wire.rs`, and batch payloads into 16 KiB writes so that small
//! messages do not cost one system call each.

use std::io::{ErrorKind, Read, Write};

use nix::errno::Errno;

use crate::codec;
use crate::error::{Error, Result};
use crate::message::{Body, Message};
use crate::receiver::{Delivery, Inbox};
use crate::sender::Outbox;
use crate::signals;
use crate::wire;

/// The reader's buffer: 64 KiB, the default capacity of a Linux pipe, so one `read` can take
/// everything the pipe holds.
const BUFFER: usize = 64 * 1024;

/// The writer's block: a quarter of a Linux pipe. The kernel wakes a sleeping reader once per
/// `write(2)`, when that write is done, not page by page; a write as large as the whole pipe
/// leaves the reader asleep while the writer copies, then the writer asleep while the reader
/// reads, in lock step. Blocks of 16 KiB let the reader take one block while the writer copies
/// the next (issue 16: typed 4 KiB streams went from 0.6x to about 1.0x the raw path on a
/// machine where a wake-up costs 80 us; 8 to 16 KiB was best for pipes, FIFOs and TCP alike).
const WRITE_BLOCK: usize = 16 * 1024;

/// Writes framed messages to a byte stream. Texts and End are flushed at once (a person is
/// waiting for them); generated payloads are batched.
///
/// Each message is encoded straight into one buffer, and the buffer goes out in writes of
/// exactly [`WRITE_BLOCK`] (16 KiB) whatever the frames' sizes, so that the reader drains one
/// block while the writer fills the next: a write of a whole 64 KiB frame would fill the pipe
/// with the reader still asleep.
#[derive(Debug)]
pub struct FrameWriter<W: Write> {
    out: W,
    pending: Vec<u8>,
    what: String,
    peer_gone: &'static str,
}

impl<W: Write> FrameWriter<W> {
    /// `what` names the stream in errors (`writing to the pipe`); `peer_gone` says what EPIPE
    /// means here (`the receiver closed the pipe`).
    pub fn new(out: W, what: impl Into<String>, peer_gone: &'static str) -> Self {
        FrameWriter {
            out,
            pending: Vec::new(),
            what: what.into(),
            peer_gone,
        }
    }

    /// Writes out whatever is buffered.
    pub fn flush(&mut self) -> Result<()> {
        let written = self.out.write_all(&self.pending);
        self.pending.clear();
        written.map_err(|err| self.error(err))
    }

    /// Flushes and gives the stream back (dropping it closes the write end: the reader's EOF).
    pub fn into_inner(mut self) -> Result<W> {
        self.flush()?;
        Ok(self.out)
    }

    /// Writes every whole 16 KiB block of the buffer and keeps the rest (less than a block).
    fn write_blocks(&mut self) -> Result<()> {
        let mut sent = 0;
        while self.pending.len() - sent >= WRITE_BLOCK {
            let written = self.out.write_all(&self.pending[sent..sent + WRITE_BLOCK]);
            if let Err(err) = written {
                self.pending.clear();
                return Err(self.error(err));
            }
            sent += WRITE_BLOCK;
        }
        self.pending.drain(..sent);
        Ok(())
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
    /// Encodes `msg` as a frame; texts and End go out at once, payloads in 16 KiB blocks.
    fn send(&mut self, msg: &Message) -> Result<()> {
        let appended = wire::append_frame(msg, &mut self.pending);
        appended.map_err(|err| self.error(err))?;
        if matches!(msg.body, Body::Payload { .. }) {
            self.write_blocks()
        } else {
            self.flush()
        }
    }

    /// Writes `bytes` as they are, after whatever is buffered: no frame.
    fn send_bytes(&mut self, bytes: &[u8]) -> Result<()> {
        self.flush()?;
        self.out.write_all(bytes).map_err(|err| self.error(err))
    }

    fn flush(&mut self) -> Result<()> {
        FrameWriter::flush(self)
    }
}

/// Reads framed messages from a byte stream.
///
/// One buffer, filled by `read` and decoded in place: each `read` asks for all the room left
/// (64 KiB at first, like a pipe's capacity), so many small frames cost one system call, and a
/// large frame goes from the kernel straight into the buffer it is decoded from (no second
/// copy through a `BufReader`). The buffer grows, doubling, only while it is full of a frame
/// that is not complete yet: never to the length a peer merely claims.
#[derive(Debug)]
pub struct FrameReader<R: Read> {
    input: R,
    buf: Vec<u8>,
    /// `buf[start..end]`: bytes read and not decoded yet.
    start: usize,
    end: usize,
    what: String,
    /// C text was found where a frame should start: it was reported (and counted corrupt)
    /// once; the next receive fails, since nothing after it can be read as frames.
    foreign: bool,
    /// What to do about C text, in its warning (`start this end with --wire c`).
    advice: &'static str,
}

impl<R: Read> FrameReader<R> {
    /// `what` names the stream in errors (`reading the pipe`).
    pub fn new(input: R, what: impl Into<String>) -> Self {
        FrameReader {
            input,
            buf: Vec::new(),
            start: 0,
            end: 0,
            what: what.into(),
            foreign: false,
            advice: "start this end with --wire c",
        }
    }

    /// Replaces the advice given when C text arrives, for an end without `--wire c`
    /// (pipe-receiver reads only pipe-sender's frames).
    #[must_use]
    pub fn advising(mut self, advice: &'static str) -> Self {
        self.advice = advice;
        self
    }

    /// The next message; `None` when the writer closed the stream between two frames.
    /// A frame that is too large, truncated or not a Message is an error; one that is C text
    /// says so (the peer speaks `--wire c`) instead of quoting the decoder.
    pub fn next_message(&mut self) -> Result<Option<Message>> {
        self.next_frame().map_err(|err| match err {
            wire::WireError::Io(_) => err.context(self.what.clone()),
            err => {
                let pending = &self.buf[self.start..self.end];
                match self.c_text_preview(&err) {
                    Some(_) => Error::new(
                        self.what.clone(),
                        codec::describe_foreign_with(pending, &err.to_string(), self.advice),
                    ),
                    None => err.context(self.what.clone()),
                }
            }
        })
    }

    fn next_frame(&mut self) -> std::result::Result<Option<Message>, wire::WireError> {
        loop {
            let pending = &self.buf[self.start..self.end];
            let needed = match wire::frame_length(pending)? {
                Some(len) if pending.len() >= wire::FRAME_HEADER + len => {
                    let frame = &pending[wire::FRAME_HEADER..wire::FRAME_HEADER + len];
                    let msg = wire::decode(frame)?;
                    self.start += wire::FRAME_HEADER + len;
                    return Ok(Some(msg));
                }
                Some(len) => wire::FRAME_HEADER + len,
                None => wire::FRAME_HEADER,
            };
            if self.fill()? == 0 {
                let got = self.end - self.start;
                return match (got, needed) {
                    (0, _) => Ok(None),
                    (got, wire::FRAME_HEADER) => Err(wire::WireError::Truncated {
                        expected: wire::FRAME_HEADER,
                        got,
                    }),
                    (got, needed) => Err(wire::WireError::Truncated {
                        expected: needed - wire::FRAME_HEADER,
                        got: got - wire::FRAME_HEADER,
                    }),
                };
            }
        }
    }

    /// The C text the pending bytes start with, if they can be C text after `err`. A frame cut
    /// short after a whole header (its writer was killed mid-frame) is one of ours, even where
    /// the header's length bytes happen to be printable (27742 is `^l\0\0`).
    fn c_text_preview(&self, err: &wire::WireError) -> Option<String> {
        let pending = &self.buf[self.start..self.end];
        if matches!(err, wire::WireError::Truncated { .. }) && pending.len() >= wire::FRAME_HEADER {
            return None;
        }
        codec::c_text_preview(pending)
    }

    /// Reads once, into at least 64 KiB of room: moves the undecoded bytes to the front when
    /// less is left at the end, and grows the buffer only when it is full of undecoded bytes
    /// (an incomplete frame), by 64 KiB: it never holds more than 64 KiB beyond what arrived.
    /// Returns what `read` returned (0: end of stream).
    fn fill(&mut self) -> std::result::Result<usize, wire::WireError> {
        if self.start == self.end {
            (self.start, self.end) = (0, 0); // everything decoded: start again at the front
        } else if self.buf.len() - self.end < BUFFER && self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.buf.len() - self.end < BUFFER {
            self.buf.resize(self.end + BUFFER, 0);
        }
        loop {
            match self.input.read(&mut self.buf[self.end..]) {
                Ok(n) => {
                    self.end += n;
                    return Ok(n);
                }
                Err(err) if err.kind() == ErrorKind::Interrupted => continue,
                Err(err) => return Err(wire::WireError::Io(err)),
            }
        }
    }

    /// The underlying stream.
    pub fn get_ref(&self) -> &R {
        &self.input
    }
}

impl<R: Read> Inbox for FrameReader<R> {
    /// The next frame's message; [`Delivery::Closed`] when the writer closed the stream
    /// between two frames. A frame that is too large, truncated or not a Message is an error:
    /// a byte stream cannot find the next frame after a bad one.
    fn receive(&mut self) -> Result<Delivery> {
        if self.foreign {
            return Err(Error::new(
                self.what.clone(),
                "after C text nothing more can be read as our frames (a byte stream has no \
                 record boundaries to find the next frame by)",
            ));
        }
        match self.next_frame() {
            Ok(Some(msg)) => Ok(Delivery::Message(msg)),
            Ok(None) => Ok(Delivery::Closed),
            Err(wire::WireError::Io(err)) => Err(signals::io_context(err, self.what.clone())),
            // Bytes that are C text are named as such (the sender speaks --wire c) and counted
            // as one corrupt message; the next receive ends the reading.
            Err(err) => match self.c_text_preview(&err) {
                Some(_) => {
                    self.foreign = true;
                    Ok(Delivery::Garbled(codec::describe_foreign_with(
                        &self.buf[self.start..self.end],
                        &err.to_string(),
                        self.advice,
                    )))
                }
                None => Err(err.context(self.what.clone())),
            },
        }
    }

    /// Exactly `buf.len()` bytes: what is buffered first, then straight from the stream.
    fn receive_bytes(&mut self, buf: &mut Vec<u8>) -> Result<()> {
        let buffered = (self.end - self.start).min(buf.len());
        buf[..buffered].copy_from_slice(&self.buf[self.start..self.start + buffered]);
        self.start += buffered;
        self.input
            .read_exact(&mut buf[buffered..])
            .map_err(|err| signals::io_context(err, self.what.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A reader that hands out its bytes in the chunk sizes given, then ends.
    struct Chunked {
        bytes: Vec<u8>,
        at: usize,
        chunks: Vec<usize>,
        turn: usize,
    }

    impl Read for Chunked {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let chunk = self.chunks[self.turn % self.chunks.len()];
            self.turn += 1;
            let n = chunk.min(out.len()).min(self.bytes.len() - self.at);
            out[..n].copy_from_slice(&self.bytes[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    /// A writer that records the size of each write call.
    #[derive(Default)]
    struct Recorder {
        bytes: Vec<u8>,
        writes: Vec<usize>,
    }

    impl Write for Recorder {
        fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
            self.bytes.extend_from_slice(data);
            self.writes.push(data.len());
            Ok(data.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn written(messages: &[Message]) -> Recorder {
        let mut writer = FrameWriter::new(Recorder::default(), "writing", "gone");
        for msg in messages {
            writer.send(msg).expect("send");
        }
        writer.into_inner().expect("flush")
    }

    fn message(kind: u8, n: u64, size: usize) -> Message {
        match kind % 3 {
            0 => Message::text(7, n, "a line of text"),
            1 => Message::payload(7, n, size),
            _ => Message::end(7, n),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn what_the_writer_frames_the_reader_gets_back_in_any_chunking(
            kinds in prop::collection::vec((any::<u8>(), 0usize..150_000), 1..12),
            chunks in prop::collection::vec(1usize..100_000, 1..6),
        ) {
            let messages: Vec<Message> = kinds
                .iter()
                .enumerate()
                .map(|(i, &(kind, size))| message(kind, i as u64 + 1, size))
                .collect();
            let recorder = written(&messages);
            let mut reader = FrameReader::new(
                Chunked { bytes: recorder.bytes, at: 0, chunks, turn: 0 },
                "reading",
            );
            for msg in &messages {
                let got = reader.next_message().expect("decodes");
                prop_assert_eq!(got.as_ref(), Some(msg));
            }
            prop_assert!(reader.next_message().expect("clean end").is_none());
        }
    }

    #[test]
    fn payloads_go_out_in_whole_16_kib_writes() {
        let messages: Vec<Message> = (1..=10).map(|n| Message::payload(1, n, 65536)).collect();
        let recorder = written(&messages);
        let (last, blocks) = recorder.writes.split_last().expect("writes");
        assert!(
            blocks.iter().all(|&n| n == WRITE_BLOCK),
            "{:?}",
            recorder.writes
        );
        assert!(
            *last < WRITE_BLOCK,
            "only the final flush is shorter: {last}"
        );
    }

    #[test]
    fn a_text_is_written_at_once() {
        let recorder = written(&[Message::text(1, 1, "hello")]);
        assert_eq!(recorder.writes.len(), 1);
    }

    #[test]
    fn a_cut_stream_is_truncated_and_a_claim_costs_at_most_the_bytes_sent_plus_64_kib() {
        let bytes = written(&[Message::payload(1, 1, 100_000)]).bytes;
        for cut in [1, 3, 4, 5, 70_000, bytes.len() - 1] {
            let chunked = Chunked {
                bytes: bytes[..cut].to_vec(),
                at: 0,
                chunks: vec![4096],
                turn: 0,
            };
            let mut reader = FrameReader::new(chunked, "reading");
            let err = reader.next_message().expect_err("truncated");
            assert!(
                err.to_string().contains("truncated frame"),
                "cut at {cut}: {err}"
            );
        }
        let mut claim = (wire::MAX_FRAME as u32).to_le_bytes().to_vec();
        claim.extend_from_slice(b"7 bytes");
        let chunked = Chunked {
            bytes: claim,
            at: 0,
            chunks: vec![1 << 20],
            turn: 0,
        };
        let mut reader = FrameReader::new(chunked, "reading");
        assert!(reader.next_message().is_err());
        assert!(
            reader.buf.len() <= 2 * BUFFER,
            "buffer of {} bytes",
            reader.buf.len()
        );
    }

    #[test]
    fn a_frame_cut_after_a_printable_header_is_truncated_not_c_text() {
        // 27742 = 0x6c5e: the header reads "^l\0\0"; the writer died 3 bytes into the body.
        let mut bytes = 27742u32.to_le_bytes().to_vec();
        bytes.extend_from_slice(b"abc");
        let mut reader = FrameReader::new(&bytes[..], "reading a test stream");
        let err = reader.receive().expect_err("a cut frame is an error");
        assert!(err.to_string().contains("truncated"), "{err}");
        // A short C text at the end of the stream is still named as one.
        let mut reader = FrameReader::new(&b"hi\n"[..], "reading a test stream");
        assert!(matches!(reader.receive(), Ok(Delivery::Garbled(_))));
    }
}
