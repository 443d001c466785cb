//! What the shared-memory object holds, byte by byte: one header, then the slots.
//!
//! ```text
//! offset 0     Header (4 KiB, page-aligned)
//!              line 0  magic, geometry, each side's pid and state   (written once per attach)
//!              line 1  head: records published by the producer      (producer writes)
//!              line 2  tail: records released by the consumer       (consumer writes)
//!              line 3  consumer_sleeping: futex word                (consumer sets, producer clears)
//!              line 4  producer_sleeping: futex word                (producer sets, consumer clears)
//! offset 4096  slot 0: [word: stamp u32 | len u32][bytes ... slot_size] padded to a multiple of 64
//!              slot 1, ..., slot S-1
//! ```
//!
//! The slot word (see [`slot_word`]) is what the consumer polls; nobody polls `head`.
//!
//! Each counter sits alone on a 128-byte line: the producer hammering `head` must not steal
//! the cache line the consumer writes `tail` on (false sharing), and 128 rather than 64 keeps
//! them apart from the adjacent-line prefetcher of x86 CPUs too.

use std::sync::atomic::{AtomicU32, AtomicU64};

use ipc_common::{Error, Result};

/// "IPCRING1": written last by the creator, so an opener never trusts a half-built header.
pub const MAGIC: u64 = u64::from_le_bytes(*b"IPCRING1");

/// Where the slots start: the header gets one page of its own.
pub const HEADER_BYTES: usize = 4096;

/// Bytes in front of each slot's payload: the slot word (see [`slot_word`]).
pub const SLOT_HEADER: usize = 8;

/// A slot's first 8 bytes, written last by the producer: which record the slot holds (its
/// *stamp*, the low 32 bits of the `head` that publishes it) and how long the record is.
///
/// ```text
/// bits 0..32   stamp: (record number + 1) as u32; record n is published by head = n + 1
/// bits 32..64  length of the record in bytes (a slot holds at most MAX_SLOT_SIZE < 2^32)
/// ```
///
/// The consumer waiting for record `n` polls this word until its stamp is `n + 1`: the
/// record's bytes and its length arrive on the line it polls, and `head` stays on the
/// producer's core. 32 bits are enough: the slot held record `n - slots` before (stamp
/// `n + 1 - slots`, never equal), or nothing yet (zero: stamps of the first lap are 1..=slots).
pub fn slot_word(published: u64, len: usize) -> u64 {
    (len as u64) << 32 | u64::from(stamp(published))
}

/// The stamp that `head == published` writes into its slot word: its low 32 bits.
pub fn stamp(published: u64) -> u32 {
    published as u32
}

/// A slot word's stamp and length.
pub fn unpack_slot_word(word: u64) -> (u32, usize) {
    (word as u32, (word >> 32) as usize)
}

/// The most slots a ring may have.
pub const MAX_SLOTS: usize = 1 << 16;

/// The largest slot: one maximal encoded Message (`wire::MAX_FRAME`).
pub const MAX_SLOT_SIZE: usize = ipc_common::wire::MAX_FRAME;

// A record's length must fit the slot word's 32 bits.
const _: () = assert!(MAX_SLOT_SIZE <= u32::MAX as usize);

/// The largest whole ring (header + slots).
pub const MAX_RING_BYTES: usize = 1 << 30;

/// A side's state, in `Header::producer_state` / `consumer_state`.
pub mod state {
    /// Nobody has attached yet.
    pub const FREE: u32 = 0;
    /// Attached and working.
    pub const ATTACHED: u32 = 1;
    /// The producer said "no more records" ([`crate::Producer::close`]): the end of stream.
    pub const CLOSED: u32 = 2;
    /// The side went away without closing (an error path dropped it).
    pub const GONE: u32 = 3;
}

/// One 128-byte line holding one value.
#[derive(Debug)]
#[repr(C, align(128))]
pub struct Line<T>(pub T);

/// The header at the start of the shared object. Only atomics: both processes write it.
#[derive(Debug)]
#[repr(C)]
pub struct Header {
    pub fixed: Line<Fixed>,
    /// Records published so far (producer: `Release` store after the slot word). The consumer
    /// does not read it: it polls the slot word instead (see [`slot_word`]).
    pub head: Line<AtomicU64>,
    /// Records released so far (consumer: `Release` store after copying the slot out).
    pub tail: Line<AtomicU64>,
    /// 1 while the consumer is (about to be) asleep in FUTEX_WAIT on this word.
    pub consumer_sleeping: Line<AtomicU32>,
    /// 1 while the producer is (about to be) asleep in FUTEX_WAIT on this word.
    pub producer_sleeping: Line<AtomicU32>,
}

/// The first line: geometry (set once by the creator) and who is attached.
#[derive(Debug)]
#[repr(C)]
pub struct Fixed {
    pub magic: AtomicU64,
    pub slot_size: AtomicU64,
    pub slots: AtomicU64,
    pub producer_pid: AtomicU32,
    pub consumer_pid: AtomicU32,
    pub producer_state: AtomicU32,
    pub consumer_state: AtomicU32,
}

