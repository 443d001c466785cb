//! `--wire c`: the byte layouts of the textbook's C programs (*Beginning Linux Programming*
//! ch. 13-15, in c/textbook/), as data, with one encoder and one decoder for every mechanism.
//!
//! The C programs send bare texts read with `fgets`, so each text keeps its newline: in a
//! fixed buffer (`char some_text[512]` in a queue message) ended by a NUL, or as a line on a
//! stream. (The shared memory segment's `struct shared_use_st` is crates/shm's own: its flag
//! protocol is more than a text layout.) They have no sender pid, no sequence
//! number and no generated payloads, and they stop at any text that starts with `end`
//! (`strncmp(text, "end", 3) == 0`). So:
//! - a Rust end that talks to a C end sends texts only, each with its newline, short enough
//!   for the C buffer ([`CLayout::check_source`], [`CLayout::encode`]), and `end\n` last;
//! - a Rust end that listens to a C end takes the text up to its NUL, prints it without its
//!   one trailing newline (`\n` or a terminal's `\r\n`), ends where C ends, and numbers the
//!   texts in arrival order (sender pid 0), so its summary cannot count lost or duplicated
//!   messages ([`CDecoder`]).
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

/// C's end rule, `strncmp(text, "end", 3) == 0`: any text that starts with `end` ends the
/// conversation (`end`, `end\n`, `end\r\n`, and also `endless`).
pub fn is_c_end(text: &[u8]) -> bool {
    text.starts_with(C_END.as_bytes())
}

/// How a C program ends a text in its buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Terminator {
    /// A C string in a buffer: the text with its newline, then a NUL byte.
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
    /// The C sender sends the whole buffer, whatever the text's length
    /// (`msgsnd(id, &msg, MAX_TEXT, 0)`), rather than only the text and its terminator.
    pub whole_buffer: bool,
}

/// The message queue programs (msg2.c sends, msg1.c receives): `struct my_msg_st { long int
/// my_msg_type; char some_text[MAX_TEXT]; }` with `#define MAX_TEXT 512`, the text as `fgets`
/// read it (newline included), `msgsnd(msgid, &some_data, MAX_TEXT, 0)`: every message is the
/// whole 512-byte buffer.
pub const MSGQ: CLayout = CLayout {
    programs: "c/textbook/msg2.c and msg1.c",
    declaration: "char some_text[MAX_TEXT] (512)",
    size: 512,
    terminator: Terminator::Nul,
    whole_buffer: true,
};

/// The common student variant of msg2.c: `char some_text[BUFSIZ]` (8192 bytes with glibc),
/// sent whole.
pub const MSGQ_BUFSIZ: CLayout = CLayout {
    declaration: "char some_text[BUFSIZ] (8192)",
    size: 8192,
    ..MSGQ
};

/// The named pipe programs: one line per message, read back with `fgets(line, 4096, fifo)`.
pub const FIFO: CLayout = CLayout {
    programs: "c/fifo_writer.c and c/fifo_reader.c",
    declaration: "char line[4096]",
    size: 4096,
    terminator: Terminator::Newline,
    whole_buffer: false,
};

/// The socket programs: one line per message over TCP, read with `fgets(line, 4096, in)`,
/// the same lines as the named pipe programs'.
pub const SOCKET: CLayout = CLayout {
    programs: "c/client.c and c/server.c",
    ..FIFO
};

impl CLayout {
    /// The terminator byte.
    pub fn terminator_byte(&self) -> u8 {
        match self.terminator {
            Terminator::Nul => 0,
            Terminator::Newline => b'\n',
        }
    }

