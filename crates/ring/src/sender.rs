//! [`RingSender`]: the ring's producer as shm-sender's [`Outbox`] (`shm-sender --ring`).
//!
//! | step | C | Rust |
//! |---|---|---|
//! | find the ring | `shm_open("/ipc-pairs", O_RDWR, 0); fstat; mmap`, retried until it exists | [`RingSender::wait_for`] (`Ring::open`) |
//! | one message | encode into slot `head % S`, then store its slot word (stamp, length) last | `send` (`Producer::send_with` + `wire::encode_into_slice`) |
//! | raw bytes (ipc-bench) | `memcpy` into the slot, then its slot word | `send_bytes` (`Producer::send`) |
//! | end of stream | the End message, then mark the ring CLOSED | [`RingSender::finish`] (`Producer::close`) |
//!
//! The receiver creates the ring; a sender started first waits for it, saying so on stderr,
//! as a System V sender waits for its receiver. The sender takes the ring's slot size and
//! count, so its own `--slot-size` and `--slots` do not matter. A ring has exactly one
//! producer: one sender per receiver.

use std::time::{Duration, Instant};

use nix::errno::Errno;

use ipc_common::cli::{self, MessageSource};
use ipc_common::error::ErrorKind;
use ipc_common::message::Body;
use ipc_common::sender::Outbox;
use ipc_common::{program, signals, wire, Error, Message, Result};

use crate::orphan::{receiver_of, remove_orphan, ring_left_behind};
use crate::{Producer, Ring, WaitStats};

/// How often a sender started first looks for the ring (and for Ctrl-C).
const LOOK_FOR_RING: Duration = Duration::from_millis(50);

/// How long a ring may stay half-made (no size or no magic yet) before a sender calls it "not a
/// ring": the receiver fills in the header microseconds after `shm_open`.
const CREATION_GRACE: Duration = Duration::from_secs(1);

/// The sending end: an [`Outbox`] that puts each encoded message into the next free slot.
#[derive(Debug)]
pub struct RingSender {
    /// None once [`RingSender::finish`] has closed the ring.
    producer: Option<Producer>,
    name: String,
}

impl RingSender {
    /// Waits for the ring `name` that shm-receiver creates, checks that every message of
    /// `source` fits in its slots (failing here leaves the receiver waiting), and becomes its
    /// producer.
    ///
    /// A ring of another user is used only when `mode` (the sender's `--mode`) opens it to
    /// others and equals the ring's mode (0666, see [`cli::Mode::admits_foreign`]).
    pub fn wait_for(name: &str, mode: cli::Mode, source: &MessageSource) -> Result<RingSender> {
        let ring = wait_for_ring(name)?;
        check_owner(&ring, mode)?;
        check_source(&ring, source)?;
        RingSender::new(ring)
    }

    /// Becomes the ring's one producer (fails if it already has or had one).
    pub fn new(ring: Ring) -> Result<RingSender> {
        let name = ring.name().to_string();
        let producer = Producer::new(ring).map_err(|err| {
            err.with_hint("one shm-sender per ring: start shm-receiver --ring again for another")
        })?;
        Ok(RingSender {
            producer: Some(producer),
            name,
        })
    }

    /// The tutorial's `Memory attached at %X` and what was found. Only once we are the
    /// producer: a sender that printed it is one the receiver knows about.
    pub fn announce(&self) {
        let Some(ring) = self.producer.as_ref().map(Producer::ring) else {
            return;
        };
        eprintln!("Memory attached at {:#018x}", ring.addr());
        eprintln!(
            "{}: found the ring {} ({} slot(s) of {} bytes, {} bytes in /dev/shm)",
            program::name(),
            ring.name(),
            ring.slots(),
            ring.slot_size(),
            ring.bytes()
        );
    }

