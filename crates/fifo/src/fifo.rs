//! The [`Fifo`] guard: finds or creates the FIFO at a path, opens it, and removes it in `Drop`
//! when (and only when) it created it.
//!
//! C, the tutorial's way:
//!
//! ```c
//! mkfifo("/tmp/my_fifo", 0666);              /* fails with EEXIST if it is there: ignored */
//! int fd = open("/tmp/my_fifo", O_RDONLY);   /* blocks until a writer opens it */
//! ```
//!
//! Rust, this module: [`Fifo::open_or_create`] (`lstat`, else `mkfifo` with mode 0600), then
//! [`Fifo::open_reader`] / [`Fifo::try_open_writer`] (`open` with `O_NONBLOCK | O_NOFOLLOW |
//! O_CLOEXEC`, then `fstat` on the descriptor), and `Drop` (`unlink`).
//!
//! Why `O_NONBLOCK`: a plain `open` of a FIFO blocks until the other end opens too, and Linux
//! restarts that `open` after our Ctrl-C handler runs (the handler is installed with
//! `SA_RESTART`), so Ctrl-C could not stop it. With `O_NONBLOCK` the reader's `open` returns at
//! once (we then wait for data with `poll`, which Ctrl-C does wake) and the writer's `open`
//! fails with `ENXIO` while nobody reads: we retry, a few milliseconds apart, checking for
//! Ctrl-C and the `--timeout` between tries.

use std::io::Write;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ipc_common::cli::Mode;
use ipc_common::{program, signals, Error, Result};
use nix::errno::Errno;
use nix::fcntl::OFlag;

// nix's calls, wrapped once so that --trace shows them (crate::calls).
use crate::calls::{fstat, lstat, mkfifo, open, umask, unlink};
use crate::check::{check, Identity};

/// How many times [`Fifo::open_or_create`] goes round "it is missing / someone just made it"
/// before giving up (only a path that is created and removed in a tight loop gets there).
const MAX_ATTEMPTS: u32 = 100;

/// The longest pause between two tries of a writer's `open` while no receiver reads.
const MAX_RETRY_PAUSE: Duration = Duration::from_millis(50);

/// The tutorial's milestone after `mkfifo` succeeded (stderr).
pub const CREATED: &str = "Fifo Created Successfully...";
/// The tutorial's milestone when the FIFO already existed and passed the check (stderr).
pub const PERMISSIONS_OK: &str = "File Permissions Are OK";

