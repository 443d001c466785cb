//! sem-mutex: the tutorial's critical-section demo; run two at once and watch them take turns.
//!
//! Each instance enters a critical section N times and prints its character on entering and
//! again on leaving. The semaphore lets only one in at a time, so the combined output is
//! pairs (`XXOOXXOO...`) that never interleave inside a pair (`XOXO` would be a bug).
//! C calls it mirrors (the semaphore program of the tutorial): `semget(key, 2, IPC_CREAT |
//! IPC_EXCL | 0600)` and `semctl(SETVAL)` by the first instance, `semop({0, -1, SEM_UNDO})`
//! to enter (P), `semop({0, +1, SEM_UNDO})` to leave (V), `semctl(IPC_RMID)` by the last.
//! `SEM_UNDO` means that an instance killed with `kill -9` inside the critical section gives
//! the semaphore back instead of leaving the other waiting for ever.
//!
//! Usage:
//!   sem-mutex --char X & sem-mutex --char O     # two at once, in one terminal
//!   sem-mutex [--key K] [--char C] [--rounds N] [--hold-ms MS] [--pause-ms MS]
//!   sem-mutex --no-lock --char X & sem-mutex --no-lock --char O   # the experiment
//!
//! The experiment `--no-lock` skips the P and the V (the set is still joined and removed as
//! usual): both instances then walk into the critical section whenever they like, and the
//! output shows pairs broken up (`XOXO`, `XOOX`): what the semaphore was there to prevent.
//! Other end: another sem-mutex with the same key. Both at once: `make demo-sem`.
#![forbid(unsafe_code)]

use std::io::{self, Write};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use ipc_common::{program, Error, Result};
use ipc_sem::mutex::{pause, Left, SharedMutex};
use ipc_sem::SetArgs;

/// Enter a critical section guarded by a System V semaphore, printing a character on entry and exit.
#[derive(Debug, Parser)]
#[command(name = "sem-mutex", version)]
struct Args {
    #[command(flatten)]
    set: SetArgs,
    /// The character printed on entering and on leaving the critical section
    #[arg(long = "char", value_name = "C", default_value = "O")]
    character: char,
    /// How many times to enter the critical section
    #[arg(long, value_name = "N", default_value_t = 10)]
    rounds: u64,
    /// Milliseconds spent inside the critical section each time
    #[arg(long, value_name = "MS", default_value_t = 100)]
    hold_ms: u64,
    /// Milliseconds spent outside it between two rounds
    #[arg(long, value_name = "MS", default_value_t = 50)]
    pause_ms: u64,
    /// Experiment: enter the critical section without the semaphore (no P, no V) and watch
    /// the pairs interleave
    #[arg(long)]
    no_lock: bool,
}

fn main() -> ExitCode {
    program::main(run)
}

fn run(args: &Args) -> Result<()> {
    args.set.mode.mode.warn_if_open();
    let me = args.character;
    let mutex = join(args)?;
    if args.no_lock {
        eprintln!(
            "sem-mutex {me}: --no-lock: entering the critical section without P/V; \
             watch for broken pairs such as XOXO"
        );
    }

    let mut out = io::stdout().lock();
    let show = |out: &mut io::StdoutLock<'_>| -> Result<()> {
        write!(out, "{me}")
            .and_then(|()| out.flush())
            .map_err(|err| Error::io("writing to standard output", &err))
    };
    for _ in 0..args.rounds {
        // P: semop({MUTEX, -1, SEM_UNDO}), unless the experiment skips it.
        let held = if args.no_lock {
            None
        } else {
            Some(mutex.lock()?)
        };
        show(&mut out)?;
        pause(Duration::from_millis(args.hold_ms))?;
        show(&mut out)?;
        drop(held); // V: semop({MUTEX, +1, SEM_UNDO})
        pause(Duration::from_millis(args.pause_ms))?;
    }

    match mutex.leave()? {
        Left::Removed => eprintln!(
            "\nsem-mutex {me}: pid {} finished, the last one out: semaphore set removed",
            std::process::id()
        ),
        Left::Stayed => eprintln!(
            "\nsem-mutex {me}: pid {} finished; the semaphore set stays for the others",
            std::process::id()
        ),
    }
    Ok(())
}

/// Creates or finds the set and joins its users; starts again if the last user out removed
/// the set just as we found it.
fn join(args: &Args) -> Result<SharedMutex> {
    let me = args.character;
    for _ in 0..10 {
        let mutex = SharedMutex::join(args.set.key.key, args.set.mode.mode)?;
        let how = if mutex.created() { "created" } else { "found" };
        eprintln!(
            "sem-mutex {me}: pid {} {how} semaphore set key {} (id {}), ready",
            std::process::id(),
            mutex.set().key(),
            mutex.set().id()
        );
        if mutex.confirm()? {
            return Ok(mutex);
        }
        eprintln!("sem-mutex {me}: that set was just removed by the last one out; starting again");
    }
    Err(Error::new(
        format!("joining the semaphore set with key {}", args.set.key.key),
        "it was removed under us 10 times in a row",
    )
    .with_hint("another program keeps removing the set: choose another --key"))
}
