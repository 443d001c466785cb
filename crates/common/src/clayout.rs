//! `--wire c`: the byte layouts of the tutorial's C programs, as data, with one encoder and one
//! decoder for every mechanism.
//!
//! The C programs send bare texts in a fixed buffer (`char some_text[512]` in a queue message,
//! `char line[4096]` on a FIFO or a socket, `char some_text[1024]` in a segment), ended by a
//! NUL or a newline, and the text `end` last. They have no sender pid, no sequence number and
//! no generated payloads, so:
//! - a Rust end that talks to a C end sends texts only, each short enough for the C buffer
//!   with its terminator ([`CLayout::check_source`], [`CLayout::encode`]);
//! - a Rust end that listens to a C end numbers the texts in arrival order (sender pid 0), so
//!   its summary cannot count lost or duplicated messages ([`CDecoder`]).
//!
//! Each mechanism names its layout once (for example [`MSGQ`]); nothing else about the C
//! layouts is written anywhere else. [`crate::codec`] chooses between this and our own
//! encoding once per program.

use crate::cli::MessageSource;
use crate::error::{Error, Result};
use crate::message::{Body, Message};
use crate::receiver::Delivery;

/// What the C programs send last, in place of our End message.
pub const C_END: &str = "end";

/// How a C program ends a text in its buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Terminator {
    /// A C string: the text, then a NUL byte (`strlen(text) + 1` bytes are sent).
    Nul,
    /// A line: the text, then `\n` (written with `write`, read back with `fgets`).
    Newline,
}

/// One C program's text buffer and how a text travels in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CLayout {
    /// The C programs it matches, for messages: `c/msgq_sender.c and c/msgq_receiver.c`.
    pub programs: &'static str,
    /// The C declaration of the buffer: `char some_text[512]`.
    pub declaration: &'static str,
    /// The buffer's size in bytes, terminator included.
    pub size: usize,
    /// What ends a text in it.
    pub terminator: Terminator,
}

/// The message queue programs: `struct my_msg_st { long int my_msg_type; char
/// some_text[512]; }`, `msgsnd(id, &msg, strlen(text) + 1, 0)`.
pub const MSGQ: CLayout = CLayout {
    programs: "c/msgq_sender.c and c/msgq_receiver.c",
    declaration: "char some_text[512]",
    size: 512,
    terminator: Terminator::Nul,
};

/// The named pipe programs: one line per message, read back with `fgets(line, 4096, fifo)`.
pub const FIFO: CLayout = CLayout {
    programs: "c/fifo_writer.c and c/fifo_reader.c",
    declaration: "char line[4096]",
    size: 4096,
    terminator: Terminator::Newline,
};

/// The socket programs: one line per message over TCP, read with `fgets(line, 4096, in)`,
/// the same lines as the named pipe programs'.
pub const SOCKET: CLayout = CLayout {
    programs: "c/client.c and c/server.c",
    ..FIFO
};

/// The shared memory programs: one NUL-terminated text at the start of a 1024-byte segment.
pub const SHM: CLayout = CLayout {
    programs: "c/shm_sender.c and c/shm_receiver.c",
    declaration: "char some_text[1024]",
    size: 1024,
    terminator: Terminator::Nul,
};

impl CLayout {
    /// The terminator byte.
    pub fn terminator_byte(&self) -> u8 {
        match self.terminator {
            Terminator::Nul => 0,
            Terminator::Newline => b'\n',
        }
    }

    /// The longest text the C program reads back whole: a C string holds size - 1 bytes and
    /// its NUL; a line read with `fgets(buf, size, ...)` holds size - 2 bytes, its newline and
    /// the NUL `fgets` adds (a longer line comes back in two pieces).
    pub fn max_text(&self) -> usize {
        match self.terminator {
            Terminator::Nul => self.size - 1,
            Terminator::Newline => self.size - 2,
        }
    }

    /// Checks, before any object is touched, that the sender's messages have a C form: texts
    /// only (no `--count` payloads), each fitting the buffer. A usage error (exit 2) otherwise.
    pub fn check_source(&self, source: &MessageSource) -> Result<()> {
        if source.count.is_some() {
            return Err(Error::usage(
                "--wire c",
                format!(
                    "the C programs carry text lines only ({}), not generated payloads",
                    self.declaration
                ),
            )
            .with_hint("leave out --count, or --wire c"));
        }
        for text in &source.messages {
            self.check_text(text)
                .map_err(|why| Error::usage(format!("--message {text:?}"), why))?;
        }
        Ok(())
    }

    /// Why `text` cannot travel in this buffer, if it cannot.
    pub fn check_text(&self, text: &str) -> std::result::Result<(), String> {
        let (name, forbidden) = match self.terminator {
            Terminator::Nul => (
                "NUL",
                "a C string ends at its first NUL byte, and this text contains one",
            ),
            Terminator::Newline => (
                "newline",
                "a line of the C layout cannot contain a newline or a NUL byte",
            ),
        };
        if text.len() > self.max_text() {
            return Err(format!(
                "{} bytes and the {name} do not fit in the C programs' {} (at most {} bytes of text)",
                text.len(),
                self.declaration,
                self.max_text()
            ));
        }
        let newline = self.terminator == Terminator::Newline && text.contains('\n');
        if newline || text.contains('\0') {
            return Err(forbidden.into());
        }
        Ok(())
    }

