//! One client of the stream server, on its own thread: read what it sends, acknowledge each
//! message, forward it to the server's main thread, and drop the client if it misbehaves.
//!
//! server.c reads and answers one client at a time. Here every accepted client gets this
//! session on a thread of its own (C: `pthread_create`, or `fork()` per client), so one slow
//! or silent client never holds up the others. What arrives goes to the main thread as
//! [`Event`]s over a channel, where `run_receiver` shows and counts it.
//!
//! With `--wire c` the session first looks at what the client sends ([`crate::one_char`]): the
//! textbook client's one char gets the textbook server's answer (that char + 1) and the
//! connection is closed; anything else is read as c/client.c's lines, answering nothing, as
//! c/server.c does; a line that is not C text (too long for `char line[4096]`, or with a NUL
//! byte) gets the client dropped and counts as corrupt.

use std::io::{Cursor, Read};
use std::sync::mpsc::SyncSender;
use std::time::Duration;

use ipc_common::clayout::SOCKET;
use ipc_common::codec::Wire;
use ipc_common::error::ErrorKind;
use ipc_common::lines::CLineReader;
use ipc_common::receiver::{Delivery, Inbox};
use ipc_common::sender::Outbox;
use ipc_common::stream::{FrameReader, FrameWriter};
use ipc_common::{program, signals, Error, Message, Result};

use crate::one_char::{answer, is_one_char};
use crate::stream::Stream;
use crate::timed::{TimedReader, TimedWriter};

/// What a session (or the thread accepting clients) tells the server's main thread.
#[derive(Debug)]
pub enum Event {
    /// Client number `id`, shown as the name, connected.
    Joined(u64, String),
    /// A message from client `id`.
    Message(u64, Message),
    /// Client `id` did the textbook's one-char exchange: the char it sent, the one it got back.
    OneChar(u64, u8, u8),
    /// Client `id` sent something that is not a message: why. It is being dropped.
    Garbled(u64, String),
    /// Client `id` is done; true when it was dropped.
    Left(u64, bool),
    /// A client was turned away (the server was full, or its thread could not start).
    Refused,
    /// No more clients will be accepted: how accepting ended.
    Over(Result<()>),
}

/// How the stream server runs.
#[derive(Debug, Clone, Copy)]
pub struct ServerOptions {
    /// How long a client may take to finish a frame, or to read our acknowledgement.
    pub frame_timeout: Duration,
    /// Stop after this many clients have finished (`--clients N`); `None`: until Ctrl-C.
    pub clients: Option<u64>,
    /// Our frames and acknowledgements, or the C programs' lines.
    pub wire: Wire,
}

/// How a client's session ended.
#[derive(Debug)]
enum Ending {
    /// Its End arrived (and was acknowledged).
    End,
    /// It did the one-char exchange (its char counted as its message and its End).
    OneChar,
    /// It closed the connection between two messages, without an End.
    LeftEarly,
    /// Its bytes were not messages (garbage, a length over the limit, a truncated frame, a
    /// frame that stopped half-way, a line that is not C text): counted as corrupt.
    Bad(String),
    /// The connection failed (reset, a write that found no reader) or it stopped reading.
    Lost(Error),
    /// Ctrl-C or SIGTERM, or the main thread is gone: the server is stopping.
    Stopped,
}

/// Serves client `id` (shown as `peer`) from its first message to its End, or until dropped.
pub fn serve_client(
    stream: &Stream,
    id: u64,
    peer: &str,
    options: ServerOptions,
    events: &SyncSender<Event>,
) {
    let forward = |msg: Message| events.send(Event::Message(id, msg)).is_ok();
    let ending = match options.wire {
        Wire::Bincode => exchange(stream, options.frame_timeout, forward),
        Wire::C => exchange_c(stream, options.frame_timeout, &forward, |sent, got| {
            events.send(Event::OneChar(id, sent, got)).is_ok()
        }),
    };
    let name = program::name();
    let dropped = match ending {
        Ending::End => {
            eprintln!("{name}: {peer} finished");
            false
        }
        Ending::OneChar => {
            eprintln!("{name}: {peer} finished the one-char exchange");
            false
        }
        Ending::LeftEarly => {
            eprintln!("{name}: {peer} left without its End message");
            false
        }
        Ending::Bad(why) => {
            let mixed_up = match options.wire {
                // Text where a length prefix should be: the usual sign of a C client.
                Wire::Bincode => " (lines of text from a C client need socket-server --wire c)",
                Wire::C => "",
            };
            eprintln!("{name}: dropped {peer}: {why}{mixed_up}");
            let why = format!("{peer} sent something that is not a message (counted as corrupt)");
            let _ = events.send(Event::Garbled(id, why));
            true
        }
        Ending::Lost(err) => {
            eprintln!("{name}: lost {peer}: {err}");
            true
        }
        Ending::Stopped => {
            eprintln!("{name}: closed {peer}: the server is stopping");
            false
        }
    };
    // C: close(client_sockfd) happens when the caller's Stream is dropped, right after this.
    stream.shutdown_write();
    let _ = events.send(Event::Left(id, dropped));
}

