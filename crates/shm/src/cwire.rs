//! `--wire c`: the layout and handoff of the tutorial's C programs (c/shm_receiver.c and
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
//! segment, and the text `end` last. The receiver creates both objects (semaphores first,
//! initialised, then the segment) and removes them; the sender only opens them, segment first:
//! a segment that exists means initialised semaphores. The C layout has no sender pid and no
//! sequence number: a receiver numbers the texts in arrival order (sender pid 0), so the
//! summary cannot count lost or duplicated messages. `--count` payloads have no C form.

use std::time::Duration;

use clap::Args;

use ipc_common::cli::{Key, Mode};
use ipc_common::ctext::{CText, Terminator, C_END};
use ipc_common::message::Body;
use ipc_common::{Error, Message, Result};
use ipc_sem::{Op, SemSet};

use crate::segment::ShmSegment;

/// The C programs' segment: `char some_text[1024]`.
pub const C_SEGMENT: usize = 1024;
/// That buffer, as the checks of `--wire c` see it.
const C_TEXT_BUFFER: CText = CText {
    declaration: "char some_text[1024]",
    size: C_SEGMENT,
    terminator: Terminator::Nul,
};
/// The C programs' semaphores: EMPTY (starts at 1) and FULL (starts at 0).
const EMPTY: u16 = 0;
const FULL: u16 = 1;
/// How long each wait lasts before we look at the other end.
const PEER_CHECK: Duration = Duration::from_millis(200);

pub use ipc_common::ctext::Wire;

/// `--wire bincode|c`, for shm-sender and shm-receiver.
#[derive(Debug, Clone, Args)]
pub struct WireArg {
    /// Layout of the segment: ours, or the C programs' (c/shm_*.c: one NUL-terminated text in
    /// 1024 bytes, semaphores EMPTY and FULL), to talk to them
    #[arg(long, value_enum, default_value_t = Wire::Bincode,
          conflicts_with_all = ["slot_size", "slots", "no_sync"])]
    pub wire: Wire,
}

/// Checks, before anything is attached, that the sender's messages have a C form: texts of at
/// most 1023 bytes without NUL.
pub fn check_source(source: &ipc_common::cli::MessageSource) -> Result<()> {
    C_TEXT_BUFFER.check_source(source)
}

/// The two objects of the C programs' pair, attached.
#[derive(Debug)]
pub struct CChannel {
    sems: SemSet,
    segment: ShmSegment,
    received: u64,
    /// A sender has been attached at some point (the receiver uses it to notice one leaving).
    sender_seen: bool,
}

impl CChannel {
    /// The receiving end, as c/shm_receiver.c: creates the semaphores (EMPTY 1, FULL 0) and
    /// then the 1024-byte segment, both exclusively; owns and removes them.
    pub fn create(program: &'static str, key: Key, mode: Mode) -> Result<CChannel> {
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
        let sems =
            SemSet::create(program, key, 2, mode)?.ok_or_else(|| exists("semaphore set", "S"))?;
        sems.initialise(&[1, 0])?;
        let segment = ShmSegment::create(program, key, C_SEGMENT, mode)?
            .ok_or_else(|| exists("shared memory segment", "M"))?;
        Ok(CChannel {
            sems,
            segment,
            received: 0,
            sender_seen: false,
        })
    }

    /// The sending end, as c/shm_sender.c: opens the receiver's segment, then its semaphores;
    /// owns nothing.
    pub fn open(program: &'static str, key: Key) -> Result<CChannel> {
        let segment = ShmSegment::open(program, key).map_err(|err| {
            if err.errno() == Some(nix::errno::Errno::ENOENT) {
                err.with_hint("start the receiver first (shm-receiver --wire c, or c/build/shm_receiver): it creates the segment")
            } else {
                err
            }
        })?;
        if segment.size() != C_SEGMENT {
            return Err(Error::new(
                format!("using the shared memory segment with key {key} (--wire c)"),
                format!(
                    "it is {} bytes, not the C programs' {C_SEGMENT}: its receiver does not use --wire c",
                    segment.size()
                ),
            )
            .with_hint("start both ends with --wire c, or neither"));
        }
        let sems = SemSet::open_as_is(program, key, 2)?;
        Ok(CChannel {
            sems,
            segment,
            received: 0,
            sender_seen: false,
        })
    }

    /// The segment (address, id).
    pub fn segment(&self) -> &ShmSegment {
        &self.segment
    }

    /// The semaphore set (id).
    pub fn semaphores(&self) -> &SemSet {
        &self.sems
    }

    /// Receiver: P(FULL), copy the text out, V(EMPTY). `end` comes back as End.
    pub fn next_message(&mut self) -> Result<Message> {
        while !self
            .sems
            .op_timeout([Op::wait(FULL)], PEER_CHECK, "waiting for a text")?
        {
            self.check_sender()?;
        }
        let mut text = vec![0u8; C_SEGMENT];
        self.segment.read(0, &mut text)?;
        self.sems.op([Op::post(EMPTY)], "freeing the segment")?;
        let end = text.iter().position(|&b| b == 0).unwrap_or(C_SEGMENT - 1);
        let text = String::from_utf8_lossy(&text[..end]);
        self.received += 1;
        Ok(if text == C_END {
            Message::end(0, self.received)
        } else {
            Message::text(0, self.received, text)
        })
    }

    /// Receiver, each time a wait times out: a sender that attached and has gone without its
    /// `end` (nothing waiting, only we are attached) is an error rather than a wait for ever.
    fn check_sender(&mut self) -> Result<()> {
        let attached = self.segment.stat()?.nattch;
        if attached > 1 {
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

    /// Sender: P(EMPTY), write the text and its NUL, V(FULL).
    pub fn send_text(&mut self, text: &str, seq: u64) -> Result<()> {
        C_TEXT_BUFFER
            .check_text(text)
            .map_err(|why| Error::new(format!("sending message {seq}"), why))?;
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
        let mut bytes = text.as_bytes().to_vec();
        bytes.push(0);
        self.segment.write(0, &bytes)?;
        self.sems.op([Op::post(FULL)], "handing the text over")
    }
}

impl ipc_common::sender::Outbox for CChannel {
    fn send(&mut self, msg: &Message) -> Result<()> {
        match &msg.body {
            Body::Text(text) => self.send_text(text, msg.seq),
            Body::End => self.send_text(C_END, msg.seq),
            Body::Payload { .. } | Body::Ack => Err(Error::usage(
                "--wire c",
                "the C programs carry text lines only, not generated payloads",
            )),
        }
    }
}
