//! Counting what arrived: the receiver's `summary:` line.
//!
//! Each sender numbers its messages 1, 2, 3, ... and its End takes the next number. Per sender
//! we remember the next number we expect and the gaps we have seen (as ranges, so a hostile
//! sequence number cannot make us allocate). A message that fills a gap arrived late
//! (reordered); one we already had is duplicated; a gap still open at the end is lost.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use crate::message::{Body, Message};

/// The counts of the `summary:` line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Text and payload messages that arrived (End is not counted).
    pub received: u64,
    /// Sequence numbers that never arrived before their sender's End (or before we stopped).
    pub lost: u64,
    /// Messages that arrived more than once.
    pub duplicated: u64,
    /// Messages that arrived after a later message of the same sender.
    pub reordered: u64,
    /// Payloads whose checksum did not match, messages with an impossible sequence number, and
    /// acknowledgements sent to a receiver (only servers send them, only clients expect them).
    pub corrupt: u64,
}

impl Summary {
    /// True when nothing went wrong. `order_promised` is false for mechanisms that do not keep
    /// order (UDP, message types taken out of order): then reordering is not a fault.
    pub fn is_clean(&self, order_promised: bool) -> bool {
        self.lost == 0
            && self.duplicated == 0
            && self.corrupt == 0
            && (self.reordered == 0 || !order_promised)
    }

    /// Adds another summary's counts to this one (a server's total over its clients).
    pub fn add(&mut self, other: &Summary) {
        self.received += other.received;
        self.lost += other.lost;
        self.duplicated += other.duplicated;
        self.reordered += other.reordered;
        self.corrupt += other.corrupt;
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "summary: received={} lost={} duplicated={} reordered={} corrupt={}",
            self.received, self.lost, self.duplicated, self.reordered, self.corrupt
        )
    }
}

/// What one sender has shown us so far.
#[derive(Debug, Default)]
struct SenderTrack {
    /// The next sequence number we expect (starts at 1).
    next: u64,
    /// Gaps not yet filled: start -> end (exclusive).
    gaps: BTreeMap<u64, u64>,
    /// Whether this sender's End has arrived.
    ended: bool,
}

impl SenderTrack {
    /// Records `seq`; returns what it was.
    fn record(&mut self, seq: u64) -> Arrival {
        if self.next == 0 {
            self.next = 1;
        }
        if seq == self.next {
            self.next += 1;
            return Arrival::InOrder;
        }
        if seq > self.next {
            self.gaps.insert(self.next, seq);
            self.next = seq + 1;
            return Arrival::InOrder;
        }
        // seq < next: either it fills a gap (late) or we had it already.
        let Some((&start, &end)) = self.gaps.range(..=seq).next_back() else {
            return Arrival::Duplicate;
        };
        if seq >= end {
            return Arrival::Duplicate;
        }
        self.gaps.remove(&start);
        if start < seq {
            self.gaps.insert(start, seq);
        }
        if seq + 1 < end {
            self.gaps.insert(seq + 1, end);
        }
        Arrival::Late
    }

    fn missing(&self) -> u64 {
        self.gaps.iter().map(|(start, end)| end - start).sum()
    }
}

enum Arrival {
    InOrder,
    Late,
    Duplicate,
}

/// The receiver's bookkeeping over every sender.
#[derive(Debug, Default)]
pub struct Tally {
    senders: HashMap<u32, SenderTrack>,
    summary: Summary,
    ends: u64,
}

impl Tally {
    /// An empty tally.
    pub fn new() -> Self {
        Tally::default()
    }

    /// Records one message that arrived. Returns true when it was an End seen for the first
    /// time (a duplicated End is counted as a duplicate, not as another End).
    pub fn record(&mut self, msg: &Message) -> bool {
        let impossible = msg.seq == 0 || msg.seq == u64::MAX || matches!(msg.body, Body::Ack);
        if impossible || !msg.is_intact() {
            self.summary.corrupt += 1;
            if !msg.is_end() {
                self.summary.received += 1;
            }
            return false;
        }
        let track = self.senders.entry(msg.sender).or_default();
        let arrival = track.record(msg.seq);
        let is_end = matches!(msg.body, Body::End);
        match arrival {
            Arrival::Duplicate => {
                self.summary.duplicated += 1;
                return false;
            }
            Arrival::Late => self.summary.reordered += 1,
            Arrival::InOrder => {}
        }
        if is_end {
            track.ended = true;
            self.ends += 1;
        } else {
            self.summary.received += 1;
        }
        is_end
    }

    /// How many distinct End messages arrived.
    pub fn ends(&self) -> u64 {
        self.ends
    }

    /// The counts so far, with every open gap counted as lost.
    pub fn summary(&self) -> Summary {
        let lost = self.senders.values().map(SenderTrack::missing).sum();
        Summary {
            lost,
            ..self.summary
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(seqs: &[u64]) -> Summary {
        let mut tally = Tally::new();
        for &seq in seqs {
            tally.record(&Message::text(1, seq, "x"));
        }
        tally.summary()
    }

    #[test]
    fn in_order_is_clean() {
        let s = feed(&[1, 2, 3, 4]);
        assert_eq!(
            s,
            Summary {
                received: 4,
                ..Summary::default()
            }
        );
        assert!(s.is_clean(true));
    }

    #[test]
    fn a_gap_is_lost_a_late_arrival_is_reordered_a_repeat_is_duplicated() {
        assert_eq!(feed(&[1, 3]).lost, 1);
        let late = feed(&[1, 3, 2]);
        assert_eq!((late.lost, late.reordered), (0, 1));
        let dup = feed(&[1, 2, 2, 1]);
        assert_eq!((dup.received, dup.duplicated), (2, 2));
        assert!(!dup.is_clean(false));
        assert!(late.is_clean(false) && !late.is_clean(true));
    }

    #[test]
    fn end_closes_the_count_and_counts_lost_tails() {
        let mut tally = Tally::new();
        tally.record(&Message::text(9, 1, "a"));
        assert!(tally.record(&Message::end(9, 3)));
        assert!(
            !tally.record(&Message::end(9, 3)),
            "a repeated End is a duplicate"
        );
        let s = tally.summary();
        assert_eq!((s.received, s.lost, s.duplicated), (1, 1, 1));
        assert_eq!(tally.ends(), 1);
    }

    #[test]
    fn a_hostile_sequence_number_costs_one_range() {
        let s = feed(&[1, u64::MAX - 1]);
        assert_eq!(s.lost, u64::MAX - 3);
    }

    #[test]
    fn senders_are_counted_apart() {
        let mut tally = Tally::new();
        for seq in 1..=3 {
            tally.record(&Message::text(1, seq, "a"));
            tally.record(&Message::text(2, seq, "b"));
        }
        assert!(tally.summary().is_clean(true));
    }

    #[test]
    fn a_corrupt_payload_is_counted() {
        let mut msg = Message::payload(1, 1, 64);
        if let Body::Payload { checksum, .. } = &mut msg.body {
            *checksum ^= 1;
        }
        let mut tally = Tally::new();
        tally.record(&msg);
        assert_eq!(tally.summary().corrupt, 1);
    }
}
