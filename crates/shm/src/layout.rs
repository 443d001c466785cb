//! The segment's shape, byte by byte: a 64-byte header, then S slots.
//!
//! ```text
//! +--------+---------+---------+-----+---------+
//! | header | slot 0  | slot 1  | ... | slot S-1|      each slot: [length u32 LE][one record]
//! +--------+---------+---------+-----+---------+
//! ```
//!
//! The header is eight `u32` words, each read and written atomically by both processes
//! (`field`): who laid the segment out and with which slots, the receiver's pid, how many
//! senders attached, the next slot to write, and which handoff the ends use.

use ipc_common::{Error, Result};
use ipc_sem::SEMVMX;

/// Bytes of the segment's header, before the first slot.
pub const HEADER: usize = 64;
/// Bytes of each slot's length field, before the record.
pub const SLOT_HEADER: usize = 4;
/// The smallest `--slot-size` (room for an End message and some text).
pub const MIN_SLOT_SIZE: usize = 64;
/// The largest `--slots` (a semaphore cannot count higher).
pub const MAX_SLOTS: u32 = SEMVMX as u32;

/// "IPSH": marks a segment laid out by this crate.
pub(crate) const MAGIC: u32 = u32::from_le_bytes(*b"IPSH");
/// Layout version of the header below.
pub(crate) const VERSION: u32 = 1;

/// Header words (byte offsets), each a u32 accessed atomically.
pub(crate) mod field {
    pub const MAGIC: usize = 0;
    pub const VERSION: usize = 4;
    pub const SLOT_SIZE: usize = 8;
    pub const SLOTS: usize = 12;
    /// Pid of the receiver that claimed the segment (0: none yet).
    pub const RECEIVER_PID: usize = 16;
    /// How many senders have attached so far.
    pub const SENDERS: usize = 20;
    /// The next slot a `--no-sync` sender writes. (With semaphores the index is the set's
    /// INDEX semaphore instead, advanced in the same semop as V(FULL): see crate::channel.)
    pub const WRITE_INDEX: usize = 24;
    /// Which handoff the ends use: 0 none yet, else a [`super::Handoff`] word.
    pub const HANDOFF: usize = 28;
}

/// Which handoff both ends use, recorded in the header by the first end that starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handoff {
    /// The semaphore handoff ([`crate::ShmWriter`], [`crate::ShmReader`]).
    Synced = 1,
    /// The `--no-sync` experiment ([`crate::UnsyncedWriter`], [`crate::UnsyncedReader`]).
    NoSync = 2,
}

/// The `--slot-size` of an end started without one (the tutorial's buffer is 1024 bytes).
pub const DEFAULT_SLOT_SIZE: usize = 1024;
/// The `--slots` of an end started without one (the tutorial's single buffer).
pub const DEFAULT_SLOTS: u32 = 1;

/// The shape an end asks for: what the user gave (`--slot-size`, `--slots`), each `None`
/// when not given.
///
/// The end that creates the segment lays it out with [`Geometry::layout`] (a value not given
/// takes its default) and records slots and slot size in the header; an end that joins reads
/// them there and adopts them ([`Geometry::adopt`]), so only the first end needs the options.
/// A value given explicitly on the joining end must match the header's: a user who said
/// `--slots 8` and joined a segment of 4 slots hears about it instead of getting 4 silently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    /// `--slot-size`, if given.
    pub slot_size: Option<usize>,
    /// `--slots`, if given.
    pub slots: Option<u32>,
}

impl Geometry {
    /// Checks the values given (a usage error, exit 2, for an impossible one).
    pub fn new(slot_size: Option<usize>, slots: Option<u32>) -> Result<Geometry> {
        let geometry = Geometry { slot_size, slots };
        geometry.layout()?;
        Ok(geometry)
    }

    /// The layout a creating end makes: the values given, the defaults for the others.
    pub fn layout(&self) -> Result<Layout> {
        Layout::new(
            self.slot_size.unwrap_or(DEFAULT_SLOT_SIZE),
            self.slots.unwrap_or(DEFAULT_SLOTS),
        )
    }

    /// The layout a joining end uses on a segment laid out as `theirs`: theirs, with each
    /// value the user gave in place of its own. It equals `theirs` unless a value given
    /// differs (the caller reports that mismatch).
    pub fn adopt(&self, theirs: Layout) -> Layout {
        Layout {
            slot_size: self.slot_size.unwrap_or(theirs.slot_size),
            slots: self.slots.unwrap_or(theirs.slots),
        }
    }

    /// `--slot-size 2048 --slots 8`, the options given (empty when none), for hints.
    pub(crate) fn options(&self) -> String {
        let size = self.slot_size.map(|n| format!("--slot-size {n}"));
        let slots = self.slots.map(|n| format!("--slots {n}"));
        size.into_iter().chain(slots).collect::<Vec<_>>().join(" ")
    }
}

/// A layout given whole (a program that knows both ends, like ipc-bench): both values count
/// as given, so a segment of another shape is an error.
impl From<Layout> for Geometry {
    fn from(layout: Layout) -> Geometry {
        Geometry {
            slot_size: Some(layout.slot_size),
            slots: Some(layout.slots),
        }
    }
}

