//! The producer end: fills the slot at `head`, then publishes it.
//!
//! ```text
//! if head - tail == slots: wait until the consumer releases a slot   (the ring is full)
//! slot[head % slots] = (len, bytes)                                    plain copies
//! head.store(head + 1, Release)                                        publish
//! if consumer_sleeping: futex_wake                                     only then a syscall
//! ```
//!
//! The `Release` store of `head` orders the copies before it: a consumer that reads the new
//! `head` with `Acquire` also sees the bytes of the slot.

use std::sync::atomic::Ordering;
use std::time::Duration;

use ipc_common::{Error, Result};

use crate::layout::state;
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
        self.send_with(record.len(), |slot| {
            slot.copy_from_slice(record);
            Ok(record.len())
        })
        .map(drop)
    }

    /// Lets `fill` write the next record straight into its slot, then publishes it: no
    /// buffer of our own and no second copy. Waits while the ring is full.
    ///
    /// `fill` gets the slot's first `max_len` bytes (at most [`Ring::slot_size`]) and returns
    /// how many of them make the record (at most `max_len`); that is what `send_with`
    /// returns. If `fill` fails, nothing is published and the error is returned: the slot
    /// stays ours for the next try. A sender of `Message`s encodes in place with
    ///
    /// ```no_run
    /// # fn demo(tx: &mut ipc_ring::Producer, msg: &ipc_common::Message) -> ipc_common::Result<()> {
    /// use ipc_common::wire;
    /// tx.send_with(wire::encoded_len(msg), |slot| {
    ///     wire::encode_into_slice(msg, slot).map_err(|err| err.context("encoding a message"))
    /// })?;
    /// # Ok(()) }
    /// ```
    pub fn send_with(
        &mut self,
        max_len: usize,
        fill: impl FnOnce(&mut [u8]) -> Result<usize>,
    ) -> Result<usize> {
        let geometry = self.ring.geometry();
        if max_len > geometry.slot_size {
            return Err(Error::new(
                format!("sending a record into the ring {}", self.ring.name()),
                format!(
                    "{max_len} bytes do not fit in a slot of {} bytes",
                    geometry.slot_size
                ),
            )
            .with_hint("create the ring with larger slots"));
        }
        let slots = geometry.slots as u64;
        if self.head.wrapping_sub(self.tail_seen) >= slots {
            self.wait_for_space()?;
        }
        let offset = geometry.slot_offset(self.head);
        let bytes_at = offset + crate::layout::SLOT_HEADER;
        let Some(slot) = self.ring.map_mut().slice_mut(bytes_at, max_len) else {
            return Err(layout_bug(offset));
        };
        let len = fill(slot)?;
        if len > max_len {
            return Err(Error::new(
                format!("sending a record into the ring {}", self.ring.name()),
                format!("the record claims {len} bytes of the {max_len} it was given"),
            ));
        }
        let header = self.ring.header();
        let Some(len_word) = self.ring.map().slot_len(offset) else {
            return Err(layout_bug(offset));
        };
        len_word.store(len as u64, Ordering::Relaxed);
        // Publish: the Release store orders the slot's bytes (and its length) before it.
        self.head = self.head.wrapping_add(1);
        header.head.0.store(self.head, Ordering::Release);
        self.waiter.wake(&header.consumer_sleeping.0);
        Ok(len)
    }

    /// Waits until the consumer has released a slot: spins on `tail` alone first, then
    /// sleeps (and only then checks whether the consumer went away or died).
    fn wait_for_space(&mut self) -> Result<()> {
        let header = self.ring.header();
        let slots = self.ring.geometry().slots as u64;
        let head = self.head;
        let tail_seen = &mut self.tail_seen;
        let has_space = self.waiter.spin_until(|| {
            *tail_seen = header.tail.0.load(Ordering::Acquire);
            head.wrapping_sub(*tail_seen) < slots
        });
        if has_space {
            return Ok(());
        }
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

/// A slot outside the mapping: only a bug in `layout.rs` can cause it.
fn layout_bug(offset: usize) -> Error {
    Error::new(
        "writing a ring slot",
        format!("slot offset {offset} is outside the mapping (a bug in the layout)"),
    )
}
