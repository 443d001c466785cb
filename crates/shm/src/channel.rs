//! [`Channel`]: the pair's two kernel objects, a segment and a semaphore set with the same
//! key, attached and checked; who creates them and who may use them.
//!
//! ```text
//! semaphore set (key K)          segment (key K): see crate::layout
//!   EMPTY  = S  free slots
//!   FULL   = 0  written slots
//!   WRITER = 1  senders' lock
//!   INDEX  = 0  the next slot a sender writes (0 .. S-1)
//! ```
//!
//! The write index is a semaphore, not a header word, so that the sender advances it in the
//! same atomic `semop` as its V(FULL): a sender killed at any instant has either handed its
//! slot over and advanced the index, or done neither (see crate::writer).
//!
//! **Who creates.** Whichever end starts first creates the semaphore set with `IPC_EXCL`,
//! then the segment, writes the header, and only then initialises the semaphores; the other
//! end waits until the set is initialised (see crates/sem), so it always finds a complete
//! segment. The joining end adopts the slots and slot size the header records, and checks
//! only what its user gave explicitly (`--slot-size`, `--slots`): a value given that differs
//! from the header's is an error (see [`Geometry`]).
//!
//! **Who removes.** The receiver, at the end, on an error and on Ctrl-C: it claims the
//! segment by storing its pid in the header ([`Channel::claim_for_reader`]). A sender removes
//! both objects only when no receiver ever came (or the receiver died): after a normal finish
//! it leaves them, with the messages still in the slots, for the receiver.

use std::sync::atomic::Ordering;
use std::time::Duration;

use nix::errno::Errno;

use ipc_common::cli::{Key, Mode};
use ipc_common::creation::{create_or_open, Opened};
use ipc_common::process::is_alive;
use ipc_common::{Error, Result};
use ipc_sem::SemSet;

use crate::layout::{field, Geometry, Handoff, Layout, MAGIC, VERSION};
use crate::segment::ShmSegment;

/// Semaphore counting free slots (starts at S).
pub const EMPTY: u16 = 0;
/// Semaphore counting written slots (starts at 0).
pub const FULL: u16 = 1;
/// The senders' lock around writing a slot (starts at 1; held with SEM_UNDO).
pub const WRITER: u16 = 2;
/// The next slot a sender writes, 0 to S-1 (starts at 0; changed only by the holder of
/// WRITER, in the semop that hands the slot over).
pub const INDEX: u16 = 3;
/// Semaphores in the set.
pub const NSEMS: u16 = 4;

/// How long each wait lasts before we look at the other end.
pub(crate) const PEER_CHECK: Duration = Duration::from_millis(200);

/// Both kernel objects of the pair, attached and checked.
#[derive(Debug)]
pub struct Channel {
    pub(crate) sems: SemSet,
    pub(crate) segment: ShmSegment,
    layout: Layout,
    created: bool,
}

impl Channel {
    /// Creates the semaphore set and the segment if this end is the first (laid out as
    /// `geometry` asks, defaults for what it leaves open), else opens them and adopts the
    /// segment's layout, checking the values `geometry` gives explicitly (C: `semget(key, 4,
    /// IPC_CREAT | IPC_EXCL | mode)`, else `semget(key, 0, 0)`; then `shmget` and `shmat`).
    pub fn attach(key: Key, geometry: impl Into<Geometry>, mode: Mode) -> Result<Channel> {
        let geometry = geometry.into();
        let open = || match SemSet::open(key, NSEMS) {
            Err(err) if err.errno() == Some(Errno::ENOENT) => Ok(None),
            opened => opened.map(Some),
        };
        let what = format!("the semaphore set with key {key}");
        match create_or_open(&what, || SemSet::create(key, NSEMS, mode), open)? {
            Opened::Created(sems) => Channel::create(key, geometry.layout()?, mode, sems),
            Opened::Found(sems) => {
                // Another user's set (and segment) only when shared with this --mode (0666).
                sems.check_shared(mode)?;
                Channel::open(key, geometry, sems)
            }
        }
    }

