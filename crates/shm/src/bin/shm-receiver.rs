//! shm-receiver: reads messages out of a System V shared-memory segment, one per slot.
//!
//! The tutorial's shared-memory receiver.c (often called shm1.c), with the synchronisation it
//! leaves out: instead of polling a `written_by_you` flag with `sleep(1)`, it sleeps on a
//! semaphore until a slot is full, copies the message out, and posts "one more free slot".
//! C calls it mirrors: `shmget((key_t)1234, size, 0600 | IPC_CREAT)`, `shmat(shmid, 0, 0)`,
//! `printf("Memory attached at %X\n", ...)`, `printf("You wrote: %s", ...)` per message,
//! `shmdt`, and `shmctl(shmid, IPC_RMID, 0)` at the end (here also for the semaphores).
//!
//! Usage: `shm-receiver [--key K] [--slot-size BYTES] [--slots S] [--senders N] [--no-sync]`
//!
//! `--wire c` speaks c/shm_sender.c's layout instead (one NUL-terminated text in a 1024-byte
//! segment, semaphores EMPTY and FULL), to pair with the C sender.
//!
//! `--no-sync` is an experiment: no semaphores, the receiver copies whatever a slot holds
//! every millisecond (as the tutorial's polling receiver does, minus its flag), and the
//! summary counts what goes wrong: lost, duplicated and corrupt (torn) messages.
//! `--ring [--name /NAME]` creates the lock-free ring of crates/ring instead (POSIX shared
//! memory in /dev/shm, `--slot-size` bytes per encoded message, `--slots` slots) and decodes
//! each message in its slot; one `shm-sender --ring` writes into it.
//!
//! Other end: `shm-sender` with the same `--key`, `--slot-size` and `--slots`.
//! Both at once: `make demo-shm`.
//!
//! Prints `You wrote: TEXT` per text message, then the `summary:` line. Removes the segment
//! and the semaphores when it finishes, fails, or is stopped with Ctrl-C; a sender killed in
//! the middle is noticed within a second and reported (exit 1).
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use ipc_common::cli::{self, KeyArg, ModeArg, ReceiverArgs, TraceArg};
use ipc_common::receiver::Inbox;
use ipc_common::{error, signals, Error, Result};
use ipc_shm::cwire::{CChannel, Wire, WireArg};
use ipc_shm::ring_mode::{self, RingArgs, RingReceiver};
use ipc_shm::{Channel, ShmReader, SlotArgs};

/// Read messages out of System V shared memory, written there by shm-sender.
#[derive(Debug, Parser)]
#[command(name = "shm-receiver", version)]
struct Args {
    #[command(flatten)]
    key: KeyArg,
    #[command(flatten)]
    mode: ModeArg,
    #[command(flatten)]
    slots: SlotArgs,
    #[command(flatten)]
    ring: RingArgs,
    #[command(flatten)]
    receiver: ReceiverArgs,
    #[command(flatten)]
    wire: WireArg,
    #[command(flatten)]
    trace: TraceArg,
}

fn main() -> ExitCode {
    let args: Args = cli::parse();
    error::exit_code("shm-receiver", run(&args))
}

fn run(args: &Args) -> Result<()> {
    args.trace.apply();
    signals::install()?;
    if args.wire.wire == Wire::C {
        return receive_from_c(args);
    }
    if args.ring.ring {
        return receive_from_ring(args);
    }
    let layout = args.slots.layout()?;
    let channel = Channel::attach("shm-receiver", args.key.key, layout, args.mode.mode)?;
    if channel.created() {
        args.mode.mode.warn_if_open("shm-receiver");
    }
    let mut reader = if args.slots.no_sync {
        eprintln!(
            "shm-receiver: --no-sync: copying a slot every millisecond without waiting for the \
             sender; expect lost, duplicated and corrupt messages in the summary"
        );
        ShmReader::unsynchronised(channel)?
    } else {
        ShmReader::new(channel)?
    };
    announce(&reader);
    let mut inbox = Inbox::new("You wrote: ", &args.receiver);
    let outcome = receive(&mut reader, &mut inbox);
    // `reader` is dropped after the summary: shmdt, then IPC_RMID of the segment and the set.
    inbox.finish(outcome)
}

