//! [`ShmWriter`]: the sending end of the semaphore handoff, an [`Outbox`] that puts each
//! message into the next free slot.
//!
//! ```text
//! sender, per message
//!   P(EMPTY) and P(WRITER), atomically, both with SEM_UNDO
//!   the slot to write: INDEX (semctl GETVAL), or, for the segment's only sender, where its
//!     own last hand-over left INDEX
//!   write slot INDEX: [length][record], encoded or copied in place
//!   V(WRITER), V(FULL) and INDEX+1 (mod S), atomically (cancelling the undo of P(EMPTY))
//! ```
//!
//! The sender takes both EMPTY and WRITER with SEM_UNDO, so a sender killed while it fills a
//! slot gives both back; handing the slot over cancels the undo on EMPTY in the same semop.
//! **No window for a kill.** The write index is the set's INDEX semaphore, advanced in that
//! same semop: the kernel applies the whole semop or none of it, so a sender killed at any
//! instant (even `kill -9` just before or after the semop) has either handed its slot over,
//! counted by FULL, with the index moved past it, or has handed nothing over and moved
//! nothing: the undo gives back the slot and the lock, and the next sender writes the same
//! slot again. (When the index was a header word stored before the semop, a sender killed
//! between the two left a slot that FULL never counted, and the receiver read every later slot
//! one behind.) While it waits for a free slot, the sender checks every 200 ms that the
//! receiver whose pid is in the header is alive (`kill(pid, 0)`).
//!
//! **One sender skips the GETVAL.** Reading INDEX is a `semctl` of its own, which takes the
//! set's lock: measured with a C copy of this protocol (8 slots, 4 KiB, 2 CPUs), it cost a
//! third of each message's time (273k messages/s with it, 381k without, 393k for C's two
//! one-operation semops). Only the holder of WRITER moves INDEX, in its hand-over, and every
//! sender counts itself in the header before its first claim; so a sender that holds WRITER
//! and reads a count of 1 knows that nobody else has ever handed a slot over, and INDEX is
//! where its own last hand-over left it. With several senders, each asks the semaphore.
//!
//! **A test-only pause.** With the environment variable `IPC_PAIRS_TEST_PAUSE_BEFORE_HANDOVER=N`
//! the sender stops after filling its Nth slot, just before the semop that hands it over,
//! prints `test pause: slot filled, not handed over` and waits (Ctrl-C still stops it), so
//! that a test can `kill -9` it exactly there. Nothing else reads the variable.

use std::sync::atomic::{fence, Ordering};
use std::time::Duration;

use ipc_common::process::is_alive;
use ipc_common::sender::Outbox;
use ipc_common::{program, signals, wire, Error, Message, Result};
use ipc_sem::Op;

use crate::channel::{Channel, SenderHold, EMPTY, FULL, INDEX, PEER_CHECK, WRITER};
use crate::layout::{field, Handoff, SLOT_HEADER};

/// The sending end: an [`Outbox`] that puts each message into the next free slot.
#[derive(Debug)]
pub struct ShmWriter {
    hold: SenderHold,
    said_waiting: bool,
    /// Slots handed over so far.
    handed: u64,
    /// The test-only pause: stop before handing over slot number N (see the module docs).
    pause_before: Option<u64>,
    /// Where our last hand-over left INDEX (None before the first, and after a failed one).
    index_after_us: Option<u32>,
}

/// The test-only pause's environment variable (see the module docs).
pub const PAUSE_BEFORE_HANDOVER: &str = "IPC_PAIRS_TEST_PAUSE_BEFORE_HANDOVER";

impl ShmWriter {
    /// Registers as a sender in the channel's header (from then on the receiver counts us,
    /// and notices if we die without our End).
    pub fn new(channel: Channel) -> Result<ShmWriter> {
        Ok(ShmWriter {
            hold: SenderHold::register(channel, Handoff::Synced)?,
            said_waiting: false,
            handed: 0,
            pause_before: std::env::var(PAUSE_BEFORE_HANDOVER)
                .ok()
                .and_then(|n| n.parse().ok()),
            index_after_us: None,
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
        // INDEX changes only in the semop of the holder of WRITER, which we are now.
        let index = self.write_index()?;
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
        // Our writes to the slot happen before the V(FULL) that lets the receiver read it.
        fence(Ordering::Release);
        if let Err(err) = self.test_pause() {
            self.give_slot_back();
            return Err(err);
        }
        // Forgotten first, so that a hand-over that fails leaves us asking the semaphore.
        self.index_after_us = None;
        self.index_after_us = Some(self.hand_slot_over(index)?);
        self.handed += 1;
        Ok(())
    }

    /// The test-only pause (see the module docs): waits, before handing over the slot, until
    /// killed or stopped.
    fn test_pause(&self) -> Result<()> {
        if self.pause_before != Some(self.handed + 1) {
            return Ok(());
        }
        eprintln!(
            "{}: test pause: slot filled, not handed over ({PAUSE_BEFORE_HANDOVER}={})",
            program::name(),
            self.handed + 1
        );
        loop {
            signals::check()?;
            std::thread::sleep(Duration::from_millis(20));
        }
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

    /// V(WRITER), V(FULL) and the index moved past slot `index`, in one atomic semop, which
    /// also cancels the undo of our P(EMPTY): +1 with SEM_UNDO then -1 without leaves EMPTY's
    /// value as it is and its adjustment at 0, so once handed over, the slot is the
    /// receiver's to free. The index wraps around: +1, or -(S-1) from the last slot back to
    /// slot 0 (with one slot that is 0, which in a semop means "wait until zero": INDEX is
    /// always 0 then, so it never waits). Returns the index it left: the next slot to write.
    fn hand_slot_over(&self, index: u32) -> Result<u32> {
        let slots = self.hold.channel.layout().slots;
        // slots <= MAX_SLOTS = 32767 (Layout::new), so both steps fit an i16.
        let (step, next) = if index + 1 >= slots {
            (-((slots - 1) as i16), 0)
        } else {
            (1, index + 1)
        };
        self.hold.channel.sems.op(
            [
                Op::post(WRITER).undo(),
                Op::post(FULL),
                Op::post(EMPTY).undo(),
                Op::wait(EMPTY),
                Op::add(INDEX, step),
            ],
            "handing the slot over",
        )?;
        Ok(next)
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

    /// The slot to write, asked while we hold WRITER, so no other sender moves INDEX until
    /// our hand-over: where our last hand-over left it if no other sender ever registered
    /// (see the module docs), else C `semctl(id, INDEX, GETVAL)`.
    fn write_index(&self) -> Result<u32> {
        if let Some(index) = self.index_after_us {
            if self.hold.channel.word(field::SENDERS)? == 1 {
                return Ok(index);
            }
        }
        let value = self.hold.channel.sems.value(INDEX)?;
        let slots = self.hold.channel.layout().slots;
        u32::try_from(value)
            .ok()
            .filter(|index| *index < slots)
            .ok_or_else(|| {
                Error::new(
                    "finding the slot to write",
                    format!(
                        "the index semaphore holds {value}, not a slot 0 to {}",
                        slots - 1
                    ),
                )
            })
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