/// Prints one line on stderr and ignores a failure to print (never panics, unlike `eprintln!`).
pub(crate) fn note(line: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// The FIFO at one path, checked. Owns it (removes it in `Drop`) if this process created it.
#[derive(Debug)]
pub struct Fifo {
    path: PathBuf,
    identity: Identity,
    allowed: Mode,
    created: bool,
}

/// What [`Fifo::try_open_writer`] found.
#[derive(Debug)]
pub enum WriterOpen {
    /// A receiver has the FIFO open: here is our write end (still `O_NONBLOCK`).
    Opened(OwnedFd),
    /// `ENXIO`: no process has the FIFO open for reading yet.
    NoReader,
    /// `ENOENT`: the FIFO was removed since we checked it (its creator finished).
    Vanished,
}

impl Fifo {
    /// Uses the FIFO at `path` if there is one and it passes the check, else creates it with
    /// exactly `mode` (C: `mkfifo(path, mode)`).
    ///
    /// Two programs may race to create it: whoever loses gets `EEXIST` and checks the winner's.
    pub fn open_or_create(path: &Path, mode: Mode) -> Result<Fifo> {
        let shown = path.display();
        if path.as_os_str().is_empty() {
            return Err(Error::usage("--path", "the path is empty")
                .with_hint("give a path such as /tmp/my_fifo"));
        }
        for _ in 0..MAX_ATTEMPTS {
            // C: lstat(path, &st): describes a symbolic link itself rather than its target.
            match lstat(path) {
                Ok(stat) => {
                    let identity = check(path, &stat, mode)?;
                    return Ok(Fifo::new(path, identity, mode, false));
                }
                Err(Errno::ENOENT) => {}
                Err(errno) => return Err(Error::sys(format!("checking {shown} (lstat)"), errno)),
            }
            match mkfifo_exact(path, mode) {
                Ok(()) => {
                    ipc_common::ownership::record_fifo(path);
                    let stat = lstat(path)
                        .map_err(|e| Error::sys(format!("checking {shown} (lstat)"), e))?;
                    let identity = check(path, &stat, mode)?;
                    return Ok(Fifo::new(path, identity, mode, true));
                }
                Err(Errno::EEXIST) => continue, // someone else just made it: check theirs
                Err(errno) => return Err(mkfifo_error(path, errno)),
            }
        }
        Err(Error::new(
            format!("creating the FIFO {shown}"),
            "the path keeps appearing and disappearing",
        ))
    }

    fn new(path: &Path, identity: Identity, allowed: Mode, created: bool) -> Self {
        Fifo {
            path: path.to_path_buf(),
            identity,
            allowed,
            created,
        }
    }

    /// True when this process created the FIFO (and so removes it when done).
    pub fn created(&self) -> bool {
        self.created
    }

    /// The FIFO's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The `--mode` the FIFO was checked against (and created with, if we created it).
    pub fn allowed(&self) -> Mode {
        self.allowed
    }

    /// The tutorial's milestone for this FIFO: `Fifo Created Successfully...` after our
    /// `mkfifo`, `File Permissions Are OK` for one that was there and passed the check.
    pub fn milestone(&self) -> &'static str {
        if self.created {
            CREATED
        } else {
            PERMISSIONS_OK
        }
    }

    /// Prints the [`milestone`](Fifo::milestone) on stderr, as both tutorial programs do.
    pub fn announce(&self) {
        note(format_args!("{}", self.milestone()));
    }

    /// True while `path` still names the FIFO we checked (not removed, not replaced).
    pub fn still_at_path(&self) -> bool {
        lstat(&self.path).is_ok_and(|stat| Identity::of(&stat) == self.identity)
    }

    /// Opens the FIFO for reading. C: `open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW |
    /// O_CLOEXEC)`, which returns at once even when no writer is there yet. Returns `None`
    /// when the FIFO was removed since we checked it.
    ///
    /// The descriptor stays non-blocking: wait for data with `signals::wait_fd` (or read it
    /// through `signals::Interruptible`), which Ctrl-C interrupts.
    pub fn open_reader(&self) -> Result<Option<OwnedFd>> {
        match self.open(OFlag::O_RDONLY) {
            Ok(fd) => self.verify(fd).map(Some),
            Err(Errno::ENOENT) => Ok(None),
            Err(errno) => Err(self.open_error("reading", errno)),
        }
    }

    /// Tries once to open the FIFO for writing. C: `open(path, O_WRONLY | O_NONBLOCK |
    /// O_NOFOLLOW | O_CLOEXEC)`, which fails with `ENXIO` while no process reads the FIFO.
    pub fn try_open_writer(&self) -> Result<WriterOpen> {
        match self.open(OFlag::O_WRONLY) {
            Ok(fd) => self.verify(fd).map(WriterOpen::Opened),
            Err(Errno::ENXIO) => Ok(WriterOpen::NoReader),
            Err(Errno::ENOENT) => Ok(WriterOpen::Vanished),
            Err(errno) => Err(self.open_error("writing", errno)),
        }
    }

    /// Opens the FIFO for writing, waiting for a receiver: retries [`Fifo::try_open_writer`]
    /// with pauses from 1 ms up to 50 ms until a receiver opens it, `timeout` passes, or
    /// Ctrl-C. Prints `waiting for a receiver to open PATH` once if it has to wait. If the FIFO
    /// is removed meanwhile, it is found or created again at the same path (`self` then
    /// becomes that new FIFO).
    pub fn open_writer(&mut self, timeout: Option<Duration>) -> Result<OwnedFd> {
        let started = Instant::now();
        let mut pause = Duration::from_millis(1);
        let mut announced = false;
        loop {
            signals::check()?;
            let attempt = match self.try_open_writer() {
                // Our FIFO was removed meanwhile (its creator finished) and another one that
                // passes every check (a FIFO of ours, with the allowed mode) took the path: a
                // receiver or another sender made it. Use that one instead of failing.
                Err(_) if self.replaced_by_a_checked_fifo() => {
                    self.created = false; // ours is gone: nothing of ours to remove
                    *self = Fifo::open_or_create(&self.path, self.allowed)?;
                    continue;
                }
                other => other?,
            };
            match attempt {
                WriterOpen::Opened(fd) => return Ok(fd),
                WriterOpen::Vanished => {
                    *self = Fifo::open_or_create(&self.path, self.allowed)?;
                    continue;
                }
                WriterOpen::NoReader => {}
            }
            if !announced {
                note(format_args!(
                    "{}: waiting for a receiver to open {}",
                    program::name(),
                    self.path.display()
                ));
                announced = true;
            }
            if let Some(limit) = timeout {
                let waited = started.elapsed();
                if waited >= limit {
                    return Err(Error::new(
                        format!("waiting for a receiver to open {}", self.path.display()),
                        format!(
                            "no receiver opened it within {} s (--timeout)",
                            limit.as_secs_f64()
                        ),
                    )
                    .with_hint(format!(
                        "start fifo-receiver --path {} in another terminal, or run make demo-fifo",
                        self.path.display()
                    )));
                }
                pause = pause.min(limit - waited);
            }
            // A short sleep, then look at the stop flag again: Ctrl-C stops us within 50 ms.
            std::thread::sleep(pause);
            pause = (pause * 2).min(MAX_RETRY_PAUSE);
        }
    }

    /// True when `path` now names a different FIFO than the one we checked, and that one
    /// passes the same check (C: `lstat` + the checks of check.rs).
    fn replaced_by_a_checked_fifo(&self) -> bool {
        lstat(&self.path).is_ok_and(|stat| {
            Identity::of(&stat) != self.identity && check(&self.path, &stat, self.allowed).is_ok()
        })
    }

    /// C: `open(path, flags | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC)`.
    fn open(&self, access: OFlag) -> std::result::Result<OwnedFd, Errno> {
        let flags = access | OFlag::O_NONBLOCK | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        loop {
            match open(&self.path, flags, nix::sys::stat::Mode::empty()) {
                // A non-blocking open hardly ever sleeps, but if a signal did interrupt it,
                // try again unless that signal asked us to stop.
                Err(Errno::EINTR) if !signals::stop_requested() => continue,
                other => return other,
            }
        }
    }

    /// The check again, on the descriptor we will use (C: `fstat(fd, &st)`): it must be the
    /// very FIFO we checked by path, still owned by the right user with the right mode.
    fn verify(&self, fd: OwnedFd) -> Result<OwnedFd> {
        let stat = fstat(&fd)
            .map_err(|e| Error::sys(format!("checking {} (fstat)", self.path.display()), e))?;
        let identity = check(&self.path, &stat, self.allowed)?;
        if identity != self.identity {
            return Err(Error::new(
                format!("opening {}", self.path.display()),
                "the path was replaced by another FIFO between the check and the open",
            )
            .with_hint("someone else is using this path: choose another --path"));
        }
        Ok(fd)
    }

    fn open_error(&self, access: &str, errno: Errno) -> Error {
        let err = Error::sys(
            format!("opening {} for {access}", self.path.display()),
            errno,
        );
        match errno {
            // O_NOFOLLOW met a symbolic link that was put there after our lstat.
            Errno::ELOOP => err.with_hint("the path became a symbolic link: choose another --path"),
            Errno::EACCES => {
                err.with_hint("the FIFO's mode does not let you open it: choose another --path")
            }
            _ => err,
        }
    }
}

