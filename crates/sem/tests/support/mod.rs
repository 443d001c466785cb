//! What the sem-mutex tests share: start an instance (ours, the textbook's sem1 or its Rust
//! port) with its stdout appended to a file both instances write to, and read back the order
//! in which they printed.

#![allow(dead_code)] // each test file uses its own part

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ipc_testkit::{Running, WATCHDOG};

/// `cmd` with its stdout appended to `out` (O_APPEND: each write lands whole, in the order
/// made), so two programs given the same `out` share one stdout, as in one terminal.
pub fn appending(cmd: &Command, out: &Path) -> Command {
    let mut sh = Command::new("sh");
    sh.arg("-c")
        .arg(r#"out=$1; shift; exec "$@" >>"$out""#)
        .arg("sh")
        .arg(out)
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .stdin(Stdio::null());
    for (name, value) in cmd.get_envs() {
        match value {
            Some(value) => sh.env(name, value),
            None => sh.env_remove(name),
        };
    }
    sh
}

/// Starts sem-mutex with `--key key` and its stdout appended to `out` (shared by both
/// instances, so the file shows the order in which they printed) and its stderr captured by
/// `Running`.
pub fn mutex(key: i32, out: &Path, args: &[&str]) -> Running {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sem-mutex"));
    cmd.arg("--key").arg(key.to_string()).args(args);
    Running::start(appending(&cmd, out), None)
}

/// The characters the instances printed, in order, without whitespace and without sem1's
/// `<pid> - finished` lines.
pub fn printed(out: &Path) -> String {
    std::fs::read_to_string(out)
        .unwrap_or_default()
        .replace("finished", "")
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_ascii_digit() && *c != '-')
        .collect()
}

/// How many `<pid> - finished` lines `out` holds.
pub fn finished_lines(out: &Path) -> usize {
    std::fs::read_to_string(out)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.ends_with(" - finished"))
        .count()
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

/// Checks that `text` (from [`printed`]) is `rounds` pairs of `a` and `rounds` pairs of `b`,
/// never interleaved: each pair is one entry into the critical section and the exit from it.
#[track_caller]
pub fn assert_pairs(text: &str, a: char, b: char, rounds: usize) {
    assert_eq!(text.matches(a).count(), 2 * rounds, "{text}");
    assert_eq!(text.matches(b).count(), 2 * rounds, "{text}");
    assert_eq!(text.len(), 4 * rounds, "only {a} and {b}: {text}");
    let chars: Vec<char> = text.chars().collect();
    for (i, pair) in chars.chunks(2).enumerate() {
        assert_eq!(pair[0], pair[1], "pair {i} interleaves: {text}");
    }
}
