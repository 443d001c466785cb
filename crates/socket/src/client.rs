//! The client's end of a stream socket: send a message, wait for its acknowledgement, repeat.
//!
//! client.c writes one byte and reads one back. Ours sends each message as a frame and reads
//! the server's `Ack` for it before sending the next (stop-and-wait): when the client ends, it
//! knows exactly how many of its messages the server received.
//!
//! With `--wire c` the client speaks c/client.c's protocol instead: one line per message,
//! `end` last, nothing read back ([`line_writer`]); after `end` it checks that the server sent
//! nothing back ([`finish_lines`]): a server that answered one char and closed is the
//! textbook's server.c, whose exchange is `--char` ([`crate::one_char`]).
//!
//! `FrameWriter` keeps generated payloads in its buffer until the buffer is full, to save
//! system calls. A client that waits for each answer must flush after every message, or it
//! would wait for an acknowledgement of a message still sitting in its own buffer.

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use ipc_common::clayout::SOCKET;
use ipc_common::error::ErrorKind;
use ipc_common::lines::CLineWriter;
use ipc_common::message::{Body, Message};
use ipc_common::sender::{Outbox, Sent};
use ipc_common::stream::{FrameReader, FrameWriter};
use ipc_common::{program, Error, Result};

use crate::connect::{connect_tcp, connect_unix};
use crate::one_char::show;
use crate::report::{describe, print_line};
use crate::stream::Stream;
use crate::timed::{TimedReader, TimedWriter};

/// C: `socket` + `connect`: to the Unix socket at `unix` if given, else to `host:port` over
/// TCP (every address of the host in turn, at most `timeout` each). Says where it connected.
pub fn connect(host: &str, port: u16, unix: Option<&Path>, timeout: Duration) -> Result<Stream> {
    let name = program::name();
    if let Some(path) = unix {
        let stream = connect_unix(path)?;
        eprintln!("{name}: connected to {}", path.display());
        return Ok(stream);
    }
    let (stream, addr) = connect_tcp(host, port, timeout)?;
    match stream.local_addr() {
        Some(local) => eprintln!("{name}: connected to {addr} from {local}"),
        None => eprintln!("{name}: connected to {addr}"),
    }
    Ok(stream)
}

/// `--wire c`: client.c's end: each message one line (`write_all(fd, line, len + 1)`), `end`
/// last, nothing read back. Waits at most `timeout` for room in the socket's send buffer.
pub fn line_writer(stream: &Stream, timeout: Duration) -> CLineWriter<TimedWriter<'_>> {
    CLineWriter::new(
        TimedWriter::new(stream, timeout),
        &SOCKET,
        "sending a line",
        "the server closed the connection",
    )
}

/// `--wire c`, after the lines (`sent`, also when sending failed): C's `shutdown(fd, SHUT_WR)`,
/// then `read` until the server closes the connection, at most `timeout`. A line server
/// (c/server.c, socket-server `--wire c`) sends nothing back. A server that sent a byte back
/// and closed is the textbook's server.c: it read only our first char and answered char + 1,
/// so the lines were not received; that is the error, with the option that fits it.
pub fn finish_lines(stream: &Stream, timeout: Duration, sent: Result<Sent>) -> Result<Sent> {
    if matches!(&sent, Err(err) if err.kind() == ErrorKind::Interrupted) {
        return sent;
    }
    stream.shutdown_write();
    let mut reader = TimedReader::new(stream, Some(timeout), timeout);
    let mut answer = [0u8; 64];
    match reader.read(&mut answer) {
        Ok(n) if n > 0 => Err(Error::new(
            "sending lines",
            format!(
                "the server sent back '{}' and closed the connection: it does the textbook's \
                 one-char exchange (server.c reads one char and answers char + 1), not lines, \
                 so it did not read these lines",
                show(answer[0])
            ),
        )
        .with_hint("send it one char with socket-client --wire c --char (or --char=C)")),
        // The end of the connection, no answer in time (a server that keeps it open), a reset.
        _ => sent,
    }
}

/// Sends messages on a connected stream socket and waits for each acknowledgement.
#[derive(Debug)]
pub struct AckedStream<'a> {
    writer: FrameWriter<TimedWriter<'a>>,
    reader: FrameReader<TimedReader<'a>>,
    acked: u64,
}

impl<'a> AckedStream<'a> {
    /// Talks on `stream`; waits at most `timeout` for each acknowledgement, and for room in
    /// the socket's send buffer.
    pub fn new(stream: &'a Stream, timeout: Duration) -> Self {
        AckedStream {
            writer: FrameWriter::new(
                TimedWriter::new(stream, timeout),
                "sending to the server",
                "the server closed the connection",
            ),
            reader: FrameReader::new(
                TimedReader::new(stream, Some(timeout), timeout),
                "waiting for the server's acknowledgement",
            ),
            acked: 0,
        }
    }

    /// After the last message: `server acknowledged N messages` on stdout, then `sent`.
    pub fn finish(&self, sent: Result<Sent>) -> Result<()> {
        print_line(&format!("server acknowledged {} messages", self.acked))?;
        sent.map(drop)
    }
}

impl Outbox for AckedStream<'_> {
    fn send(&mut self, msg: &Message) -> Result<()> {
        // C: write(sockfd, &msg, len), then read(sockfd, &ack, len).
        self.writer.send(msg)?;
        self.writer.flush()?;
        let what = || format!("waiting for the acknowledgement of message {}", msg.seq);
        let reply = self.reader.next_message().map_err(|err| {
            // No errno and no Ctrl-C: bytes that are not a frame, or no answer in time.
            if err.errno().is_none() && err.kind() != ErrorKind::Interrupted {
                err.with_hint("check that the program at this address is socket-server, and that it is not stuck")
            } else {
                err
            }
        })?;
        match reply {
            Some(Message {
                seq,
                body: Body::Ack,
                ..
            }) if seq == msg.seq => {
                if !msg.is_end() {
                    self.acked += 1;
                }
                Ok(())
            }
            Some(other) => Err(Error::new(
                what(),
                format!("the server answered with {}", describe(&other)),
            )),
            None => Err(Error::new(what(), "the server closed the connection")
                .with_hint("socket-server was stopped, or dropped this client: see its output")),
        }
    }
}
