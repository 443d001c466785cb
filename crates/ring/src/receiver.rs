//! [`RingReceiver`]: the ring's consumer as shm-receiver's [`Inbox`] (`shm-receiver --ring`).
//!
//! | step | C | Rust |
//! |---|---|---|
//! | make the ring | `shm_open("/ipc-pairs", O_CREAT \| O_EXCL \| O_RDWR, 0600); ftruncate; mmap` | [`RingReceiver::create`] (`Ring::create`) |
//! | read a message | poll slot `tail % S`'s word until its stamp is `tail + 1`, decode in the slot, store `tail + 1` | `receive` (`Consumer::recv_with(wire::decode)`) |
//! | raw bytes (ipc-bench) | the same, with a `memcpy` out of the slot | `receive_bytes` (`Consumer::recv`) |
//! | remove it | `munmap; shm_unlink("/ipc-pairs")` | dropping the [`RingReceiver`] |
//!
//! The receiver creates the ring (`--name`, `--slot-size`, `--slots`) and removes it when it
//! finishes, fails or is stopped with Ctrl-C. A ring of that name left by a receiver that
//! died is removed first (see `orphan.rs`).

use nix::errno::Errno;

use ipc_common::cli::Mode;
use ipc_common::error::ErrorKind;
use ipc_common::receiver::{Delivery, Inbox};
use ipc_common::{program, wire, Error, Result};

use crate::args::MIN_SLOT_SIZE;
use crate::layout::state;
use crate::orphan::{receiver_of, remove_orphan, ring_left_behind};
use crate::peek::{peek, End};
use crate::{Consumer, Ring};

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
    pub fn create(name: &str, slot_size: usize, slots: u32, mode: Mode) -> Result<RingReceiver> {
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
                    remove_orphan(name, dead)?;
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
        RingReceiver::new(ring)
    }

    /// Becomes the consumer of `ring` (made by this process, or opened).
    pub fn new(ring: Ring) -> Result<RingReceiver> {
        Ok(RingReceiver {
            consumer: Consumer::new(ring)?,
            received: 0,
        })
    }

    /// The ring (name, slot size, slot count).
    pub fn ring(&self) -> &Ring {
        self.consumer.ring()
    }

    /// The tutorial's `Memory attached at %X`, what was made, and the ready line.
    pub fn announce(&self) {
        let ring = self.ring();
        eprintln!("Memory attached at {:#018x}", ring.addr());
        eprintln!(
            "{}: created the ring {} ({} slot(s) of {} bytes, {} bytes in /dev/shm)",
            program::name(),
            ring.name(),
            ring.slots(),
            ring.slot_size(),
            ring.bytes()
        );
        eprintln!(
            "{}: waiting for shm-sender --ring on {}",
            program::name(),
            ring.name()
        );
    }

    /// The ring closed before the End.
    fn closed_early(&self) -> Error {
        Error::new(
            format!("reading the ring {}", self.ring().name()),
            "shm-sender closed the ring without sending its End",
        )
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
}

impl Inbox for RingReceiver {
    /// Waits for the next record and decodes it where it lies, in the slot; the slot goes
    /// back to the sender once the Message is decoded (a copy of it, owned by us). Fails when
    /// the sender died or went away without its End, and on Ctrl-C.
    fn receive(&mut self) -> Result<Delivery> {
        let record = self
            .consumer
            .recv_with(wire::decode)
            .map_err(|err| self.explain(err))?;
        self.received += 1;
        match record {
            Some(Ok(msg)) => Ok(Delivery::Message(msg)),
            Some(Err(err)) => Err(err.context(format!(
                "decoding record {} of the ring {}",
                self.received,
                self.ring().name()
            ))),
            None => Err(self.closed_early()),
        }
    }

    /// The raw path: the next record's bytes as they are, copied out of the slot.
    fn receive_bytes(&mut self, buf: &mut Vec<u8>) -> Result<()> {
        match self.consumer.recv(buf) {
            Ok(true) => Ok(()),
            Ok(false) => Err(self.closed_early()),
            Err(err) => Err(self.explain(err)),
        }
    }

    /// How often this end slept on an empty ring and woke the sender.
    fn finish(&mut self) -> Result<()> {
        let stats = self.consumer.stats();
        eprintln!(
            "{}: slept {} time(s) on an empty ring, woke shm-sender {} time(s)",
            program::name(),
            stats.sleeps,
            stats.wakes
        );
        Ok(())
    }
}
