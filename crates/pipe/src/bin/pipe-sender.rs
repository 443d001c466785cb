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

use std::io::{self, IsTerminal};
use std::process::ExitCode;

use clap::Parser;
use ipc_common::cli::{MessageSource, TraceArg};
use ipc_common::program;
use ipc_common::sender::run_sender;
use ipc_common::stream::FrameWriter;
use ipc_common::trace::TracedFd;
use ipc_common::{Error, Result};
use ipc_pipe::{sibling_program, ChildGuard};

/// Send messages through an anonymous pipe to pipe-receiver (started as our child).
#[derive(Debug, Parser)]
#[command(name = "pipe-sender", version)]
struct Args {
    #[command(flatten)]
    source: MessageSource,
    /// Write the framed messages to standard output instead (for `| pipe-receiver`)
    #[arg(long)]
    stdout: bool,
    #[command(flatten)]
    trace: TraceArg,
}

/// The tutorial's prompt for each line typed at a terminal.
const PROMPT: &str = "Enter some text:";

fn main() -> ExitCode {
    program::main(run)
}

fn run(args: &Args) -> Result<()> {
    if args.stdout {
        return send_to_stdout(&args.source);
    }
    let (read_end, write_end) = ipc_pipe::create()?;
    eprintln!("Pipe Created Successfully...");
    let receiver = sibling_program("pipe-receiver");
    let mut child = ChildGuard::spawn_reading(receiver.as_os_str(), &[], read_end)?;
    eprintln!(
        "pipe-sender: started pipe-receiver (pid {}) on the read end",
        child.pid()
    );

    let mut pipe = FrameWriter::new(
        TracedFd::new(write_end),
        "writing to the pipe",
        "the receiver closed the pipe",
    );
    let sent = run_sender(&args.source, PROMPT, &mut pipe).and_then(|_| pipe.into_inner());
    match sent {
        // Dropping the write end is close(fds[1]): the receiver reads its End, then EOF.
        Ok(write_end) => drop(write_end),
        Err(err) => {
            child.interrupt(); // the guard reaps it when we return
            return Err(err);
        }
    }
    match child.wait()? {
        0 => Ok(()),
        // Our own Ctrl-C already makes us exit 130 (program::main); a 130 here means
        // only the child was stopped, which is its failure, not our interruption.
        130 => Err(Error::new(
            "pipe-receiver",
            "was stopped by a signal (exit code 130)",
        )),
        code => Err(Error::new(
            "pipe-receiver",
            format!("reported a failure (exit code {code})"),
        )),
    }
}

/// `pipe-sender --stdout | pipe-receiver`: the shell made the pipe, we only write to it.
fn send_to_stdout(source: &MessageSource) -> Result<()> {
    let stdout = io::stdout();
    if stdout.is_terminal() {
        return Err(Error::usage(
            "--stdout",
            "standard output is a terminal, and the messages are binary frames",
        )
        .with_hint("pipe it into the receiver: pipe-sender --stdout | pipe-receiver"));
    }
    let mut pipe = FrameWriter::new(
        TracedFd::new(stdout),
        "writing to standard output",
        "the reader closed the pipe",
    );
    run_sender(source, PROMPT, &mut pipe)?;
    pipe.into_inner().map(drop)
}
