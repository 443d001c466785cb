//! `--ring`: the lock-free ring of crates/ring as a mode of shm-sender and shm-receiver.
//!
//! The System V mode hands each slot over with two `semop` system calls. The ring hands it
//! over with two atomic counters in the shared memory itself: while both ends keep up, a
//! message costs no system call at all (see crates/ring/README.md). From the user's side
//! nothing else changes: the same message sources, `You wrote:` lines, summary and exit codes.
//!
//! | step | C | Rust |
//! |---|---|---|
//! | the receiver makes it | `shm_open("/ipc-pairs", O_CREAT \| O_EXCL \| O_RDWR, 0600); ftruncate; mmap` | [`RingReceiver::create`] (`Ring::create`) |
//! | the sender finds it | `shm_open("/ipc-pairs", O_RDWR, 0); fstat; mmap`, retried until it exists | [`wait_for_ring`] (`Ring::open`) |
//! | one message | encode into slot `head % S`, then store its slot word (stamp, length) last | [`RingSender`]'s `send` (`Producer::send_with` + `wire::encode_into_slice`) |
//! | read it | poll slot `tail % S`'s word until its stamp is `tail + 1`, decode in the slot, store `tail + 1` | [`RingReceiver::next_message`] (`Consumer::recv_with(wire::decode)`) |
//! | end of stream | the End message, then mark the ring CLOSED | [`RingSender::finish`] (`Producer::close`) |
//! | remove it | `munmap; shm_unlink("/ipc-pairs")` | dropping the [`RingReceiver`] |
//!
//! **Who creates, who removes.** The receiver creates the ring (`--name`, `--slot-size`,
//! `--slots`) and removes it when it finishes, fails or is stopped with Ctrl-C. A sender
//! started first waits for it, saying so on stderr, as a System V sender waits for its
//! receiver; the sender takes the ring's slot size and count, so its own `--slot-size` and
//! `--slots` do not matter. A ring has exactly one producer: one sender per receiver.
//!
//! **A receiver killed with `kill -9`** cannot remove its ring. Whoever finds it next does:
//! the sender (when it notices, or when it finds such a ring on start) and a new receiver that
//! wants the name. "Dead" is read from the ring's header: the consumer's pid and state
//! ([`ipc_ring::peek`], a `pread` on the object, not through the mapping).

use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::mman::shm_unlink;

use ipc_common::cli::{MessageSource, Mode, DEFAULT_POSIX_NAME};
use ipc_common::error::ErrorKind;
use ipc_common::message::Body;
use ipc_common::sender::Outbox;
use ipc_common::{trace, wire, Error, Message, Result};
use ipc_ring::layout::{state, Geometry};
use ipc_ring::{peek, process_alive, Consumer, End, EndSeen, Producer, Ring, WaitStats};

use crate::handoff::MIN_SLOT_SIZE;

/// How often a sender started first looks for the ring (and for Ctrl-C).
const LOOK_FOR_RING: Duration = Duration::from_millis(50);

/// How long a ring may stay half-made (no size or no magic yet) before a sender calls it "not a
/// ring": the receiver fills in the header microseconds after `shm_open`.
const CREATION_GRACE: Duration = Duration::from_secs(1);

/// `--ring` and `--name`, defined once for shm-sender and shm-receiver.
#[derive(Debug, Clone, clap::Args)]
pub struct RingArgs {
    /// Hand messages over through the lock-free ring of crates/ring (POSIX shared memory,
    /// no system call per message) instead of the System V segment and semaphores; the
    /// receiver creates it with --slot-size and --slots, the sender uses the ring's
    #[arg(long, conflicts_with_all = ["key", "no_sync", "wire"])]
    pub ring: bool,
    /// Name of the ring in /dev/shm (with --ring)
    #[arg(long, value_name = "/NAME", default_value = DEFAULT_POSIX_NAME, requires = "ring")]
    pub name: String,
}

/// The receiving end: creates the ring, decodes each message in its slot, removes the ring.
#[derive(Debug)]
pub struct RingReceiver {
    consumer: Consumer,
    received: u64,
}

