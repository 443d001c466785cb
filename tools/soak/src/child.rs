//! One program of a round, started as a real process and watched from outside.
//!
//! Like `ipc_testkit::Running`, but a soak harness must *count* a hang instead of panicking:
//! every wait here takes a deadline and says whether it was met. stdout and stderr are read by
//! two threads (so a chatty program never blocks on a full pipe); stderr lines also go through
//! a channel, so we can wait for a ready line. Dropping a `Proc` kills and reaps the process.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ipc_common::process::is_running;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// It called exit (or returned from main) with this code.
    Code(i32),
    /// A signal ended it (SIGKILL, or a signal it does not handle).
    Signal(i32),
}

impl Exit {
    fn from_status(status: ExitStatus) -> Exit {
        use std::os::unix::process::ExitStatusExt;
        match (status.code(), status.signal()) {
            (Some(code), _) => Exit::Code(code),
            (None, Some(signal)) => Exit::Signal(signal),
            (None, None) => Exit::Code(-1),
        }
    }
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exit::Code(code) => write!(f, "exit {code}"),
            Exit::Signal(signal) => match Signal::try_from(*signal) {
                Ok(sig) => write!(f, "killed by {sig}"),
                Err(_) => write!(f, "killed by signal {signal}"),
            },
        }
    }
}

/// What a finished process left behind.
#[derive(Debug, Clone)]
pub struct Finished {
    /// Which program (and which sender) it was, e.g. `fifo-sender#2`.
    pub name: String,
    /// Its pid (for the report).
    pub pid: Pid,
    /// How it ended.
    pub exit: Exit,
    /// Everything it printed on stdout.
    pub stdout: String,
    /// Everything it printed on stderr.
    pub stderr: String,
}

/// A running program under a guard.
#[derive(Debug)]
pub struct Proc {
    name: String,
    child: Child,
    exit: Option<Exit>,
    lines: Receiver<String>,
    seen: Vec<String>,
    stderr_thread: Option<JoinHandle<()>>,
    stdout_thread: Option<JoinHandle<String>>,
}

impl Proc {
    /// Starts `cmd` with stdin from /dev/null (no program may read a terminal) and its output
    /// captured.
    pub fn start(name: impl Into<String>, mut cmd: Command) -> Result<Proc, String> {
        let name = name.into();
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .map_err(|err| format!("cannot start {name} ({:?}): {err}", cmd.get_program()))?;
        let stdout = child.stdout.take();
        let stdout_thread = std::thread::spawn(move || {
            let mut text = Vec::new();
            if let Some(mut stdout) = stdout {
                let _ = stdout.read_to_end(&mut text);
            }
            String::from_utf8_lossy(&text).into_owned()
        });
        let stderr = child.stderr.take();
        let (tx, rx) = mpsc::channel();
        let stderr_thread = std::thread::spawn(move || {
            let Some(stderr) = stderr else { return };
            for line in BufReader::new(stderr).split(b'\n') {
                let Ok(line) = line else { break };
                if tx
                    .send(String::from_utf8_lossy(&line).into_owned())
                    .is_err()
                {
                    break;
                }
            }
        });
        Ok(Proc {
            name,
            child,
            exit: None,
            lines: rx,
            seen: Vec::new(),
            stderr_thread: Some(stderr_thread),
            stdout_thread: Some(stdout_thread),
        })
    }

    /// Its name, e.g. `msgq-receiver`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its pid.
    pub fn pid(&self) -> Pid {
        Pid::from_raw(self.child.id() as i32)
    }

    /// Waits until a stderr line contains `needle`; `None` if it did not come within `timeout`
    /// or the process closed stderr first.
    pub fn wait_stderr(&mut self, needle: &str, timeout: Duration) -> Option<String> {
        if let Some(line) = self.seen.iter().find(|l| l.contains(needle)) {
            return Some(line.clone());
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return Some(line);
                    }
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return None,
            }
        }
    }

    /// Everything it printed on stderr so far (the lines already read).
    pub fn stderr_so_far(&mut self) -> String {
        self.seen.extend(self.lines.try_iter());
        self.seen.join("\n")
    }

    /// How it ended, if it has (reaps it).
    pub fn exited(&mut self) -> Option<Exit> {
        if self.exit.is_none() {
            if let Ok(Some(status)) = self.child.try_wait() {
                self.exit = Some(Exit::from_status(status));
            }
        }
        self.exit
    }

    /// Sends `signal` if the process is still running; true when it was sent.
    pub fn signal(&mut self, signal: Signal) -> bool {
        self.exited().is_none() && kill(self.pid(), signal).is_ok()
    }

    /// Waits for the process to end until `deadline`; true when it did.
    pub fn wait_until(&mut self, deadline: Instant) -> bool {
        loop {
            if self.exited().is_some() {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Kills (SIGKILL) and reaps the process if it is still running.
    pub fn kill_and_reap(&mut self) {
        if self.exited().is_none() {
            let _ = self.child.kill();
            if let Ok(status) = self.child.wait() {
                self.exit = Some(Exit::from_status(status));
            }
        }
    }

    /// Kills it if needed, then returns everything it printed and how it ended.
    pub fn finish(mut self) -> Finished {
        self.kill_and_reap();
        if let Some(thread) = self.stderr_thread.take() {
            let _ = thread.join();
        }
        self.seen.extend(self.lines.try_iter());
        let stdout = self
            .stdout_thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default();
        Finished {
            name: self.name.clone(),
            pid: self.pid(),
            exit: self.exit.unwrap_or(Exit::Code(-1)),
            stdout,
            stderr: self.seen.join("\n"),
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill_and_reap();
    }
}

/// True while a process with this pid exists and is not a zombie
/// ([`ipc_common::process::is_running`]).
pub fn alive(pid: Pid) -> bool {
    u32::try_from(pid.as_raw()).is_ok_and(is_running)
}

/// Reaps `pid` if it is a zombie child of ours (we are a subreaper: orphans of the programs we
/// started, such as pipe-sender's pipe-receiver, are re-parented to us).
pub fn reap(pid: Pid) {
    use nix::sys::wait::{waitpid, WaitPidFlag};
    let _ = waitpid(pid, Some(WaitPidFlag::WNOHANG));
}
