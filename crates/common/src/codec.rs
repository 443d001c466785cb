//! `--wire`: which byte layout a program speaks, chosen once, in one place.
//!
//! - `--wire bincode` (the default): our [`Message`], encoded by [`crate::wire`] (sender pid,
//!   sequence number, checksums), so the receiver can count what was lost or damaged;
//! - `--wire c`: the layout of the tutorial's C programs ([`crate::clayout`]), to talk to them.
//!
//! A message-oriented mechanism (a queue message, a shared-memory slot) encodes and decodes
//! one record with a [`Codec`]; a byte stream (pipe, FIFO, stream socket) picks its framing
//! with [`crate::stream::StreamInbox`] and [`crate::stream::StreamOutbox`]. Either way, the
//! choice is made here once, and a receiver that meets the other layout says so.

use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use clap::{Args, ValueEnum};

use crate::clayout::{CDecoder, CLayout};
use crate::error::Result;
use crate::lines::{CLineReader, CLineWriter};
use crate::message::Message;
use crate::receiver::{Delivery, Inbox};
use crate::sender::Outbox;
use crate::stream::{FrameReader, FrameWriter};
use crate::wire;

/// Which byte layout a program speaks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum Wire {
    /// Ours: bincode Messages (sender pid, sequence number, checksums)
    #[default]
    Bincode,
    /// The tutorial's C programs' layout (c/*.c, described in each crate's README)
    C,
}

/// `--wire bincode|c`, flattened into every program that can talk to a C program.
#[derive(Debug, Clone, Copy, Args)]
pub struct WireArg {
    /// Byte layout: ours (bincode Messages, numbered and checked) or the tutorial's C
    /// programs' (c/*.c; see the crate README), to talk to them
    #[arg(long, value_enum, default_value_t = Wire::Bincode)]
    pub wire: Wire,
}

impl WireArg {
    /// True for `--wire c`.
    pub fn is_c(&self) -> bool {
        self.wire == Wire::C
    }

    /// The codec for one record of a message-oriented mechanism whose C layout is `layout`.
    /// It also notes `--wire` for [`drain_option`].
    pub fn codec(&self, layout: &'static CLayout) -> Codec {
        note_layout(self.wire);
        match self.wire {
            Wire::Bincode => Codec::Bincode,
            Wire::C => Codec::C(layout.decoder()),
        }
    }

    /// The receiving end of a byte stream: length-prefixed frames, or the C layout's lines.
    /// `what` names the stream in errors (`reading the pipe`).
    pub fn stream_inbox<R: Read>(
        &self,
        input: R,
        layout: &'static CLayout,
        what: impl Into<String>,
    ) -> StreamInbox<R> {
        match self.wire {
            Wire::Bincode => StreamInbox::Frames(FrameReader::new(input, what)),
            Wire::C => StreamInbox::Lines(CLineReader::new(input, layout, what)),
        }
    }

    /// The sending end of a byte stream: length-prefixed frames, or the C layout's lines.
    /// `what` names the stream in errors, `peer_gone` says what EPIPE means there.
    pub fn stream_outbox<W: Write>(
        &self,
        output: W,
        layout: &'static CLayout,
        what: impl Into<String>,
        peer_gone: &'static str,
    ) -> StreamOutbox<W> {
        match self.wire {
            Wire::Bincode => StreamOutbox::Frames(FrameWriter::new(output, what, peer_gone)),
            Wire::C => StreamOutbox::Lines(CLineWriter::new(output, layout, what, peer_gone)),
        }
    }
}

/// A byte stream read in the layout `--wire` chose.
#[derive(Debug)]
pub enum StreamInbox<R: Read> {
    /// Our length-prefixed Messages.
    Frames(FrameReader<R>),
    /// The C programs' text lines.
    Lines(CLineReader<R>),
}

impl<R: Read> Inbox for StreamInbox<R> {
    fn receive(&mut self) -> Result<Delivery> {
        match self {
            StreamInbox::Frames(frames) => frames.receive(),
            StreamInbox::Lines(lines) => lines.receive(),
        }
    }

    fn receive_bytes(&mut self, buf: &mut Vec<u8>) -> Result<()> {
        match self {
            StreamInbox::Frames(frames) => frames.receive_bytes(buf),
            StreamInbox::Lines(lines) => lines.receive_bytes(buf),
        }
    }
}