impl RingReceiver {
    /// Creates the ring `name` with `slots` slots that each hold an encoded message of up to
    /// `slot_size` bytes, and becomes its consumer. A ring of that name left by a receiver
    /// that died is removed first; one in use is an error naming its receiver.
    pub fn create(
        program: &str,
        name: &str,
        slot_size: usize,
        slots: u32,
        mode: Mode,
    ) -> Result<RingReceiver> {
        if slot_size < MIN_SLOT_SIZE {
            return Err(Error::usage(
                "--slot-size",
                format!("{slot_size} bytes is smaller than the minimum of {MIN_SLOT_SIZE} bytes"),
            ));
        }
        let slots = usize::try_from(slots)
            .map_err(|_| Error::usage("--slots", format!("{slots} slots is too many")))?;
        let ring = match Ring::create(name, slot_size, slots, mode) {
            Err(err) if err.errno() == Some(Errno::EEXIST) => match ring_left_behind(name) {
                Some(dead) => {
                    remove_orphan(program, name, dead)?;
                    Ring::create(name, slot_size, slots, mode)?
                }
                None => match receiver_of(name) {
                    Some(seen) if seen.state == state::ATTACHED => {
                        return Err(err.with_hint(format!(
                            "shm-receiver pid {} reads the ring {name}: stop it first, or give \
                             this pair another --name",
                            seen.pid
                        )))
                    }
                    _ => return Err(err),
                },
            },
            other => other?,
        };
        Ok(RingReceiver {
            consumer: Consumer::new(ring)?,
            received: 0,
        })
    }

    /// The ring (name, slot size, slot count).
    pub fn ring(&self) -> &Ring {
        self.consumer.ring()
    }

    /// Waits for the next record and decodes it where it lies, in the slot; the slot goes
    /// back to the sender once the Message is decoded (a copy of it, owned by us).
    ///
    /// Fails when the sender died or went away without its End, and on Ctrl-C.
    pub fn next_message(&mut self) -> Result<Message> {
        let record = match self.consumer.recv_with(wire::decode) {
            Ok(record) => record,
            Err(err) => return Err(self.explain(err)),
        };
        self.received += 1;
        match record {
            Some(Ok(msg)) => Ok(msg),
            Some(Err(err)) => Err(err.context(format!(
                "decoding record {} of the ring {}",
                self.received,
                self.ring().name()
            ))),
            None => Err(Error::new(
                format!("reading the ring {}", self.ring().name()),
                "shm-sender closed the ring without sending its End",
            )),
        }
    }

    /// Says a failure of the ring in the pair's words when the sender is behind it: the ring
    /// speaks of its "producer", the user started shm-sender.
    fn explain(&self, err: Error) -> Error {
        if err.kind() != ErrorKind::Runtime {
            return err;
        }
        match peek(self.ring().name(), End::Producer) {
            Some(sender) if sender.is_dead() => Error::new(
                "waiting for a message",
                format!(
                    "shm-sender (pid {}) died without sending its End (killed?)",
                    sender.pid
                ),
            )
            .with_hint("start shm-receiver --ring and shm-sender --ring again"),
            Some(sender) if sender.went_away() => Error::new(
                "waiting for a message",
                "shm-sender went away without sending its End",
            )
            .with_hint("look at shm-sender's error output"),
            _ => err,
        }
    }

    /// How often this end slept on an empty ring and woke the sender.
    pub fn stats(&self) -> WaitStats {
        self.consumer.stats()
    }
}

