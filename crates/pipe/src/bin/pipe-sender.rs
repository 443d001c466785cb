//! pipe-sender: creates a pipe, starts pipe-receiver on its read end, and sends messages.
//!
//! The writing half of the tutorial's pipe.c, with the two processes as separate programs.
//! C calls it mirrors: `pipe(fds)`, `fork()` + `dup2(fds[0], 0)` + `exec("pipe-receiver")`,
//! `close(fds[0])`, `write(fds[1], ...)`, `close(fds[1])`, `waitpid(child)`.
//! A pipe has no name: only a process that inherits the read end can read it, which is why
//! the sender starts the receiver itself (or a shell connects the two with `|`).
//!
//! Usage:
//!   pipe-sender                          # type lines; `end` or Ctrl-D finishes
//!   pipe-sender --message hello --message world
//!   pipe-sender --count 10000 --size 1000
//!   pipe-sender --stdout --message hi | pipe-receiver
//! Other end: `pipe-receiver`. Both at once: `make demo-pipe`.
//!
//! Exits with the receiver's verdict: 0 when everything arrived intact and in order.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use ipc_common::cli::MessageSource;
use ipc_common::program;
use ipc_common::sender::{run_sender, ENTER_SOME_TEXT};
use ipc_common::Result;

/// Send messages through an anonymous pipe to pipe-receiver (started as our child).
#[derive(Debug, Parser)]
#[command(name = "pipe-sender", version)]
struct Args {
    #[command(flatten)]
    source: MessageSource,
    /// Write the framed messages to standard output instead (for `| pipe-receiver`)
    #[arg(long)]
    stdout: bool,
}

fn main() -> ExitCode {
    program::main(run)
}

fn run(args: &Args) -> Result<()> {
    if args.stdout {
        // `pipe-sender --stdout | pipe-receiver`: the shell made the pipe, we only write to it.
        return run_sender(
            &args.source,
            ENTER_SOME_TEXT,
            &mut ipc_pipe::stdout_writer()?,
        )
        .map(drop);
    }
    // C: pipe(fds), fork() + dup2(fds[0], 0) + exec("pipe-receiver"), close(fds[0]).
    let (mut receiver, mut pipe) = ipc_pipe::start_receiver()?;
    // C: write(fds[1], ...) per message.
    if let Err(err) = run_sender(&args.source, ENTER_SOME_TEXT, &mut pipe) {
        receiver.interrupt(); // the guard reaps it when we return
        return Err(err);
    }
    // C: close(fds[1]): the receiver reads its End, then end-of-file; then waitpid(child).
    drop(pipe);
    receiver.verdict()
}