    /// The longest text the C program reads back whole: size - 2 bytes, then the newline and
    /// the NUL (in a buffer), or the newline and the NUL `fgets(buf, size, ...)` adds (a
    /// longer line comes back in two pieces).
    pub fn max_text(&self) -> usize {
        self.size - 2
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
        if text.len() > self.max_text() {
            return Err(format!(
                "{} bytes, a newline and a NUL do not fit in the C programs' {} (at most {} bytes of text)",
                text.len(),
                self.declaration,
                self.max_text()
            ));
        }
        if text.contains('\n') || text.contains('\0') {
            return Err(
                "a C text is one line read with fgets: it cannot contain a newline or a NUL byte"
                    .into(),
            );
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

    /// Puts `msg` in the C layout into `record` as `fgets` would have read it: its text and a
    /// newline, then (in a buffer) the NUL, and zeros to the buffer's end where the C sender
    /// sends the whole buffer.
    pub fn encode(&self, msg: &Message, record: &mut Vec<u8>) -> Result<()> {
        let text = self.text_of(msg)?;
        record.clear();
        record.extend_from_slice(text.as_bytes());
        record.push(b'\n');
        if self.terminator == Terminator::Nul {
            record.push(0);
        }
        if self.whole_buffer {
            record.resize(self.size, 0);
        }
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

    /// The message in one record (a queue message, a segment's text, one line):
    /// - a C string ends at its first NUL (or at the end of the record, if the sender sent
    ///   none: C's receiver does not trust it either);
    /// - a line ends at its newline, and a NUL inside it is not C text: most likely one of
    ///   our own encoded Messages, whose numbers hold zero bytes;
    /// - one trailing `\n` or `\r\n` (fgets keeps it; a telnet or `nc -C` sends `\r\n`) is
    ///   part of the C text but not of the message;
    /// - invalid UTF-8 is shown with replacement characters;
    /// - a text that starts with `end` is End ([`is_c_end`]), as in the C receivers.
    pub fn decode(&mut self, record: &[u8]) -> Delivery {
        let text = match self.layout.terminator {
            Terminator::Nul => record.split(|&b| b == 0).next().unwrap_or_default(),
            Terminator::Newline => {
                if record.strip_suffix(b"\n").unwrap_or(record).contains(&0) {
                    return Delivery::Garbled(format!(
                        "a record with a NUL byte, which is not C text ({}){}",
                        self.layout.declaration,
                        crate::codec::bincode_hint(record)
                    ));
                }
                record
            }
        };
        let text = text
            .strip_suffix(b"\r\n")
            .or_else(|| text.strip_suffix(b"\n"))
            .unwrap_or(text);
        self.received += 1;
        Delivery::Message(if is_c_end(text) {
            Message::end(0, self.received)
        } else {
            Message::text(0, self.received, String::from_utf8_lossy(text))
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
    fn the_buffer_bounds_the_text_with_its_newline_and_nul() {
        assert!(MSGQ.check_text(&"x".repeat(510)).is_ok());
        assert!(MSGQ.check_text(&"x".repeat(511)).is_err());
        assert!(MSGQ.check_text("a\0b").is_err());
        assert!(MSGQ.check_text("a\nb").is_err(), "fgets stops at a newline");
        assert!(FIFO.check_text(&"x".repeat(4094)).is_ok());
        assert!(
            FIFO.check_text(&"x".repeat(4095)).is_err(),
            "fgets would split it"
        );
    }

    #[test]
    fn a_text_travels_as_fgets_read_it_and_end_is_the_word_end() {
        let mut record = Vec::new();
        MSGQ.encode(&Message::text(7, 1, "hello"), &mut record)
            .expect("fits");
        assert_eq!(record.len(), 512, "msg2.c sends MAX_TEXT bytes");
        assert!(record.starts_with(b"hello\n\0\0"));
        SOCKET
            .encode(&Message::end(7, 2), &mut record)
            .expect("fits");
        assert_eq!(record, b"end\n");
        const UNPADDED: CLayout = CLayout {
            whole_buffer: false,
            ..MSGQ
        };
        UNPADDED
            .encode(&Message::text(7, 3, "hi"), &mut record)
            .expect("fits");
        assert_eq!(record, b"hi\n\0");
        assert!(MSGQ
            .encode(&Message::payload(7, 1, 10), &mut record)
            .is_err());
        assert_eq!(MSGQ.text_of(&Message::end(1, 2)).ok(), Some(C_END));
    }

    #[test]
    fn decoding_drops_one_newline_numbers_in_arrival_order_and_ends_as_c_does() {
        let mut decoder = MSGQ.decoder();
        assert_eq!(
            message(decoder.decode(b"hi\n\0garbage")),
            Message::text(0, 1, "hi")
        );
        assert_eq!(
            message(decoder.decode(b"no nul")),
            Message::text(0, 2, "no nul")
        );
        assert_eq!(
            message(decoder.decode(b"two\n\n\0")),
            Message::text(0, 3, "two\n"),
            "only one newline is fgets'"
        );
        assert_eq!(message(decoder.decode(b"end\n\0")), Message::end(0, 4));
        assert_eq!(message(decoder.decode(b"end\r\n\0")), Message::end(0, 5));
        assert_eq!(
            message(decoder.decode(b"endless\0")),
            Message::end(0, 6),
            "strncmp(text, \"end\", 3)"
        );
        let mut lines = FIFO.decoder();
        assert_eq!(
            message(lines.decode(b"hello\n")),
            Message::text(0, 1, "hello")
        );
        assert_eq!(
            message(lines.decode(b"telnet\r\n")),
            Message::text(0, 2, "telnet")
        );
        assert!(matches!(lines.decode(b"a\0b\n"), Delivery::Garbled(_)));
        assert_eq!(message(lines.decode(b"end\r\n")), Message::end(0, 3));
    }
}