/// Waits until shm-receiver has created the ring `name` and opens it (C: `shm_open(name,
/// O_RDWR, 0)` every 50 ms). Says once on stderr that it waits; Ctrl-C stops it. A ring whose
/// receiver died is removed, and the wait goes on for a new one.
pub fn wait_for_ring(program: &str, name: &str) -> Result<Ring> {
    let mut said_waiting = false;
    let mut half_made_since: Option<Instant> = None;
    loop {
        ipc_common::signals::check()?;
        match Ring::open(name) {
            Ok(ring) => match (ring_left_behind(name), receiver_of(name)) {
                (Some(dead), _) => remove_orphan(program, name, dead)?,
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
            eprintln!("{program}: waiting for shm-receiver --ring to create the ring {name}");
        }
        std::thread::sleep(LOOK_FOR_RING);
    }
}

/// Checks, before the sender attaches, that every message it was told to send fits in a slot
/// of `ring`: the largest `--count`/`--size` payload, each `--message`. (Lines typed on stdin
/// are checked one by one as they are sent.) Failing here leaves the receiver waiting.
pub fn check_source(ring: &Ring, source: &MessageSource) -> Result<()> {
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

/// The sending end: an [`Outbox`] that puts each encoded message into the next free slot.
#[derive(Debug)]
pub struct RingSender {
    /// None once [`RingSender::finish`] has closed the ring.
    producer: Option<Producer>,
    name: String,
    slot_size: usize,
    slots: usize,
}

impl RingSender {
    /// Becomes the ring's one producer (fails if it already has or had one).
    pub fn new(ring: Ring) -> Result<RingSender> {
        let name = ring.name().to_string();
        let slot_size = ring.slot_size();
        let slots = ring.slots();
        let producer = Producer::new(ring).map_err(|err| {
            err.with_hint("one shm-sender per ring: start shm-receiver --ring again for another")
        })?;
        Ok(RingSender {
            producer: Some(producer),
            name,
            slot_size,
            slots,
        })
    }

    /// The ring's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The largest encoded message one slot holds.
    pub fn slot_size(&self) -> usize {
        self.slot_size
    }

    /// How many messages fit before the sender has to wait.
    pub fn slots(&self) -> usize {
        self.slots
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
            remove_orphan("shm-sender", &self.name, dead)?;
            return Err(Error::new(
                format!("finishing the ring {}", self.name),
                format!("shm-receiver (pid {dead}) died before the End (killed?)"),
            )
            .with_hint("start shm-receiver --ring again, then the sender"));
        }
        Ok(stats)
    }
}

impl Outbox for RingSender {
    fn send(&mut self, msg: &Message) -> Result<()> {
        let Some(producer) = self.producer.as_mut() else {
            return Err(Error::new(
                format!("sending message {}", msg.seq),
                "the ring is already closed",
            ));
        };
        // Encoded straight into the slot (no scratch copy), once we know it fits.
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
            .map_err(|err| explain_send(err, &self.name, msg.seq))
    }
}

/// Says a failure of the ring in the pair's words when the receiver is behind it: the ring
/// speaks of its "consumer", the user started shm-receiver.
fn explain_send(err: Error, name: &str, seq: u64) -> Error {
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

impl Drop for RingSender {
    /// A sender stopped early (an error, Ctrl-C): if the receiver is dead, nobody else will
    /// remove its ring. A live receiver owns it and sees that we left (the producer's Drop).
    fn drop(&mut self) {
        if self.producer.is_none() {
            return;
        }
        if let Some(dead) = ring_left_behind(&self.name) {
            if let Err(err) = remove_orphan("shm-sender", &self.name, dead) {
                eprintln!("shm-sender: warning: {err}");
            }
        }
    }
}

/// The receiver (consumer) of the ring `name` as its header shows it.
fn receiver_of(name: &str) -> Option<EndSeen> {
    peek(name, End::Consumer)
}

/// The pid of the dead receiver that left the ring `name` behind, if one did: nobody else
/// will remove it.
///
/// A receiver removes its ring *before* it exits. So a receiver that attached and is dead now
/// (killed, or a zombie) while its ring is still there, read again *after* we saw it dead,
/// with the same pid, left it behind. Without that second look, a receiver that finished
/// normally between our first look and our check of its pid would seem to have died.
fn ring_left_behind(name: &str) -> Option<u32> {
    let seen = receiver_of(name)?;
    let attached_once = matches!(seen.state, state::ATTACHED | state::GONE);
    if seen.pid == 0 || !attached_once || process_alive(seen.pid) {
        return None;
    }
    let again = receiver_of(name)?;
    (again.pid == seen.pid && again.state == seen.state).then_some(seen.pid)
}

/// Removes the ring `name` that a dead receiver left (C: `shm_unlink(name)`), and says so.
fn remove_orphan(program: &str, name: &str, pid: u32) -> Result<()> {
    let removed = shm_unlink(name);
    trace::call_zero(|| format!("shm_unlink(\"{name}\")"), &removed);
    match removed {
        Ok(()) => {
            eprintln!(
                "{program}: removed the ring {name} left by shm-receiver pid {pid}, which died"
            );
            Ok(())
        }
        Err(Errno::ENOENT) => Ok(()), // somebody else removed it first
        Err(errno) => Err(Error::sys(format!("removing the ring {name}"), errno)),
    }
}

/// What the ring takes in /dev/shm: its 4 KiB header and every slot, rounded up to 64 bytes.
pub fn ring_bytes(ring: &Ring) -> usize {
    Geometry::new(ring.slot_size(), ring.slots())
        .ok()
        .and_then(|geometry| geometry.total_bytes())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_end_message_fits_the_smallest_slot() {
        let end = Message::end(u32::MAX, u64::MAX - 1);
        assert!(wire::encoded_len(&end) <= MIN_SLOT_SIZE);
    }

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
