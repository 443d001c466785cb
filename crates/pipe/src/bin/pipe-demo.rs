//! pipe-demo: the tutorial's pipe.c, one pipe between a parent and the child it forks.
//!
//! What it shows: `pipe()` gives two descriptors; after `fork()` both processes hold both
//! ends; the parent writes, the child reads. C calls it mirrors, in order:
//! `pipe(fds)`, `printf("Descriptors are: %d %d")`, `fork()`, then in the parent
//! `write(fds[1], ...)` and in the child `read(fds[0], ...)`.
//!
//! Usage: `pipe-demo` (type one line) or `pipe-demo --message "Hello Linux"`.
//! Milestones go to stderr, the data the child read to stdout.
//!
//! The classic bugs of pipe.c, fixed here:
//! - **Unused ends left open.** The C program never closes `fds[0]` in the parent or `fds[1]`
//!   in the child; a reader that still holds a write end never sees end-of-file. Each side
//!   drops (closes) the end it does not use, right after the fork.
//! - **`write(fds[1], buf, sizeof(buf))`** writes the whole buffer, garbage after the text
//!   included. We write exactly the bytes of the text.
//! - **Unbounded input** (`scanf("%s", buf)` overflows, and stops at the first space). We read
//!   one whole line, spaces included, and refuse one longer than PIPE_BUF (4096 bytes).
//! - **No `wait`**: the parent may exit before the child prints, and a zombie is left. The
//!   parent reaps the child and exits with its status.
//! - The child is forked while the process is single-threaded (checked by `sys::fork`), so it
//!   may run any code; Ctrl-C handling is installed after the fork, in each process.
#![forbid(unsafe_code)]

use std::io::{self, BufRead, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::process::ExitCode;

use clap::Parser;
use ipc_common::program;
use ipc_common::signals::{self, Interruptible};
use ipc_common::trace::TracedFd;
use ipc_common::{Error, Result};
use ipc_pipe::sys::{fork, Forked};
use ipc_pipe::ChildGuard;

/// The largest line the demo passes through the pipe: PIPE_BUF, what one write moves atomically.
const MAX_LINE: usize = 4096;

/// The tutorial's pipe.c: the parent writes one line into a pipe, the child it forked reads it.
#[derive(Debug, Parser)]
#[command(name = "pipe-demo", version)]
struct Args {
    /// Write TEXT instead of reading a line from standard input
    #[arg(long, value_name = "TEXT")]
    message: Option<String>,
}

fn main() -> ExitCode {
    // Single-threaded until the fork: each process installs its Ctrl-C handler after it.
    program::main_before_fork(run)
}

fn run(args: &Args) -> Result<()> {
    let (read_end, write_end) = ipc_pipe::create()?;
    eprintln!("Pipe Created Successfully...");
    eprintln!(
        "Descriptors are: {} {}",
        read_end.as_raw_fd(),
        write_end.as_raw_fd()
    );
    match fork()? {
        Forked::Child => {
            drop(write_end); // the fix: close(fds[1]) in the reader, or it never sees EOF
            child(read_end)
        }
        Forked::Parent { child } => {
            drop(read_end); // close(fds[0]) in the writer
            parent(write_end, ChildGuard::new(child, "the child process"), args)
        }
    }
}

fn parent(write_end: OwnedFd, mut child: ChildGuard, args: &Args) -> Result<()> {
    signals::install()?;
    eprintln!("Parent Process....");
    eprintln!("Enter Data To Be Written To Pipe");
    let text = match &args.message {
        Some(text) => text.clone(),
        None => read_one_line()?,
    };
    if text.len() > MAX_LINE {
        return Err(Error::usage(
            "the text",
            format!(
                "{} bytes is over the {MAX_LINE}-byte limit (PIPE_BUF)",
                text.len()
            ),
        ));
    }
    let mut pipe = TracedFd::new(write_end);
    pipe.write_all(text.as_bytes())
        .map_err(|err| signals::io_context(err, "writing to the pipe"))?;
    drop(pipe); // close(fds[1]): the child's read now ends with EOF after the text
    eprintln!("Pipe Written Successfully..");
    child.verdict()
}

fn child(read_end: OwnedFd) -> Result<()> {
    signals::install()?;
    eprintln!("Child Process");
    let mut data = Vec::new();
    TracedFd::new(read_end)
        .take(MAX_LINE as u64)
        .read_to_end(&mut data)
        .map_err(|err| signals::io_context(err, "reading the pipe"))?;
    eprintln!("Pipe Read Successfully");
    let mut stdout = io::stdout().lock();
    stdout
        .write_all(&data)
        .and_then(|()| stdout.write_all(b"\n"))
        .map_err(|err| Error::io("writing to standard output", &err))
}

/// One line from stdin, without its newline, bounded by MAX_LINE.
fn read_one_line() -> Result<String> {
    let mut line = Vec::new();
    io::BufReader::new(Interruptible::new(io::stdin()))
        .take(MAX_LINE as u64 + 1)
        .read_until(b'\n', &mut line)
        .map_err(|err| signals::io_context(err, "reading standard input"))?;
    if line.last() == Some(&b'\n') {
        line.pop();
    }
    String::from_utf8(line)
        .map_err(|_| Error::new("reading standard input", "the line is not valid UTF-8 text"))
}
