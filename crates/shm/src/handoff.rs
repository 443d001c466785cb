//! Handing messages over through shared memory, synchronised with semaphores.
//!
//! The tutorial's shared-memory programs poll a `written_by_you` flag with `sleep(1)` and say
//! that shared memory "doesn't provide any synchronization facilities". Here two counting
//! semaphores of crates/sem do it, with no busy waiting and no sleeping:
//!
//! ```text
//! semaphore set (key K)          segment (key K): a 64-byte header, then S slots
//!   EMPTY  = S  free slots        +--------+---------+---------+-----+---------+
//!   FULL   = 0  written slots     | header | slot 0  | slot 1  | ... | slot S-1|
//!   WRITER = 1  senders' lock     +--------+---------+---------+-----+---------+
//!                                 each slot: [length u32 LE][one record]
//!
//! sender, per message                     receiver, per message
//!   P(EMPTY) and P(WRITER), atomically      P(FULL)
//!   write slot `write_index % S`             read slot `read_index % S`
//!   V(WRITER) and V(FULL), atomically       V(EMPTY)
//! ```
//!
//! A record is one bincode `Message` on the typed path ([`Outbox::send`],
//! [`ShmReader::next_message`]), or bytes as they are on the raw path
//! ([`ShmWriter::send_bytes`], [`ShmReader::receive_bytes`]); both go through the same slot
//! protocol (`ShmWriter::put`, `ShmReader::take`). Between its P and its V a side has the slot
//! to itself, so it works on the slot in place, as C does with the pointer `shmat` returned:
//! the sender encodes (or `memcpy`s) straight into the slot, the receiver decodes (or copies)
//! straight out of it, one copy of the payload on each side (see crates/shm/src/sys.rs for
//! why that is sound, and why `--no-sync` copies with volatile accesses instead).
//!
//! The sender takes both EMPTY and WRITER with SEM_UNDO, so a sender killed while it fills a
//! slot gives both back; handing the slot over cancels the undo on EMPTY in the same semop.
//! (A sender killed in the instant after it advanced the write index but before that semop
//! leaves a written slot that FULL does not count: the receiver then ends with an error when
//! the last sender leaves, rather than waiting for ever.)
//!
//! **What the guarantees cost.** Each side makes two `semop` calls per message, as the C
//! version does, but the sender's carry several operations each. The kernel runs a
//! single-operation `semop` under that one semaphore's lock, and one with several operations
//! under the lock of the whole set (and for a while after, every call on the set), so the
//! two ends then contend for one lock. Measured against C's one-operation calls on a 2-core
//! VM: about 0.7 us more per message with small messages and 8 slots, nothing measurable at
//! 64 KiB, where the copies dominate; SEM_UNDO itself and the 200 ms timeout cost next to
//! nothing. No cheaper split keeps the guarantees: handing over must post FULL and cancel
//! EMPTY's undo (two operations on EMPTY) in one atomic call.
//!
//! `--slots 1` is the tutorial's single buffer (the two sides take turns); more slots let
//! both run at once. WRITER (with SEM_UNDO) lets several senders share one receiver.
//!
//! **Who creates.** Whichever end starts first creates the semaphore set with `IPC_EXCL`,
//! then the segment, writes the header, and only then initialises the semaphores; the other
//! end waits until the set is initialised (see crates/sem), so it always finds a complete
//! segment, and checks that its size and layout match its own `--slot-size` and `--slots`.
//!
//! **Who removes.** The receiver, at the end, on an error and on Ctrl-C. A sender removes
//! both objects only when no receiver ever came (or the receiver died): after a normal finish
//! it leaves them, with the messages still in the slots, for the receiver.
//!
//! **A peer that dies.** Both sides wait with `semtimedop` (200 ms) and look at the other end
//! when it times out. The receiver uses the segment's attach count (`shm_nattch`: the kernel
//! detaches a dead process): when no sender is attached, nothing is waiting and fewer Ends
//! arrived than senders attached, a sender died. The sender checks the receiver's pid, which
//! the receiver stores in the header (`kill(pid, 0)`).
//!
//! **The experiment `--no-sync`** ([`ShmWriter::unsynchronised`], [`ShmReader::unsynchronised`])
//! skips the semaphores: the sender overwrites the slots as fast as it can, and the receiver
//! copies whatever a slot holds, once a millisecond, whether it is new, old or half-written.
//! The summary then counts what the handoff prevents: messages overwritten before they were
//! read (lost), read twice (duplicated) and torn by a concurrent write (corrupt). Both ends must
//! agree: the header records which handoff the first end uses.