    /// The C form of `msg`: its text (checked to fit), or `end` for End.
    pub fn text_of<'m>(&self, msg: &'m Message) -> Result<&'m str> {
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
        self.check_text(text)
            .map_err(|why| Error::new(format!("sending message {}", msg.seq), why))?;
        Ok(text)
    }

    /// Puts `msg` in the C layout into `record`: its text, then the terminator.
    pub fn encode(&self, msg: &Message, record: &mut Vec<u8>) -> Result<()> {
        let text = self.text_of(msg)?;
        record.clear();
        record.extend_from_slice(text.as_bytes());
        record.push(self.terminator_byte());
        Ok(())
    }

    /// A decoder that numbers what arrives in this layout.
    pub fn decoder(&'static self) -> CDecoder {
        CDecoder {
            layout: self,
            received: 0,
        }
    }
}

/// Turns the C layout's records back into Messages, numbering them in arrival order.
#[derive(Debug, Clone)]
pub struct CDecoder {
    layout: &'static CLayout,
    received: u64,
}

impl CDecoder {
    /// The layout it decodes.
    pub fn layout(&self) -> &'static CLayout {
        self.layout
    }

    /// The message in one record (a queue message, a segment's text, one line without its
    /// newline):
    /// - a C string ends at its first NUL (or at the end of the record, if the sender sent
    ///   none: C's receiver does not trust it either);
    /// - a line ends at its newline, and a NUL inside it is not C text: most likely one of
    ///   our own encoded Messages, whose numbers hold zero bytes;
    /// - invalid UTF-8 is shown with replacement characters; the text `end` is End.
    pub fn decode(&mut self, record: &[u8]) -> Delivery {
        let text = match self.layout.terminator {
            Terminator::Nul => record.split(|&b| b == 0).next().unwrap_or_default(),
            Terminator::Newline => {
                let line = record.strip_suffix(b"\n").unwrap_or(record);
                if line.contains(&0) {
                    return Delivery::Garbled(format!(
                        "a record with a NUL byte, which is not C text ({}){}",
                        self.layout.declaration,
                        crate::codec::bincode_hint(record)
                    ));
                }
                line
            }
        };
        self.received += 1;
        let text = String::from_utf8_lossy(text);
        Delivery::Message(if text == C_END {
            Message::end(0, self.received)
        } else {
            Message::text(0, self.received, text)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(delivery: Delivery) -> Message {
        match delivery {
            Delivery::Message(msg) => msg,
            other => panic!("expected a message, got {other:?}"),
        }
    }

    #[test]
    fn the_buffer_bounds_the_text_with_its_terminator() {
        assert!(MSGQ.check_text(&"x".repeat(511)).is_ok());
        assert!(MSGQ.check_text(&"x".repeat(512)).is_err());
        assert!(MSGQ.check_text("a\0b").is_err());
        assert!(
            MSGQ.check_text("a\nb").is_ok(),
            "a C string may hold a newline"
        );
        assert!(FIFO.check_text("a\nb").is_err());
        assert!(FIFO.check_text(&"x".repeat(4094)).is_ok());
        assert!(
            FIFO.check_text(&"x".repeat(4095)).is_err(),
            "fgets would split it"
        );
    }

    #[test]
    fn a_text_is_its_bytes_and_the_terminator_and_end_is_the_word_end() {
        let mut record = Vec::new();
        MSGQ.encode(&Message::text(7, 1, "hello"), &mut record)
            .expect("fits");
        assert_eq!(record, b"hello\0");
        SOCKET
            .encode(&Message::end(7, 2), &mut record)
            .expect("fits");
        assert_eq!(record, b"end\n");
        assert!(MSGQ
            .encode(&Message::payload(7, 1, 10), &mut record)
            .is_err());
        assert_eq!(MSGQ.text_of(&Message::end(1, 2)).ok(), Some(C_END));
    }

    #[test]
    fn decoding_stops_at_the_terminator_and_numbers_in_arrival_order() {
        let mut decoder = MSGQ.decoder();
        assert_eq!(
            message(decoder.decode(b"hi\0garbage")),
            Message::text(0, 1, "hi")
        );
        assert_eq!(
            message(decoder.decode(b"no nul")),
            Message::text(0, 2, "no nul")
        );
        assert_eq!(message(decoder.decode(b"end\0")), Message::end(0, 3));
        assert_eq!(
            message(decoder.decode(b"endless\0")),
            Message::text(0, 4, "endless")
        );
        let mut lines = FIFO.decoder();
        assert_eq!(
            message(lines.decode(b"hello\n")),
            Message::text(0, 1, "hello")
        );
        assert!(matches!(lines.decode(b"a\0b\n"), Delivery::Garbled(_)));
        assert_eq!(message(lines.decode(b"end\n")), Message::end(0, 2));
    }
}
