//! What a receiver shows and counts: each text on its own line of stdout, every message in the
//! [`Tally`], and at the end the one `summary:` line and the verdict it gives.

use std::io::{self, Write};

use crate::error::{Error, Result};
use crate::message::{Body, Message};
use crate::tally::{Summary, Tally};

/// Shows and counts the messages of one receiver (or, in a server, of one client).
#[derive(Debug)]
pub struct Ledger {
    label: &'static str,
    order_promised: bool,
    tally: Tally,
    garbled: u64,
    /// Ends of senders in the other `--wire` layout ([`Ledger::take_foreign_end`]).
    foreign_ends: u64,
}

impl Ledger {
    /// A ledger that prints texts as `{label}{text}` (e.g. `You wrote: `).
    pub fn new(label: &'static str) -> Self {
        Ledger {
            label,
            order_promised: true,
            tally: Tally::new(),
            garbled: 0,
            foreign_ends: 0,
        }
    }

    /// For mechanisms that do not promise order (UDP, message types taken out of order):
    /// reordered messages are counted but do not fail the run.
    #[must_use]
    pub fn order_not_promised(mut self) -> Self {
        self.order_promised = false;
        self
    }

    /// Records one message and shows it if it is a text, prefixed by `origin` if there is one
    /// (a server's client: `[127.0.0.1:40000] You wrote: hi`). Returns true when it was an End
    /// seen for the first time.
    pub fn take(&mut self, msg: &Message, origin: Option<&str>) -> Result<bool> {
        let first_end = self.tally.record(msg);
        if let Body::Text(text) = &msg.body {
            // Lock stdout per line: a server may keep one ledger per client thread, and whole
            // lines must not interleave.
            let mut out = io::stdout().lock();
            let written = match origin {
                Some(origin) => writeln!(out, "[{origin}] {}{text}", self.label),
                None => writeln!(out, "{}{text}", self.label),
            };
            written.map_err(|err| Error::io("writing to standard output", &err))?;
        }
        Ok(first_end)
    }

    /// Counts something that arrived but was not a message (it shows as `corrupt`).
    pub fn take_garbled(&mut self) {
        self.garbled += 1;
    }

    /// Counts the End of a sender in the other `--wire` layout: corrupt (it is not a message
    /// of this layout), and one more sender done.
    pub fn take_foreign_end(&mut self) {
        self.garbled += 1;
        self.foreign_ends += 1;
    }

    /// How many distinct End messages arrived (those of the other layout included).
    pub fn ends(&self) -> u64 {
        self.tally.ends() + self.foreign_ends
    }

    /// The counts so far.
    pub fn summary(&self) -> Summary {
        let mut summary = self.tally.summary();
        summary.corrupt += self.garbled;
        summary
    }

    /// Prints the summary line (always, also after a failure or Ctrl-C), then returns the
    /// outcome: the failure if there was one, else an error when anything was lost,
    /// duplicated, corrupt or (where order is promised) reordered.
    pub fn finish(self, outcome: Result<()>) -> Result<()> {
        let summary = self.summary();
        let mut out = io::stdout().lock();
        let _ = writeln!(out, "{summary}");
        let _ = out.flush();
        verdict(&summary, self.order_promised, outcome)
    }
}

/// The verdict on a summary: the outcome of the run if it failed, else an error when anything
/// was lost, duplicated, corrupt or (where order is promised) reordered.
fn verdict(summary: &Summary, order_promised: bool, outcome: Result<()>) -> Result<()> {
    outcome?;
    if summary.is_clean(order_promised) {
        Ok(())
    } else {
        Err(Error::new(
            "checking what arrived",
            format!(
                "lost={} duplicated={} reordered={} corrupt={}",
                summary.lost, summary.duplicated, summary.reordered, summary.corrupt
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbled_records_show_as_corrupt_and_fail_the_verdict() {
        let mut ledger = Ledger::new("You wrote: ");
        ledger
            .take(&Message::payload(1, 1, 16), None)
            .expect("counts");
        ledger.take_garbled();
        let summary = ledger.summary();
        assert_eq!((summary.received, summary.corrupt), (1, 1));
        assert!(ledger.finish(Ok(())).is_err());
    }

    #[test]
    fn the_first_end_is_reported_once() {
        let mut ledger = Ledger::new("");
        assert!(!ledger
            .take(&Message::payload(1, 1, 8), None)
            .expect("counts"));
        assert!(ledger.take(&Message::end(1, 2), None).expect("counts"));
        assert!(!ledger.take(&Message::end(1, 2), None).expect("counts"));
        assert_eq!(ledger.ends(), 1);
    }
}