use std::sync::atomic::{fence, AtomicU32, Ordering};
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::signal::kill;
use nix::unistd::Pid;

use ipc_common::cli::{Key, Mode};
use ipc_common::message::Body;
use ipc_common::sender::Outbox;
use ipc_common::{signals, wire, Error, Message, Result};
use ipc_sem::{Op, SemSet, SEMVMX};

use crate::segment::ShmSegment;

/// Semaphore counting free slots (starts at S).
pub const EMPTY: u16 = 0;
/// Semaphore counting written slots (starts at 0).
pub const FULL: u16 = 1;
/// The senders' lock around writing a slot (starts at 1; held with SEM_UNDO).
pub const WRITER: u16 = 2;
/// Semaphores in the set.
pub const NSEMS: u16 = 3;

/// Bytes of the segment's header, before the first slot.
pub const HEADER: usize = 64;
/// Bytes of each slot's length field, before the encoded message.
pub const SLOT_HEADER: usize = 4;
/// The smallest `--slot-size` (room for an End message and some text).
pub const MIN_SLOT_SIZE: usize = 64;
/// The largest `--slots` (a semaphore cannot count higher).
pub const MAX_SLOTS: u32 = SEMVMX as u32;

/// How long each wait lasts before we look at the other end.
const PEER_CHECK: Duration = Duration::from_millis(200);

/// "IPSH": marks a segment laid out by this crate.
const MAGIC: u32 = u32::from_le_bytes(*b"IPSH");
/// Layout version of the header below.
const VERSION: u32 = 1;

/// Header words (byte offsets), each a u32 accessed atomically.
mod field {
    pub const MAGIC: usize = 0;
    pub const VERSION: usize = 4;
    pub const SLOT_SIZE: usize = 8;
    pub const SLOTS: usize = 12;
    /// Pid of the receiver that claimed the segment (0: none yet).
    pub const RECEIVER_PID: usize = 16;
    /// How many senders have attached so far.
    pub const SENDERS: usize = 20;
    /// The next slot a sender writes (changed only under WRITER).
    pub const WRITE_INDEX: usize = 24;
    /// Which handoff the ends use: 0 none yet, [`super::SYNCED`] or [`super::NO_SYNC`].
    pub const HANDOFF: usize = 28;
}

/// The header's HANDOFF word: the semaphore handoff.
const SYNCED: u32 = 1;
/// The header's HANDOFF word: the `--no-sync` experiment.
const NO_SYNC: u32 = 2;

/// How often the `--no-sync` receiver copies a slot (the tutorial's receiver polls too).
const NO_SYNC_POLL: Duration = Duration::from_millis(1);

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

    /// The largest encoded message a slot holds.
    pub fn max_message(&self) -> usize {
        self.slot_size - SLOT_HEADER
    }

    fn slot_offset(&self, index: u32) -> usize {
        HEADER + self.slot_size * (index % self.slots) as usize
    }

    fn describe(&self) -> String {
        format!(
            "{} slot(s) of {} bytes + a {HEADER}-byte header = {} bytes",
            self.slots,
            self.slot_size,
            self.segment_size()
        )
    }
}

/// Both kernel objects of the pair, attached and checked.
#[derive(Debug)]
pub struct Channel {
    sems: SemSet,
    segment: ShmSegment,
    layout: Layout,
    created: bool,
}

impl Channel {
    /// Creates the semaphore set and the segment if this end is the first, else opens them
    /// and checks that they match `layout`.
    pub fn attach(program: &'static str, key: Key, layout: Layout, mode: Mode) -> Result<Channel> {
        match SemSet::create(program, key, NSEMS, mode)? {
            Some(sems) => Channel::create(program, key, layout, mode, sems),
            None => Channel::open(program, key, layout),
        }
    }

