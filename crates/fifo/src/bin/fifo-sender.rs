//! fifo-sender: the tutorial's named-pipe writer. Opens (or makes) a FIFO and writes messages
//! into it for fifo-receiver.
//!
//! What it shows: the writer of a FIFO needs no relation to the reader, only the path; its
//! `open` waits until a reader has the FIFO open; and writes of at most PIPE_BUF bytes are
//! atomic, so several senders can share one FIFO without mixing their messages.
//! C calls it mirrors, in order: `mkfifo(path, 0666)` (here: only if missing, mode 0600),
//! `open(path, O_WRONLY)`, then per line `fgets(buf, ...)` + `write(fd, buf, n)` +
//! `printf("Written Successfully...")`, `close(fd)`.
//!
//! Usage:
//!   fifo-sender                          # type lines; `end` or Ctrl-D finishes
//!   fifo-sender --message hello --message world
//!   fifo-sender --count 5000 --size 1000 # generated messages the receiver verifies
//!   fifo-sender --timeout 5              # give up if no receiver opens within 5 s
//!   fifo-sender --allow-split --count 2000 --size 6000   # the experiment: run two at once
//!   fifo-sender --wire c                 # to c/build/fifo_reader: one line per message
//!
//! Other end: `fifo-receiver`. Run both: `fifo-receiver` in one terminal, `fifo-sender` in
//! another (either may start first), or `make demo-fifo`.
//!
//! stderr: `Fifo Created Successfully...` or `File Permissions Are OK`, `fifo-sender: waiting
//! for a receiver to open PATH` while there is none, the prompt `Enter Data To Be Written..`
//! when stdin is a terminal, `Written Successfully...` after each text message (once, with
//! the count, for generated messages). A receiver that goes away mid-stream ends it with
//! `fifo-sender: error: writing to PATH: the receiver closed the FIFO (EPIPE)`, exit 1.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use ipc_common::cli::MessageSource;
use ipc_common::sender::run_sender;
use ipc_common::{program, Result};
use ipc_fifo::{check_source, Fifo, FifoArgs, FifoWriter, WriterArgs};

/// The tutorial's prompt for each line typed at a terminal.
const PROMPT: &str = "Enter Data To Be Written..";

/// Write messages into a named pipe (FIFO) for fifo-receiver, creating the FIFO if missing.
#[derive(Debug, Parser)]
#[command(name = "fifo-sender", version)]
struct Args {
    #[command(flatten)]
    fifo: FifoArgs,
    #[command(flatten)]
    writer: WriterArgs,
    #[command(flatten)]
    source: MessageSource,
}

fn main() -> ExitCode {
    program::main(run)
}

fn run(args: &Args) -> Result<()> {
    check_source(&args.source, &args.fifo.wire, args.writer.allow_split)?;
    args.fifo.mode.mode.warn_if_open();
    // C: mkfifo(path, mode), if nothing is there yet; else check what is.
    let fifo = Fifo::open_or_create(&args.fifo.path, args.fifo.mode.mode)?;
    fifo.announce();
    // C: open(path, O_WRONLY), which waits for a reader, then write(fd, buf, n) per message;
    // close(fd) and unlink(path), if we created it, when the writer is dropped.
    let mut out = FifoWriter::open(fifo, &args.writer, &args.fifo.wire)?;
    let sent = run_sender(&args.source, PROMPT, &mut out)?;
    if args.source.count.is_some() {
        eprintln!(
            "Written Successfully... ({} generated messages)",
            sent.messages
        );
    }
    eprintln!(
        "{}: sent {} message(s) and End",
        program::name(),
        sent.messages
    );
    Ok(())
}
