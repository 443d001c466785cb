//! The receiver loop every `*-receiver` shares, the mirror image of [`crate::sender`].
//!
//! A mechanism supplies an [`Inbox`] (how one message is taken out of its kernel object:
//! `msgrcv`, `read`, a shared-memory slot, ...); [`run_receiver`] does the rest, the same way
//! for every pair: opens the inbox, takes messages until every expected End has arrived (the
//! tutorial's `end`; `--senders N` waits for N), shows each text, counts everything, warns
//! about what is not a message, removes the kernel object (by dropping the inbox's guard),
//! and prints the one `summary:` line last, on every exit path: after a failure to open, a
//! failure mid-way and Ctrl-C too.

use crate::cli::ReceiverArgs;
use crate::error::{Error, ErrorKind, Result};
use crate::ledger::Ledger;
use crate::message::Message;
use crate::{program, signals};

/// What one [`Inbox::receive`] took out of the kernel object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// A message.
    Message(Message),
    /// Something that is not a message (garbage, a truncated record, the other `--wire`
    /// layout): why, in a few words. It is counted as corrupt and the receiver goes on.
    Garbled(String),
    /// The End of a sender that speaks the other `--wire` layout (our encoded End, found by a
    /// `--wire c` receiver): counted as corrupt, like [`Delivery::Garbled`], and as the End of
    /// one sender, so the receiver stops with its summary instead of waiting for ever.
    ForeignEnd(String),
    /// Nothing more will come: a drained queue, a server whose clients are all done.
    Closed,
}

/// Where a receiver takes each message from: one implementation per mechanism.
pub trait Inbox {
    /// Takes the next message out of the kernel object, waiting for it (C: `msgrcv`, `read`,
    /// `P(FULL)` and a copy out of the slot, ...). A stop (Ctrl-C) is `Err(interrupted)`.
    fn receive(&mut self) -> Result<Delivery>;

    /// The raw path (ipc-bench): the next record's bytes as they are, into `buf`. A byte
    /// stream has no records: it reads exactly `buf.len()` bytes.
    fn receive_bytes(&mut self, buf: &mut Vec<u8>) -> Result<()> {
        let _ = buf;
        Err(Error::new(
            "receiving raw bytes",
            "this mechanism carries no bytes of its own",
        ))
    }

    /// Where the last message came from, shown before its text (a server's client); `None`
    /// for mechanisms with one kind of sender.
    fn origin(&self) -> Option<&str> {
        None
    }

    /// After a stop (Ctrl-C, SIGTERM): the next delivery the inbox already holds, without
    /// waiting for new input; `None` once it holds no more. A server whose client threads took
    /// (and acknowledged) messages that the loop has not counted yet hands them over here, so
    /// nothing that was accepted goes uncounted. Most inboxes hold nothing: the default.
    fn take_held(&mut self) -> Result<Option<Delivery>> {
        Ok(None)
    }

    /// Called once after the last message, before the inbox is dropped: a place for a closing
    /// note on stderr (`the queue is empty`, how often the ring slept).
    fn finish(&mut self) -> Result<()> {
        Ok(())
    }
}

/// How a receiver shows its texts and when it is done.
#[derive(Debug, Clone, Copy)]
pub struct Receiving {
    label: &'static str,
    until: Until,
    order_promised: bool,
}

/// When the receive loop ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// After N distinct End messages (`--senders N`, 1 by default). An inbox that closes
    /// before is an error: a sender went away without its End.
    Ends(u64),
    /// When the inbox says [`Delivery::Closed`] (a drain, a server with `--clients N`).
    Closed,
}

impl Receiving {
    /// Texts shown as `{label}{text}` (the tutorial's wording, e.g. `You wrote: `), done after
    /// `--senders N` Ends.
    pub fn new(label: &'static str, args: &ReceiverArgs) -> Self {
        Receiving {
            label,
            until: Until::Ends(args.senders),
            order_promised: true,
        }
    }

    /// Done when the inbox closes, not at End.
    #[must_use]
    pub fn until_closed(mut self) -> Self {
        self.until = Until::Closed;
        self
    }

    /// Reordered messages are counted but do not fail the run (UDP, message types or
    /// priorities taken out of order).
    #[must_use]
    pub fn order_not_promised(mut self) -> Self {
        self.order_promised = false;
        self
    }
}

/// Opens the inbox with `open`, receives until done, and prints the summary line last.
///
/// `open` creates or finds the kernel object and prints the ready line; if it fails, the
/// summary (all zeros) is still printed before the error. The inbox is dropped (its guard
/// removes what it owns: `msgctl(IPC_RMID)`, `unlink`, ...) before the summary line, so that
/// what the guard says on stderr comes before it.
pub fn run_receiver<I: Inbox>(how: Receiving, open: impl FnOnce() -> Result<I>) -> Result<()> {
    let mut ledger = Ledger::new(how.label);
    if !how.order_promised {
        ledger = ledger.order_not_promised();
    }
    let outcome = open().and_then(|mut inbox| {
        let received = receive_all(&mut inbox, &mut ledger, how.until);
        received.and_then(|()| inbox.finish())
        // `inbox` is dropped here, before the summary.
    });
    ledger.finish(outcome)
}

/// Takes messages into `ledger` until done. Stopped by a signal, it still counts what the
/// inbox already holds ([`Inbox::take_held`]) before it reports the stop.
fn receive_all(inbox: &mut impl Inbox, ledger: &mut Ledger, until: Until) -> Result<()> {
    let outcome = receive_until_done(inbox, ledger, until);
    match outcome {
        Err(err) if err.kind() == ErrorKind::Interrupted || signals::stop_requested() => {
            while let Some(delivery) = inbox.take_held()? {
                count(inbox, ledger, delivery)?;
            }
            Err(err)
        }
        other => other,
    }
}

