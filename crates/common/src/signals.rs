//! Ctrl-C and SIGTERM: record the stop, wake whatever call is blocked, let the guards clean up.
//!
//! `ctrlc` runs our handler on its own thread and installs the real signal handler with
//! `SA_RESTART`, so on its own it wakes nothing: a `read`, `accept` or FIFO `open` in the main
//! thread is simply restarted by the kernel. We wake blocked calls on purpose, two ways:
//!
//! 1. **A self-pipe** (`pipe2`): the handler writes one byte to it and never drains it, so its
//!    read end stays readable for ever after. Every blocking wait on a file descriptor goes
//!    through [`wait_fd`], which `poll`s the descriptor *and* this pipe: a stop wakes every such
//!    wait, in every thread, with no race between "check the flag" and "block".
//! 2. **A nudge for System V calls** (`msgrcv`, `msgsnd`, `semop`), which wait on no descriptor.
//!    Linux never restarts them after a signal handler, whatever `SA_RESTART` says (signal(7)),
//!    so the handler sends SIGINT to the main thread with `pthread_kill`: the call fails with
//!    EINTR and the caller sees [`stop_requested`]. Because the signal could land just before the
//!    call blocks, the handler repeats the nudge every 20 ms until the main thread acknowledges
//!    (by calling [`stop_requested`] and seeing `true`).
//!
//! Nothing here costs a receiver throughput: the extra `poll` happens once per buffer refill,
//! and System V calls pay nothing at all until a signal arrives.

use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::pthread::{pthread_kill, pthread_self, Pthread};
use nix::sys::signal::Signal;

use crate::error::{Context, Error, Result};

/// Set once SIGINT, SIGTERM or SIGHUP has arrived.
static STOP: AtomicBool = AtomicBool::new(false);
/// Set once the main thread has seen the stop; ends the nudging.
static ACKNOWLEDGED: AtomicBool = AtomicBool::new(false);
/// The self-pipe: (read end polled by every wait, write end written by the handler).
static WAKE: OnceLock<(OwnedFd, OwnedFd)> = OnceLock::new();

/// How often the handler nudges the main thread until it acknowledges.
const NUDGE_INTERVAL: Duration = Duration::from_millis(20);

/// Installs the handler for SIGINT, SIGTERM and SIGHUP. Call once, early in `run`, from the
/// main thread (the one that will make the blocking calls). Calling it again does nothing.
pub fn install() -> Result<()> {
    if WAKE.get().is_some() {
        return Ok(());
    }
    // C: pipe2(fds, O_CLOEXEC | O_NONBLOCK): a full pipe must never block the handler.
    let pipe = nix::unistd::pipe2(OFlag::O_CLOEXEC | OFlag::O_NONBLOCK)
        .context("creating the wake-up pipe for Ctrl-C")?;
    let _ = WAKE.set(pipe);
    let main_thread: Pthread = pthread_self();
    ctrlc::set_handler(move || on_signal(main_thread))
        .map_err(|err| Error::new("installing the Ctrl-C handler", err.to_string()))
}

/// Runs on ctrlc's thread for every SIGINT/SIGTERM/SIGHUP (including our own nudges).
fn on_signal(main_thread: Pthread) {
    if STOP.swap(true, Ordering::SeqCst) {
        return; // a later signal, or one of our own nudges: the first call does the work
    }
    if let Some((_, write_end)) = WAKE.get() {
        let _ = nix::unistd::write(write_end, &[1]);
    }
    while !ACKNOWLEDGED.load(Ordering::SeqCst) {
        // C: pthread_kill(main, SIGINT): interrupts msgrcv/msgsnd/semop with EINTR.
        if pthread_kill(main_thread, Signal::SIGINT).is_err() {
            break; // the main thread has already finished
        }
        std::thread::sleep(NUDGE_INTERVAL);
    }
}

/// True once a stop was requested. Calling it from the main thread acknowledges the stop.
pub fn stop_requested() -> bool {
    let stop = STOP.load(Ordering::SeqCst);
    if stop {
        ACKNOWLEDGED.store(true, Ordering::SeqCst);
    }
    stop
}

/// `Err(interrupted)` once a stop was requested: put it in loops and after EINTR.
pub fn check() -> Result<()> {
    if stop_requested() {
        Err(Error::interrupted())
    } else {
        Ok(())
    }
}