/// A byte stream written in the layout `--wire` chose.
#[derive(Debug)]
pub enum StreamOutbox<W: Write> {
    /// Our length-prefixed Messages.
    Frames(FrameWriter<W>),
    /// The C programs' text lines.
    Lines(CLineWriter<W>),
}

impl<W: Write> Outbox for StreamOutbox<W> {
    fn send(&mut self, msg: &Message) -> Result<()> {
        match self {
            StreamOutbox::Frames(frames) => frames.send(msg),
            StreamOutbox::Lines(lines) => lines.send(msg),
        }
    }

    fn send_bytes(&mut self, bytes: &[u8]) -> Result<()> {
        match self {
            StreamOutbox::Frames(frames) => frames.send_bytes(bytes),
            StreamOutbox::Lines(lines) => lines.send_bytes(bytes),
        }
    }

    fn flush(&mut self) -> Result<()> {
        match self {
            StreamOutbox::Frames(frames) => Outbox::flush(frames),
            StreamOutbox::Lines(lines) => lines.flush(),
        }
    }

    fn ends_conversation(&self, text: &str) -> bool {
        match self {
            StreamOutbox::Frames(frames) => frames.ends_conversation(text),
            StreamOutbox::Lines(lines) => lines.ends_conversation(text),
        }
    }
}

/// Encodes and decodes one record (a queue message, a slot) in the layout chosen by `--wire`.
#[derive(Debug, Clone)]
pub enum Codec {
    /// Our bincode Messages.
    Bincode,
    /// A C program's text buffer; the decoder numbers the texts as they arrive.
    C(CDecoder),
}

impl Codec {
    /// Puts `msg` into `record` (replacing what was there).
    pub fn encode(&self, msg: &Message, record: &mut Vec<u8>) -> Result<()> {
        match self {
            Codec::Bincode => {
                wire::encode(msg, record).map_err(|err| err.context("encoding a message"))
            }
            Codec::C(decoder) => decoder.layout().encode(msg, record),
        }
    }

    /// The message in `record`, or what it looks like when it is not one.
    pub fn decode(&mut self, record: &[u8]) -> Delivery {
        match self {
            Codec::Bincode => decode_bincode(record),
            Codec::C(decoder) => ours_in_c(record, decoder.layout().declaration)
                .unwrap_or_else(|| decoder.decode(record)),
        }
    }
}

/// True when the records this process leaves behind (in a kept queue) are most likely C
/// texts: set from `--wire`, then from each record of the other layout a receiver meets.
static LEFT_IN_C: AtomicBool = AtomicBool::new(false);

/// Notes the layout of the records this process leaves behind, as far as it knows (its own
/// `--wire`, then the layout of the last foreign record it met: the rest of a queue is
/// likely from the same sender).
fn note_layout(layout: Wire) {
    LEFT_IN_C.store(layout == Wire::C, Ordering::Relaxed);
}

/// ` --wire c` when the messages this process leaves in a queue are most likely C texts, else
/// nothing: for the drain command in the "kept ... drain it with" hint, so that the drain it
/// suggests reads them instead of counting them all as corrupt.
pub fn drain_option() -> &'static str {
    if LEFT_IN_C.load(Ordering::Relaxed) {
        " --wire c"
    } else {
        ""
    }
}

/// One of our Messages, or a [`Delivery::Garbled`] that says what the bytes look like.
pub fn decode_bincode(record: &[u8]) -> Delivery {
    match wire::decode(record) {
        Ok(msg) => Delivery::Message(msg),
        Err(err) => Delivery::Garbled(describe_foreign(record, &err.to_string())),
    }
}

/// What a record that is not one of our Messages looks like, for the warning line.
pub fn describe_foreign(record: &[u8], why: &str) -> String {
    describe_foreign_with(record, why, "start this end with --wire c")
}

/// [`describe_foreign`] for an end that has no `--wire c` (a UDP server, pipe-receiver):
/// `advice` says what to do instead when the record is C text.
pub fn describe_foreign_with(record: &[u8], why: &str, advice: &str) -> String {
    match c_text_preview(record) {
        Some(text) => {
            note_layout(Wire::C);
            format!(
                "a C-layout text ({text:?}), not one of our Messages: the sender speaks the C \
                 programs' layout; {advice}"
            )
        }
        None => format!("{} bytes that are not a Message ({why})", record.len()),
    }
}

/// `; it looks like one of our Messages: ...` when `record` decodes as one, else nothing.
pub fn bincode_hint(record: &[u8]) -> &'static str {
    if looks_like_bincode(record) {
        "; it is one of our encoded Messages: the sender speaks --wire bincode; start this end \
         without --wire c"
    } else {
        ""
    }
}