    /// We created the semaphore set (so we are first): make the segment, lay it out, and only
    /// then initialise the semaphores, which tells the other end it may look.
    fn create(
        program: &'static str,
        key: Key,
        layout: Layout,
        mode: Mode,
        sems: SemSet,
    ) -> Result<Channel> {
        let size = layout.segment_size();
        let segment = match ShmSegment::create(program, key, size, mode)? {
            Some(segment) => segment,
            None => {
                // A segment without its semaphores: left by a pair that was killed. Take it
                // over if it is unused and of our size.
                let mut segment = ShmSegment::open(program, key)?;
                check_size(&segment, layout)?;
                let users = segment.stat()?.nattch;
                if users > 1 {
                    return Err(Error::new(
                        format!("using the shared memory segment with key {key}"),
                        format!(
                            "it has no semaphores but {} other process(es) attached",
                            users - 1
                        ),
                    )
                    .with_hint(format!(
                        "stop the programs using key {}, or choose another --key",
                        key.0
                    )));
                }
                segment.set_owner(true);
                segment
            }
        };
        let header = [
            (field::MAGIC, MAGIC),
            (field::VERSION, VERSION),
            (field::SLOT_SIZE, layout.slot_size as u32),
            (field::SLOTS, layout.slots),
            (field::RECEIVER_PID, 0),
            (field::SENDERS, 0),
            (field::WRITE_INDEX, 0),
            (field::HANDOFF, 0),
        ];
        for (offset, value) in header {
            segment.word(offset)?.store(value, Ordering::SeqCst);
        }
        sems.initialise(&[layout.slots as u16, 0, 1])?;
        Ok(Channel {
            sems,
            segment,
            layout,
            created: true,
        })
    }

    /// The other end created the objects: open both and check they are what we expect.
    fn open(program: &'static str, key: Key, layout: Layout) -> Result<Channel> {
        let sems = SemSet::open(program, key, NSEMS)?;
        let segment = ShmSegment::open(program, key).map_err(|err| {
            if err.errno() == Some(Errno::ENOENT) {
                err.with_hint(format!(
                    "the semaphore set of key {} exists without its segment (left by a killed \
                     program?): remove it with make clean-ipc or ipcrm -S {}",
                    key.0, key.0
                ))
            } else {
                err
            }
        })?;
        check_size(&segment, layout)?;
        let word = |offset| segment.word(offset).map(|w| w.load(Ordering::SeqCst));
        let found = (word(field::MAGIC)?, word(field::VERSION)?);
        if found != (MAGIC, VERSION) {
            return Err(Error::new(
                format!("using the shared memory segment with key {key}"),
                "it was not laid out by shm-sender or shm-receiver (wrong header)",
            )
            .with_hint(format!(
                "choose another --key, or remove the segment: ipcrm -M {}",
                key.0
            )));
        }
        let theirs = Layout {
            slot_size: word(field::SLOT_SIZE)? as usize,
            slots: word(field::SLOTS)?,
        };
        if theirs != layout {
            return Err(Error::new(
                format!("using the shared memory segment with key {key}"),
                format!(
                    "it holds {} and this program was started with {}",
                    theirs.describe(),
                    layout.describe()
                ),
            )
            .with_hint(format!(
                "start both ends with --slot-size {} --slots {}",
                theirs.slot_size, theirs.slots
            )));
        }
        Ok(Channel {
            sems,
            segment,
            layout,
            created: false,
        })
    }

    /// True if this end created both objects.
    pub fn created(&self) -> bool {
        self.created
    }

    /// The segment (address, id, size).
    pub fn segment(&self) -> &ShmSegment {
        &self.segment
    }

    /// The semaphore set (id).
    pub fn semaphores(&self) -> &SemSet {
        &self.sems
    }

    /// The layout both ends agreed on.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// Decides whether dropping the channel removes the segment and the semaphore set.
    pub fn set_owner(&mut self, owner: bool) {
        self.segment.set_owner(owner);
        self.sems.set_owner(owner);
    }

    fn word(&self, offset: usize) -> Result<u32> {
        Ok(self.segment.word(offset)?.load(Ordering::SeqCst))
    }

    /// Records which handoff this end uses (`synced`: the semaphores; else `--no-sync`), or
    /// checks it against the one the other end recorded first.
    fn agree_on_handoff(&self, synced: bool) -> Result<()> {
        let mine = if synced { SYNCED } else { NO_SYNC };
        let word = self.segment.word(field::HANDOFF)?;
        match word.compare_exchange(0, mine, Ordering::SeqCst, Ordering::SeqCst) {
            Ok(_) => Ok(()),
            Err(theirs) if theirs == mine => Ok(()),
            Err(_) => {
                let (with, without) = if synced {
                    ("with --no-sync", "without it")
                } else {
                    ("without --no-sync", "with it")
                };
                Err(Error::usage(
                    format!(
                        "using the shared memory segment with key {}",
                        self.segment.key()
                    ),
                    format!("the other end runs {with}, and this one {without}"),
                )
                .with_hint("start both ends with --no-sync, or neither"))
            }
        }
    }
}

