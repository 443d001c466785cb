//! The consumer end: copies the slot at `tail` out, then releases it.
//!
//! ```text
//! if tail == head: wait until the producer publishes (or closes)      (the ring is empty)
//! prefetch slot[tail % slots]                                          its first lines, at once
//! (len, bytes) = slot[tail % slots]                                    read (or copied) in place
//! tail.store(tail + 1, Release)                                        release the slot
//! if producer_sleeping: futex_wake                                     only then a syscall
//! ```
//!
//! The `Acquire` load of `head` makes the producer's copies visible before we read the slot;
//! the `Release` store of `tail` orders our copies before the producer may overwrite it.

use std::sync::atomic::Ordering;
use std::time::Duration;

use ipc_common::{Error, Result};

use crate::layout::{state, SLOT_HEADER};

/// How much of a slot the consumer prefetches before reading the record's length: its first
/// four cache lines (a record of up to 248 bytes, whole). Larger records stream behind them.
const PREFETCH_BYTES: usize = 256;
use crate::ring::Ring;
use crate::wait::{Peer, Waiter};
use crate::WaitStats;

/// The receiving end of a ring. Not `Clone`: a ring has exactly one consumer.
#[derive(Debug)]
pub struct Consumer {
    ring: Ring,
    /// Records released (our private copy of `tail`).
    tail: u64,
    /// The producer's `head` as we last read it: re-read only when the ring looks empty.
    head_seen: u64,
    waiter: Waiter,
}

impl Consumer {
    /// Makes `ring` this process's consumer end (fails if it already has one).
    pub fn new(ring: Ring) -> Result<Consumer> {
        ring.claim("consumer")?;
        let tail = ring.header().tail.0.load(Ordering::Acquire);
        let head_seen = ring.header().head.0.load(Ordering::Acquire);
        Ok(Consumer {
            ring,
            tail,
            head_seen,
            waiter: Waiter::new(),
        })
    }

    /// Takes the next record into `buf` (replacing its contents); waits while the ring is
    /// empty. Returns `Ok(false)` once the producer has closed and every record was taken.
    ///
    /// Fails when the producer went away without closing or died, and on Ctrl-C.
    pub fn recv(&mut self, buf: &mut Vec<u8>) -> Result<bool> {
        let taken = self.recv_with(|bytes| {
            buf.clear();
            buf.extend_from_slice(bytes);
        })?;
        Ok(taken.is_some())
    }

    /// Takes the next record without copying it: `f` reads it in place, in the slot, and the
    /// slot goes back to the producer when `f` returns. Waits while the ring is empty; returns
    /// `Ok(None)` once the producer has closed and every record was taken. This is how a
    /// receiver decodes a message straight out of shared memory.
    pub fn recv_with<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> Result<Option<R>> {
        if self.tail == self.head_seen && !self.wait_for_record()? {
            return Ok(None);
        }
        let geometry = self.ring.geometry();
        let offset = geometry.slot_offset(self.tail);
        let map = self.ring.map();
        // Fetch the record's first lines now, in parallel, rather than one after the other
        // as the copy below would (see `Mapping::prefetch`).
        map.prefetch(offset, geometry.stride().min(PREFETCH_BYTES));
        let len = map
            .slot_len(offset)
            .map(|word| word.load(Ordering::Relaxed))
            .unwrap_or(u64::MAX);
        let bytes = usize::try_from(len)
            .ok()
            .filter(|&len| len <= geometry.slot_size)
            .and_then(|len| map.slice(offset + SLOT_HEADER, len));
        let Some(bytes) = bytes else {
            return Err(Error::new(
                format!("reading the ring {}", self.ring.name()),
                format!(
                    "record {} claims {len} bytes, more than a slot of {} holds",
                    self.tail + 1,
                    geometry.slot_size
                ),
            )
            .with_hint("another program wrote into the ring: use a name of your own"));
        };
        let out = f(bytes);
        // Release the slot only now: `f` is done with it.
        self.tail = self.tail.wrapping_add(1);
        let header = self.ring.header();
        header.tail.0.store(self.tail, Ordering::Release);
        self.waiter.wake(&header.producer_sleeping.0);
        Ok(Some(out))
    }

    /// Waits until a record is there (true) or the producer closed with none left (false).
    ///
    /// First spins on `head` alone (the fast path: nothing else is read while the producer
    /// keeps up); after the spin budget, sleeps, and only then looks at the producer's state.
    #[inline]
    fn wait_for_record(&mut self) -> Result<bool> {
        let head = &self.ring.header().head.0;
        let tail = self.tail;
        let head_seen = &mut self.head_seen;
        let arrived = self.waiter.spin_until(|| {
            *head_seen = head.load(Ordering::Acquire);
            *head_seen != tail
        });
        if arrived {
            return Ok(true);
        }
        self.sleep_for_record()
    }

    /// The slow half of [`Consumer::wait_for_record`]: sleep on the futex until a record is
    /// there, the producer closed, went away or died, or Ctrl-C.
    #[cold]
    #[inline(never)]
    fn sleep_for_record(&mut self) -> Result<bool> {
        let header = self.ring.header();
        let tail = self.tail;
        let name = self.ring.name();
        let head_seen = &mut self.head_seen;
        let mut closed = false;
        let peer = || Peer {
            role: "producer",
            pid: header.fixed.0.producer_pid.load(Ordering::Acquire),
        };
        self.waiter
            .sleep_until(&header.consumer_sleeping.0, &peer, || {
                // The state, then `head` again. A close is stored after the last head, so
                // seeing CLOSED guarantees that the head read after it is the final one.
                *head_seen = header.head.0.load(Ordering::Acquire);
                if *head_seen != tail {
                    return Ok(true);
                }
                let producer = header.fixed.0.producer_state.load(Ordering::Acquire);
                *head_seen = header.head.0.load(Ordering::Acquire);
                if *head_seen != tail {
                    return Ok(true);
                }
                match producer {
                    state::CLOSED => {
                        closed = true;
                        Ok(true)
                    }
                    state::GONE => Err(Error::new(
                        format!("reading the ring {name}"),
                        "the producer went away without closing the stream",
                    )
                    .with_hint("look at the producer's error output")),
                    _ => Ok(false),
                }
            })?;
        Ok(!closed)
    }

    /// How long to spin before sleeping when the ring is empty (default 50 microseconds;
    /// zero sleeps at once).
    pub fn set_spin(&mut self, spin: Duration) {
        self.waiter.spin = spin;
    }

    /// How often this end slept and woke the producer so far.
    pub fn stats(&self) -> WaitStats {
        WaitStats {
            sleeps: self.waiter.sleeps,
            wakes: self.waiter.wakes,
        }
    }

    /// True while the producer is asleep in FUTEX_WAIT (it found the ring full).
    pub fn producer_is_sleeping(&self) -> bool {
        self.ring
            .header()
            .producer_sleeping
            .0
            .load(Ordering::SeqCst)
            != 0
    }

    /// The ring this end reads from.
    pub fn ring(&self) -> &Ring {
        &self.ring
    }
}

impl Drop for Consumer {
    fn drop(&mut self) {
        let header = self.ring.header();
        header
            .fixed
            .0
            .consumer_state
            .store(state::GONE, Ordering::Release);
        self.waiter.wake(&header.producer_sleeping.0);
    }
}
