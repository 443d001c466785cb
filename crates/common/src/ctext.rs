//! `--wire c`: what the tutorial's C programs can carry, checked once for every mechanism.
//!
//! The C programs send bare texts in a fixed buffer (`char some_text[512]` in a message,
//! `char line[4096]` on a FIFO, ...), ended by a NUL or a newline, and the text `end` last.
//! They have no sender pid, no sequence number and no generated payloads, so a Rust end that
//! talks to a C end sends texts only, each short enough for the C buffer with its terminator.
//! Each mechanism describes its buffer with a [`CText`]; its `cwire.rs` does the rest.

use clap::ValueEnum;

use crate::cli::MessageSource;
use crate::error::{Error, Result};
use crate::message::{Body, Message};

/// What the C programs send last, in place of our End message.
pub const C_END: &str = "end";

/// Which byte layout a program speaks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum Wire {
    /// Ours: bincode Messages (sender pid, sequence number, checksums)
    #[default]
    Bincode,
    /// The tutorial's C programs' layout (c/*.c), to talk to them
    C,
}

/// How a C program ends a text in its buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Terminator {
    /// A C string: the text, then a NUL byte.
    Nul,
    /// A line: the text, then `\n` (read back with `fgets`).
    Newline,
}

/// A C program's text buffer, e.g. `char some_text[512]` ended by a NUL.
#[derive(Debug, Clone, Copy)]
pub struct CText {
    /// The C declaration, for messages: `char some_text[512]`.
    pub declaration: &'static str,
    /// Its size in bytes, terminator included.
    pub size: usize,
    /// What ends a text in it.
    pub terminator: Terminator,
}

impl CText {
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

    /// The longest text the C program reads back whole: a C string holds size - 1 bytes and
    /// its NUL; a line read with `fgets(buf, size, ...)` holds size - 2 bytes, its newline and
    /// the NUL `fgets` adds (a longer line comes back in two pieces).
    pub fn max_text(&self) -> usize {
        match self.terminator {
            Terminator::Nul => self.size - 1,
            Terminator::Newline => self.size - 2,
        }
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
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSGQ: CText = CText {
        declaration: "char some_text[512]",
        size: 512,
        terminator: Terminator::Nul,
    };
    const LINE: CText = CText {
        declaration: "char line[4096]",
        size: 4096,
        terminator: Terminator::Newline,
    };

    #[test]
    fn the_buffer_bounds_the_text_with_its_terminator() {
        assert!(MSGQ.check_text(&"x".repeat(511)).is_ok());
        assert!(MSGQ.check_text(&"x".repeat(512)).is_err());
        assert!(MSGQ.check_text("a\0b").is_err());
        assert!(
            MSGQ.check_text("a\nb").is_ok(),
            "a C string may hold a newline"
        );
        assert!(LINE.check_text("a\nb").is_err());
        assert!(LINE.check_text(&"x".repeat(4094)).is_ok());
        assert!(
            LINE.check_text(&"x".repeat(4095)).is_err(),
            "fgets would split it"
        );
    }

    #[test]
    fn end_becomes_the_text_end_and_payloads_have_no_c_form() {
        assert_eq!(MSGQ.text_of(&Message::end(1, 2)).ok(), Some(C_END));
        assert!(MSGQ.text_of(&Message::payload(1, 1, 10)).is_err());
    }
}
