//! `--wire c`: the byte layout of the tutorial's C programs (c/msgq_sender.c and
//! c/msgq_receiver.c) instead of our bincode `Message`s, so that a Rust end works with a C end.
//!
//! ```c
//! #define MAX_TEXT 512
//! struct my_msg_st {
//!     long int my_msg_type;          /* 1 */
//!     char some_text[MAX_TEXT];      /* the line, then its NUL */
//! };
//! msgsnd(msgid, &msg, strlen(msg.some_text) + 1, 0);     /* the sender */
//! msgrcv(msgid, &msg, sizeof msg.some_text, 0, 0);       /* the receiver */
//! ```
//!
//! The `long` is our [`MsgBuf`](crate::sys)'s `mtype`; the kernel message's bytes are the text
//! and its NUL. The text `end` ends the conversation (our End message). The C layout has no
//! sender pid and no sequence number, so a receiver cannot tell lost or duplicated messages
//! apart: it numbers them in the order they arrive (and calls the sender pid 0), and the
//! summary's lost/duplicated/reordered stay 0. Generated payloads (`--count`) have no C form.

use clap::Args;

use ipc_common::ctext::{CText, Terminator, C_END};
use ipc_common::message::Body;
use ipc_common::{Error, Message, Result};

/// The C programs' text buffer: `char some_text[MAX_TEXT]` with `MAX_TEXT` 512.
pub const C_TEXT: usize = 512;
/// That buffer, as the checks of `--wire c` see it.
const C_TEXT_BUFFER: CText = CText {
    declaration: "char some_text[512]",
    size: C_TEXT,
    terminator: Terminator::Nul,
};

pub use ipc_common::ctext::Wire;

/// `--wire bincode|c`, for msgq-sender and msgq-receiver.
#[derive(Debug, Clone, Args)]
pub struct WireArg {
    /// Byte layout on the queue: ours (bincode Messages) or the C programs' (c/msgq_*.c:
    /// struct { long mtype; char text[512]; }), to talk to them
    #[arg(long, value_enum, default_value_t = Wire::Bincode, conflicts_with = "posix")]
    pub wire: Wire,
}

/// Checks, before anything is sent, that `--wire c` can carry what the sender was asked to
/// send: texts only, each short enough for `char some_text[512]` with its NUL.
pub fn check_source(source: &ipc_common::cli::MessageSource) -> Result<()> {
    C_TEXT_BUFFER.check_source(source)
}

/// Puts `msg` in the C layout into `buf`: the text and its NUL; End is the text `end`.
pub fn encode(msg: &Message, buf: &mut Vec<u8>) -> Result<()> {
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
    buf.clear();
    buf.extend_from_slice(text.as_bytes());
    buf.push(0);
    Ok(())
}

/// Turns the C layout's bytes back into Messages, numbering them in arrival order.
#[derive(Debug, Default)]
pub struct Decoder {
    received: u64,
}

impl Decoder {
    /// The message in `bytes`: the text up to the first NUL (or all of it, if the sender sent
    /// none: C's receiver does not trust it either), with invalid UTF-8 replaced; `end` is End.
    pub fn decode(&mut self, bytes: &[u8]) -> Message {
        self.received += 1;
        let text = bytes.split(|&b| b == 0).next().unwrap_or_default();
        let text = String::from_utf8_lossy(text);
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
    fn a_text_is_its_bytes_and_a_nul_and_end_is_the_word_end() {
        let mut buf = Vec::new();
        encode(&Message::text(7, 1, "hello"), &mut buf).expect("fits");
        assert_eq!(buf, b"hello\0");
        encode(&Message::end(7, 2), &mut buf).expect("fits");
        assert_eq!(buf, b"end\0");
        assert!(encode(&Message::payload(7, 1, 10), &mut buf).is_err());
    }

    #[test]
    fn the_c_buffer_bounds_the_text() {
        let mut buf = Vec::new();
        assert!(encode(&Message::text(1, 1, "x".repeat(C_TEXT - 1)), &mut buf).is_ok());
        assert_eq!(buf.len(), C_TEXT);
        assert!(encode(&Message::text(1, 1, "x".repeat(C_TEXT)), &mut buf).is_err());
        assert!(encode(&Message::text(1, 1, "a\0b"), &mut buf).is_err());
    }

    #[test]
    fn decoding_stops_at_the_nul_and_numbers_in_arrival_order() {
        let mut decoder = Decoder::default();
        assert_eq!(decoder.decode(b"hi\0garbage"), Message::text(0, 1, "hi"));
        assert_eq!(decoder.decode(b"no nul"), Message::text(0, 2, "no nul"));
        assert_eq!(decoder.decode(b"end\0"), Message::end(0, 3));
        assert_eq!(decoder.decode(b"endless\0"), Message::text(0, 4, "endless"));
    }
}