/// Reads messages and acknowledges each, until the client's End.
fn exchange(stream: &Stream, frame_timeout: Duration, forward: impl Fn(Message) -> bool) -> Ending {
    let mut reader = FrameReader::new(
        TimedReader::new(stream, None, frame_timeout),
        "reading its next message",
    );
    let mut writer = FrameWriter::new(
        TimedWriter::new(stream, frame_timeout),
        "sending its acknowledgement",
        "the client closed the connection",
    );
    let server = std::process::id();
    loop {
        let msg = match reader.next_message() {
            Ok(Some(msg)) => msg,
            Ok(None) => return Ending::LeftEarly,
            Err(err) => return failed_read(err),
        };
        let (seq, is_end) = (msg.seq, msg.is_end());
        if !forward(msg) {
            return Ending::Stopped;
        }
        // C: write(client_sockfd, &ack, ...). Acks are flushed at once (they are not payloads).
        match writer.send(&Message::ack(server, seq)) {
            Ok(()) => {}
            Err(err) if stopping(&err) => return Ending::Stopped,
            Err(err) => return Ending::Lost(err),
        }
        if is_end {
            return Ending::End;
        }
    }
}

/// `--wire c`: the first read tells the two C clients apart ([`crate::one_char`]'s rule). The
/// textbook client's one char is answered with char + 1 (`write`, then `close` by the
/// caller), counted as its message and its End; every other client is read as lines.
fn exchange_c(
    stream: &Stream,
    write_timeout: Duration,
    forward: &impl Fn(Message) -> bool,
    one_char_done: impl Fn(u8, u8) -> bool,
) -> Ending {
    // C: read(client_sockfd, buf, sizeof buf): whatever the client sent first.
    let mut reader = TimedReader::for_lines(stream);
    let mut first = vec![0u8; SOCKET.size];
    let n = match reader.read(&mut first) {
        Ok(0) => return Ending::LeftEarly,
        Ok(n) => n,
        Err(err) => return failed_read(signals::io_context(err, "reading its first bytes")),
    };
    first.truncate(n);
    match is_one_char(&first, stream) {
        Ok(false) => {}
        Ok(true) => {
            let (ch, reply) = (first[0], answer(first[0]));
            // C: ch++; write(client_sockfd, &ch, 1);
            let mut writer = TimedWriter::new(stream, write_timeout);
            if let Err(err) = std::io::Write::write_all(&mut writer, &[reply]) {
                return match signals::io_context(err, "sending its char back") {
                    err if stopping(&err) => Ending::Stopped,
                    err => Ending::Lost(err),
                };
            }
            // Its char was message 1 (Event::OneChar); its End is number 2.
            if !one_char_done(ch, reply) || !forward(Message::end(0, 2)) {
                return Ending::Stopped;
            }
            return Ending::OneChar;
        }
        Err(err) => return failed_read(err),
    }
    // A line client: its first bytes, then the rest of the stream.
    exchange_lines(Cursor::new(first).chain(reader), forward)
}

/// `--wire c`: server.c's `fgets` loop: each line one text, nothing sent back, until `end`.
/// No bound on silence, also in the middle of a line: the C server waits for ever too.
fn exchange_lines(input: impl Read, forward: &impl Fn(Message) -> bool) -> Ending {
    let mut lines = CLineReader::new(input, &SOCKET, "reading its next line");
    loop {
        match lines.receive() {
            Ok(Delivery::Message(msg)) => {
                let is_end = msg.is_end();
                if !forward(msg) {
                    return Ending::Stopped;
                }
                if is_end {
                    return Ending::End;
                }
            }
            Ok(Delivery::Garbled(why) | Delivery::ForeignEnd(why)) => {
                return Ending::Bad(format!("reading its next line: {why}"))
            }
            Ok(Delivery::Closed) => return Ending::LeftEarly,
            Err(err) => return failed_read(err),
        }
    }
}

/// How a failed read ends a client: a stop, a bad frame (an error without an errno: garbage,
/// too large, truncated, stalled half-way), or a lost connection.
fn failed_read(err: Error) -> Ending {
    if stopping(&err) {
        Ending::Stopped
    } else if err.errno().is_none() {
        Ending::Bad(err.to_string())
    } else {
        Ending::Lost(err)
    }
}

/// True when `err` is (or was caused by) a Ctrl-C / SIGTERM stop.
fn stopping(err: &Error) -> bool {
    err.kind() == ErrorKind::Interrupted || signals::stop_requested()
}