fn receive_until_done(inbox: &mut impl Inbox, ledger: &mut Ledger, until: Until) -> Result<()> {
    loop {
        signals::check()?;
        let delivery = inbox.receive()?;
        if let Delivery::Closed = delivery {
            return closed(until, ledger.ends());
        }
        let first_end = count(inbox, ledger, delivery)?;
        if first_end && until == Until::Ends(ledger.ends()) {
            return Ok(());
        }
    }
}

/// Shows and counts one delivery; true when it was an End seen for the first time.
fn count(inbox: &impl Inbox, ledger: &mut Ledger, delivery: Delivery) -> Result<bool> {
    match delivery {
        Delivery::Message(msg) => ledger.take(&msg, inbox.origin()),
        Delivery::Garbled(why) => {
            eprintln!("{}: warning: {why}", program::name());
            ledger.take_garbled();
            Ok(false)
        }
        Delivery::ForeignEnd(why) => {
            eprintln!("{}: warning: {why}", program::name());
            ledger.take_foreign_end();
            Ok(true)
        }
        Delivery::Closed => Ok(false),
    }
}

/// The inbox closed: the normal end of a drain, an error while Ends are still missing (the
/// sender went away without its End, or every sender did).
fn closed(until: Until, ends: u64) -> Result<()> {
    match until {
        Until::Ends(expected) if ends < expected => {
            let missing = if expected == 1 {
                "the sender's End message".to_string()
            } else {
                format!("the End messages of {} more sender(s)", expected - ends)
            };
            Err(
                Error::new("receiving", format!("the input ended before {missing}"))
                    .with_hint("the sender exited early: check its error message"),
            )
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An inbox that hands out what it was given, then closes.
    struct Given(std::vec::IntoIter<Delivery>);

    impl Inbox for Given {
        fn receive(&mut self) -> Result<Delivery> {
            Ok(self.0.next().unwrap_or(Delivery::Closed))
        }
    }

    fn given(deliveries: Vec<Delivery>) -> Result<Given> {
        Ok(Given(deliveries.into_iter()))
    }

    fn args(senders: u64) -> ReceiverArgs {
        ReceiverArgs { senders }
    }

    #[test]
    fn it_stops_at_the_expected_end_and_leaves_the_rest() {
        let mut rest = None;
        let outcome = run_receiver(Receiving::new("", &args(1)), || {
            let inbox = given(vec![
                Delivery::Message(Message::text(1, 1, "a")),
                Delivery::Message(Message::end(1, 2)),
                Delivery::Garbled("never reached".into()),
            ])?;
            rest = Some(());
            Ok(inbox)
        });
        assert!(outcome.is_ok() && rest.is_some());
    }

    #[test]
    fn garbage_is_counted_and_fails_the_verdict_but_the_loop_goes_on() {
        let outcome = run_receiver(Receiving::new("", &args(1)), || {
            given(vec![
                Delivery::Garbled("junk".into()),
                Delivery::Message(Message::end(1, 1)),
            ])
        });
        let err = outcome.expect_err("corrupt=1 fails");
        assert!(err.to_string().contains("corrupt=1"), "{err}");
    }

    #[test]
    fn the_end_of_a_sender_in_the_other_layout_stops_the_loop_and_counts_as_corrupt() {
        let mut ledger = Ledger::new("");
        let mut inbox = given(vec![
            Delivery::Garbled("ours".into()),
            Delivery::ForeignEnd("our End".into()),
            Delivery::Garbled("never reached".into()),
        ])
        .expect("given");
        receive_all(&mut inbox, &mut ledger, Until::Ends(1)).expect("stops at the End");
        assert_eq!((ledger.summary().corrupt, ledger.ends()), (2, 1));
    }

    #[test]
    fn an_inbox_that_closes_before_the_end_is_an_error() {
        let outcome = run_receiver(Receiving::new("", &args(2)), || {
            given(vec![Delivery::Message(Message::end(1, 1))])
        });
        let err = outcome.expect_err("one End of two");
        assert!(err.to_string().contains("1 more sender"), "{err}");
    }

    /// An inbox stopped at once, still holding two messages it had accepted.
    struct Stopped(Vec<Delivery>);

    impl Inbox for Stopped {
        fn receive(&mut self) -> Result<Delivery> {
            Err(Error::interrupted())
        }
        fn take_held(&mut self) -> Result<Option<Delivery>> {
            Ok(self.0.pop())
        }
    }

    #[test]
    fn a_stop_still_counts_what_the_inbox_holds() {
        let held = vec![
            Delivery::Message(Message::text(1, 2, "b")),
            Delivery::Message(Message::text(1, 1, "a")),
        ];
        let mut ledger = Ledger::new("");
        let outcome = receive_all(&mut Stopped(held), &mut ledger, Until::Ends(1));
        assert!(outcome.is_err(), "the stop is still reported");
        assert_eq!(ledger.summary().received, 2);
    }

    #[test]
    fn a_drain_ends_when_the_inbox_closes() {
        let outcome = run_receiver(Receiving::new("", &args(1)).until_closed(), || {
            given(vec![
                Delivery::Message(Message::end(1, 1)),
                Delivery::Message(Message::end(2, 1)),
            ])
        });
        assert!(outcome.is_ok());
    }

    #[test]
    fn a_failure_to_open_is_returned_after_the_summary() {
        let outcome: Result<()> = run_receiver(Receiving::new("", &args(1)), || {
            Err::<Given, _>(Error::new("opening", "nothing there"))
        });
        assert!(outcome.is_err());
    }
}