/// For a `--wire c` end: what to make of `record` (a queue message, a slot, a frame) when it
/// is one of our encoded Messages, `None` when it is not. Each is counted corrupt, with the
/// hint to start this end without `--wire c`; our End is [`Delivery::ForeignEnd`] besides, so
/// the receiver stops there with its summary instead of waiting for a C `end` that a
/// `--wire bincode` sender never sends. `declaration` names the C buffer (for the warning).
pub fn ours_in_c(record: &[u8], declaration: &str) -> Option<Delivery> {
    let msg = decode_ours(record)?;
    note_layout(Wire::Bincode);
    let why = format!(
        "a record that is not C text ({declaration}){}",
        bincode_hint(record)
    );
    Some(if msg.is_end() {
        Delivery::ForeignEnd(format!("{why}; it is its End, so this end stops here"))
    } else {
        Delivery::Garbled(why)
    })
}

/// One of our Messages in `record`, a frame's length prefix stripped or not.
fn decode_ours(record: &[u8]) -> Option<Message> {
    let framed = record.len() > wire::FRAME_HEADER
        && wire::frame_length(record).ok().flatten() == Some(record.len() - wire::FRAME_HEADER);
    wire::decode(record)
        .ok()
        .or_else(|| framed.then(|| wire::decode(&record[wire::FRAME_HEADER..]).ok())?)
}

/// True when `record` decodes as one of our Messages (a frame's length prefix stripped or not).
fn looks_like_bincode(record: &[u8]) -> bool {
    decode_ours(record).is_some()
}

/// The text of `record` if it is what a C program sends: printable text (tabs, CR allowed),
/// then optionally a newline or a NUL and anything after it.
pub fn c_text_preview(record: &[u8]) -> Option<String> {
    let end = record
        .iter()
        .position(|&b| b == 0 || b == b'\n')
        .unwrap_or(record.len());
    let text = std::str::from_utf8(&record[..end]).ok()?;
    let printable = !text.is_empty()
        && text
            .chars()
            .all(|c| !c.is_control() || c == '\t' || c == '\r');
    printable.then(|| text.chars().take(40).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clayout::MSGQ;

    #[test]
    fn each_codec_round_trips_its_own_records() {
        let mut record = Vec::new();
        let mut ours = Codec::Bincode;
        ours.encode(&Message::text(5, 1, "hi"), &mut record)
            .expect("encodes");
        assert!(
            matches!(ours.decode(&record), Delivery::Message(m) if m == Message::text(5, 1, "hi"))
        );
        let mut c = WireArg { wire: Wire::C }.codec(&MSGQ);
        c.encode(&Message::text(5, 1, "hi"), &mut record)
            .expect("fits");
        assert!(
            matches!(c.decode(&record), Delivery::Message(m) if m == Message::text(0, 1, "hi"))
        );
    }

    #[test]
    fn each_codec_names_the_other_layout() {
        let mut record = Vec::new();
        MSGQ.encode(&Message::text(1, 1, "hello"), &mut record)
            .expect("fits");
        match Codec::Bincode.decode(&record) {
            Delivery::Garbled(why) => assert!(why.contains("--wire c"), "{why}"),
            other => panic!("{other:?}"),
        }
        wire::encode(&Message::text(1, 1, "hello"), &mut record).expect("encodes");
        match (WireArg { wire: Wire::C }.codec(&MSGQ)).decode(&record) {
            Delivery::Garbled(why) => assert!(why.contains("--wire bincode"), "{why}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn our_end_stops_a_c_receiver() {
        let mut record = Vec::new();
        wire::encode(&Message::end(1, 3), &mut record).expect("encodes");
        let mut c = WireArg { wire: Wire::C }.codec(&MSGQ);
        match c.decode(&record) {
            Delivery::ForeignEnd(why) => assert!(why.contains("--wire bincode"), "{why}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_framed_message_is_recognised_as_ours_too() {
        let mut body = Vec::new();
        wire::encode(&Message::text(1, 1, "hello"), &mut body).expect("encodes");
        let mut frame = (body.len() as u32).to_le_bytes().to_vec();
        frame.extend_from_slice(&body);
        assert!(looks_like_bincode(&body));
        assert!(
            looks_like_bincode(&frame),
            "the length prefix is the body's"
        );
        assert!(!looks_like_bincode(b"hello\n"));
    }
}
