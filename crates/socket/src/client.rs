//! The client's end of a stream socket: send a message, wait for its acknowledgement, repeat.
//!
//! client.c writes one byte and reads one back. Ours sends each message as a frame and reads
//! the server's `Ack` for it before sending the next (stop-and-wait): when the client ends, it
//! knows exactly how many of its messages the server received.
//!
//! `FrameWriter` keeps generated payloads in its buffer until the buffer is full, to save
//! system calls. A client that waits for each answer must flush after every message, or it
//! would wait for an acknowledgement of a message still sitting in its own buffer.

use std::time::Duration;

use ipc_common::error::ErrorKind;
use ipc_common::message::{Body, Message};
use ipc_common::sender::Outbox;
use ipc_common::stream::{FrameReader, FrameWriter};
use ipc_common::{Error, Result};

use crate::report::describe;
use crate::stream::Stream;
use crate::timed::{TimedReader, TimedWriter};

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

    /// Text and payload messages the server acknowledged so far (the End is not counted).
    pub fn acknowledged(&self) -> u64 {
        self.acked
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
