//! [`ShmReader`]: the receiving end of the semaphore handoff, an [`Inbox`] that takes each
//! message out of the next written slot.
//!
//! ```text
//! receiver, per message
//!   P(FULL)
//!   read slot `read_index % S`: decode (or copy) the record in place
//!   V(EMPTY)
//! ```
//!
//! **A sender that dies.** The receiver waits with `semtimedop` (200 ms) and looks at the
//! segment's attach count (`shm_nattch`: the kernel detaches a dead process) when it times
//! out: when no sender is attached, nothing is waiting and fewer Ends arrived than senders
//! attached, a sender died.

use std::sync::atomic::{fence, Ordering};

use ipc_common::receiver::{Delivery, Inbox};
use ipc_common::{wire, Error, Result};
use ipc_sem::Op;

use crate::channel::{Channel, EMPTY, FULL, PEER_CHECK};
use crate::layout::{field, Handoff, SLOT_HEADER};

/// The receiving end: takes each message out of the next written slot.
#[derive(Debug)]
pub struct ShmReader {
    channel: Channel,
    read_index: u32,
    ends: u32,
}

impl ShmReader {
    /// Claims the segment as its one receiver (stores our pid in the header) and takes
    /// ownership of both objects: from now on we remove them when we finish.
    pub fn new(channel: Channel) -> Result<ShmReader> {
        Ok(ShmReader {
            channel: channel.claim_for_reader(Handoff::Synced)?,
            read_index: 0,
            ends: 0,
        })
    }

    /// The channel (for messages about the objects).
    pub fn channel(&self) -> &Channel {
        &self.channel
    }

    /// The slot protocol of the receiving side, shared by the typed and the raw path: waits
    /// for a written slot (P(FULL)), lends its record to `use_record` (decode it, copy it),
    /// then frees the slot (V(EMPTY)). Returns the slot's number with what `use_record` made.
    fn take<R>(&mut self, use_record: impl FnOnce(&[u8]) -> R) -> Result<(u32, R)> {
        while !self.channel.sems.op_timeout(
            [Op::wait(FULL)],
            PEER_CHECK,
            "waiting for a message",
        )? {
            self.check_senders()?;
        }
        // Everything the sender wrote before its V(FULL) is visible from here on.
        fence(Ordering::Acquire);
        let layout = self.channel.layout();
        let slot = self.read_index % layout.slots;
        let taken = self.channel.segment.with_bytes(
            layout.slot_offset(self.read_index),
            layout.slot_size,
            |bytes| {
                let (length_field, rest) = bytes.split_at(SLOT_HEADER);
                let mut len = [0u8; SLOT_HEADER];
                len.copy_from_slice(length_field);
                let len = u32::from_le_bytes(len) as usize;
                match rest.get(..len) {
                    Some(record) => Ok(use_record(record)),
                    None => Err(Error::new(
                        format!("reading slot {slot}"),
                        format!(
                            "its length field says {len} bytes, more than the {} a slot holds",
                            layout.max_message()
                        ),
                    )),
                }
            },
        );
        self.read_index = (self.read_index + 1) % layout.slots;
        // We are done with the slot before the V(EMPTY) that lets a sender overwrite it.
        fence(Ordering::Release);
        self.channel
            .sems
            .op([Op::post(EMPTY)], "freeing the slot")?;
        let made = taken.and_then(|taken| taken)?;
        Ok((slot, made))
    }

    /// Called each time a wait for a message times out: fails if every sender that attached
    /// is gone and one of them left without its End.
    ///
    /// Read in this order, the answer is never wrong: (1) how many senders attached; (2) the
    /// attach count: if only we are attached, each of those senders has detached, and a
    /// sender posts its End before it detaches; (3) FULL: if it is 0, we took every post.
    fn check_senders(&self) -> Result<()> {
        let attached = self.channel.word(field::SENDERS)?;
        if attached == 0 || self.channel.segment.stat()?.nattch > 1 {
            return Ok(()); // no sender yet, or one is attached: keep waiting
        }
        if self.channel.sems.value(FULL)? > 0 || self.ends >= attached {
            return Ok(());
        }
        Err(Error::new(
            "waiting for a message",
            format!(
                "shm-sender went away without sending its End (killed?): {} sender(s) attached, \
                 {} End(s) arrived, none is attached now and no message is waiting",
                attached, self.ends
            ),
        ))
    }
}

impl Inbox for ShmReader {
    /// Waits for the next written slot and decodes its message straight out of the slot (one
    /// copy of the payload, like C's `memcpy`).
    fn receive(&mut self) -> Result<Delivery> {
        let (slot, decoded) = self.take(wire::decode)?;
        let msg = decoded.map_err(|err| err.context(format!("decoding slot {slot}")))?;
        if msg.is_end() {
            self.ends += 1;
        }
        Ok(Delivery::Message(msg))
    }

    /// The raw path: waits for the next written slot and replaces the contents of `out` with
    /// its record, the bytes as [`crate::ShmWriter`]'s `send_bytes` put them (C: `memcpy(buf,
    /// slot, len)`). Like `receive`, fails instead of waiting for ever when every sender has
    /// gone and no record is waiting.
    fn receive_bytes(&mut self, out: &mut Vec<u8>) -> Result<()> {
        self.take(|record| {
            out.clear();
            out.extend_from_slice(record);
        })?;
        Ok(())
    }
}
