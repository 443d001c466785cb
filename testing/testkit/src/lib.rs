//! Test support for ipc-pairs: start the real binaries as separate processes and check what
//! crossed, without ever hanging a test or leaking a process or a kernel object.
//!
//! - [`Running`] owns a child process: its stdout and stderr are collected by two threads, you
//!   can wait for a line on stderr (a ready line) with a timeout, send it a signal, and
//!   [`Running::finish`] waits with a watchdog. Dropping it kills and reaps the child.
//! - [`unique_key`] and [`unique_path`] give each test its own System V key and /tmp path.
//! - [`sysv_key_exists`] and [`assert_no_sysv_objects`] read /proc/sysvipc (through
//!   `ipc_common::sysvipc`) so a test can check it left nothing behind.
//! - [`c_program`] builds c/ once (`make -C c`) and finds one of the tutorial's C programs.
//! - [`textbook`] builds the textbook's C programs (c/textbook) and starts them, and the Rust
//!   examples, on the test's own key and port.
//! - [`tmux::Tmux`] runs scripts/side-by-side.sh headless in a private tmux server.

pub mod textbook;
pub mod tmux;

pub use textbook::{example, remapped, remapped_fifo, textbook_program};

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::OnceLock;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ipc_common::process::is_alive;
use ipc_common::sysvipc::{self, Kind};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// How long any single step of a test may take before the test fails instead of hanging.
pub const WATCHDOG: Duration = Duration::from_secs(60);

/// What a finished child left: exit code (None if killed by a signal), stdout, stderr.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Finished {
    /// The stdout lines.
    pub fn lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }

    /// The last stdout line (the receivers' summary).
    pub fn last_line(&self) -> &str {
        self.stdout.lines().last().unwrap_or("")
    }

    /// Panics with both streams unless the exit code is `code`.
    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "expected exit {code}, got {:?}\n--- stdout:\n{}\n--- stderr:\n{}",
            self.status,
            self.stdout,
            self.stderr
        );
        self
    }

    /// Panics unless `program` was stopped by Ctrl-C or SIGTERM the way every program of the
    /// workspace stops: exit 130, no panic, and its `PROGRAM: interrupted: stopped cleanly` line.
    #[track_caller]
    pub fn assert_stopped_cleanly(&self, program: &str) -> &Self {
        self.assert_code(130).assert_no_panic();
        let line = format!("{program}: interrupted: stopped cleanly");
        assert!(self.stderr.contains(&line), "{}", self.stderr);
        self
    }

    /// Panics unless the last stdout line is the summary of a receiver that got nothing.
    #[track_caller]
    pub fn assert_nothing_received(&self) -> &Self {
        assert_eq!(
            self.last_line(),
            "summary: received=0 lost=0 duplicated=0 reordered=0 corrupt=0"
        );
        self
    }

    /// Panics unless stderr holds no panic or backtrace.
    #[track_caller]
    pub fn assert_no_panic(&self) -> &Self {
        assert!(
            !self.stderr.contains("panicked") && !self.stderr.contains("RUST_BACKTRACE"),
            "the program panicked:\n{}",
            self.stderr
        );
        self
    }
}

/// A child process under a guard: killed (SIGKILL) and reaped when dropped.
#[derive(Debug)]
pub struct Running {
    child: Child,
    name: String,
    stderr_lines: Receiver<String>,
    stderr_seen: Vec<String>,
    stderr_thread: Option<JoinHandle<()>>,
    stdout_thread: Option<JoinHandle<String>>,
}

