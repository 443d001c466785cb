//! [`ShmWriter`]: the sending end of the semaphore handoff, an [`Outbox`] that puts each
//! message into the next free slot.
//!
//! ```text
//! sender, per message
//!   P(EMPTY) and P(WRITER), atomically, both with SEM_UNDO
//!   write slot `write_index % S`: [length][record], encoded or copied in place
//!   V(WRITER) and V(FULL), atomically (cancelling the undo of P(EMPTY))
//! ```
//!
//! The sender takes both EMPTY and WRITER with SEM_UNDO, so a sender killed while it fills a
//! slot gives both back; handing the slot over cancels the undo on EMPTY in the same semop.
//! (A sender killed in the instant after it advanced the write index but before that semop
//! leaves a written slot that FULL does not count: the receiver then ends with an error when
//! the last sender leaves, rather than waiting for ever.) While it waits for a free slot, the
//! sender checks every 200 ms that the receiver whose pid is in the header is alive
//! (`kill(pid, 0)`).

use std::sync::atomic::{fence, AtomicU32, Ordering};

use ipc_common::process::is_alive;
use ipc_common::sender::Outbox;
use ipc_common::{program, wire, Error, Message, Result};
use ipc_sem::Op;

use crate::channel::{Channel, SenderHold, EMPTY, FULL, PEER_CHECK, WRITER};
use crate::layout::{field, Handoff, SLOT_HEADER};

/// The sending end: an [`Outbox`] that puts each message into the next free slot.
#[derive(Debug)]
pub struct ShmWriter {
    hold: SenderHold,
    said_waiting: bool,
}

impl ShmWriter {
    /// Registers as a sender in the channel's header (from then on the receiver counts us,
    /// and notices if we die without our End).
    pub fn new(channel: Channel) -> Result<ShmWriter> {
        Ok(ShmWriter {
            hold: SenderHold::register(channel, Handoff::Synced)?,
            said_waiting: false,
        })
    }

    /// The channel (for messages about the objects).
    pub fn channel(&self) -> &Channel {
        &self.hold.channel
    }

    /// Everything was sent, End included: leave both objects to the receiver, which reads
    /// what is still in the slots and removes them. Returns the receiver's pid, 0 if none yet;
    /// fails if the receiver was killed, and then removes both objects itself.
    pub fn finish(mut self) -> Result<u32> {
        self.hold.finish()
    }

    /// Called each time a wait for a free slot times out: fails if the receiver died.
    fn check_receiver(&mut self) -> Result<()> {
        let pid = self.hold.channel.word(field::RECEIVER_PID)?;
        if pid == 0 {
            if !self.said_waiting {
                self.said_waiting = true;
                eprintln!(
                    "{}: every slot is full; waiting for shm-receiver to start",
                    program::name()
                );
            }
            return Ok(());
        }
        if is_alive(pid) {
            return Ok(());
        }
        // The receiver cannot remove the objects any more: we do it.
        self.hold.channel.remove_when_done(true);
        Err(Error::new(
            "waiting for a free slot",
            format!("shm-receiver (pid {pid}) is gone without removing the segment (killed?)"),
        )
        .with_hint("start shm-receiver again, then the sender"))
    }

    /// The slot protocol of the sending side, shared by the typed and the raw path: waits for
    /// a free slot, lets `fill` write at most `len` bytes (`len` <= the slot's room, checked
    /// by the caller) straight into it, records how many it wrote in the slot's length field,
    /// and hands the slot over to the receiver.
    fn put(&mut self, len: usize, fill: impl FnOnce(&mut [u8]) -> Result<usize>) -> Result<()> {
        self.claim_slot()?;
        // Everything the receiver wrote before its V(EMPTY) is visible from here on.
        fence(Ordering::Acquire);
        let layout = self.hold.channel.layout();
        // WRITE_INDEX changes only under WRITER, which we hold: the semops order it, so
        // Acquire and Release say enough (no SeqCst needed).
        let index = self.index_word()?.load(Ordering::Acquire);
        let filled: Result<()> = self
            .hold
            .channel
            .segment
            .with_bytes_mut(layout.slot_offset(index), SLOT_HEADER + len, |slot| {
                let (length_field, record) = slot.split_at_mut(SLOT_HEADER);
                let written = fill(record)?;
                // `written` <= len <= max_message, which fits in a u32 (see Layout::new).
                length_field.copy_from_slice(&(written as u32).to_le_bytes());
                Ok(())
            })
            .and_then(|filled| filled);
        if let Err(err) = filled {
            self.give_slot_back();
            return Err(err);
        }
        self.advance_write_index(index)?;
        // Our writes to the slot happen before the V(FULL) that lets the receiver read it.
        fence(Ordering::Release);
        self.hand_slot_over()
    }