/// The "other size" error: names the size found and the size wanted.
fn check_size(segment: &ShmSegment, layout: Layout) -> Result<()> {
    if segment.size() == layout.segment_size() {
        return Ok(());
    }
    Err(Error::new(
        format!("using the shared memory segment with key {}", segment.key()),
        format!(
            "it is {} bytes, and this program needs {} ({})",
            segment.size(),
            layout.segment_size(),
            layout.describe()
        ),
    )
    .with_hint(format!(
        "start both ends with the same --slot-size and --slots, or remove the old segment: ipcrm -M {}",
        segment.key().0
    )))
}

/// True while a process with this pid exists (C: `kill(pid, 0)`; EPERM means it exists but
/// belongs to someone else).
fn alive(pid: u32) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    !matches!(kill(Pid::from_raw(pid), None), Err(Errno::ESRCH))
}

/// The sending end: an [`Outbox`] that puts each message into the next free slot.
#[derive(Debug)]
pub struct ShmWriter {
    channel: Channel,
    /// `--no-sync` only: the record, before its volatile copy into the slot.
    scratch: Vec<u8>,
    finished: bool,
    said_waiting: bool,
    /// False for the `--no-sync` experiment: no P(EMPTY), no V(FULL).
    synced: bool,
}

impl ShmWriter {
    /// Registers as a sender (the header's sender count; the receiver uses it to tell a dead
    /// sender from one that has not started). A sender killed between `shmat` and this call
    /// has sent nothing and is not counted: the receiver keeps waiting, as for a sender that
    /// has not started.
    pub fn new(channel: Channel) -> Result<ShmWriter> {
        ShmWriter::with_handoff(channel, true)
    }

    /// The `--no-sync` experiment: a writer that skips the semaphores and overwrites the slots
    /// in turn, whether or not the receiver has read them.
    pub fn unsynchronised(channel: Channel) -> Result<ShmWriter> {
        ShmWriter::with_handoff(channel, false)
    }

    fn with_handoff(channel: Channel, synced: bool) -> Result<ShmWriter> {
        channel.agree_on_handoff(synced)?;
        channel
            .segment
            .word(field::SENDERS)?
            .fetch_add(1, Ordering::SeqCst);
        Ok(ShmWriter {
            channel,
            scratch: Vec::new(),
            finished: false,
            said_waiting: false,
            synced,
        })
    }

    /// The channel (for messages about the objects).
    pub fn channel(&self) -> &Channel {
        &self.channel
    }

    /// Everything was sent, End included: leave both objects to the receiver, which reads
    /// what is still in the slots and removes them. Returns the receiver's pid, 0 if none yet.
    ///
    /// Fails if the receiver was killed: nobody will read what is left in the slots or remove
    /// the objects, so we remove them and say so, rather than report a success. A receiver
    /// that finished normally removed the semaphore set *before* it exited, so "its pid is dead
    /// and the set still exists", read in that order, means killed.
    pub fn finish(mut self) -> Result<u32> {
        let pid = self.channel.word(field::RECEIVER_PID)?;
        if pid != 0 && !alive(pid) && self.channel.sems.value(FULL).is_ok() {
            self.channel.set_owner(true); // removed when `self` drops
            return Err(Error::new(
                "finishing",
                format!(
                    "shm-receiver (pid {pid}) died without removing the segment (killed?): \
                     what it had not read yet is lost"
                ),
            )
            .with_hint("start shm-receiver again, then the sender"));
        }
        self.finished = true;
        self.channel.set_owner(false);
        Ok(pid)
    }

    /// Called each time a wait for a free slot times out: fails if the receiver died.
    fn check_receiver(&mut self) -> Result<()> {
        let pid = self.channel.word(field::RECEIVER_PID)?;
        if pid == 0 {
            if !self.said_waiting {
                self.said_waiting = true;
                eprintln!("shm-sender: every slot is full; waiting for shm-receiver to start");
            }
            return Ok(());
        }
        if alive(pid) {
            return Ok(());
        }
        // The receiver cannot remove the objects any more: we do it.
        self.channel.set_owner(true);
        Err(Error::new(
            "waiting for a free slot",
            format!("shm-receiver (pid {pid}) is gone without removing the segment (killed?)"),
        )
        .with_hint("start shm-receiver again, then the sender"))
    }
}