    /// Everything was sent, End included: marks the ring CLOSED (C: a store into the header).
    /// Returns how often this end slept on a full ring and woke the receiver. Fails if the
    /// receiver is dead without having removed the ring: then nobody reads what is left, and
    /// this end removes it.
    pub fn finish(mut self) -> Result<WaitStats> {
        let Some(producer) = self.producer.take() else {
            return Ok(WaitStats::default());
        };
        let stats = producer.stats();
        producer.close()?;
        if let Some(dead) = ring_left_behind(&self.name) {
            remove_orphan(&self.name, dead)?;
            return Err(Error::new(
                format!("finishing the ring {}", self.name),
                format!("shm-receiver (pid {dead}) died before the End (killed?)"),
            )
            .with_hint("start shm-receiver --ring again, then the sender"));
        }
        Ok(stats)
    }

    fn producer(&mut self, seq: u64) -> Result<&mut Producer> {
        self.producer.as_mut().ok_or_else(|| {
            Error::new(
                format!("sending message {seq}"),
                "the ring is already closed",
            )
        })
    }
}

impl Outbox for RingSender {
    /// Encodes `msg` straight into the slot (no scratch copy), once we know it fits.
    fn send(&mut self, msg: &Message) -> Result<()> {
        let producer = self.producer(msg.seq)?;
        let encoded = wire::encoded_len(msg);
        check_fits(producer.ring(), encoded, || {
            format!("sending message {}", msg.seq)
        })?;
        producer
            .send_with(encoded, |slot| {
                wire::encode_into_slice(msg, slot)
                    .map_err(|err| err.context(format!("encoding message {}", msg.seq)))
            })
            .map(drop)
            .map_err(|err| explain(err, &self.name, msg.seq))
    }

    /// The raw path: `bytes` as they are, as one record (C: `memcpy` into the slot).
    fn send_bytes(&mut self, bytes: &[u8]) -> Result<()> {
        self.producer(0)?.send(bytes)
    }
}

impl Drop for RingSender {
    /// A sender stopped early (an error, Ctrl-C): if the receiver is dead, nobody else will
    /// remove its ring. A live receiver owns it and sees that we left (the producer's Drop).
    fn drop(&mut self) {
        // Nothing to do once finished, or for a ring this process made: its guard removes it.
        let created_here = self.producer.as_ref().is_some_and(|p| p.ring().is_owner());
        if self.producer.is_none() || created_here {
            return;
        }
        if let Some(dead) = ring_left_behind(&self.name) {
            if let Err(err) = remove_orphan(&self.name, dead) {
                eprintln!("{}: warning: {err}", program::name());
            }
        }
    }
}

/// Refuses a ring of another user unless `mode` admits it; says whose a ring it joins is.
fn check_owner(ring: &Ring, mode: cli::Mode) -> Result<()> {
    let (uid, found) = ring.owner_and_mode();
    let me = nix::unistd::geteuid().as_raw();
    if uid == me {
        return Ok(());
    }
    if !mode.admits_foreign(found) {
        let hint = if found & 0o077 != 0 && found != mode.0 {
            format!(
                "to share it as its owner meant, pass --mode {found:04o} (its mode); or choose another --name"
            )
        } else {
            format!(
                "choose another --name; a ring is shared only when its owner made it with \
                 --mode 0666 and you pass --mode 0666 too ({})",
                cli::owner_name(uid)
            )
        };
        return Err(Error::new(
            format!("opening the shared-memory ring {}", ring.name()),
            format!("it belongs to uid {uid} (mode {found:04o}), not to us (uid {me})"),
        )
        .with_hint(hint));
    }
    mode.note_foreign(&format!("the shared-memory ring {}", ring.name()), uid);
    Ok(())
}

