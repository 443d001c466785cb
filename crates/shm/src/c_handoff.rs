//! `--wire c`: the handoff of the tutorial's C programs (c/shm_receiver.c and
//! c/shm_sender.c) instead of ours, so that a Rust end works with a C end.
//!
//! ```c
//! #define SEGMENT_SIZE 1024
//! struct shared_use_st { char some_text[SEGMENT_SIZE]; };   /* one text, NUL-terminated */
//! semget(key, 2, 0600 | IPC_CREAT | IPC_EXCL);   /* [0] EMPTY = 1, [1] FULL = 0 (SETALL) */
//! shmget(key, SEGMENT_SIZE, 0600 | IPC_CREAT | IPC_EXCL);
//! /* sender:   P(EMPTY), snprintf(shared->some_text, ...), V(FULL)   */
//! /* receiver: P(FULL), memcpy(text, shared->some_text, ...), V(EMPTY) */
//! ```
//!
//! No header, no slots, no length field: one text and its NUL at the start of a 1024-byte
//! segment, and the text `end` last. The text layout is [`ipc_common::clayout::SHM`]; this
//! file holds only the two objects and the handoff. The receiver creates both objects
//! (semaphores first, initialised, then the segment) and removes them; the sender only opens
//! them, segment first: a segment that exists means initialised semaphores.

use nix::errno::Errno;

use ipc_common::clayout::{CDecoder, SHM};
use ipc_common::cli::{Key, Mode};
use ipc_common::receiver::{Delivery, Inbox};
use ipc_common::sender::Outbox;
use ipc_common::{program, Error, Message, Result};
use ipc_sem::{Op, SemSet};

use crate::channel::PEER_CHECK;
use crate::segment::ShmSegment;

/// The C programs' semaphores: EMPTY (starts at 1) and FULL (starts at 0).
const EMPTY: u16 = 0;
const FULL: u16 = 1;

/// The two objects of the C programs' pair, attached: an [`Inbox`] at the receiving end, an
/// [`Outbox`] at the sending end.
#[derive(Debug)]
pub struct CChannel {
    sems: SemSet,
    segment: ShmSegment,
    decoder: CDecoder,
    /// The segment's bytes, copied out (receiver) or the text to copy in (sender).
    buf: Vec<u8>,
    /// A sender has been attached at some point (the receiver uses it to notice one leaving).
    sender_seen: bool,
}

impl CChannel {
    /// The receiving end, as c/shm_receiver.c: creates the semaphores (EMPTY 1, FULL 0) and
    /// then the 1024-byte segment, both exclusively; owns and removes them.
    pub fn create(key: Key, mode: Mode) -> Result<CChannel> {
        let exists = |what: &str, flag: &str| {
            Error::new(
                format!("creating the {what} with key {key} (--wire c)"),
                "one exists already (another receiver, or a leftover)",
            )
            .with_hint(format!(
                "stop the other receiver, or remove it: ipcrm -{flag} {}",
                key.0
            ))
        };
        let sems = SemSet::create(key, 2, mode)?.ok_or_else(|| exists("semaphore set", "S"))?;
        sems.initialise(&[1, 0])?;
        let segment = ShmSegment::create(key, SHM.size, mode)?
            .ok_or_else(|| exists("shared memory segment", "M"))?;
        Ok(CChannel::of(sems, segment))
    }

    /// The sending end, as c/shm_sender.c: opens the receiver's segment, then its semaphores;
    /// owns nothing.
    pub fn open(key: Key) -> Result<CChannel> {
        let segment = ShmSegment::open(key).map_err(|err| {
            if err.errno() == Some(Errno::ENOENT) {
                err.with_hint("start the receiver first (shm-receiver --wire c, or c/build/shm_receiver): it creates the segment")
            } else {
                err
            }
        })?;
        if segment.size() != SHM.size {
            return Err(Error::new(
                format!("using the shared memory segment with key {key} (--wire c)"),
                format!(
                    "it is {} bytes, not the C programs' {}: its receiver does not use --wire c",
                    segment.size(),
                    SHM.size
                ),
            )
            .with_hint("start both ends with --wire c, or neither"));
        }
        let sems = SemSet::open_as_is(key, 2)?;
        Ok(CChannel::of(sems, segment))
    }

    fn of(sems: SemSet, segment: ShmSegment) -> CChannel {
        CChannel {
            sems,
            segment,
            decoder: SHM.decoder(),
            buf: Vec::with_capacity(SHM.size),
            sender_seen: false,
        }
    }

    /// Says what was created or found, and the tutorial's `Memory attached at %X`.
    pub fn announce(&self) {
        let segment = &self.segment;
        let how = if segment.is_owner() {
            "created"
        } else {
            "found"
        };
        eprintln!(
            "{}: {how} the C layout's segment key {} (id {}, {} bytes) and semaphore set id {}",
            program::name(),
            segment.key(),
            segment.id(),
            segment.size(),
            self.sems.id()
        );
        eprintln!("Memory attached at {:#018x}", segment.addr());
    }

    /// The segment (address, id, key).
    pub fn segment(&self) -> &ShmSegment {
        &self.segment
    }

    /// Receiver, each time a wait times out: a sender that attached and has gone without its
    /// `end` (nothing waiting, only we are attached) is an error rather than a wait for ever.
    fn check_sender(&mut self) -> Result<()> {
        if self.segment.stat()?.nattch > 1 {
            self.sender_seen = true;
            return Ok(());
        }
        if self.sender_seen && self.sems.value(FULL)? == 0 {
            return Err(Error::new(
                "waiting for a text (--wire c)",
                "the sender detached without sending `end` (killed?)",
            ));
        }
        Ok(())
    }
}

impl Inbox for CChannel {
    /// P(FULL), copy the text out, V(EMPTY). `end` comes back as End.
    fn receive(&mut self) -> Result<Delivery> {
        while !self
            .sems
            .op_timeout([Op::wait(FULL)], PEER_CHECK, "waiting for a text")?
        {
            self.check_sender()?;
        }
        self.buf.resize(SHM.size, 0);
        self.segment.read(0, &mut self.buf)?;
        self.sems.op([Op::post(EMPTY)], "freeing the segment")?;
        Ok(self.decoder.decode(&self.buf))
    }
}

impl Outbox for CChannel {
    /// P(EMPTY), write the text and its NUL, V(FULL).
    fn send(&mut self, msg: &Message) -> Result<()> {
        SHM.encode(msg, &mut self.buf)?;
        while !self
            .sems
            .op_timeout([Op::wait(EMPTY)], PEER_CHECK, "waiting for the segment")?
        {
            // The receiver is attached as long as it runs (the kernel detaches a dead one).
            if self.segment.stat()?.nattch <= 1 {
                return Err(Error::new(
                    "waiting for the segment (--wire c)",
                    "the receiver has gone without removing the segment (killed?)",
                )
                .with_hint("start the receiver again, then the sender"));
            }
        }
        self.segment.write(0, &self.buf)?;
        self.sems.op([Op::post(FULL)], "handing the text over")
    }
}