impl Running {
    /// Starts `cmd` with stdout and stderr captured. `stdin` is written by a thread and then
    /// closed (None: stdin stays as `cmd` set it; set `Stdio::null()` rather than inherit a tty).
    pub fn start(mut cmd: Command, stdin: Option<Vec<u8>>) -> Running {
        let name = format!("{:?}", cmd.get_program());
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        if stdin.is_some() {
            cmd.stdin(Stdio::piped());
        }
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {name}: {err}"));
        // Only take the pipe when we feed it: a stdin the caller piped (to hold it open and
        // silent) must stay with the child handle, or dropping it would close it.
        if let Some(bytes) = stdin {
            if let Some(mut pipe) = child.stdin.take() {
                std::thread::spawn(move || {
                    let _ = pipe.write_all(&bytes);
                });
            }
        }
        let mut stdout = child.stdout.take().expect("stdout is piped");
        let stdout_thread = std::thread::spawn(move || {
            let mut text = Vec::new();
            let _ = stdout.read_to_end(&mut text);
            String::from_utf8_lossy(&text).into_owned()
        });
        let stderr = child.stderr.take().expect("stderr is piped");
        let (tx, rx) = mpsc::channel();
        let stderr_thread = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                match line {
                    Ok(line) => {
                        if tx.send(line).is_err() {
                            break;
                        }
                    }
                    Err(_) => break,
                }
            }
        });
        Running {
            child,
            name,
            stderr_lines: rx,
            stderr_seen: Vec::new(),
            stderr_thread: Some(stderr_thread),
            stdout_thread: Some(stdout_thread),
        }
    }

    /// The child's pid.
    pub fn pid(&self) -> Pid {
        Pid::from_raw(self.child.id() as i32)
    }

    /// Waits until a stderr line contains `needle` (a ready line) and returns that line.
    #[track_caller]
    pub fn wait_for_stderr(&mut self, needle: &str, timeout: Duration) -> String {
        if let Some(line) = self.stderr_seen.iter().find(|l| l.contains(needle)) {
            return line.clone();
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr_lines.recv_timeout(left) {
                Ok(line) => {
                    self.stderr_seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout) => panic!(
                    "{} did not print {needle:?} on stderr within {timeout:?}; it printed:\n{}",
                    self.name,
                    self.stderr_seen.join("\n")
                ),
                Err(RecvTimeoutError::Disconnected) => panic!(
                    "{} closed stderr without printing {needle:?}; it printed:\n{}",
                    self.name,
                    self.stderr_seen.join("\n")
                ),
            }
        }
    }

    /// Sends `signal` to the child.
    pub fn signal(&self, signal: Signal) {
        let _ = kill(self.pid(), signal);
    }

    /// Waits for the child to exit within `timeout` (else kills it and panics), then returns
    /// its exit status and everything it printed.
    #[track_caller]
    pub fn finish(mut self, timeout: Duration) -> Finished {
        let deadline = Instant::now() + timeout;
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5))
                }
                _ => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    let rest = self.collect_stderr();
                    panic!(
                        "{} did not exit within {timeout:?}; stderr:\n{rest}",
                        self.name
                    );
                }
            }
        };
        let stderr = self.collect_stderr();
        let stdout = self
            .stdout_thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default();
        Finished {
            code: status.code(),
            status,
            stdout,
            stderr,
        }
    }

    fn collect_stderr(&mut self) -> String {
        if let Some(thread) = self.stderr_thread.take() {
            let _ = thread.join();
        }
        self.stderr_seen.extend(self.stderr_lines.try_iter());
        let mut text = self.stderr_seen.join("\n");
        text.push('\n');
        text
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs `cmd` to completion with `stdin` as its input, under the watchdog.
pub fn run(cmd: Command, stdin: &[u8]) -> Finished {
    Running::start(cmd, Some(stdin.to_vec())).finish(WATCHDOG)
}

/// A System V key no other test (or test process) uses: the pid in the high bits, a counter low.
pub fn unique_key() -> i32 {
    static NEXT: AtomicU32 = AtomicU32::new(1);
    let counter = NEXT.fetch_add(1, Ordering::Relaxed);
    // 0x5xxxxxxx: clear of the tutorial's 1234 and of small keys people use by hand.
    (0x5000_0000 | ((std::process::id() & 0xffff) << 12) | (counter & 0xfff)) as i32
}

/// A short, unique path under /tmp (FIFOs, Unix sockets: sun_path holds only 108 bytes).
/// Nothing is created there.
pub fn unique_path(tag: &str) -> PathBuf {
    static NEXT: AtomicU32 = AtomicU32::new(1);
    let counter = NEXT.fetch_add(1, Ordering::Relaxed);
    PathBuf::from(format!("/tmp/ipt-{tag}-{}-{counter}", std::process::id()))
}

/// A POSIX shared-memory name of this test alone (`/ipt-TAG-PID-N`), and the file it shows up
/// as in /dev/shm.
pub fn unique_shm_name(tag: &str) -> (String, PathBuf) {
    static NEXT: AtomicU32 = AtomicU32::new(1);
    let counter = NEXT.fetch_add(1, Ordering::Relaxed);
    let file = format!("ipt-{tag}-{}-{counter}", std::process::id());
    (
        format!("/{file}"),
        PathBuf::from(format!("/dev/shm/{file}")),
    )
}

/// True when a System V object of this kind (`"msg"`, `"sem"` or `"shm"`: its
/// /proc/sysvipc table) exists with `key`.
pub fn sysv_key_exists(kind: &str, key: i32) -> bool {
    Kind::ALL
        .into_iter()
        .filter(|k| k.file() == kind)
        .any(|k| sysvipc::find(k, key).is_some())
}

/// Panics if any System V object (queue, semaphore set, segment) with `key` is left.
#[track_caller]
pub fn assert_no_sysv_objects(key: i32) {
    for kind in Kind::ALL {
        assert!(
            sysvipc::find(kind, key).is_none(),
            "a System V {kind} with key {key} (0x{:08x}) was left behind",
            key as u32
        );
    }
}

/// Panics if anything exists at `path` (a FIFO or socket the programs should have removed).
#[track_caller]
pub fn assert_gone(path: &Path) {
    assert!(
        std::fs::symlink_metadata(path).is_err(),
        "{} was left behind",
        path.display()
    );
}

/// The C programs of c/, built once per test run with `make -C c`; `None` (and a note) when
/// there is no C compiler, so that the test is skipped rather than failed on such a machine.
pub fn c_program(name: &str) -> Option<PathBuf> {
    static BUILT: OnceLock<bool> = OnceLock::new();
    let c_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../c");
    let built = *BUILT.get_or_init(|| {
        if !has_c_compiler() {
            return false;
        }
        let out = Command::new("make")
            .arg("-s")
            .arg("-C")
            .arg(&c_dir)
            .stdin(Stdio::null())
            .output()
            .expect("make runs");
        assert!(
            out.status.success(),
            "make -C c failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        true
    });
    if !built {
        eprintln!("skipped: no C compiler (cc) to build c/");
        return None;
    }
    Some(c_dir.join("build").join(name))
}

/// True when `cc --version` runs.
fn has_c_compiler() -> bool {
    Command::new("cc")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// True while a process with this pid exists (zombies included).
pub fn process_exists(pid: Pid) -> bool {
    u32::try_from(pid.as_raw()).is_ok_and(is_alive)
}