    /// P(EMPTY) and P(WRITER), in one atomic semop: a free slot, and the right to fill it.
    /// Both with SEM_UNDO: a sender killed before it hands the slot over gives back the slot
    /// as well as the lock (the kernel applies the undo when the process dies), so other
    /// senders never wait for ever on a slot a dead one took. Every [`PEER_CHECK`] without
    /// a free slot, we look whether the receiver is still alive.
    fn claim_slot(&mut self) -> Result<()> {
        let claim = [Op::wait(EMPTY).undo(), Op::wait(WRITER).undo()];
        while !self
            .hold
            .channel
            .sems
            .op_timeout(claim, PEER_CHECK, "waiting for a free slot")?
        {
            self.check_receiver()?;
        }
        Ok(())
    }

    /// V(WRITER) and V(FULL), in one atomic semop, which also cancels the undo of our
    /// P(EMPTY): +1 with SEM_UNDO then -1 without leaves EMPTY's value as it is and its
    /// adjustment at 0, so once handed over, the slot is the receiver's to free.
    fn hand_slot_over(&self) -> Result<()> {
        self.hold.channel.sems.op(
            [
                Op::post(WRITER).undo(),
                Op::post(FULL),
                Op::post(EMPTY).undo(),
                Op::wait(EMPTY),
            ],
            "handing the slot over",
        )
    }

    /// Undoes [`claim_slot`](Self::claim_slot) when the slot could not be filled: the slot
    /// and the lock go back as they were, adjustments included. If even that fails, the
    /// kernel's undo gives both back when this process exits.
    fn give_slot_back(&self) {
        let back = [Op::post(WRITER).undo(), Op::post(EMPTY).undo()];
        if let Err(err) = self.hold.channel.sems.op(back, "giving the slot back") {
            eprintln!("{}: warning: {err}", program::name());
        }
    }

    /// The header word with the next slot to write.
    fn index_word(&self) -> Result<&AtomicU32> {
        self.hold.channel.segment.word(field::WRITE_INDEX)
    }

    /// The next sender writes the slot after `index` (the ring wraps around after S).
    fn advance_write_index(&self, index: u32) -> Result<()> {
        let next = index.wrapping_add(1) % self.hold.channel.layout().slots;
        self.index_word()?.store(next, Ordering::Release);
        Ok(())
    }
}

impl Outbox for ShmWriter {
    /// Encodes `msg` straight into the next free slot (no scratch buffer: one copy of the
    /// payload, like C's `memcpy`).
    fn send(&mut self, msg: &Message) -> Result<()> {
        let len = wire::encoded_len(msg);
        self.hold
            .channel
            .layout()
            .check_fits(len, "bytes encoded", || {
                format!("sending message {}", msg.seq)
            })?;
        self.put(len, |record| {
            wire::encode_into_slice(msg, record)
                .map_err(|err| err.context(format!("encoding message {}", msg.seq)))
        })
    }

    /// The raw path: puts `bytes`, as they are, into the next free slot as one record
    /// (C: `memcpy(slot, buf, len)`), with the same handoff. Fails, without touching a slot,
    /// when the record does not fit a slot.
    fn send_bytes(&mut self, bytes: &[u8]) -> Result<()> {
        self.hold
            .channel
            .layout()
            .check_fits(bytes.len(), "bytes", || {
                "sending a record of bytes".to_string()
            })?;
        self.put(bytes.len(), |record| {
            record.copy_from_slice(bytes);
            Ok(bytes.len())
        })
    }
}
