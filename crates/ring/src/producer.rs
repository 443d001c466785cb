//! The producer end: fills the slot at `head`, then publishes it.
//!
//! ```text
//! if head - tail == slots: wait until the consumer releases a slot   (the ring is full)
//! slot[head % slots].bytes = record                                    plain copies
//! slot[head % slots].word.store(stamp(head + 1) | len << 32, Release)  publish
//! head.store(head + 1, Release)                                        the count, for others
//! if consumer_sleeping: futex_wake                                     only then a syscall
//! cldemote the record's lines                                          a hint to the caches
//! ```
//!
//! The `Release` store of the slot word orders the copies before it: a consumer that reads
//! the new stamp with `Acquire` also sees the bytes of the slot.

use std::sync::atomic::Ordering;
use std::time::Duration;

use ipc_common::{Error, Result};

use crate::layout::{self, state, SLOT_HEADER};
use crate::ring::Ring;
use crate::wait::{Peer, Waiter};
use crate::WaitStats;

/// The sending end of a ring. Not `Clone`: a ring has exactly one producer.
#[derive(Debug)]
pub struct Producer {
    ring: Ring,
    /// Records published (our private copy of `head`).
    head: u64,
    /// The consumer's `tail` as we last read it: re-read only when the ring looks full.
    tail_seen: u64,
    waiter: Waiter,
    closed: bool,
}

/// Up to this many bytes (`max_len`), [`Producer::send_with`] lets `fill` write into a buffer
/// of ours and copies the record into its slot in one go; above, `fill` writes in place. The
/// copy costs about 30 ns per KiB, the fight over the slot's first lines a few hundred ns, but
/// only while the consumer polls them, which matters for a record of a few lines. Measured
/// with `ipc-bench --only ring`: a 64-byte Message's round trip 1.17 us in place, 0.88 staged
/// (serde's field-by-field encoder); once payloads were written in three copies
/// (payload_layout.rs), a 4 KiB Message stream was 0.88x the raw one staged and 0.93x in place
/// (issue 16), so only records of up to 256 bytes are staged.
pub const STAGE_BYTES: usize = 256;

impl Producer {
    /// Makes `ring` this process's producer end (fails if it already has one).
    pub fn new(ring: Ring) -> Result<Producer> {
        ring.claim("producer")?;
        let head = ring.header().head.0.load(Ordering::Acquire);
        let tail_seen = ring.header().tail.0.load(Ordering::Acquire);
        Ok(Producer {
            ring,
            head,
            tail_seen,
            waiter: Waiter::new(),
            closed: false,
        })
    }

    /// Copies `record` into the next slot and publishes it; waits while the ring is full.
    ///
    /// Fails when the record is larger than a slot, when the consumer went away or died, and
    /// on Ctrl-C (after [`ipc_common::signals::install`]).
    pub fn send(&mut self, record: &[u8]) -> Result<()> {
        self.fill_in_place(record.len(), |slot| {
            slot.copy_from_slice(record);
            Ok(record.len())
        })
        .map(drop)
    }

    /// Lets `fill` write the next record, then publishes it. Waits while the ring is full.
    ///
    /// `fill` gets `max_len` bytes (at most [`Ring::slot_size`]) and returns how many of them
    /// make the record (at most `max_len`); that is what `send_with` returns. If `fill` fails,
    /// nothing is published and the error is returned: the slot stays ours for the next try.
    /// A sender of `Message`s encodes with
    ///
    /// ```no_run
    /// # fn demo(tx: &mut ipc_ring::Producer, msg: &ipc_common::Message) -> ipc_common::Result<()> {
    /// use ipc_common::wire;
    /// tx.send_with(wire::encoded_len(msg), |slot| {
    ///     wire::encode_into_slice(msg, slot).map_err(|err| err.context("encoding a message"))
    /// })?;
    /// # Ok(()) }
    /// ```
    ///
    /// Where `fill` writes: a record of more than [`STAGE_BYTES`] goes straight into its slot
    /// (no second copy of a large record). A smaller one is written into a buffer of ours and
    /// copied into the slot in one go: a waiting consumer polls the slot's first lines, and an
    /// encoder writing them field by field would have to win each line back from it, store
    /// after store (a 64-byte Message's round trip took a third longer that way).
    pub fn send_with(
        &mut self,
        max_len: usize,
        fill: impl FnOnce(&mut [u8]) -> Result<usize>,
    ) -> Result<usize> {
        if max_len > STAGE_BYTES {
            return self.fill_in_place(max_len, fill);
        }
        self.check_fits(max_len)?;
        // On the stack: a record this small needs no buffer kept in `self`.
        let mut staging = [0; STAGE_BYTES];
        let len = fill(&mut staging[..max_len])?;
        if len > max_len {
            return Err(too_long(self.ring.name(), len, max_len));
        }
        self.send(&staging[..len]).map(|()| len)
    }

