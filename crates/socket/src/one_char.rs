//! The textbook's one-char exchange (*Beginning Linux Programming*, ch. 15, server.c and
//! client.c): the client writes one char, the server writes back that char + 1 and closes.
//!
//! ```c
//! /* client.c */                          /* server.c, for each client */
//! write(sockfd, &ch, 1);                  read(client_sockfd, &ch, 1);
//! read(sockfd, &ch, 1);                   ch++;
//! printf("char from server = %c\n", ch);  write(client_sockfd, &ch, 1);
//!                                         close(client_sockfd);
//! ```
//!
//! Our `--wire c` server serves these clients and the line clients (c/client.c, telnet,
//! `socket-client --wire c`) on the same port, so it must tell them apart from the first bytes,
//! before it answers anything. The rule ([`is_one_char`]):
//!
//! > A connection whose first read brings **exactly one byte**, which is not a newline (`\n`)
//! > or carriage return (`\r`), and after which **nothing more arrives within
//! > [`ONE_CHAR_WAIT`]** (nor the end of the connection), is a one-char client.
//!
//! The textbook client sends its char and then waits for the answer, so nothing more comes.
//! A line client writes a whole line at once (`write(fd, line, len + 1)`: at least the char and
//! its newline); an empty line is the newline alone. So a line client is taken for a one-char
//! client only if it sends its first line in pieces, the first piece one char long, and more
//! than [`ONE_CHAR_WAIT`] apart (a telnet in character mode would; `nc`, telnet's default line
//! mode and every C client here do not).

use std::io::Read;
use std::os::fd::AsFd;
use std::time::Duration;

use nix::poll::PollFlags;

use ipc_common::message::{checksum, Body, Message};
use ipc_common::{signals, Error, Result};

use crate::stream::Stream;
use crate::timed::{TimedReader, TimedWriter};

/// How long the server waits, after a first byte that came alone, for more bytes before it
/// answers that byte as the textbook's server.c does.
pub const ONE_CHAR_WAIT: Duration = Duration::from_millis(200);

/// What the textbook's server sends back for `ch`: C's `ch++` (wrapping, as a C `char` does).
pub fn answer(ch: u8) -> u8 {
    ch.wrapping_add(1)
}

/// True when the connection's first bytes `first` are the one char of a one-char client (see
/// the module's rule): one byte, not a line break, and nothing more within [`ONE_CHAR_WAIT`].
/// Waits only in that case; a stop (Ctrl-C) during the wait is an error.
pub fn is_one_char(first: &[u8], stream: &Stream) -> Result<bool> {
    let [ch] = first else {
        return Ok(false);
    };
    if matches!(ch, b'\n' | b'\r') {
        return Ok(false); // an empty line: a line client
    }
    // C: poll(&fd, 1, 200): more bytes (or the end of the connection) mean a line client.
    let more = signals::wait_fd(stream.as_fd(), PollFlags::POLLIN, Some(ONE_CHAR_WAIT))?;
    Ok(!more)
}

/// The char as the message the server counts: a one-byte payload with its checksum.
pub fn as_message(ch: u8) -> Message {
    let bytes = vec![ch];
    Message {
        sender: 0,
        seq: 1,
        body: Body::Payload {
            checksum: checksum(&bytes),
            bytes,
        },
    }
}

/// A byte as `printf("%c")` would show it, where that is printable ASCII (`A`); else its
/// escape (`\n`, `\x80`), so that the output stays one line of ASCII.
pub fn show(ch: u8) -> String {
    if ch.is_ascii_graphic() || ch == b' ' {
        char::from(ch).to_string()
    } else {
        std::ascii::escape_default(ch).to_string()
    }
}

/// The client's side: `write(sockfd, &ch, 1)`, then `read(sockfd, &ch, 1)`, waiting at most
/// `timeout` for the answer. Returns the server's char.
pub fn exchange(stream: &Stream, ch: u8, timeout: Duration) -> Result<u8> {
    let mut writer = TimedWriter::new(stream, timeout);
    std::io::Write::write_all(&mut writer, &[ch])
        .map_err(|err| signals::io_context(err, "sending the char"))?;
    let mut reader = TimedReader::new(stream, Some(timeout), timeout);
    let mut answer = [0u8; 1];
    let n = reader
        .read(&mut answer)
        .map_err(|err| signals::io_context(err, "waiting for the server's char"))?;
    if n == 0 {
        return Err(Error::new(
            "waiting for the server's char",
            "the server closed the connection without answering",
        )
        .with_hint(
            "the textbook's server.c and socket-server --wire c answer one char; \
             this server does not (socket-server without --wire c speaks frames)",
        ));
    }
    Ok(answer[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_is_char_plus_one_wrapping_as_a_c_char() {
        assert_eq!(answer(b'A'), b'B');
        assert_eq!(answer(b'z'), b'{');
        assert_eq!(answer(0xff), 0);
    }

    #[test]
    fn chars_show_as_printf_would_where_printable() {
        assert_eq!(show(b'B'), "B");
        assert_eq!(show(b' '), " ");
        assert_eq!(show(b'\n'), "\\n");
        assert_eq!(show(0x80), "\\x80");
    }

    #[test]
    fn the_char_counts_as_one_intact_message() {
        let msg = as_message(b'A');
        assert_eq!(msg.seq, 1);
        assert!(msg.is_intact() && !msg.is_end());
        assert!(matches!(msg.body, Body::Payload { ref bytes, .. } if bytes == b"A"));
    }
}