/// The shape of the segment: S slots of `slot_size` bytes each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// Bytes per slot, its 4-byte length field included.
    pub slot_size: usize,
    /// Number of slots.
    pub slots: u32,
}

impl Layout {
    /// Checks the numbers a user gave (a usage error, exit 2, when they cannot work).
    pub fn new(slot_size: usize, slots: u32) -> Result<Layout> {
        if slot_size < MIN_SLOT_SIZE {
            return Err(Error::usage(
                "--slot-size",
                format!("{slot_size} bytes is smaller than the minimum of {MIN_SLOT_SIZE} bytes"),
            ));
        }
        if u32::try_from(slot_size).is_err() {
            return Err(Error::usage(
                "--slot-size",
                format!("{slot_size} bytes is too large"),
            ));
        }
        if slots == 0 || slots > MAX_SLOTS {
            return Err(Error::usage(
                "--slots",
                format!(
                    "{slots} is not between 1 and {MAX_SLOTS} (the largest value of a semaphore)"
                ),
            ));
        }
        Ok(Layout { slot_size, slots })
    }

    /// The segment's size: the header plus every slot.
    pub fn segment_size(&self) -> usize {
        HEADER + self.slot_size * self.slots as usize
    }

    /// The largest record a slot holds.
    pub fn max_message(&self) -> usize {
        self.slot_size - SLOT_HEADER
    }

    /// Where slot `index % S` starts in the segment.
    pub(crate) fn slot_offset(&self, index: u32) -> usize {
        HEADER + self.slot_size * (index % self.slots) as usize
    }

    /// `8 slot(s) of 2048 bytes + a 64-byte header = 16448 bytes`, for errors.
    pub(crate) fn describe(&self) -> String {
        format!(
            "{} slot(s) of {} bytes + a {HEADER}-byte header = {} bytes",
            self.slots,
            self.slot_size,
            self.segment_size()
        )
    }

    /// Fails with a hint when a record of `len` bytes (`unit`: "bytes", "bytes encoded") is
    /// larger than a slot holds.
    pub(crate) fn check_fits(
        &self,
        len: usize,
        unit: &str,
        what: impl FnOnce() -> String,
    ) -> Result<()> {
        if len <= self.max_message() {
            return Ok(());
        }
        Err(Error::new(
            what(),
            format!(
                "it takes {len} {unit}, more than a slot of {} bytes holds ({} after the \
                 slot's {SLOT_HEADER}-byte length)",
                self.slot_size,
                self.max_message()
            ),
        )
        .with_hint(format!(
            "start both ends with a larger --slot-size (at least {})",
            len.saturating_add(SLOT_HEADER)
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ipc_common::{wire, Message};

    #[test]
    fn the_layout_adds_a_header_and_keeps_four_bytes_per_slot_for_the_length() {
        let layout = Layout::new(1024, 1).expect("the tutorial's layout");
        assert_eq!(layout.segment_size(), 1088);
        assert_eq!(layout.max_message(), 1020);
        let layout = Layout::new(2048, 8).expect("valid");
        assert_eq!(layout.segment_size(), 64 + 8 * 2048);
        assert_eq!(layout.slot_offset(0), 64);
        assert_eq!(layout.slot_offset(7), 64 + 7 * 2048);
        assert_eq!(
            layout.slot_offset(8),
            64,
            "indexes wrap around the ring of slots"
        );
    }

    #[test]
    fn impossible_layouts_are_usage_errors() {
        for (slot_size, slots) in [(63, 1), (1024, 0), (1024, 32768)] {
            let err = Layout::new(slot_size, slots).expect_err("refused");
            assert_eq!(err.exit_code(), 2, "{err}");
        }
        assert!(Layout::new(64, 32767).is_ok());
    }

    #[test]
    fn a_joining_end_adopts_what_it_was_not_given_and_keeps_what_it_was() {
        let theirs = Layout::new(2048, 4).expect("valid");
        let nothing = Geometry::new(None, None).expect("defaults");
        assert_eq!(
            nothing.layout().expect("valid"),
            Layout::new(1024, 1).expect("valid")
        );
        assert_eq!(nothing.adopt(theirs), theirs);
        let slots = Geometry::new(None, Some(4)).expect("valid");
        assert_eq!(slots.adopt(theirs), theirs);
        let other = Geometry::new(Some(1024), None).expect("valid");
        assert_eq!(other.adopt(theirs), Layout::new(1024, 4).expect("valid"));
        assert_eq!(other.options(), "--slot-size 1024");
        assert!(Geometry::new(Some(10), None).is_err(), "checked when given");
    }

    #[test]
    fn an_end_message_fits_the_smallest_slot() {
        let mut buf = Vec::new();
        wire::encode(&Message::end(u32::MAX, u64::MAX - 1), &mut buf).expect("encodes");
        assert!(buf.len() <= Layout::new(MIN_SLOT_SIZE, 1).expect("valid").max_message());
    }
}