/// Sending: the raw path, the typed path ([`Outbox`] below) and the slot protocol they share.
impl ShmWriter {
    /// The raw-bytes path: puts `bytes`, as they are, into the next free slot as one record
    /// (C: `memcpy(slot, buf, len)`), with the same handoff as [`Outbox::send`]. Fails, without
    /// touching a slot, when the record does not fit a slot.
    pub fn send_bytes(&mut self, bytes: &[u8]) -> Result<()> {
        self.check_fits(bytes.len(), "bytes", || {
            "sending a record of bytes".to_string()
        })?;
        self.put(bytes.len(), |record| {
            record.copy_from_slice(bytes);
            Ok(bytes.len())
        })
    }

    /// Fails with a hint when a record of `len` bytes (`unit`: "bytes", "bytes encoded") is
    /// larger than a slot holds.
    fn check_fits(&self, len: usize, unit: &str, what: impl FnOnce() -> String) -> Result<()> {
        let layout = self.channel.layout;
        if len <= layout.max_message() {
            return Ok(());
        }
        Err(Error::new(
            what(),
            format!(
                "it takes {len} {unit}, more than a slot of {} bytes holds ({} after the \
                 slot's {SLOT_HEADER}-byte length)",
                layout.slot_size,
                layout.max_message()
            ),
        )
        .with_hint(format!(
            "start both ends with a larger --slot-size (at least {})",
            len.saturating_add(SLOT_HEADER)
        )))
    }

