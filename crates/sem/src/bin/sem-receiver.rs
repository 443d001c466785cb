//! sem-receiver: creates a semaphore set and counts the signals sem-sender posts to it.
//!
//! Shows waiting on a semaphore: `semop` with a negative `sem_op` sleeps in the kernel until
//! someone posts, with no busy waiting. A semaphore carries no data, so each message arrives
//! only as "one more": we print `signal N received`, numbering them ourselves.
//! C calls it mirrors: `semget(key, 4, IPC_CREAT | IPC_EXCL | 0600)`, `semctl(SETVAL)` for
//! each semaphore, `semop` to wait (P) for each post, `semctl(IPC_RMID)` at the end.
//!
//! Usage: `sem-receiver [--key K] [--senders N]`
//! Other end: `sem-sender [--key K]`. Both at once: `make demo-sem`.
//!
//! Prints `signal N received` per message on stdout, then the `summary:` line; removes the set
//! when it finishes, fails, or is stopped with Ctrl-C.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use ipc_common::cli::{self, KeyArg, ModeArg, ReceiverArgs, TraceArg};
use ipc_common::receiver::Inbox;
use ipc_common::{error, signals, Message, Result};
use ipc_sem::pair::{SignalReceiver, Taken};

/// Create a System V semaphore set and count the signals sem-sender posts.
#[derive(Debug, Parser)]
#[command(name = "sem-receiver", version)]
struct Args {
    #[command(flatten)]
    key: KeyArg,
    #[command(flatten)]
    mode: ModeArg,
    #[command(flatten)]
    receiver: ReceiverArgs,
    #[command(flatten)]
    trace: TraceArg,
}

fn main() -> ExitCode {
    let args: Args = cli::parse();
    error::exit_code("sem-receiver", run(&args))
}

fn run(args: &Args) -> Result<()> {
    args.trace.apply();
    signals::install()?;
    args.mode.mode.warn_if_open("sem-receiver");
    let receiver = SignalReceiver::create("sem-receiver", args.key.key, args.mode.mode)?;
    eprintln!(
        "sem-receiver: semaphore set key {} (id {}) created, waiting for signals",
        receiver.set().key(),
        receiver.set().id()
    );
    let mut inbox = Inbox::new("", &args.receiver);
    let outcome = count_signals(&receiver, &mut inbox);
    // `receiver` is dropped after the summary: the set is removed (semctl IPC_RMID).
    inbox.finish(outcome)
}

/// Takes posts until every expected End has arrived.
///
/// The semaphores say neither who posted nor in which order, so the messages are numbered
/// here: signal N is message N of one anonymous sender, and each End closes a sender of its
/// own. The summary can then count what arrived; lost, duplicated and reordered stay 0 because
/// a counter cannot show them.
fn count_signals(receiver: &SignalReceiver, inbox: &mut Inbox) -> Result<()> {
    let mut signals_taken = 0u64;
    let mut ends_taken = 0u32;
    loop {
        match receiver.take()? {
            Taken::Message => {
                signals_taken += 1;
                inbox.take(&Message::text(
                    0,
                    signals_taken,
                    format!("signal {signals_taken} received"),
                ))?;
            }
            Taken::End => {
                ends_taken += 1;
                if inbox.take(&Message::end(ends_taken, 1))? {
                    return Ok(());
                }
            }
        }
    }
}
