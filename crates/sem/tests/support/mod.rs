//! What the sem-mutex tests share: start an instance with its stdout appended to a file both
//! instances write to, and read back the order in which they printed.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ipc_testkit::{Running, WATCHDOG};

/// Starts sem-mutex with its stdout appended to `out` (shared by both instances, so the file
/// shows the order in which they printed) and its stderr captured by `Running`.
pub fn mutex(key: i32, out: &Path, args: &[&str]) -> Running {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(r#"out=$1; shift; exec "$@" >>"$out""#)
        .arg("sh")
        .arg(out)
        .arg(env!("CARGO_BIN_EXE_sem-mutex"))
        .arg("--key")
        .arg(key.to_string())
        .args(args)
        .stdin(Stdio::null());
    Running::start(cmd, None)
}

/// The characters both instances printed, in order.
pub fn printed(out: &Path) -> String {
    std::fs::read_to_string(out)
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// Waits until `out` holds `needle`.
pub fn wait_for_output(out: &Path, needle: &str) {
    let deadline = Instant::now() + WATCHDOG;
    while !printed(out).contains(needle) {
        assert!(
            Instant::now() < deadline,
            "{needle:?} never appeared in {}",
            out.display()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}