    /// The slot protocol of the sending side, shared by the typed and the raw path: waits for
    /// a free slot, lets `fill` write at most `len` bytes (`len` <= [`Layout::max_message`],
    /// checked by the caller) straight into it, records how many it wrote in the slot's
    /// length field, and hands the slot over to the receiver.
    fn put(&mut self, len: usize, fill: impl FnOnce(&mut [u8]) -> Result<usize>) -> Result<()> {
        if !self.synced {
            return self.put_unsynchronised(len, fill);
        }
        self.claim_slot()?;
        // Everything the receiver wrote before its V(EMPTY) is visible from here on.
        fence(Ordering::Acquire);
        let layout = self.channel.layout;
        // WRITE_INDEX changes only under WRITER, which we hold: the semops order it, so
        // Acquire and Release say enough (no SeqCst needed).
        let index = self.index_word()?.load(Ordering::Acquire);
        let filled: Result<()> = self
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
        self.channel.sems.op(
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
        if let Err(err) = self.channel.sems.op(back, "giving the slot back") {
            eprintln!("shm-sender: warning: {err}");
        }
    }

    /// The header word with the next slot to write.
    fn index_word(&self) -> Result<&AtomicU32> {
        self.channel.segment.word(field::WRITE_INDEX)
    }

    /// The next sender writes the slot after `index` (the ring wraps around after S).
    fn advance_write_index(&self, index: u32) -> Result<()> {
        let next = index.wrapping_add(1) % self.channel.layout.slots;
        self.index_word()?.store(next, Ordering::Release);
        Ok(())
    }

    /// `--no-sync`: no semaphores, so the receiver may be copying the slot while we write it.
    /// `fill` writes into a buffer of ours, which is then copied into the slot with volatile
    /// writes (see crates/shm/src/sys.rs): a torn slot, never a torn program.
    fn put_unsynchronised(
        &mut self,
        len: usize,
        fill: impl FnOnce(&mut [u8]) -> Result<usize>,
    ) -> Result<()> {
        self.scratch.resize(len, 0);
        let written = fill(&mut self.scratch)?;
        let layout = self.channel.layout;
        let index = self.channel.word(field::WRITE_INDEX)?;
        let offset = layout.slot_offset(index);
        let segment = &self.channel.segment;
        segment.write(offset, &(written as u32).to_le_bytes())?;
        segment.write(offset + SLOT_HEADER, &self.scratch[..written])?;
        self.advance_write_index(index)
    }
}

impl Outbox for ShmWriter {
    /// Encodes `msg` straight into the next free slot (no scratch buffer: one copy of the
    /// payload, like C's `memcpy`).
    fn send(&mut self, msg: &Message) -> Result<()> {
        let len = wire::encoded_len(msg);
        self.check_fits(len, "bytes encoded", || {
            format!("sending message {}", msg.seq)
        })?;
        self.put(len, |record| {
            wire::encode_into_slice(msg, record)
                .map_err(|err| err.context(format!("encoding message {}", msg.seq)))
        })
    }
}

impl Drop for ShmWriter {
    /// A sender stopped early (error or Ctrl-C): remove the objects only if no receiver came
    /// (or it died); a live receiver owns them and will see that we left.
    fn drop(&mut self) {
        // Only a creator (or a sender that found the receiver dead) owns anything here.
        if self.finished || !self.channel.segment.is_owner() {
            return;
        }
        match self.channel.word(field::RECEIVER_PID) {
            Ok(0) => {}                                             // no receiver: ours to remove
            Ok(pid) if alive(pid) => self.channel.set_owner(false), // the receiver's now
            Ok(_) => self.channel.set_owner(true),                  // a dead receiver: we clean up
            Err(_) => {}
        }
    }
}

/// `--slot-size`, `--slots` and `--no-sync`: the layout both ends must agree on, defined once
/// for shm-sender and shm-receiver.
#[derive(Debug, Clone, clap::Args)]
pub struct SlotArgs {
    /// Bytes per slot, its 4-byte length included (the tutorial's buffer is 1024); with --ring, the largest encoded message a slot holds
    #[arg(long, value_name = "BYTES", default_value = "1024", value_parser = ipc_common::cli::parse_size)]
    pub slot_size: usize,
    /// Number of slots: 1 is the tutorial's single buffer, more let both ends run at once
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub slots: u32,
    /// Experiment: skip the semaphore handoff (no waiting, no signalling) and count the torn,
    /// repeated and lost reads in the summary; both ends need it
    #[arg(long)]
    pub no_sync: bool,
}

impl SlotArgs {
    /// The segment's layout for these options (a usage error for an impossible one).
    pub fn layout(&self) -> Result<Layout> {
        Layout::new(self.slot_size, self.slots)
    }
}

/// The receiving end: takes each message out of the next written slot.
#[derive(Debug)]
pub struct ShmReader {
    channel: Channel,
    read_index: u32,
    ends: u32,
    /// `--no-sync` only: the volatile copy of a slot.
    buf: Vec<u8>,
    /// False for the `--no-sync` experiment: no P(FULL), no V(EMPTY); poll the slots.
    synced: bool,
    /// `--no-sync`: the senders whose End we have read (an End may be read more than once).
    ended: Vec<u32>,
    /// `--no-sync`: every sender had detached when the current lap of the slots began.
    senders_gone: bool,
}

impl ShmReader {
    /// Claims the segment as its one receiver (stores our pid in the header) and takes
    /// ownership of both objects: from now on we remove them when we finish.
    pub fn new(channel: Channel) -> Result<ShmReader> {
        ShmReader::with_handoff(channel, true)
    }

    /// The `--no-sync` experiment: a reader that skips the semaphores and copies a slot every
    /// millisecond, whatever it holds.
    pub fn unsynchronised(channel: Channel) -> Result<ShmReader> {
        ShmReader::with_handoff(channel, false)
    }

    fn with_handoff(mut channel: Channel, synced: bool) -> Result<ShmReader> {
        if let Err(err) = channel.agree_on_handoff(synced) {
            // The objects belong to whoever created them (or to the receiver that claimed them).
            if !channel.created {
                channel.set_owner(false);
            }
            return Err(err);
        }
        let me = std::process::id();
        let claim = channel.segment.word(field::RECEIVER_PID)?.compare_exchange(
            0,
            me,
            Ordering::SeqCst,
            Ordering::SeqCst,
        );
        if let Err(other) = claim {
            let key = channel.segment.key();
            let err = if alive(other) {
                Error::new(
                    format!("claiming the shared memory segment with key {key}"),
                    format!("shm-receiver pid {other} already reads it"),
                )
                .with_hint("stop that receiver first, or use another --key for this pair")
            } else {
                Error::new(
                    format!("claiming the shared memory segment with key {key}"),
                    format!(
                        "it was read by shm-receiver pid {other}, which died without removing it"
                    ),
                )
                .with_hint(format!(
                    "remove the leftovers and start again: make clean-ipc (or ipcrm -M {} -S {})",
                    key.0, key.0
                ))
            };
            channel.set_owner(false);
            return Err(err);
        }
        channel.set_owner(true);
        Ok(ShmReader {
            channel,
            read_index: 0,
            ends: 0,
            buf: Vec::new(),
            synced,
            ended: Vec::new(),
            senders_gone: false,
        })
    }

