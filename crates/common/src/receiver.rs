//! The receiver side every `*-receiver` shares: show each text, count everything, print the
//! `summary:` line last and turn it into the exit code.

use std::io::{self, Write};

use crate::cli::ReceiverArgs;
use crate::error::{Error, Result};
use crate::message::{Body, Message};
use crate::tally::{Summary, Tally};

/// Shows and counts the messages of one receiver.
#[derive(Debug)]
pub struct Inbox {
    label: &'static str,
    expected_ends: u64,
    order_promised: bool,
    tally: Tally,
}

impl Inbox {
    /// An inbox that prints texts as `{label}{text}` (e.g. `You wrote: `) and is done after
    /// `--senders N` End messages.
    pub fn new(label: &'static str, args: &ReceiverArgs) -> Self {
        Inbox {
            label,
            expected_ends: args.senders,
            order_promised: true,
            tally: Tally::new(),
        }
    }

    /// For mechanisms that do not promise order (UDP, message types taken out of order):
    /// reordered messages are counted but do not fail the run.
    #[must_use]
    pub fn order_not_promised(mut self) -> Self {
        self.order_promised = false;
        self
    }

    /// Records one message and shows it if it is a text. Returns true once every expected
    /// End has arrived.
    pub fn take(&mut self, msg: &Message) -> Result<bool> {
        self.tally.record(msg);
        if let Body::Text(text) = &msg.body {
            // Lock stdout per line, not for the inbox's life: a server may run one inbox per
            // client thread, and whole lines must not interleave.
            writeln!(io::stdout().lock(), "{}{text}", self.label)
                .map_err(|err| Error::io("writing to standard output", &err))?;
        }
        Ok(self.is_done())
    }

    /// True once every expected End has arrived.
    pub fn is_done(&self) -> bool {
        self.tally.ends() >= self.expected_ends
    }

    /// The counts so far.
    pub fn summary(&self) -> Summary {
        self.tally.summary()
    }

    /// Prints the summary line (always, also after a failure or Ctrl-C), then returns the
    /// outcome: the failure if there was one, else an error when anything was lost,
    /// duplicated, corrupt or (where order is promised) reordered.
    pub fn finish(self, outcome: Result<()>) -> Result<()> {
        let summary = self.tally.summary();
        let mut out = io::stdout().lock();
        let _ = writeln!(out, "{summary}");
        let _ = out.flush();
        outcome?;
        if summary.is_clean(self.order_promised) {
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
}