    /// We created the semaphore set (so we are first): make the segment, lay it out, and only
    /// then initialise the semaphores, which tells the other end it may look.
    fn create(key: Key, layout: Layout, mode: Mode, sems: SemSet) -> Result<Channel> {
        let segment = match ShmSegment::create(key, layout.segment_size(), mode)? {
            Some(segment) => segment,
            None => take_over_leftover(key, layout)?,
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
        sems.initialise(&[layout.slots as u16, 0, 1, 0])?;
        Ok(Channel {
            sems,
            segment,
            layout,
            created: true,
        })
    }

    /// The other end created the objects: open the segment, read its layout from the header
    /// (the slots and slot size its creator recorded) and adopt it, unless the user gave other
    /// values explicitly.
    fn open(key: Key, geometry: Geometry, sems: SemSet) -> Result<Channel> {
        let segment = ShmSegment::open(key).map_err(|err| {
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
        let word = |offset| segment.word(offset).map(|w| w.load(Ordering::SeqCst));
        // The header's slots and slot size, checked as a user's would be (a slot count of 0
        // in a damaged header must not become a division by zero).
        let ours = segment.size() >= crate::layout::HEADER
            && (word(field::MAGIC)?, word(field::VERSION)?) == (MAGIC, VERSION);
        let theirs = if ours {
            Layout::new(word(field::SLOT_SIZE)? as usize, word(field::SLOTS)?).ok()
        } else {
            None
        };
        let theirs = match theirs {
            Some(theirs) => theirs,
            _ => {
                // Not our header: a segment of another size says more (shm1/shm2's).
                check_size(&segment, geometry.layout()?)?;
                return Err(Error::new(
                    format!("using the shared memory segment with key {key}"),
                    "it was not laid out by shm-sender or shm-receiver (wrong header)",
                )
                .with_hint(format!(
                    "choose another --key, or remove the segment: ipcrm -M {}",
                    key.0
                )));
            }
        };
        let layout = geometry.adopt(theirs);
        if layout != theirs {
            return Err(Error::new(
                format!("using the shared memory segment with key {key}"),
                format!(
                    "it holds {} and this program was started with {}",
                    theirs.describe(),
                    geometry.options()
                ),
            )
            .with_hint(format!(
                "start this end with --slot-size {} --slots {}, or without those options (it \
                 then takes the segment's)",
                theirs.slot_size, theirs.slots
            )));
        }
        check_size(&segment, layout)?;
        Ok(Channel {
            sems,
            segment,
            layout,
            created: false,
        })
    }

    /// Says what was created or found, and the tutorial's `Memory attached at %X` (with the
    /// full 64-bit address).
    pub fn announce(&self) {
        let (segment, layout) = (&self.segment, self.layout);
        let how = if self.created { "created" } else { "found" };
        eprintln!(
            "{}: {how} shared memory segment key {} (id {}, {} bytes: {} slot(s) of {} bytes + \
             a 64-byte header; the kernel rounds it up to whole pages) and semaphore set id {}",
            ipc_common::program::name(),
            segment.key(),
            segment.id(),
            segment.size(),
            layout.slots,
            layout.slot_size,
            self.sems.id()
        );
        eprintln!("Memory attached at {:#018x}", segment.addr());
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
    pub fn remove_when_done(&mut self, owner: bool) {
        self.segment.remove_when_done(owner);
        self.sems.remove_when_done(owner);
    }

    /// The header word at `offset`, read now.
    pub(crate) fn word(&self, offset: usize) -> Result<u32> {
        Ok(self.segment.word(offset)?.load(Ordering::SeqCst))
    }

    /// Records which handoff this end uses, or checks it against the one the other end
    /// recorded first (a usage error when they differ).
    pub(crate) fn agree_on_handoff(&self, mine: Handoff) -> Result<()> {
        let word = self.segment.word(field::HANDOFF)?;
        let mine_word = mine as u32;
        match word.compare_exchange(0, mine_word, Ordering::SeqCst, Ordering::SeqCst) {
            Ok(_) => Ok(()),
            Err(theirs) if theirs == mine_word => Ok(()),
            Err(_) => {
                let (with, without) = match mine {
                    Handoff::Synced => ("with --no-sync", "without it"),
                    Handoff::NoSync => ("without --no-sync", "with it"),
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

    /// The receiver joins: checks the handoff, claims the segment as its one receiver (stores
    /// our pid in the header) and takes ownership of both objects: from now on we remove them
    /// when we finish. On failure the objects stay with whoever owns them.
    pub(crate) fn claim_for_reader(mut self, handoff: Handoff) -> Result<Channel> {
        if let Err(err) = self.agree_on_handoff(handoff) {
            if !self.created {
                self.remove_when_done(false);
            }
            return Err(err);
        }
        let me = std::process::id();
        let claim = self.segment.word(field::RECEIVER_PID)?.compare_exchange(
            0,
            me,
            Ordering::SeqCst,
            Ordering::SeqCst,
        );
        if let Err(other) = claim {
            self.remove_when_done(false);
            return Err(claimed_by(self.segment.key(), other));
        }
        self.remove_when_done(true);
        Ok(self)
    }
}

/// A sender's hold on the channel ([`crate::ShmWriter`], [`crate::UnsyncedWriter`]): it
/// counts the sender in the header, and says, when the sender finishes or stops, who removes
/// the objects.
#[derive(Debug)]
pub(crate) struct SenderHold {
    pub(crate) channel: Channel,
    finished: bool,
}

impl SenderHold {
    /// A sender joins: checks the handoff and counts itself in the header (the receiver uses
    /// the count to tell a dead sender from one that has not started). A sender killed
    /// between `shmat` and this call has sent nothing and is not counted.
    pub(crate) fn register(channel: Channel, handoff: Handoff) -> Result<SenderHold> {
        channel.agree_on_handoff(handoff)?;
        channel
            .segment
            .word(field::SENDERS)?
            .fetch_add(1, Ordering::SeqCst);
        Ok(SenderHold {
            channel,
            finished: false,
        })
    }

    /// Everything was sent, End included: the objects are the receiver's, which reads what is
    /// still in the slots and removes them. Returns the receiver's pid, 0 if none yet.
    ///
    /// Fails if the receiver was killed: nobody will read what is left in the slots or remove
    /// the objects, so we remove them (when dropped) and say so, rather than report a success.
    /// A receiver that finished normally removed the semaphore set *before* it exited, so "its
    /// pid is dead and the set still exists", read in that order, means killed.
    pub(crate) fn finish(&mut self) -> Result<u32> {
        let channel = &mut self.channel;
        let pid = channel.word(field::RECEIVER_PID)?;
        if pid != 0 && !is_alive(pid) && channel.sems.value(FULL).is_ok() {
            channel.remove_when_done(true);
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
        channel.remove_when_done(false);
        Ok(pid)
    }
}

impl Drop for SenderHold {
    /// A sender stopped early (error or Ctrl-C): the objects are removed only if no receiver
    /// came (or it died); a live receiver owns them and will see that we left.
    fn drop(&mut self) {
        // Only a creator (or a sender that found the receiver dead) owns anything here.
        if self.finished || !self.channel.segment.is_owner() {
            return;
        }
        let channel = &mut self.channel;
        match channel.word(field::RECEIVER_PID) {
            Ok(0) => {} // no receiver: ours to remove
            Ok(pid) if is_alive(pid) => channel.remove_when_done(false), // the receiver's now
            Ok(_) => channel.remove_when_done(true), // a dead receiver: we clean up
            Err(_) => {}
        }
    }
}

/// A segment without its semaphores: left by a pair that was killed. Take it over if it is
/// unused and of our size.
fn take_over_leftover(key: Key, layout: Layout) -> Result<ShmSegment> {
    let mut segment = ShmSegment::open(key)?;
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
    segment.remove_when_done(true);
    Ok(segment)
}

/// The error for a segment another receiver, `pid`, has claimed.
fn claimed_by(key: Key, pid: u32) -> Error {
    let what = format!("claiming the shared memory segment with key {key}");
    if is_alive(pid) {
        Error::new(what, format!("shm-receiver pid {pid} already reads it"))
            .with_hint("stop that receiver first, or use another --key for this pair")
    } else {
        Error::new(
            what,
            format!("it was read by shm-receiver pid {pid}, which died without removing it"),
        )
        .with_hint(format!(
            "remove the leftovers and start again: make clean-ipc (or ipcrm -M {} -S {})",
            key.0, key.0
        ))
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
    .with_hint(if segment.size() == crate::shared_use::SharedUseSt::SIZE {
        "it has the size of the textbook's struct shared_use_st (shm1/shm2): start this end with --wire c".to_string()
    } else {
        format!(
            "start both ends with the same --slot-size and --slots, or remove the old segment: ipcrm -M {}",
            segment.key().0
        )
    }))
}