/// Waits until `fd` is ready for `events` (e.g. `POLLIN`), a stop is requested, or `timeout`
/// passes. Returns `Ok(true)` when ready, `Ok(false)` on timeout, `Err(interrupted)` on a stop.
///
/// C: `poll({fd, wake_pipe}, 2, timeout)`. POLLHUP and POLLERR count as ready: the following
/// read or write then reports the end of file or the error itself.
pub fn wait_fd(fd: BorrowedFd<'_>, events: PollFlags, timeout: Option<Duration>) -> Result<bool> {
    let deadline = timeout.map(|t| Instant::now() + t);
    loop {
        check()?;
        let remaining = match deadline {
            None => PollTimeout::NONE,
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                // Round up so that a wait of 0.5 ms does not become a busy loop of 0 ms polls.
                let millis = left.as_micros().div_ceil(1000);
                PollTimeout::try_from(millis.min(i32::MAX as u128) as i32)
                    .unwrap_or(PollTimeout::MAX)
            }
        };
        let mut fds = vec![PollFd::new(fd, events)];
        if let Some((read_end, _)) = WAKE.get() {
            fds.push(PollFd::new(read_end.as_fd(), PollFlags::POLLIN));
        }
        match poll(&mut fds, remaining) {
            Ok(0) if deadline.is_some_and(|d| Instant::now() >= d) => return Ok(false),
            Ok(_) => {
                let ready = fds[0].revents().unwrap_or(PollFlags::empty());
                if !ready.is_empty() {
                    return Ok(true);
                }
            }
            Err(Errno::EINTR) => {}
            Err(errno) => return Err(Error::sys("waiting in poll", errno)),
        }
    }
}

/// A file descriptor whose blocking reads and writes wake up on Ctrl-C.
///
/// Wrap it in a `BufReader`/`BufWriter`: each refill or flush costs one extra `poll`.
/// An interrupted read or write returns the [`Stopped`] error (see [`is_stop`]). It is not of
/// kind `Interrupted` on purpose: std's `write_all` and `read_until` retry those for ever.
#[derive(Debug)]
pub struct Interruptible<F> {
    fd: F,
}

impl<F: AsFd> Interruptible<F> {
    /// Wraps `fd` (stdin, a pipe end, a socket...).
    pub fn new(fd: F) -> Self {
        Interruptible { fd }
    }

    /// The wrapped descriptor.
    pub fn get_ref(&self) -> &F {
        &self.fd
    }

    /// Gives the wrapped descriptor back.
    pub fn into_inner(self) -> F {
        self.fd
    }

    fn wait(&self, events: PollFlags) -> io::Result<()> {
        match wait_fd(self.fd.as_fd(), events, None) {
            Ok(_) => Ok(()),
            Err(_) => Err(stop_error()),
        }
    }
}

/// The error inside the `io::Error` that an interrupted [`Interruptible`] call returns.
#[derive(Debug)]
pub struct Stopped;

impl std::fmt::Display for Stopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("stopped by a signal")
    }
}

impl std::error::Error for Stopped {}

fn stop_error() -> io::Error {
    io::Error::other(Stopped)
}

/// True when `err` means "a stop was requested" (rather than a real I/O failure).
pub fn is_stop(err: &io::Error) -> bool {
    err.get_ref().is_some_and(|inner| inner.is::<Stopped>())
}

impl<F: AsFd> Read for Interruptible<F> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            self.wait(PollFlags::POLLIN)?;
            match nix::unistd::read(self.fd.as_fd(), buf) {
                Ok(n) => return Ok(n),
                Err(Errno::EINTR | Errno::EAGAIN) => continue,
                Err(errno) => return Err(io::Error::from(errno)),
            }
        }
    }
}

impl<F: AsFd> Write for Interruptible<F> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        loop {
            self.wait(PollFlags::POLLOUT)?;
            match nix::unistd::write(self.fd.as_fd(), buf) {
                Ok(n) => return Ok(n),
                Err(Errno::EINTR | Errno::EAGAIN) => continue,
                Err(errno) => return Err(io::Error::from(errno)),
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Maps an I/O error of a wrapped descriptor: a stop becomes [`Error::interrupted`], anything
/// else keeps its errno and gets `what` as context.
pub fn io_context(err: io::Error, what: impl Into<String>) -> Error {
    if is_stop(&err) {
        Error::interrupted()
    } else {
        Error::io(what, &err)
    }
}
