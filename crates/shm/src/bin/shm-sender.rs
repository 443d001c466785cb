//! shm-sender: writes messages into a System V shared-memory segment, one per slot.
//!
//! The tutorial's shared-memory sender.c (often called shm2.c), with the synchronisation it
//! leaves out: instead of polling a `written_by_you` flag with `sleep(1)`, it waits on a
//! semaphore for a free slot, writes the message there, and posts "one more full slot".
//! C calls it mirrors: `shmget((key_t)1234, size, 0600 | IPC_CREAT)`, `shmat(shmid, 0, 0)`,
//! `printf("Memory attached at %X\n", ...)`, per message `semop` P(empty) + copy into the
//! slot + `semop` V(full), then `shmdt` (ipc_shm::ShmWriter, crates/shm/src/writer.rs).
//! Whichever end starts first creates the segment and the semaphores; the receiver removes them.
//!
//! Usage:
//!   shm-sender [--key K] [--slot-size BYTES] [--slots S]     # type lines; `end` finishes
//!   shm-sender --message hello --message world
//!   shm-sender --count 100000 --size 1000 --slots 8 --slot-size 2048
//!   shm-sender --no-sync --count 2000 --size 900   # the experiment (receiver: --no-sync too)
//!   shm-sender --wire c                  # to the textbook's shm1 (or c/build/shm_receiver)
//!   shm-sender --ring [--name /NAME] --count 100000 --size 1000   # the lock-free ring
//! Other end: `shm-receiver` with the same `--key`, `--slot-size` and `--slots`.
//!
//! `--ring` uses the lock-free ring of crates/ring instead (POSIX shared memory, no system call
//! per message while both ends keep up): `shm-receiver --ring` creates it and sizes its slots,
//! and a sender started first waits for it (see `ipc_ring::RingSender`).
//! Both at once: `make demo-shm`.
//!
//! `--wire c` speaks the textbook's protocol, as shm2.c does (ipc_shm::FlagChannel): the
//! 2052-byte `struct shared_use_st` at key 1234 (created if missing), and per text: wait while
//! `written_by_you == 1` (saying `waiting for client...` each second), copy the text with its
//! `\n` and NUL into `some_text`, set the flag to 1 (a release store); `end` last. It leaves
//! the segment to the receiver, which removes it.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use ipc_common::cli::MessageSource;
use ipc_common::sender::{run_sender, Outbox, Sent, ENTER_SOME_TEXT};
use ipc_common::{program, Result};
use ipc_ring::RingSender;
use ipc_shm::{Channel, FlagChannel, ShmArgs, ShmWriter, UnsyncedWriter, SHARED_USE_ST};

/// Write messages into System V shared memory, one per slot, for shm-receiver.
#[derive(Debug, Parser)]
#[command(name = "shm-sender", version)]
struct Args {
    #[command(flatten)]
    shm: ShmArgs,
    #[command(flatten)]
    source: MessageSource,
}

fn main() -> ExitCode {
    program::main(run)
}

fn run(args: &Args) -> Result<()> {
    if args.shm.ring.ring {
        // The ring shm-receiver --ring creates: one encoded Message per slot, then End.
        let mut ring = RingSender::wait_for(&args.shm.ring.name, args.shm.mode.mode, &args.source)?;
        ring.announce();
        let sent = send(args, &mut ring)?;
        let stats = ring.finish()?;
        eprintln!(
            "shm-sender: sent {} message(s) and the End; slept {} time(s) on a full ring, woke \
             shm-receiver {} time(s)",
            sent.messages, stats.sleeps, stats.wakes
        );
        return Ok(());
    }
    if args.shm.wire.is_c() {
        // The textbook's struct shared_use_st and its written_by_you flag, as shm2.c.
        SHARED_USE_ST.check_source(&args.source)?;
        let mut channel = FlagChannel::sender(args.shm.key.key, args.shm.mode.mode)?;
        if channel.created() {
            args.shm.mode.mode.warn_if_open();
        }
        channel.announce();
        let sent = send(args, &mut channel)?;
        let alone = channel.finish()?;
        eprintln!("shm-sender: sent {} message(s) and `end`", sent.messages);
        if alone {
            eprintln!(
                "shm-sender: no receiver is attached: the segment key {} stays, with `end` in it, \
                 for the receiver (shm1, shm-receiver --wire c), which removes it",
                args.shm.key.key
            );
        }
        return Ok(());
    }
    let channel = Channel::attach(
        args.shm.key.key,
        args.shm.slots.geometry()?,
        args.shm.mode.mode,
    )?;
    if channel.created() {
        args.shm.mode.mode.warn_if_open();
    }
    // Register as a sender before saying we are attached: from then on the receiver counts us,
    // and notices if we die without our End.
    let (sent, receiver) = if args.shm.slots.no_sync {
        eprintln!("shm-sender: --no-sync: overwriting the slots without waiting for the receiver");
        let mut writer = UnsyncedWriter::new(channel)?;
        writer.channel().announce();
        (send(args, &mut writer)?, writer.finish()?)
    } else {
        let mut writer = ShmWriter::new(channel)?;
        writer.channel().announce();
        (send(args, &mut writer)?, writer.finish()?)
    };
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

/// The messages of `--message`, `--count` or stdin, then End.
fn send(args: &Args, outbox: &mut impl Outbox) -> Result<Sent> {
    run_sender(&args.source, ENTER_SOME_TEXT, outbox)
}
