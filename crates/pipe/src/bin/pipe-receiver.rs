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
use ipc_common::cli::ReceiverArgs;
use ipc_common::program;
use ipc_common::receiver::{run_receiver, Receiving};
use ipc_common::stream::FrameReader;
use ipc_common::trace::TracedFd;
use ipc_common::{Error, Result};

/// Read framed messages from a pipe on standard input; print each text and a summary.
#[derive(Debug, Parser)]
#[command(name = "pipe-receiver", version)]
struct Args {
    #[command(flatten)]
    receiver: ReceiverArgs,
}

fn main() -> ExitCode {
    program::main(run)
}

fn run(args: &Args) -> Result<()> {
    run_receiver(Receiving::new("You wrote: ", &args.receiver), || {
        // C: read(fds[0], ...): the pipe is our standard input (dup2 by pipe-sender or a shell).
        let stdin = io::stdin();
        if stdin.is_terminal() {
            return Err(Error::usage("reading standard input", "it is a terminal, not a pipe")
                .with_hint("run pipe-sender (it starts pipe-receiver on a pipe), or: pipe-sender --stdout | pipe-receiver"));
        }
        Ok(
            FrameReader::new(TracedFd::new(stdin), "reading the pipe").advising(
                "pipe-receiver reads only pipe-sender's frames (c/pipe.c is one program that does \
             both ends)",
            ),
        )
    })
}
