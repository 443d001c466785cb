//! pipe-receiver: reads messages from a pipe on its standard input and prints them.
//!
//! The reading half of the tutorial's pipe.c (the child's `read(fds[0], ...)`), as a program
//! of its own: the pipe arrives as file descriptor 0, set up either by `pipe-sender` (which
//! starts us with `dup2(fds[0], 0)` + exec) or by a shell (`pipe-sender --stdout | pipe-receiver`).
//!
//! Usage: `pipe-receiver [--senders N]` (normally started for you by `pipe-sender`).
//! Other end: `pipe-sender`. Both at once: `make demo-pipe`.
//!
//! Prints `You wrote: TEXT` per text message, then the `summary:` line; a frame that is too
//! large, truncated or not a Message is an error (exit 1), never a panic.
#![forbid(unsafe_code)]

use std::io::{self, IsTerminal};
use std::process::ExitCode;

use clap::Parser;
use ipc_common::cli::{self, ReceiverArgs, TraceArg};
use ipc_common::receiver::Inbox;
use ipc_common::signals;
use ipc_common::stream::{receive_all, FrameReader};
use ipc_common::trace::TracedFd;
use ipc_common::{error, Error, Result};

/// Read framed messages from a pipe on standard input; print each text and a summary.
#[derive(Debug, Parser)]
#[command(name = "pipe-receiver", version)]
struct Args {
    #[command(flatten)]
    receiver: ReceiverArgs,
    #[command(flatten)]
    trace: TraceArg,
}

fn main() -> ExitCode {
    let args: Args = cli::parse();
    error::exit_code("pipe-receiver", run(&args))
}

fn run(args: &Args) -> Result<()> {
    args.trace.apply();
    signals::install()?;
    let stdin = io::stdin();
    if stdin.is_terminal() {
        return Err(Error::usage("reading standard input", "it is a terminal, not a pipe")
            .with_hint("run pipe-sender (it starts pipe-receiver on a pipe), or: pipe-sender --stdout | pipe-receiver"));
    }
    let mut pipe = FrameReader::new(TracedFd::new(stdin), "reading the pipe");
    let mut inbox = Inbox::new("You wrote: ", &args.receiver);
    let outcome = receive_all(&mut pipe, &mut inbox);
    inbox.finish(outcome)
}
