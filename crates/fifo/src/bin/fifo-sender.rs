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

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use ipc_common::cli::{self, MessageSource, ModeArg, TraceArg, DEFAULT_FIFO_PATH};
use ipc_common::message::Message;
use ipc_common::sender::run_sender;
use ipc_common::{error, signals, Result};
use ipc_fifo::cwire::{self, Wire, WireArg};
use ipc_fifo::{check_fits, Fifo, FifoWriter, CREATED, PERMISSIONS_OK};

const PROGRAM: &str = "fifo-sender";

/// The tutorial's prompt for each line typed at a terminal.
const PROMPT: &str = "Enter Data To Be Written..";

/// Write messages into a named pipe (FIFO) for fifo-receiver, creating the FIFO if missing.
#[derive(Debug, Parser)]
#[command(name = "fifo-sender", version)]
struct Args {
    /// Path of the FIFO; created with mkfifo if missing, else checked (a FIFO, yours, private)
    #[arg(long, value_name = "P", default_value = DEFAULT_FIFO_PATH)]
    path: PathBuf,
    #[command(flatten)]
    mode: ModeArg,
    /// Give up with an error if no receiver opens the FIFO within SECS seconds (default: wait)
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    timeout: Option<Duration>,
    #[command(flatten)]
    source: MessageSource,
    /// Experiment: write messages larger than PIPE_BUF in pieces instead of refusing them, so
    /// that several senders interleave
    #[arg(long)]
    allow_split: bool,
    #[command(flatten)]
    wire: WireArg,
    #[command(flatten)]
    trace: TraceArg,
}

fn main() -> ExitCode {
    let args: Args = cli::parse();
    error::exit_code(PROGRAM, run(&args))
}

fn run(args: &Args) -> Result<()> {
    args.trace.apply();
    signals::install()?;
    if args.wire.wire == Wire::C {
        cwire::check_source(&args.source)?;
    } else if args.allow_split {
        eprintln!(
            "{PROGRAM}: --allow-split: messages over PIPE_BUF ({} bytes) go in pieces; with \
             several senders, watch the receiver fail on mixed-up frames",
            ipc_fifo::PIPE_BUF
        );
    } else {
        check_sizes(&args.source)?;
    }
    args.mode.mode.warn_if_open(PROGRAM);
    // C: mkfifo(path, mode), if nothing is there yet; else check what is.
    let mut fifo = Fifo::open_or_create(&args.path, args.mode.mode, PROGRAM)?;
    eprintln!(
        "{}",
        if fifo.created() {
            CREATED
        } else {
            PERMISSIONS_OK
        }
    );
    // C: open(path, O_WRONLY), which waits for a reader.
    let fd = fifo.open_writer(args.timeout)?;
    eprintln!("{PROGRAM}: a receiver opened {}", fifo.path().display());
    // C: write(fd, buf, n) per message; close(fd) and unlink(path) when `out` is dropped.
    let mut out = FifoWriter::new(fifo, fd, true);
    if args.allow_split {
        out = out.allow_split();
    }
    if args.wire.wire == Wire::C {
        out = out.c_wire();
    }
    let sent = run_sender(&args.source, PROMPT, &mut out)?;
    if args.source.count.is_some() {
        eprintln!(
            "Written Successfully... ({} generated messages)",
            sent.messages
        );
    }
    eprintln!("{PROGRAM}: sent {} message(s) and End", sent.messages);
    Ok(())
}

/// Refuses, before touching the FIFO, `--message` texts and `--size` payloads that would not
/// fit in one atomic write (PIPE_BUF).
fn check_sizes(source: &MessageSource) -> Result<()> {
    let me = std::process::id();
    if let Some(count) = source.count {
        // The last payload has the largest sequence number, so the longest encoding.
        check_fits(&Message::payload(me, count.max(1), source.size))?;
    }
    for (seq, text) in (1u64..).zip(&source.messages) {
        check_fits(&Message::text(me, seq, text.as_str()))?;
    }
    Ok(())
}

/// Parses `--timeout`: seconds, decimals allowed (`0.5`).
fn parse_seconds(text: &str) -> std::result::Result<Duration, String> {
    text.parse::<f64>()
        .ok()
        .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
        .ok_or_else(|| format!("'{text}' is not a number of seconds, such as 5 or 0.5"))
}
