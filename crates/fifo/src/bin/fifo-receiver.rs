//! fifo-receiver: the tutorial's named-pipe reader. Makes (or checks) a FIFO, reads messages
//! from it and prints them.
//!
//! What it shows: a FIFO is a pipe with a name, so a process that is not our parent or child
//! (fifo-sender, started from another terminal) can reach us through the path alone.
//! C calls it mirrors, in order: `mkfifo("/tmp/my_fifo", 0666)` (here mode 0600, after an
//! `lstat` check when the path exists), `open(path, O_RDONLY)`, `read(fd, buf, ...)` in a
//! loop, `close(fd)`, and the `unlink(path)` the tutorial forgets.
//!
//! Usage:
//!   fifo-receiver                        # /tmp/my_fifo, one sender
//!   fifo-receiver --path /tmp/f --senders 4
//!   fifo-receiver --mode 0666            # accept/create the tutorial's world-open FIFO
//!   fifo-receiver --wire c               # from c/build/fifo_writer: one line per message
//!
//! Other end: `fifo-sender`. Run both: `fifo-receiver` in one terminal, `fifo-sender` in
//! another (either may start first), or `make demo-fifo`.
//!
//! stderr: `Fifo Created Successfully...` (or `File Permissions Are OK` for an existing FIFO
//! that passed the check), then `fifo-receiver: waiting for a sender to open PATH` once the
//! FIFO is open (the ready line). stdout: `Data From Named Pipe Is: TEXT` per text message,
//! then the `summary:` line. The FIFO is removed at the end if this program created it.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use ipc_common::cli::ReceiverArgs;
use ipc_common::receiver::{run_receiver, Receiving};
use ipc_common::{program, Result};
use ipc_fifo::{Fifo, FifoArgs, FifoReader};

/// The tutorial's words before each text.
const LABEL: &str = "Data From Named Pipe Is: ";

/// Read messages from a named pipe (FIFO), creating it if missing; print each text and a summary.
#[derive(Debug, Parser)]
#[command(name = "fifo-receiver", version)]
struct Args {
    #[command(flatten)]
    fifo: FifoArgs,
    #[command(flatten)]
    receiver: ReceiverArgs,
}

fn main() -> ExitCode {
    program::main(run)
}

fn run(args: &Args) -> Result<()> {
    args.fifo.mode.mode.warn_if_open();
    run_receiver(Receiving::new(LABEL, &args.receiver), || {
        // C: mkfifo(path, mode), after checking what is already there.
        let fifo = Fifo::open_or_create(&args.fifo.path, args.fifo.mode.mode)?;
        fifo.announce();
        // C: open(path, O_RDONLY), then read() until the sender's End (N Ends with --senders
        // N); close(fd) and unlink(path), if we created it, when the reader is dropped.
        FifoReader::open(fifo, &args.fifo.wire)
    })
}