    /// Fails when `max_len` bytes do not fit in a slot.
    fn check_fits(&self, max_len: usize) -> Result<()> {
        let slot_size = self.ring.slot_size();
        if max_len <= slot_size {
            return Ok(());
        }
        Err(Error::new(
            format!("sending a record into the ring {}", self.ring.name()),
            format!("{max_len} bytes do not fit in a slot of {slot_size} bytes"),
        )
        .with_hint("create the ring with larger slots"))
    }

    /// Fills the next slot in place with `fill`, then publishes it.
    fn fill_in_place(
        &mut self,
        max_len: usize,
        fill: impl FnOnce(&mut [u8]) -> Result<usize>,
    ) -> Result<usize> {
        self.check_fits(max_len)?;
        let geometry = self.ring.geometry();
        let slots = geometry.slots as u64;
        if self.head.wrapping_sub(self.tail_seen) >= slots {
            self.wait_for_space()?;
        }
        let offset = geometry.slot_offset(self.head);
        let bytes_at = offset + SLOT_HEADER;
        let Some(slot) = self.ring.map_mut().slice_mut(bytes_at, max_len) else {
            return Err(layout_bug(offset));
        };
        let len = fill(slot)?;
        if len > max_len {
            return Err(too_long(self.ring.name(), len, max_len));
        }
        let header = self.ring.header();
        let map = self.ring.map();
        let Some(word) = map.slot_word(offset) else {
            return Err(layout_bug(offset));
        };
        // Publish: the slot word (stamp and length) with Release orders the slot's bytes
        // before it; the consumer polls this word. `head` counts for everyone else.
        self.head = self.head.wrapping_add(1);
        word.store(layout::slot_word(self.head, len), Ordering::Release);
        header.head.0.store(self.head, Ordering::Release);
        self.waiter.wake(&header.consumer_sleeping.0);
        // Push the record's lines out to the shared cache, where the consumer finds them
        // sooner than in our core's private cache.
        map.demote(offset, SLOT_HEADER + len);
        Ok(len)
    }

    /// Waits until the consumer has released a slot: spins on `tail` alone first, then
    /// sleeps (and only then checks whether the consumer went away or died).
    fn wait_for_space(&mut self) -> Result<()> {
        let header = self.ring.header();
        let slots = self.ring.geometry().slots as u64;
        let head = self.head;
        // A local in the spin loop, as in `Consumer::wait_for_record`.
        let mut seen = self.tail_seen;
        let has_space = self.waiter.spin_until(|| {
            seen = header.tail.0.load(Ordering::Acquire);
            head.wrapping_sub(seen) < slots
        });
        if has_space {
            self.tail_seen = seen;
            return Ok(());
        }
        let tail_seen = &mut self.tail_seen;
        let name = self.ring.name();
        let peer = || Peer {
            role: "consumer",
            pid: header.fixed.0.consumer_pid.load(Ordering::Acquire),
        };
        self.waiter
            .sleep_until(&header.producer_sleeping.0, &peer, || {
                *tail_seen = header.tail.0.load(Ordering::Acquire);
                if head.wrapping_sub(*tail_seen) < slots {
                    return Ok(true);
                }
                if header.fixed.0.consumer_state.load(Ordering::Acquire) == state::GONE {
                    return Err(Error::new(
                        format!("sending into the ring {name}"),
                        "the consumer went away (it stopped reading)",
                    )
                    .with_hint("look at the consumer's error output"));
                }
                Ok(false)
            })
    }

    /// Says "no more records": the consumer's `recv` returns `false` once it has taken every
    /// record before this. Dropping a producer without closing tells the consumer that the
    /// stream broke off instead.
    pub fn close(mut self) -> Result<()> {
        self.closed = true;
        let header = self.ring.header();
        header
            .fixed
            .0
            .producer_state
            .store(state::CLOSED, Ordering::Release);
        self.waiter.wake(&header.consumer_sleeping.0);
        Ok(())
    }

    /// How long to spin before sleeping when the ring is full (default 50 microseconds;
    /// zero sleeps at once).
    pub fn set_spin(&mut self, spin: Duration) {
        self.waiter.spin = spin;
    }

    /// How often this end slept and woke the consumer so far.
    pub fn stats(&self) -> WaitStats {
        WaitStats {
            sleeps: self.waiter.sleeps,
            wakes: self.waiter.wakes,
        }
    }

    /// The ring this end writes to.
    pub fn ring(&self) -> &Ring {
        &self.ring
    }
}

impl Drop for Producer {
    fn drop(&mut self) {
        if !self.closed {
            let header = self.ring.header();
            header
                .fixed
                .0
                .producer_state
                .store(state::GONE, Ordering::Release);
            self.waiter.wake(&header.consumer_sleeping.0);
        }
    }
}

/// A `fill` that claims more bytes than it was given.
fn too_long(ring: &str, len: usize, max_len: usize) -> Error {
    Error::new(
        format!("sending a record into the ring {ring}"),
        format!("the record claims {len} bytes of the {max_len} it was given"),
    )
}

/// A slot outside the mapping: only a bug in `layout.rs` can cause it.
fn layout_bug(offset: usize) -> Error {
    Error::new(
        "writing a ring slot",
        format!("slot offset {offset} is outside the mapping (a bug in the layout)"),
    )
}