    /// The channel (for messages about the objects).
    pub fn channel(&self) -> &Channel {
        &self.channel
    }

    /// Waits for the next written slot and decodes its message straight out of the slot (one
    /// copy of the payload, like C's `memcpy`).
    pub fn next_message(&mut self) -> Result<Message> {
        if !self.synced {
            return self.next_unsynchronised();
        }
        let (slot, decoded) = self.take(wire::decode)?;
        let msg = decoded.map_err(|err| err.context(format!("decoding slot {slot}")))?;
        if msg.is_end() {
            self.ends += 1;
        }
        Ok(msg)
    }

    /// The raw-bytes path: waits for the next written slot and replaces the contents of `out`
    /// with its record, the bytes as [`ShmWriter::send_bytes`] put them (C: `memcpy(buf, slot,
    /// len)`). Like [`next_message`](Self::next_message), fails instead of waiting for ever
    /// when every sender has gone and no record is waiting. Not for the `--no-sync`
    /// experiment, whose receiver reads only messages.
    pub fn receive_bytes(&mut self, out: &mut Vec<u8>) -> Result<()> {
        if !self.synced {
            return Err(Error::new(
                "receiving a record of bytes",
                "the raw path needs the semaphore handoff, and this reader runs --no-sync",
            ));
        }
        self.take(|record| {
            out.clear();
            out.extend_from_slice(record);
        })?;
        Ok(())
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
        let layout = self.channel.layout;
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

    /// `--no-sync`: copies the next slot without waiting for a V(FULL), every [`NO_SYNC_POLL`],
    /// and returns what it holds: a new message, one read before (duplicated), or a mix of two
    /// (torn: it fails to decode or its checksum does not match). A slot never written is
    /// skipped. A slot that does not decode comes back as [`torn`], which the summary counts as
    /// corrupt.
    fn next_unsynchronised(&mut self) -> Result<Message> {
        let layout = self.channel.layout;
        loop {
            signals::check()?;
            let slot = self.read_index % layout.slots;
            if slot == 0 {
                self.check_senders_unsynchronised()?;
            }
            let offset = layout.slot_offset(self.read_index);
            self.read_index = (self.read_index + 1) % layout.slots;
            std::thread::sleep(NO_SYNC_POLL);
            let mut len = [0u8; SLOT_HEADER];
            self.channel.segment.read(offset, &mut len)?;
            let len = u32::from_le_bytes(len) as usize;
            if len == 0 {
                continue; // never written yet
            }
            // A torn length can point past the slot: copy at most the slot.
            self.buf.resize(len.min(layout.max_message()), 0);
            self.channel
                .segment
                .read(offset + SLOT_HEADER, &mut self.buf)?;
            let msg = match wire::decode(&self.buf) {
                Ok(msg) if len <= layout.max_message() => msg,
                _ => torn(&self.buf),
            };
            if msg.is_end() && !self.ended.contains(&msg.sender) {
                self.ended.push(msg.sender);
            }
            return Ok(msg);
        }
    }

    /// `--no-sync`, at the start of each lap of the slots: fails if every sender that attached
    /// had already detached when the previous lap began (so that lap saw every slot's last
    /// message) and fewer Ends than senders were read.
    fn check_senders_unsynchronised(&mut self) -> Result<()> {
        let attached = self.channel.word(field::SENDERS)?;
        let gone = attached > 0 && self.channel.segment.stat()?.nattch <= 1;
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

/// What a `--no-sync` receiver makes of a slot that does not decode: a message the summary
/// counts as corrupt (sequence number 0 is impossible, and the checksum does not match), with
/// the bytes it found.
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
    fn a_torn_slot_counts_as_corrupt() {
        let mut tally = ipc_common::tally::Tally::new();
        tally.record(&torn(b"half of one message, half of another"));
        let summary = tally.summary();
        assert_eq!((summary.received, summary.corrupt), (1, 1));
    }

    #[test]
    fn an_end_message_fits_the_smallest_slot() {
        let mut buf = Vec::new();
        wire::encode(&Message::end(u32::MAX, u64::MAX - 1), &mut buf).expect("encodes");
        assert!(buf.len() <= Layout::new(MIN_SLOT_SIZE, 1).expect("valid").max_message());
    }
}