fn receive(reader: &mut ShmReader, inbox: &mut Inbox) -> Result<()> {
    loop {
        let msg = reader.next_message()?;
        if inbox.take(&msg)? {
            return Ok(());
        }
    }
}

/// `--wire c`: the C programs' one 1024-byte text buffer and two semaphores
/// (c/shm_receiver.c): create both, print each text until `end`, remove both.
fn receive_from_c(args: &Args) -> Result<()> {
    let mut channel = CChannel::create("shm-receiver", args.key.key, args.mode.mode)?;
    args.mode.mode.warn_if_open("shm-receiver");
    let segment = channel.segment();
    eprintln!(
        "shm-receiver: created the C layout's segment key {} (id {}, {} bytes) and semaphore set id {}",
        segment.key(),
        segment.id(),
        segment.size(),
        channel.semaphores().id()
    );
    eprintln!("Memory attached at {:#018x}", segment.addr());
    eprintln!(
        "shm-receiver: waiting for shm-sender on key {}",
        segment.key()
    );
    let mut inbox = Inbox::new("You wrote: ", &args.receiver);
    let outcome = (|| loop {
        if inbox.take(&channel.next_message()?)? {
            return Ok(());
        }
    })();
    inbox.finish(outcome)
    // `channel` is dropped here: shmdt, IPC_RMID of the segment and of the semaphores.
}

/// `--ring`: create the ring, decode each message in its slot until End, remove the ring
/// (C: shm_open + ftruncate + mmap, loads from the slots, munmap + shm_unlink).
fn receive_from_ring(args: &Args) -> Result<()> {
    if args.receiver.senders != 1 {
        return Err(Error::usage(
            "--senders",
            "a ring has exactly one producer, so --ring takes one shm-sender",
        )
        .with_hint("give each sender its own receiver and --name"));
    }
    let mut ring = RingReceiver::create(
        "shm-receiver",
        &args.ring.name,
        args.slots.slot_size,
        args.slots.slots,
        args.mode.mode,
    )?;
    args.mode.mode.warn_if_open("shm-receiver");
    eprintln!("Memory attached at {:#018x}", ring.ring().addr());
    eprintln!(
        "shm-receiver: created the ring {} ({} slot(s) of {} bytes, {} bytes in /dev/shm)",
        ring.ring().name(),
        ring.ring().slots(),
        ring.ring().slot_size(),
        ring_mode::ring_bytes(ring.ring())
    );
    eprintln!(
        "shm-receiver: waiting for shm-sender --ring on {}",
        ring.ring().name()
    );
    let mut inbox = Inbox::new("You wrote: ", &args.receiver);
    let outcome = (|| loop {
        if inbox.take(&ring.next_message()?)? {
            return Ok(());
        }
    })();
    if outcome.is_ok() {
        let stats = ring.stats();
        eprintln!(
            "shm-receiver: slept {} time(s) on an empty ring, woke shm-sender {} time(s)",
            stats.sleeps, stats.wakes
        );
    }
    inbox.finish(outcome)
    // `ring` is dropped here: munmap, then shm_unlink of the name.
}

/// The tutorial's `Memory attached at %X` (with the full 64-bit address), and the ready line.
fn announce(reader: &ShmReader) {
    let channel = reader.channel();
    let segment = channel.segment();
    let layout = channel.layout();
    let how = if channel.created() {
        "created"
    } else {
        "found"
    };
    eprintln!(
        "shm-receiver: {how} shared memory segment key {} (id {}, {} bytes: {} slot(s) of {} \
         bytes + a 64-byte header; the kernel rounds it up to whole pages) and semaphore set id {}",
        segment.key(),
        segment.id(),
        segment.size(),
        layout.slots,
        layout.slot_size,
        channel.semaphores().id()
    );
    eprintln!("Memory attached at {:#018x}", segment.addr());
    eprintln!(
        "shm-receiver: waiting for shm-sender on key {}",
        segment.key()
    );
}
