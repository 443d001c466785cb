//! sem-mutex: the textbook's critical-section demo (sem1.c); run two at once and watch them
//! take turns, two of ours or one of ours beside the textbook's own sem1.
//!
//! Each instance enters a critical section N times and prints its character on entering and
//! again on leaving, then `\n<pid> - finished` as sem1.c does. The semaphore lets only one in
//! at a time, so the combined output is pairs (`XXOOXXOO...`) that never interleave inside a
//! pair (`XOXO` would be a bug).
//! C calls it mirrors (c/textbook/sem1.c): `semget(key, 1, IPC_CREAT | IPC_EXCL | 0600)` and
//! `semctl(id, 0, SETVAL, 1)` by the initialising copy, `semget(key, 1, 0)` by the others,
//! `semop({0, -1, SEM_UNDO})` to enter (P), `semop({0, +1, SEM_UNDO})` to leave (V),
//! `semctl(id, 0, IPC_RMID)` by the initialiser at the end. The layout is sem1.c's: ONE
//! semaphore, key 1234, so our copies and the textbook's share the critical section.
//! `SEM_UNDO` means that an instance killed with `kill -9` inside the critical section gives
//! the semaphore back instead of leaving the other waiting for ever.
//!
//! The initialiser (`--init`, like sem1 started with an argument; or the first copy, which
//! finds no set) prints X, the others O. It removes the set at the end, once nobody has asked
//! for the lock for `--linger-ms` (3 s) while it held it: see src/mutex.rs.
//!
//! Usage:
//!   sem-mutex & sem-mutex                        # two at once, in one terminal: X and O
//!   sem-mutex --init & ./c/textbook/build/sem1   # ours initialises, the textbook's joins
//!   ./c/textbook/build/sem1 1   # first (Terminal 1), then `sem-mutex` (Terminal 2): ours joins
//!   sem-mutex [--init] [--key K] [--char C] [--rounds N] [--hold-ms MS] [--pause-ms MS]
//!             [--linger-ms MS]
//!   sem-mutex --no-lock --char X & sem-mutex --no-lock --char O   # the experiment
//!
//! The experiment `--no-lock` skips the P and the V (the set is still joined and removed as
//! usual): both instances then walk into the critical section whenever they like, and the
//! output shows pairs broken up (`XOXO`, `XOOX`): what the semaphore was there to prevent.
//! Other end: another sem-mutex with the same key, c/textbook/sem1.c or c/sem_mutex.c.
//! Both at once: `make demo-sem`.
#![forbid(unsafe_code)]

use std::io::{self, Write};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use ipc_common::{program, Error, Result};
use ipc_sem::mutex::{pause, Finished, SharedMutex};
use ipc_sem::SetArgs;

/// Enter a critical section guarded by a System V semaphore, printing a character on entry and exit.
///
/// The set is the textbook's (sem1.c): one semaphore at key 1234, P and V with SEM_UNDO, so
/// sem-mutex takes turns with sem1 itself.
#[derive(Debug, Parser)]
#[command(
    name = "sem-mutex",
    version,
    after_help = "Who removes the set: the initialiser (--init, or the first copy, which finds \
no set), at the end. sem1.c cannot say when it is done, so the initialiser takes the lock itself \
and holds it; when no process has waited for it (GETNCNT 0) for --linger-ms, it removes the set \
(never in the middle of somebody's critical section). When somebody waits, it lets them in and \
tries again. sem1 pauses at most 1 s outside the critical section; copies of sem-mutex that \
join must pause (--pause-ms) less than the initialiser's --linger-ms.\n\
With the textbook: `sem-mutex --init & sem1`, or `sem1 1` first and then `sem-mutex` (sem1 \
initialises, and removes the set after its sleep(10))."
)]
struct Args {
    #[command(flatten)]
    set: SetArgs,
    /// Be the initialising copy, like sem1 started with an argument: create the set (or take
    /// over one nobody has used yet), set it to 1 (SETVAL), print X, remove it at the end
    #[arg(short = 'i', long)]
    init: bool,
    /// The character printed on entering and on leaving the critical section [default: X for
    /// the initialising copy, O for the others]
    #[arg(long = "char", value_name = "C")]
    character: Option<char>,
    /// How many times to enter the critical section
    #[arg(long, value_name = "N", default_value_t = 10)]
    rounds: u64,
    /// Milliseconds spent inside the critical section each time
    #[arg(long, value_name = "MS", default_value_t = 100)]
    hold_ms: u64,
    /// Milliseconds spent outside it between two rounds
    #[arg(long, value_name = "MS", default_value_t = 50)]
    pause_ms: u64,
    /// The initialiser removes the set once nobody has waited for the lock for this long
    /// while it held it
    #[arg(long, value_name = "MS", default_value_t = 3000)]
    linger_ms: u64,
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
    let (key, mode) = (args.set.key.key, args.set.mode.mode);
    let mutex = if args.init {
        SharedMutex::initialise(key, mode)?
    } else {
        SharedMutex::join(key, mode)?
    };
    let default = if mutex.initialiser() { 'X' } else { 'O' };
    let me = args.character.unwrap_or(default);
    let pid = std::process::id();
    let how = if mutex.initialiser() {
        "initialised"
    } else {
        "joined"
    };
    eprintln!(
        "sem-mutex {me}: pid {pid} {how} semaphore set key {} (id {}), ready",
        mutex.set().key(),
        mutex.set().id()
    );
    if args.no_lock {
        eprintln!(
            "sem-mutex {me}: --no-lock: entering the critical section without P/V; \
             watch for broken pairs such as XOXO"
        );
    }

    let mut out = io::stdout().lock();
    let mut show = |text: &str| -> Result<()> {
        write!(out, "{text}")
            .and_then(|()| out.flush())
            .map_err(|err| Error::io("writing to standard output", &err))
    };
    let mark = me.to_string();
    for _ in 0..args.rounds {
        // P: semop({0, -1, SEM_UNDO}), unless the experiment skips it.
        let held = if args.no_lock {
            None
        } else {
            Some(mutex.lock()?)
        };
        show(&mark)?;
        pause(Duration::from_millis(args.hold_ms))?;
        show(&mark)?;
        drop(held); // V: semop({0, +1, SEM_UNDO})
        pause(Duration::from_millis(args.pause_ms))?;
    }
    // As sem1.c: printf("\n%d - finished\n", getpid()), in one write.
    show(&format!("\n{pid} - finished\n"))?;

    if mutex.initialiser() {
        eprintln!(
            "sem-mutex {me}: removing the semaphore set once nobody has waited for it for {} ms",
            args.linger_ms
        );
    }
    match mutex.finish(Duration::from_millis(args.linger_ms))? {
        Finished::Removed => eprintln!("sem-mutex {me}: pid {pid}: semaphore set removed"),
        Finished::Stayed => eprintln!(
            "sem-mutex {me}: pid {pid}: the semaphore set stays for its initialiser to remove"
        ),
    }
    Ok(())
}