/// Waits until shm-receiver has created the ring `name` and opens it (C: `shm_open(name,
/// O_RDWR, 0)` every 50 ms). Says once on stderr that it waits; Ctrl-C stops it. A ring whose
/// receiver died is removed, and the wait goes on for a new one.
fn wait_for_ring(name: &str) -> Result<Ring> {
    let mut said_waiting = false;
    let mut half_made_since: Option<Instant> = None;
    loop {
        signals::check()?;
        match Ring::open(name) {
            Ok(ring) => match (ring_left_behind(name), receiver_of(name)) {
                (Some(dead), _) => remove_orphan(name, dead)?,
                // Its receiver has finished and is removing it: wait for the next one.
                (None, Some(seen)) if seen.went_away() => {}
                _ => return Ok(ring),
            },
            Err(err) if err.errno() == Some(Errno::ENOENT) => half_made_since = None,
            // Too small, or no magic yet: the receiver may be half-way through making it.
            Err(err) if err.kind() == ErrorKind::Runtime && err.errno().is_none() => {
                let since = *half_made_since.get_or_insert_with(Instant::now);
                if since.elapsed() >= CREATION_GRACE {
                    return Err(err);
                }
            }
            Err(err) => return Err(err),
        }
        if !said_waiting {
            said_waiting = true;
            eprintln!(
                "{}: waiting for shm-receiver --ring to create the ring {name}",
                program::name()
            );
        }
        std::thread::sleep(LOOK_FOR_RING);
    }
}

/// Checks, before the sender attaches, that every message it was told to send fits in a slot
/// of `ring`: the largest `--count`/`--size` payload, each `--message`. (Lines typed on stdin
/// are checked one by one as they are sent.)
fn check_source(ring: &Ring, source: &MessageSource) -> Result<()> {
    let sender = std::process::id();
    if let Some(count) = source.count {
        // The largest encoding any of them can have: the last sequence number, and a checksum
        // that takes all 9 bytes of its variable-length integer.
        let largest = Message {
            sender,
            seq: count,
            body: Body::Payload {
                bytes: vec![0; source.size],
                checksum: u64::MAX,
            },
        };
        let what = || format!("sending {count} message(s) of {} bytes", source.size);
        return check_fits(ring, wire::encoded_len(&largest), what);
    }
    for (seq, text) in (1..).zip(&source.messages) {
        let encoded = wire::encoded_len(&Message::text(sender, seq, text.as_str()));
        check_fits(ring, encoded, || format!("sending message {seq}"))?;
    }
    Ok(())
}

/// The "too big for a slot" error, saying how large to make the slots.
fn check_fits(ring: &Ring, encoded: usize, what: impl FnOnce() -> String) -> Result<()> {
    if encoded <= ring.slot_size() {
        return Ok(());
    }
    Err(Error::new(
        what(),
        format!(
            "it takes {encoded} bytes encoded, more than a slot of the ring {} holds ({} bytes)",
            ring.name(),
            ring.slot_size()
        ),
    )
    .with_hint(format!(
        "start shm-receiver --ring with --slot-size {encoded} or more (a slot holds one encoded \
         message: --size plus up to 40 bytes of envelope)"
    )))
}

/// Says a failure of the ring in the pair's words when the receiver is behind it: the ring
/// speaks of its "consumer", the user started shm-receiver.
fn explain(err: Error, name: &str, seq: u64) -> Error {
    if err.kind() != ErrorKind::Runtime {
        return err;
    }
    match (ring_left_behind(name), receiver_of(name)) {
        (Some(dead), _) => Error::new(
            format!("sending message {seq}"),
            format!("shm-receiver (pid {dead}) died without removing the ring (killed?)"),
        )
        .with_hint("start shm-receiver --ring again, then the sender"),
        (None, Some(receiver)) if receiver.went_away() => Error::new(
            format!("sending message {seq}"),
            "shm-receiver stopped reading the ring",
        )
        .with_hint("look at shm-receiver's error output"),
        _ => err,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_case_payload_is_at_most_forty_bytes_over_its_size() {
        let largest = Message {
            sender: u32::MAX,
            seq: u64::MAX,
            body: Body::Payload {
                bytes: vec![0; 1 << 20],
                checksum: u64::MAX,
            },
        };
        assert!(wire::encoded_len(&largest) <= (1 << 20) + 40);
    }
}