impl Drop for Fifo {
    /// C: `unlink(path)`, if we created the FIFO and the path still names it. A FIFO someone
    /// put there after ours was removed is left alone.
    fn drop(&mut self) {
        if !self.created {
            return;
        }
        let (program, shown) = (program::name(), self.path.display());
        match lstat(&self.path) {
            Ok(stat) if Identity::of(&stat) == self.identity => match unlink(&self.path) {
                Ok(()) => note(format_args!("{program}: removed the FIFO {shown}")),
                Err(Errno::ENOENT) => {}
                Err(errno) => note(format_args!(
                    "{program}: warning: could not remove the FIFO {shown}: {}",
                    ipc_common::error::describe_errno(errno)
                )),
            },
            Ok(_) => note(format_args!(
                "{program}: warning: {shown} is no longer the FIFO we created; left it alone"
            )),
            Err(Errno::ENOENT) => {} // someone removed it already
            Err(errno) => note(format_args!(
                "{program}: warning: could not check {shown} before removing it: {}",
                ipc_common::error::describe_errno(errno)
            )),
        }
        // Once our FIFO is gone (removed, or replaced by another file), so is its record.
        ipc_common::ownership::forget_fifo(&self.path);
    }
}

/// C: `mkfifo(path, mode)` with the umask cleared around it, so that the FIFO gets exactly
/// `--mode` (with the usual umask 022, `mkfifo(path, 0666)` would make a 0644 FIFO).
/// Our programs create no other files meanwhile, so changing the process-wide umask for the
/// duration of one call is safe.
fn mkfifo_exact(path: &Path, mode: Mode) -> std::result::Result<(), Errno> {
    let bits = nix::sys::stat::Mode::from_bits_truncate(mode.0);
    let saved = umask(nix::sys::stat::Mode::empty());
    let made = mkfifo(path, bits);
    umask(saved);
    made
}

fn mkfifo_error(path: &Path, errno: Errno) -> Error {
    let err = Error::sys(
        format!("creating the FIFO {} (mkfifo)", path.display()),
        errno,
    );
    match errno {
        Errno::ENOENT | Errno::ENOTDIR => err.with_hint("the directory of --path does not exist"),
        Errno::EACCES | Errno::EPERM | Errno::EROFS => {
            err.with_hint("you cannot create files there: choose a --path in a directory you can write, e.g. /tmp")
        }
        _ => err,
    }
}
