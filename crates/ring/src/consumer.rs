//! The consumer end: waits for the slot at `tail` to hold its record, reads it, releases it.
//!
//! ```text
//! word = slot[tail % slots].word (Acquire)                             + prefetch the next lines
//! while stamp(word) != tail + 1: spin, then sleep (or the end)         (the ring is empty)
//! bytes = slot[tail % slots][..length(word)]                           read (or copied) in place
//! tail.store(tail + 1, Release)                                        release the slot
//! if producer_sleeping: futex_wake                                     only then a syscall
//! ```
//!
//! The `Acquire` load of the slot word makes the producer's bytes visible before we read the
//! slot; the `Release` store of `tail` orders our reads before the producer may overwrite it.
//! The consumer never reads `head`: the slot word says all it needs (see `lib.rs`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use ipc_common::{Error, Result};

use crate::layout::{self, state, SLOT_HEADER};
use crate::ring::Ring;
use crate::wait::{Peer, Waiter};
use crate::WaitStats;

/// How much of a slot the consumer asks for while it reads the slot word: the slot's first
/// four cache lines (a record of up to 248 bytes, whole). Larger records stream behind them.
const PREFETCH_BYTES: usize = 256;

/// The receiving end of a ring. Not `Clone`: a ring has exactly one consumer.
#[derive(Debug)]
pub struct Consumer {
    ring: Ring,
    /// Records released (our private copy of `tail`).
    tail: u64,
    waiter: Waiter,
}

impl Consumer {
    /// Makes `ring` this process's consumer end (fails if it already has one).
    pub fn new(ring: Ring) -> Result<Consumer> {
        ring.claim("consumer")?;
        let tail = ring.header().tail.0.load(Ordering::Acquire);
        Ok(Consumer {
            ring,
            tail,
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
        let geometry = self.ring.geometry();
        let offset = geometry.slot_offset(self.tail);
        let awaited = layout::stamp(self.tail.wrapping_add(1));
        let Some(word) = self.ring.map().slot_word(offset) else {
            return Err(layout_bug(offset));
        };
        let mut seen = self.look(offset, word);
        if layout::unpack_slot_word(seen).0 != awaited {
            match self.wait_for_record(offset, awaited)? {
                Some(word) => seen = word,
                None => return Ok(None),
            }
        }
        let (_, len) = layout::unpack_slot_word(seen);
        let map = self.ring.map();
        let bytes = Some(len)
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

    /// Reads the slot word at `offset`, and asks for the slot's next lines at the same time.
    ///
    /// The producer writes the record's bytes before the word, so once the word arrives the
    /// bytes are there too; but without the prefetch the CPU would ask for the record's
    /// second line only after seeing the length in the first: two trips to the producer's
    /// core one after the other. With it, the lines travel side by side.
    #[inline]
    fn look(&self, offset: usize, word: &AtomicU64) -> u64 {
        let stride = self.ring.geometry().stride();
        self.ring
            .map()
            .prefetch(offset + 64, stride.min(PREFETCH_BYTES).saturating_sub(64));
        word.load(Ordering::Acquire)
    }

    /// Waits until the slot at `offset` holds the record stamped `awaited` (returns its slot
    /// word) or the producer closed with none left (`None`).
    ///
    /// First spins on the slot word alone (the fast path: nothing else is read while the
    /// producer keeps up); after the spin budget, sleeps, and only then looks at the
    /// producer's state.
    #[inline]
    fn wait_for_record(&mut self, offset: usize, awaited: u32) -> Result<Option<u64>> {
        let Some(word) = self.ring.map().slot_word(offset) else {
            return Err(layout_bug(offset));
        };
        // The word lands in a local (a register), not in `self`: a store to memory in every
        // round of the spin loop costs the round trip about 10% (measured).
        let mut seen = 0;
        let look = || self.look(offset, word);
        let arrived = self.waiter.spin_until(|| {
            seen = look();
            layout::unpack_slot_word(seen).0 == awaited
        });
        if arrived {
            return Ok(Some(seen));
        }
        self.sleep_for_record(offset, awaited)
    }

    /// The slow half of [`Consumer::wait_for_record`]: sleep on the futex until the record is
    /// there, the producer closed, went away or died, or Ctrl-C.
    #[cold]
    #[inline(never)]
    fn sleep_for_record(&mut self, offset: usize, awaited: u32) -> Result<Option<u64>> {
        let header = self.ring.header();
        let Some(word) = self.ring.map().slot_word(offset) else {
            return Err(layout_bug(offset));
        };
        let name = self.ring.name();
        let mut seen = None;
        let peer = || Peer {
            role: "producer",
            pid: header.fixed.0.producer_pid.load(Ordering::Acquire),
        };
        self.waiter
            .sleep_until(&header.consumer_sleeping.0, &peer, || {
                // The slot word, the state, then the word again. A close is stored after the
                // last record's word, so a word read after seeing CLOSED is the final one.
                let arrived = || {
                    let now = word.load(Ordering::Acquire);
                    (layout::unpack_slot_word(now).0 == awaited).then_some(now)
                };
                if let Some(now) = arrived() {
                    seen = Some(now);
                    return Ok(true);
                }
                let producer = header.fixed.0.producer_state.load(Ordering::Acquire);
                if let Some(now) = arrived() {
                    seen = Some(now);
                    return Ok(true);
                }
                match producer {
                    state::CLOSED => Ok(true),
                    state::GONE => Err(Error::new(
                        format!("reading the ring {name}"),
                        "the producer went away without closing the stream",
                    )
                    .with_hint("look at the producer's error output")),
                    _ => Ok(false),
                }
            })?;
        Ok(seen)
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

/// A slot outside the mapping: only a bug in `layout.rs` can cause it.
fn layout_bug(offset: usize) -> Error {
    Error::new(
        "reading a ring slot",
        format!("slot offset {offset} is outside the mapping (a bug in the layout)"),
    )
}
