//! The sender loop every `*-sender` shares: where messages come from and how they are numbered.
//!
//! A mechanism supplies an [`Outbox`] (how one message is put into its kernel object); this
//! module supplies the messages, exactly as the contract says:
//! stdin lines (with the tutorial's prompt when stdin is a terminal) until `end` or the end of
//! input, or the `--message` texts, or `--count` generated payloads; then the End message.

use std::io::{self, BufRead, BufReader, IsTerminal, Read, Write};

use crate::cli::MessageSource;
use crate::error::{Error, Result};
use crate::message::Message;
use crate::signals::{self, Interruptible};
use crate::wire::MAX_PAYLOAD;

/// The prompt of the tutorial's sender programs (sender.c, shm2.c, client.c), shown before each
/// line typed at a terminal.
pub const ENTER_SOME_TEXT: &str = "Enter some text:";

/// Where a sender puts each message: one implementation per mechanism.
pub trait Outbox {
    /// Puts one message into the kernel object (msgsnd, write, a shared-memory slot, ...).
    fn send(&mut self, msg: &Message) -> Result<()>;

    /// The raw path (ipc-bench): `bytes` as they are, as one record (a queue message, a slot,
    /// a datagram) or, on a byte stream, written as they are with no frame.
    fn send_bytes(&mut self, bytes: &[u8]) -> Result<()> {
        let _ = bytes;
        Err(Error::new(
            "sending raw bytes",
            "this mechanism carries no bytes of its own",
        ))
    }

    /// Pushes out whatever is buffered (a byte stream batches payloads); after End,
    /// [`run_sender`] calls it, so nothing stays behind.
    fn flush(&mut self) -> Result<()> {
        Ok(())
    }

    /// True when the receiver stops at `text` itself. Our own wire ends only with End; the C
    /// layout (`--wire c`) ends at any text that starts with `end` (C's `strncmp(text, "end",
    /// 3) == 0`, see [`crate::clayout::is_c_end`]), so [`run_sender`] sends nothing after it,
    /// as msg2.c does: what followed would never be read.
    fn ends_conversation(&self, text: &str) -> bool {
        let _ = text;
        false
    }
}

/// What a finished sender did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    /// Text and payload messages sent (the End is not counted).
    pub messages: u64,
}

/// Sends every message of `source`, then End. `prompt` is the tutorial's prompt (for example
/// `Enter some text:`), shown on stderr before each line when stdin is a terminal.
pub fn run_sender(source: &MessageSource, prompt: &str, outbox: &mut impl Outbox) -> Result<Sent> {
    let sender = std::process::id();
    let mut seq = 0u64;
    let mut next = || {
        seq += 1;
        seq
    };
    if let Some(count) = source.count {
        for _ in 0..count {
            signals::check()?;
            outbox.send(&Message::payload(sender, next(), source.size))?;
        }
    } else if !source.messages.is_empty() {
        for text in &source.messages {
            signals::check()?;
            outbox.send(&Message::text(sender, next(), text.as_str()))?;
            if outbox.ends_conversation(text) {
                return ended_by(text, outbox, seq);
            }
        }
    } else {
        let stdin = io::stdin();
        let interactive = stdin.is_terminal();
        let mut lines = BufReader::new(Interruptible::new(stdin));
        while let Some(line) = read_line(&mut lines, interactive.then_some(prompt))? {
            if line == "end" {
                break;
            }
            outbox.send(&Message::text(sender, next(), line.as_str()))?;
            if outbox.ends_conversation(&line) {
                return ended_by(&line, outbox, seq);
            }
        }
    }
    let end_seq = next();
    outbox.send(&Message::end(sender, end_seq))?;
    outbox.flush()?;
    Ok(Sent {
        messages: end_seq - 1,
    })
}

/// The C receiver stopped at `text` (sent as message `seq`): nothing more is sent, not even
/// End, which it would never read.
fn ended_by(text: &str, outbox: &mut impl Outbox, seq: u64) -> Result<Sent> {
    outbox.flush()?;
    eprintln!(
        "{}: {text:?} starts with \"end\", which ends a C receiver (strncmp(text, \"end\", 3) \
         == 0): nothing more is sent, as in msg2.c",
        crate::program::name()
    );
    Ok(Sent { messages: seq })
}

/// Reads one line without its newline; `None` at the end of input. Lines are bounded by
/// MAX_PAYLOAD (the tutorial's `fgets(buffer, BUFSIZ, stdin)` bound, made explicit).
fn read_line(input: &mut impl BufRead, prompt: Option<&str>) -> Result<Option<String>> {
    if let Some(prompt) = prompt {
        eprint!("{prompt} ");
        let _ = io::stderr().flush();
    }
    let mut line = Vec::new();
    let limit = MAX_PAYLOAD as u64 + 1;
    let read = input
        .take(limit)
        .read_until(b'\n', &mut line)
        .map_err(|err| signals::io_context(err, "reading standard input"))?;
    if read == 0 {
        return Ok(None);
    }
    if line.last() == Some(&b'\n') {
        line.pop();
    } else if line.len() > MAX_PAYLOAD {
        return Err(Error::new(
            "reading standard input",
            format!("a line is longer than the limit of {MAX_PAYLOAD} bytes"),
        ));
    }
    String::from_utf8(line).map(Some).map_err(|_| {
        Error::new("reading standard input", "a line is not valid UTF-8 text")
            .with_hint("send binary data with --count/--size, or convert the input to UTF-8")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clayout::FIFO;
    use crate::lines::CLineWriter;

    fn texts(texts: &[&str]) -> MessageSource {
        MessageSource {
            messages: texts.iter().map(|t| t.to_string()).collect(),
            count: None,
            size: 64,
        }
    }

    #[test]
    fn in_the_c_layout_nothing_follows_a_text_that_starts_with_end() {
        let mut c = CLineWriter::new(Vec::new(), &FIFO, "writing", "gone");
        let sent = run_sender(&texts(&["a", "endless", "b"]), "", &mut c).expect("sends");
        assert_eq!(sent.messages, 2);
        assert_eq!(
            c.get_ref(),
            b"a\nendless\n",
            "no b, and no end after endless"
        );

        let mut c = CLineWriter::new(Vec::new(), &FIFO, "writing", "gone");
        run_sender(&texts(&["a", "b"]), "", &mut c).expect("sends");
        assert_eq!(c.get_ref(), b"a\nb\nend\n");
    }
}
