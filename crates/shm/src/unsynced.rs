//! The experiment `--no-sync`: the same segment and slots with no handoff at all, to show
//! what the semaphores prevent.
//!
//! [`UnsyncedWriter`] overwrites the slots in turn as fast as it can, whether or not they have
//! been read; [`UnsyncedReader`] copies whatever a slot holds, once a millisecond (as the
//! tutorial's polling receiver does, minus its `written_by_you` flag), whether it is new, old
//! or half-written. The summary then counts what the handoff prevents: messages overwritten
//! before they were read (lost), read twice (duplicated) and torn by a concurrent write
//! (corrupt). Both ends must agree: the header records which handoff the first end uses.
//!
//! With no semaphore to order the two processes, each copy is a volatile one
//! ([`crate::ShmSegment::read`], [`crate::ShmSegment::write`]; see crates/shm/src/sys.rs): a
//! torn slot, never a torn program.

use std::time::Duration;

use ipc_common::message::Body;
use ipc_common::receiver::{Delivery, Inbox};
use ipc_common::sender::Outbox;
use ipc_common::{signals, wire, Error, Message, Result};

use crate::channel::{Channel, SenderHold};
use crate::layout::{field, Handoff, SLOT_HEADER};

/// How often the receiver copies a slot (the tutorial's receiver polls too).
const POLL: Duration = Duration::from_millis(1);

/// The `--no-sync` sender: overwrites the slots in turn, never waiting.
#[derive(Debug)]
pub struct UnsyncedWriter {
    hold: SenderHold,
    /// The record, before its volatile copy into the slot.
    scratch: Vec<u8>,
}

impl UnsyncedWriter {
    /// Registers as a sender of a segment whose ends both run `--no-sync`.
    pub fn new(channel: Channel) -> Result<UnsyncedWriter> {
        Ok(UnsyncedWriter {
            hold: SenderHold::register(channel, Handoff::NoSync)?,
            scratch: Vec::new(),
        })
    }

    /// The channel (for messages about the objects).
    pub fn channel(&self) -> &Channel {
        &self.hold.channel
    }

    /// Everything was sent: leave both objects to the receiver, as
    /// [`crate::ShmWriter::finish`] does.
    pub fn finish(mut self) -> Result<u32> {
        self.hold.finish()
    }
}

impl Outbox for UnsyncedWriter {
    /// Encodes `msg` into our buffer, then copies it into the next slot with volatile writes.
    fn send(&mut self, msg: &Message) -> Result<()> {
        let layout = self.hold.channel.layout();
        let len = wire::encoded_len(msg);
        layout.check_fits(len, "bytes encoded", || {
            format!("sending message {}", msg.seq)
        })?;
        self.scratch.resize(len, 0);
        let written = wire::encode_into_slice(msg, &mut self.scratch)
            .map_err(|err| err.context(format!("encoding message {}", msg.seq)))?;
        let index = self.hold.channel.word(field::WRITE_INDEX)?;
        let offset = layout.slot_offset(index);
        let segment = self.hold.channel.segment();
        segment.write(offset, &(written as u32).to_le_bytes())?;
        segment.write(offset + SLOT_HEADER, &self.scratch[..written])?;
        let next = index.wrapping_add(1) % layout.slots;
        segment
            .word(field::WRITE_INDEX)?
            .store(next, std::sync::atomic::Ordering::Release);
        Ok(())
    }
}

/// The `--no-sync` receiver: copies a slot every millisecond, whatever it holds.
#[derive(Debug)]
pub struct UnsyncedReader {
    channel: Channel,
    read_index: u32,
    /// The volatile copy of a slot.
    buf: Vec<u8>,
    /// The senders whose End we have read (an End may be read more than once).
    ended: Vec<u32>,
    /// Every sender had detached when the current lap of the slots began.
    senders_gone: bool,
}

impl UnsyncedReader {
    /// Claims the segment as its one receiver and takes ownership of both objects.
    pub fn new(channel: Channel) -> Result<UnsyncedReader> {
        Ok(UnsyncedReader {
            channel: channel.claim_for_reader(Handoff::NoSync)?,
            read_index: 0,
            buf: Vec::new(),
            ended: Vec::new(),
            senders_gone: false,
        })
    }

    /// The channel (for messages about the objects).
    pub fn channel(&self) -> &Channel {
        &self.channel
    }

    /// At the start of each lap of the slots: fails if every sender that attached had already
    /// detached when the previous lap began (so that lap saw every slot's last message) and
    /// fewer Ends than senders were read.
    fn check_senders(&mut self) -> Result<()> {
        let attached = self.channel.word(field::SENDERS)?;
        let gone = attached > 0 && self.channel.segment().stat()?.nattch <= 1;
        if gone && self.senders_gone && (self.ended.len() as u32) < attached {
            return Err(Error::new(
                "reading the slots (--no-sync)",
                format!(
                    "shm-sender went away and no slot holds its End: {attached} sender(s) \
                     attached, {} End(s) read",
                    self.ended.len()
                ),
            ));
        }
        self.senders_gone = gone;
        Ok(())
    }
}

impl Inbox for UnsyncedReader {
    /// Copies the next slot without waiting for a V(FULL), every `POLL`, and returns what
    /// it holds: a new message, one read before (duplicated), or a mix of two (torn: it fails
    /// to decode or its checksum does not match, and comes back as a message the summary
    /// counts as corrupt). A slot never written is skipped.
    fn receive(&mut self) -> Result<Delivery> {
        let layout = self.channel.layout();
        loop {
            signals::check()?;
            if self.read_index % layout.slots == 0 {
                self.check_senders()?;
            }
            let offset = layout.slot_offset(self.read_index);
            self.read_index = (self.read_index + 1) % layout.slots;
            std::thread::sleep(POLL);
            let mut len = [0u8; SLOT_HEADER];
            self.channel.segment().read(offset, &mut len)?;
            let len = u32::from_le_bytes(len) as usize;
            if len == 0 {
                continue; // never written yet
            }
            // A torn length can point past the slot: copy at most the slot.
            self.buf.resize(len.min(layout.max_message()), 0);
            self.channel
                .segment()
                .read(offset + SLOT_HEADER, &mut self.buf)?;
            let msg = match wire::decode(&self.buf) {
                Ok(msg) if len <= layout.max_message() => msg,
                _ => torn(&self.buf),
            };
            if msg.is_end() && !self.ended.contains(&msg.sender) {
                self.ended.push(msg.sender);
            }
            return Ok(Delivery::Message(msg));
        }
    }

    /// No raw path: without the handoff there are no records to take, only slots to copy.
    fn receive_bytes(&mut self, _out: &mut Vec<u8>) -> Result<()> {
        Err(Error::new(
            "receiving a record of bytes",
            "the raw path needs the semaphore handoff, and this reader runs --no-sync",
        ))
    }
}

/// What the receiver makes of a slot that does not decode: a message the summary counts as
/// corrupt (sequence number 0 is impossible, and the checksum does not match), with the bytes
/// it found.
fn torn(bytes: &[u8]) -> Message {
    let checksum = ipc_common::message::checksum(bytes).wrapping_add(1);
    Message {
        sender: 0,
        seq: 0,
        body: Body::Payload {
            bytes: bytes.to_vec(),
            checksum,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_torn_slot_counts_as_corrupt() {
        let mut tally = ipc_common::tally::Tally::new();
        tally.record(&torn(b"half of one message, half of another"));
        let summary = tally.summary();
        assert_eq!((summary.received, summary.corrupt), (1, 1));
    }
}
