//! What the server shows and counts, per client and in total.
//!
//! Every other receiver of the workspace has one `receiver::Inbox`. A server has many clients
//! at once, each in its own thread, and must tell their lines apart, so it keeps one
//! [`ClientTally`] per client: the same `Tally` (lost / duplicated / reordered / corrupt), with
//! each line prefixed by the client's address and written to stdout as one whole line.

use std::fmt::Display;
use std::io::{self, Write};

use ipc_common::message::{Body, Message};
use ipc_common::tally::{Summary, Tally};
use ipc_common::{Error, Result};

/// The tutorial's wording for each text message.
pub const LABEL: &str = "You wrote: ";

/// One client's messages, as the server saw them.
#[derive(Debug)]
pub struct ClientTally {
    peer: String,
    tally: Tally,
    bad_frames: u64,
}

impl ClientTally {
    /// A tally for the client shown as `peer` (its address, or `unix#N`).
    pub fn new(peer: impl Display) -> Self {
        ClientTally {
            peer: peer.to_string(),
            tally: Tally::new(),
            bad_frames: 0,
        }
    }

    /// Records one message; prints `[PEER] You wrote: TEXT` for a text. Returns true for the
    /// client's (first) End.
    pub fn take(&mut self, msg: &Message) -> Result<bool> {
        let first_end = self.tally.record(msg);
        if let Body::Text(text) = &msg.body {
            print_line(&format!("[{}] {LABEL}{text}", self.peer))?;
        }
        Ok(first_end)
    }

    /// Counts a frame or datagram that was not a valid Message (it shows as `corrupt`).
    pub fn bad_frame(&mut self) {
        self.bad_frames += 1;
    }

    /// The counts so far.
    pub fn summary(&self) -> Summary {
        let mut summary = self.tally.summary();
        summary.corrupt += self.bad_frames;
        summary
    }

    /// Prints the client's line `[PEER] summary: received=...` and returns its counts.
    pub fn report(&self) -> Summary {
        let summary = self.summary();
        if let Err(err) = print_line(&format!("[{}] {summary}", self.peer)) {
            eprintln!("socket-server: warning: {err}");
        }
        summary
    }
}

/// A message in a few words, for errors (never its bytes: a payload may be megabytes).
pub fn describe(msg: &Message) -> String {
    let what = match &msg.body {
        Body::Text(_) => "a text message",
        Body::Payload { .. } => "a payload message",
        Body::End => "an End message",
        Body::Ack => "an acknowledgement",
    };
    format!("{what} (sender {}, number {})", msg.sender, msg.seq)
}

/// Writes one whole line to stdout (under its lock, so lines of different clients never mix).
/// A closed stdout is an error, never a panic as `println!` would give.
pub fn print_line(line: &str) -> Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out, "{line}").map_err(|err| Error::io("writing to standard output", &err))
}

/// The server's verdict on its total, as `Inbox::finish` gives a receiver's: the outcome of
/// the run if it failed, else an error when anything was lost, duplicated, corrupt or (where
/// the transport promises order) reordered.
pub fn verdict(total: &Summary, order_promised: bool, outcome: Result<()>) -> Result<()> {
    outcome?;
    if total.is_clean(order_promised) {
        Ok(())
    } else {
        Err(Error::new(
            "checking what arrived",
            format!(
                "lost={} duplicated={} reordered={} corrupt={}",
                total.lost, total.duplicated, total.reordered, total.corrupt
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_frames_show_as_corrupt() {
        let mut client = ClientTally::new("127.0.0.1:1");
        client.take(&Message::payload(1, 1, 16)).expect("counts");
        client.bad_frame();
        let summary = client.summary();
        assert_eq!((summary.received, summary.corrupt), (1, 1));
        assert!(verdict(&summary, true, Ok(())).is_err());
    }

    #[test]
    fn the_first_end_finishes_a_client() {
        let mut client = ClientTally::new("unix#1");
        assert!(!client.take(&Message::payload(1, 1, 8)).expect("counts"));
        assert!(client.take(&Message::end(1, 2)).expect("counts"));
        assert!(verdict(&client.summary(), true, Ok(())).is_ok());
    }
}