// The header must fit in the page before the slots.
const _: () = assert!(std::mem::size_of::<Header>() <= HEADER_BYTES);

/// The shape of a ring: how many slots of how many bytes, and where each one is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    /// The largest record a slot holds, in bytes.
    pub slot_size: usize,
    /// How many records fit before the producer has to wait.
    pub slots: usize,
}

impl Geometry {
    /// Checks the limits; the error says which one was broken.
    pub fn new(slot_size: usize, slots: usize) -> Result<Geometry> {
        if slot_size == 0 || slot_size > MAX_SLOT_SIZE {
            return Err(Error::usage(
                "sizing the ring",
                format!("a slot of {slot_size} bytes is outside 1..={MAX_SLOT_SIZE}"),
            ));
        }
        if slots == 0 || slots > MAX_SLOTS {
            return Err(Error::usage(
                "sizing the ring",
                format!("{slots} slots is outside 1..={MAX_SLOTS}"),
            ));
        }
        let geometry = Geometry { slot_size, slots };
        match geometry.total_bytes() {
            Some(total) if total <= MAX_RING_BYTES => Ok(geometry),
            _ => Err(Error::usage(
                "sizing the ring",
                format!(
                    "{slots} slots of {slot_size} bytes need more than the limit of {} MiB",
                    MAX_RING_BYTES >> 20
                ),
            )
            .with_hint("use fewer or smaller slots")),
        }
    }

    /// Bytes from one slot's start to the next: length word + payload, rounded up to 64.
    pub fn stride(&self) -> usize {
        (SLOT_HEADER + self.slot_size).div_ceil(64) * 64
    }

    /// Size of the whole shared object, or None on overflow.
    pub fn total_bytes(&self) -> Option<usize> {
        self.slots
            .checked_mul(self.stride())?
            .checked_add(HEADER_BYTES)
    }

    /// Offset of the slot that record number `seq` uses.
    pub fn slot_offset(&self, seq: u64) -> usize {
        HEADER_BYTES + (seq % self.slots as u64) as usize * self.stride()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_cache_line_aligned_and_after_the_header() {
        let g = Geometry::new(100, 3).expect("valid");
        assert_eq!(g.stride(), 128);
        assert_eq!(g.slot_offset(0), 4096);
        assert_eq!(g.slot_offset(4), 4096 + 128);
        assert_eq!(g.total_bytes(), Some(4096 + 3 * 128));
    }

    #[test]
    fn limits_are_refused_with_a_reason() {
        assert!(Geometry::new(0, 4).is_err());
        assert!(Geometry::new(64, 0).is_err());
        assert!(Geometry::new(64, MAX_SLOTS + 1).is_err());
        let err = Geometry::new(MAX_SLOT_SIZE, 1000).expect_err("too big");
        assert!(err.to_string().contains("MiB"), "{err}");
    }

    #[test]
    fn a_slot_word_carries_the_stamp_and_the_length() {
        let word = slot_word(5, 300);
        assert_eq!(unpack_slot_word(word), (5, 300));
        assert_eq!(
            unpack_slot_word(slot_word(u64::MAX, MAX_SLOT_SIZE)),
            (u32::MAX, MAX_SLOT_SIZE)
        );
        // Only the low 32 bits of the count: the stamp wraps, the count does not.
        assert_eq!(stamp((1 << 32) + 7), 7);
    }

    #[test]
    fn a_stale_slot_never_carries_the_awaited_stamp() {
        for slots in [1, 3, MAX_SLOTS as u64] {
            // A fresh slot's word is zero; the first lap's stamps are 1..=slots.
            for record in 0..slots.min(1000) {
                assert_ne!(stamp(record + 1), 0);
            }
            // Later, a slot holds record n - slots while the consumer awaits record n, also
            // where the 32-bit stamps wrap around.
            let wrap = 1u64 << 32;
            let later = [
                slots,
                slots + 1000,
                wrap - 2,
                wrap - 1,
                wrap,
                wrap + slots,
                5 * wrap,
            ];
            for record in later {
                let awaited = stamp(record + 1);
                assert_ne!(
                    stamp(record + 1 - slots),
                    awaited,
                    "record {record}, {slots} slots"
                );
            }
        }
    }

    #[test]
    fn counters_live_on_separate_lines() {
        let head = std::mem::offset_of!(Header, head);
        let tail = std::mem::offset_of!(Header, tail);
        let c = std::mem::offset_of!(Header, consumer_sleeping);
        let p = std::mem::offset_of!(Header, producer_sleeping);
        for (a, b) in [(head, tail), (tail, c), (c, p)] {
            assert!(b - a >= 128, "{a} and {b} share a line");
        }
    }
}
