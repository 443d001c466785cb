//! Anonymous pipes: a one-way byte channel between related processes.
//!
//! The kernel object's life, with the C calls beside the Rust:
//!
//! | step | C | Rust (this crate) |
//! |---|---|---|
//! | create | `int fds[2]; pipe(fds);` | [`create`], or [`pipe`] by its C name (`nix::unistd::pipe2`, with `O_CLOEXEC`) |
//! | share | `fork()`, or `dup2(fds[0], 0)` + `exec` | [`sys::fork`], or [`ChildGuard::spawn_reading`] (std's `Command`) |
//! | use | `write(fds[1], ...)` / `read(fds[0], ...)` | `FrameWriter` / `FrameReader` over the `OwnedFd`s |
//! | remove | `close(fds[0]); close(fds[1]);` | dropping each `OwnedFd`; the last close frees the pipe |
//!
//! A pipe has no name, so only processes that inherit its descriptors can use it: a parent and
//! its child (`pipe-demo`, `pipe-sender`), or two children of a shell (`a | b`). Reading gives
//! end-of-file once every write end is closed, which is why each side must close the end it
//! does not use: a forgotten write end in the reader means it waits for ever.

#![deny(unsafe_code)]

mod child;
#[allow(unsafe_code)]
pub mod sys;

pub use child::{sibling_program, ChildGuard};

use std::io::{self, IsTerminal, Stdout};
use std::os::fd::{AsRawFd, OwnedFd};

use nix::fcntl::OFlag;

use ipc_common::stream::FrameWriter;
use ipc_common::trace::TracedFd;
use ipc_common::{program, trace, Context, Error, Result};

/// C: `pipe(fds)`. Returns (read end, write end), both close-on-exec, so a child started with
/// `exec` gets only the end we hand it on purpose.
pub fn create() -> Result<(OwnedFd, OwnedFd)> {
    let result = nix::unistd::pipe2(OFlag::O_CLOEXEC);
    trace::call(
        || {
            let fds = match &result {
                Ok((read_end, write_end)) => {
                    format!("[{}, {}]", read_end.as_raw_fd(), write_end.as_raw_fd())
                }
                Err(_) => "...".to_string(),
            };
            format!("pipe2({fds}, O_CLOEXEC)")
        },
        &result,
        |_| "0".to_string(),
    );
    result.context("creating a pipe")
}

/// C: `pipe(fds)`, under its C name, for the line-by-line port of the tutorial's pipe.c
/// (examples/pipe.rs): the same as [`create`].
pub fn pipe() -> Result<(OwnedFd, OwnedFd)> {
    create()
}

/// The write end of a pipe, as `pipe-sender` writes framed messages into it.
pub type PipeWriter<F> = FrameWriter<TracedFd<F>>;

/// `pipe-sender`'s set-up, the tutorial's pipe.c with the child as a program of its own:
/// C `pipe(fds)`, then `fork()` + `dup2(fds[0], 0)` + `exec("pipe-receiver")` in the child,
/// and `close(fds[0])` in the parent. Returns the child (reaped by its guard) and the write end.
pub fn start_receiver() -> Result<(ChildGuard, PipeWriter<OwnedFd>)> {
    let (read_end, write_end) = create()?;
    eprintln!("Pipe Created Successfully...");
    let receiver = sibling_program("pipe-receiver");
    let child = ChildGuard::spawn_reading(receiver.as_os_str(), &[], read_end)?;
    eprintln!(
        "{}: started pipe-receiver (pid {}) on the read end",
        program::name(),
        child.pid()
    );
    let pipe = FrameWriter::new(
        TracedFd::new(write_end),
        "writing to the pipe",
        "the receiver closed the pipe",
    );
    Ok((child, pipe))
}

/// `pipe-sender --stdout | pipe-receiver`: the shell made the pipe, and our standard output
/// is its write end. Refuses a terminal (the messages are binary frames).
pub fn stdout_writer() -> Result<PipeWriter<Stdout>> {
    let stdout = io::stdout();
    if stdout.is_terminal() {
        return Err(Error::usage(
            "--stdout",
            "standard output is a terminal, and the messages are binary frames",
        )
        .with_hint("pipe it into the receiver: pipe-sender --stdout | pipe-receiver"));
    }
    Ok(FrameWriter::new(
        TracedFd::new(stdout),
        "writing to standard output",
        "the reader closed the pipe",
    ))
}
