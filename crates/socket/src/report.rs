//! What the server counts per client, beside the total that `run_receiver` keeps.
//!
//! Every receiver of the workspace shows its texts and its one `summary:` line through
//! `ipc_common::receiver::run_receiver`. A server also tells its clients apart: each client's
//! texts are shown as `[PEER] You wrote: TEXT` (the inbox's `origin`), and when a client leaves
//! its own counts are shown as `[PEER] summary: ...` ([`ClientTally`]). At the end one stderr
//! line says how many clients were served and dropped ([`Served`]).

use std::io::{self, Write};

use ipc_common::message::{Body, Message};
use ipc_common::tally::Tally;
use ipc_common::{program, Error, Result};

/// The tutorial's wording for each text message.
pub const LABEL: &str = "You wrote: ";

/// One client's messages, as the server saw them.
#[derive(Debug)]
pub struct ClientTally {
    peer: String,
    tally: Tally,
    bad_records: u64,
}

impl ClientTally {
    /// A tally for the client shown as `peer` (its address, or `unix#N`).
    pub fn new(peer: impl Into<String>) -> Self {
        ClientTally {
            peer: peer.into(),
            tally: Tally::new(),
            bad_records: 0,
        }
    }

    /// The client's name, as its lines start: `127.0.0.1:40000`, `unix#1`.
    pub fn peer(&self) -> &str {
        &self.peer
    }

    /// Counts one message; true for the client's (first) End.
    pub fn record(&mut self, msg: &Message) -> bool {
        self.tally.record(msg)
    }

    /// Counts a frame, line or datagram that was not a Message (it shows as `corrupt`).
    pub fn bad_record(&mut self) {
        self.bad_records += 1;
    }

    /// Prints the client's line `[PEER] summary: received=...` on stdout.
    pub fn report(&self) {
        let mut summary = self.tally.summary();
        summary.corrupt += self.bad_records;
        if let Err(err) = print_line(&format!("[{}] {summary}", self.peer)) {
            eprintln!("{}: warning: {err}", program::name());
        }
    }
}

/// How many clients the server saw, and how many of them it dropped.
#[derive(Debug, Default, Clone, Copy)]
pub struct Served {
    /// Clients that connected (stream) or sent anything (UDP).
    pub clients: u64,
    /// Clients dropped for a bad frame, a stall or a lost connection.
    pub dropped: u64,
}

impl Served {
    /// Counts one client that is done.
    pub fn add(&mut self, dropped: bool) {
        self.clients += 1;
        self.dropped += u64::from(dropped);
    }

    /// The closing stderr line: `socket-server: served 3 client(s), 1 dropped`.
    pub fn announce(&self) {
        eprintln!(
            "{}: served {} client(s), {} dropped",
            program::name(),
            self.clients,
            self.dropped
        );
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

/// Writes one whole line to stdout (under its lock). A closed stdout is an error, never a
/// panic as `println!` would give.
pub fn print_line(line: &str) -> Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out, "{line}").map_err(|err| Error::io("writing to standard output", &err))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_end_finishes_a_client() {
        let mut client = ClientTally::new("unix#1");
        assert!(!client.record(&Message::payload(1, 1, 8)));
        assert!(client.record(&Message::end(1, 2)));
        assert!(!client.record(&Message::end(1, 2)));
        assert_eq!(client.peer(), "unix#1");
    }

    #[test]
    fn served_counts_the_dropped_ones_too() {
        let mut served = Served::default();
        served.add(false);
        served.add(true);
        assert_eq!((served.clients, served.dropped), (2, 1));
    }
}
