//! shm-receiver: reads messages out of a System V shared-memory segment, one per slot.
//!
//! The tutorial's shared-memory receiver.c (often called shm1.c), with the synchronisation it
//! leaves out: instead of polling a `written_by_you` flag with `sleep(1)`, it sleeps on a
//! semaphore until a slot is full, copies the message out, and posts "one more free slot".
//! C calls it mirrors: `shmget((key_t)1234, size, 0600 | IPC_CREAT)`, `shmat(shmid, 0, 0)`,
//! `printf("Memory attached at %X\n", ...)`, `printf("You wrote: %s", ...)` per message
//! (ipc_shm::ShmReader, crates/shm/src/reader.rs), `shmdt`, and `shmctl(shmid, IPC_RMID, 0)`
//! at the end (here also for the semaphores).
//!
//! Usage: `shm-receiver [--key K] [--slot-size BYTES] [--slots S] [--senders N] [--no-sync]`
//!
//! `--wire c` speaks the textbook's own protocol instead, to pair with its shm2.c (and our
//! c/shm_sender.c): `struct shared_use_st { int written_by_you; char some_text[2048]; }` at
//! key 1234, no semaphores; it waits for `written_by_you == 1` (an acquire load every 5 ms),
//! prints the text, sets the flag back to 0 (a release store), until a text starting with
//! `end` (ipc_shm::FlagChannel, crates/shm/src/flag_handoff.rs).
//! `--no-sync` is an experiment: no semaphores, the receiver copies whatever a slot holds
//! every millisecond (as the tutorial's polling receiver does, minus its flag), and the
//! summary counts what goes wrong: lost, duplicated and corrupt (torn) messages.
//! `--ring [--name /NAME]` creates the lock-free ring of crates/ring instead (POSIX shared
//! memory in /dev/shm, `--slot-size` bytes per encoded message, `--slots` slots) and decodes
//! each message in its slot; one `shm-sender --ring` writes into it (`ipc_ring::RingReceiver`).
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
use ipc_common::cli::ReceiverArgs;
use ipc_common::receiver::{run_receiver, Receiving};
use ipc_common::{program, Error, Result};
use ipc_ring::RingReceiver;
use ipc_shm::{Channel, FlagChannel, ShmArgs, ShmReader, UnsyncedReader};

/// Read messages out of System V shared memory, written there by shm-sender.
#[derive(Debug, Parser)]
#[command(name = "shm-receiver", version)]
struct Args {
    #[command(flatten)]
    shm: ShmArgs,
    #[command(flatten)]
    receiver: ReceiverArgs,
}

fn main() -> ExitCode {
    program::main(run)
}

fn run(args: &Args) -> Result<()> {
    let how = Receiving::new("You wrote: ", &args.receiver);
    let mode = args.shm.mode.mode;
    if args.shm.ring.ring {
        // Create the ring, decode each message in its slot until End, remove the ring.
        if args.receiver.senders != 1 {
            return Err(Error::usage(
                "--senders",
                "a ring has exactly one producer, so --ring takes one shm-sender",
            )
            .with_hint("give each sender its own receiver and --name"));
        }
        let layout = args.shm.slots.layout()?;
        let (slot_size, slots) = (layout.slot_size, layout.slots);
        return run_receiver(how, || {
            let ring = RingReceiver::create(&args.shm.ring.name, slot_size, slots, mode)?;
            mode.warn_if_open();
            ring.announce();
            Ok(ring)
        });
    }
    if args.shm.wire.is_c() {
        // The textbook's struct shared_use_st: create it (or attach shm2's), print each text
        // until `end`, remove it.
        return run_receiver(how, || {
            let channel = FlagChannel::receiver(args.shm.key.key, mode)?;
            if channel.created() {
                mode.warn_if_open();
            }
            channel.announce();
            waiting(channel.segment().key());
            Ok(channel)
        });
    }
    let geometry = args.shm.slots.geometry()?;
    let attach = || {
        let channel = Channel::attach(args.shm.key.key, geometry, mode)?;
        if channel.created() {
            mode.warn_if_open();
        }
        Ok(channel)
    };
    if args.shm.slots.no_sync {
        return run_receiver(how, || {
            let channel = attach()?;
            eprintln!(
                "shm-receiver: --no-sync: copying a slot every millisecond without waiting for \
                 the sender; expect lost, duplicated and corrupt messages in the summary"
            );
            let reader = UnsyncedReader::new(channel)?;
            reader.channel().announce();
            waiting(args.shm.key.key);
            Ok(reader)
        });
    }
    run_receiver(how, || {
        let reader = ShmReader::new(attach()?)?;
        reader.channel().announce();
        waiting(args.shm.key.key);
        Ok(reader)
    })
}

/// The ready line: the objects exist, a sender may start.
fn waiting(key: ipc_common::cli::Key) {
    eprintln!("shm-receiver: waiting for shm-sender on key {key}");
}
