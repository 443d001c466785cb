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
//! Prints `signal N received` per message on stdout, then the `summary:` line; removes the set
//! when it finishes, fails, or is stopped with Ctrl-C.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use ipc_common::cli::ReceiverArgs;
use ipc_common::receiver::{run_receiver, Receiving};
use ipc_common::{program, Result};
use ipc_sem::pair::SignalReceiver;
use ipc_sem::SetArgs;

/// Create a System V semaphore set and count the signals sem-sender posts.
#[derive(Debug, Parser)]
#[command(name = "sem-receiver", version)]
struct Args {
    #[command(flatten)]
    set: SetArgs,
    #[command(flatten)]
    receiver: ReceiverArgs,
}

fn main() -> ExitCode {
    program::main(run)
}

/// Creates the set, then counts signals until every End (C: `semget`, `semop`, `semctl`).
fn run(args: &Args) -> Result<()> {
    args.set.mode.mode.warn_if_open();
    run_receiver(Receiving::new("", &args.receiver), || {
        let receiver = SignalReceiver::create(args.set.key.key, args.set.mode.mode)?;
        let set = receiver.set();
        eprintln!(
            "sem-receiver: semaphore set key {} (id {}) created, waiting for signals",
            set.key(),
            set.id()
        );
        Ok(receiver)
    })
}
