//! shm-sender: writes messages into a System V shared-memory segment, one per slot.
//!
//! The tutorial's shared-memory sender.c (often called shm2.c), with the synchronisation it
//! leaves out: instead of polling a `written_by_you` flag with `sleep(1)`, it waits on a
//! semaphore for a free slot, writes the message there, and posts "one more full slot".
//! C calls it mirrors: `shmget((key_t)1234, size, 0600 | IPC_CREAT)`, `shmat(shmid, 0, 0)`,
//! `printf("Memory attached at %X\n", ...)`, per message `semop` P(empty) + copy into the
//! slot + `semop` V(full), then `shmdt`. Whichever end starts first creates the segment and
//! the semaphores; the receiver removes them.
//!
//! Usage:
//!   shm-sender [--key K] [--slot-size BYTES] [--slots S]     # type lines; `end` finishes
//!   shm-sender --message hello --message world
//!   shm-sender --count 100000 --size 1000 --slots 8 --slot-size 2048
//!   shm-sender --no-sync --count 2000 --size 900   # the experiment (receiver: --no-sync too)
//!   shm-sender --wire c                  # to c/build/shm_receiver: one text in 1024 bytes
//!   shm-sender --ring [--name /NAME] --count 100000 --size 1000   # the lock-free ring
//! Other end: `shm-receiver` with the same `--key`, `--slot-size` and `--slots`.
//!
//! `--ring` uses the lock-free ring of crates/ring instead (POSIX shared memory, no system call
//! per message while both ends keep up): `shm-receiver --ring` creates it and sizes its slots,
//! and a sender started first waits for it (see `ipc_shm::ring_mode`).
//! Both at once: `make demo-shm`.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use ipc_common::cli::{self, KeyArg, MessageSource, ModeArg, TraceArg};
use ipc_common::sender::run_sender;
use ipc_common::{error, signals, Result};
use ipc_shm::cwire::{self, CChannel, Wire, WireArg};
use ipc_shm::ring_mode::{self, RingArgs, RingSender};
use ipc_shm::{Channel, ShmWriter, SlotArgs};

/// Write messages into System V shared memory, one per slot, for shm-receiver.
#[derive(Debug, Parser)]
#[command(name = "shm-sender", version)]
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
    source: MessageSource,
    #[command(flatten)]
    wire: WireArg,
    #[command(flatten)]
    trace: TraceArg,
}

/// The tutorial's prompt for each line typed at a terminal.
const PROMPT: &str = "Enter some text:";

fn main() -> ExitCode {
    let args: Args = cli::parse();
    error::exit_code("shm-sender", run(&args))
}

fn run(args: &Args) -> Result<()> {
    args.trace.apply();
    signals::install()?;
    if args.wire.wire == Wire::C {
        return send_to_c(args);
    }
    if args.ring.ring {
        return send_into_ring(args);
    }
    let layout = args.slots.layout()?;
    let channel = Channel::attach("shm-sender", args.key.key, layout, args.mode.mode)?;
    if channel.created() {
        args.mode.mode.warn_if_open("shm-sender");
    }
    // Register as a sender before saying we are attached: from then on the receiver counts us,
    // and notices if we die without our End.
    let mut writer = if args.slots.no_sync {
        eprintln!("shm-sender: --no-sync: overwriting the slots without waiting for the receiver");
        ShmWriter::unsynchronised(channel)?
    } else {
        ShmWriter::new(channel)?
    };
    announce("shm-sender", writer.channel());
    let sent = run_sender(&args.source, PROMPT, &mut writer)?;
    let receiver = writer.finish()?;
    if receiver == 0 {
        eprintln!(
            "shm-sender: sent {} message(s) and the End; they wait in the segment for shm-receiver, which removes it",
            sent.messages
        );
    } else {
        eprintln!("shm-sender: sent {} message(s) and the End", sent.messages);
    }
    Ok(())
}

/// `--wire c`: the C programs' one 1024-byte text buffer and two semaphores (c/shm_sender.c).
fn send_to_c(args: &Args) -> Result<()> {
    cwire::check_source(&args.source)?;
    let mut channel = CChannel::open("shm-sender", args.key.key)?;
    eprintln!(
        "shm-sender: found the C layout's segment key {} (id {}, {} bytes) and semaphore set id {}",
        channel.segment().key(),
        channel.segment().id(),
        channel.segment().size(),
        channel.semaphores().id()
    );
    eprintln!("Memory attached at {:#018x}", channel.segment().addr());
    let sent = run_sender(&args.source, PROMPT, &mut channel)?;
    eprintln!("shm-sender: sent {} message(s) and `end`", sent.messages);
    Ok(())
}

/// `--ring`: wait for the ring shm-receiver creates, then one encoded Message per slot, then
/// End and "closed" (C: shm_open + mmap, then stores into the slots and the header).
fn send_into_ring(args: &Args) -> Result<()> {
    let ring = ring_mode::wait_for_ring("shm-sender", &args.ring.name)?;
    ring_mode::check_source(&ring, &args.source)?;
    let bytes = ring_mode::ring_bytes(&ring);
    let addr = ring.addr();
    // From here on this process is the ring's producer: the receiver watches its pid. Only
    // now the tutorial's line: a sender that printed it is one the receiver knows about.
    let mut sender = RingSender::new(ring)?;
    eprintln!("Memory attached at {addr:#018x}");
    eprintln!(
        "shm-sender: found the ring {} ({} slot(s) of {} bytes, {bytes} bytes in /dev/shm)",
        sender.name(),
        sender.slots(),
        sender.slot_size(),
    );
    let sent = run_sender(&args.source, PROMPT, &mut sender)?;
    let stats = sender.finish()?;
    eprintln!(
        "shm-sender: sent {} message(s) and the End; slept {} time(s) on a full ring, woke \
         shm-receiver {} time(s)",
        sent.messages, stats.sleeps, stats.wakes
    );
    Ok(())
}

/// The tutorial's `Memory attached at %X` (with the full 64-bit address), and what was made.
fn announce(program: &str, channel: &Channel) {
    let segment = channel.segment();
    let layout = channel.layout();
    let how = if channel.created() {
        "created"
    } else {
        "found"
    };
    eprintln!(
        "{program}: {how} shared memory segment key {} (id {}, {} bytes: {} slot(s) of {} bytes + \
         a 64-byte header; the kernel rounds it up to whole pages) and semaphore set id {}",
        segment.key(),
        segment.id(),
        segment.size(),
        layout.slots,
        layout.slot_size,
        channel.semaphores().id()
    );
    eprintln!("Memory attached at {:#018x}", segment.addr());
}
