//! sem-sender: posts one semaphore V (signal) per message to the set sem-receiver created.
//!
//! Shows that a semaphore is a counter, not a channel: the text you type goes nowhere, only
//! the count of your messages crosses to the receiver, which prints `signal N received`.
//! C calls it mirrors: `semget(key, 0, 0)` to find the set, then per message one `semop` of
//! three operations (`{ROOM, -1}`, `{MSGS, +1}`, `{ANY, +1}`), and for the End `{ENDS, +1}`
//! instead of `{MSGS, +1}` (see the `pair` module).
//!
//! Usage:
//!   sem-sender [--key K]                 # type lines; each is one signal; `end` finishes
//!   sem-sender --message a --message b   # two signals, then End
//!   sem-sender --count 1000              # 1000 signals, then End
//!   sem-sender --mode 0666               # join another user's set made with --mode 0666
//! Other end: `sem-receiver [--key K]` (start it first: it creates the set).
//! Both at once: `make demo-sem`.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use ipc_common::cli::{KeyArg, MessageSource, Mode};
use ipc_common::sender::{run_sender, ENTER_SOME_TEXT};
use ipc_common::{program, Result};
use ipc_sem::pair::SignalSender;

/// Post one System V semaphore signal per message to sem-receiver.
#[derive(Debug, Parser)]
#[command(name = "sem-sender", version)]
struct Args {
    #[command(flatten)]
    key: KeyArg,
    /// The set's mode when it belongs to another user: 0666 joins a set they made world-open
    #[arg(long, value_name = "MODE", default_value = "0600")]
    mode: Mode,
    #[command(flatten)]
    source: MessageSource,
}

fn main() -> ExitCode {
    program::main(run)
}

/// Finds the set, posts one signal per message and one for the End (C: `semget`, `semop`).
fn run(args: &Args) -> Result<()> {
    args.mode.warn_if_open();
    let mut sender = SignalSender::open_shared(args.key.key, args.mode)?;
    let set = sender.set();
    eprintln!(
        "sem-sender: found semaphore set key {} (id {})",
        set.key(),
        set.id()
    );
    let sent = run_sender(&args.source, ENTER_SOME_TEXT, &mut sender)?;
    eprintln!("sem-sender: posted {} signal(s) and the End", sent.messages);
    Ok(())
}
