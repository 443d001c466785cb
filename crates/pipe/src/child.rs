//! The receiving child of `pipe-sender` and `pipe-demo`: started on the pipe's read end,
//! always reaped (C: `fork` + `exec`, then `waitpid`), never left behind as a zombie.

use std::ffi::OsStr;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use ipc_common::{signals, trace, Error, Result};

/// A child process that is always reaped: `wait` collects its exit code; dropping the guard
/// without waiting interrupts the child (SIGINT, then SIGKILL after a second) and reaps it,
/// so no child outlives us and no zombie is left.
#[derive(Debug)]
pub struct ChildGuard {
    pid: Pid,
    name: String,
    reaped: bool,
}

impl ChildGuard {
    /// Guards an existing child (e.g. the result of [`sys::fork`]).
    pub fn new(pid: Pid, name: impl Into<String>) -> Self {
        ChildGuard {
            pid,
            name: name.into(),
            reaped: false,
        }
    }

    /// Starts `program` with `read_end` as its standard input (C: `dup2(fds[0], 0)` then
    /// `execv`), and closes our copy of the read end. Under `--trace` the child gets
    /// `--trace` too, so both ends' calls show on the shared stderr.
    pub fn spawn_reading(program: &OsStr, args: &[&str], read_end: OwnedFd) -> Result<Self> {
        let name = program.to_string_lossy().into_owned();
        let traced: &[&str] = if trace::enabled() { &["--trace"] } else { &[] };
        let child = Command::new(program)
            .args(args)
            .args(traced)
            .stdin(Stdio::from(read_end))
            .spawn()
            .map_err(|err| {
                Error::io(format!("starting {name}"), &err)
                    .with_hint("build the workspace first: make build")
            })?;
        Ok(ChildGuard::new(Pid::from_raw(child.id() as i32), name))
    }

    /// The child's process id.
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// Asks the child to stop (SIGINT), as Ctrl-C in its terminal would.
    pub fn interrupt(&self) {
        if !self.reaped {
            let _ = kill(self.pid, Signal::SIGINT);
        }
    }

    /// Waits for the child and turns its exit code into ours: 0 is success, anything else is
    /// its failure. (Our own Ctrl-C already makes us exit 130; a 130 here means only the
    /// child was stopped, which is its failure, not our interruption.)
    pub fn verdict(&mut self) -> Result<()> {
        match self.wait()? {
            0 => Ok(()),
            130 => Err(Error::new(
                self.name.clone(),
                "was stopped by a signal (exit code 130)",
            )),
            code => Err(Error::new(
                self.name.clone(),
                format!("reported a failure (exit code {code})"),
            )),
        }
    }

    /// C: `waitpid(pid, &status, 0)`. Returns the exit code (128+N when killed by signal N).
    /// On Ctrl-C it stops waiting and interrupts the child (reaped by `Drop`).
    pub fn wait(&mut self) -> Result<i32> {
        loop {
            signals::check()?;
            // WNOHANG + a short sleep: waitpid is restarted after ctrlc's SA_RESTART handler,
            // so a plain blocking waitpid would not notice Ctrl-C.
            match waitpid(self.pid, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) => std::thread::sleep(Duration::from_millis(2)),
                Ok(WaitStatus::Exited(_, code)) => {
                    self.reaped = true;
                    return Ok(code);
                }
                Ok(WaitStatus::Signaled(_, signal, _)) => {
                    self.reaped = true;
                    return Ok(128 + signal as i32);
                }
                Ok(_) => std::thread::sleep(Duration::from_millis(2)),
                Err(Errno::EINTR) => {}
                Err(errno) => return Err(Error::sys(format!("waiting for {}", self.name), errno)),
            }
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if self.reaped {
            return;
        }
        self.interrupt();
        let deadline = Instant::now() + Duration::from_secs(1);
        loop {
            match waitpid(self.pid, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Ok(WaitStatus::StillAlive) => {
                    let _ = kill(self.pid, Signal::SIGKILL);
                    let _ = waitpid(self.pid, None);
                    return;
                }
                Err(Errno::EINTR) => {}
                _ => return,
            }
        }
    }
}

/// Where `pipe-sender` finds `pipe-receiver`: beside its own executable, else on PATH.
pub fn sibling_program(name: &str) -> PathBuf {
    std::env::current_exe()
        .ok()
        .map(|exe| exe.with_file_name(name))
        .filter(|path| path.is_file())
        .unwrap_or_else(|| PathBuf::from(name))
}
