//! The soak suite: proves the contract's promises under stress ("nothing leaks, nothing is
//! lost"), with the real programs as separate processes.
//!
//! - [`plan`]: what a round does (mechanism, senders, sizes, fault), drawn from a seed;
//! - [`round`]: runs one round (start, supervise, check) and checks processes, leftovers,
//!   summaries and counts;
//! - [`mechanism`]: what the harness knows of each mechanism (sizes, ready line, dead peers);
//! - [`command`]: the command lines of each mechanism's programs;
//! - [`names`]: the key, path and POSIX name of one round;
//! - [`limits`]: the kernel's message limits and the largest payload that fits;
//! - [`leftover`]: what a round may leave behind, found and removed;
//! - [`child`]: a program under a guard, waited for with deadlines (a hang is counted);
//! - [`report`]: the totals and the closing table;
//! - [`rng`]: the seeded generator that makes every round replayable;
//! - [`summary`]: reading `summary:` lines back;
//! - [`hostile`]: hostile inputs and the verdict the decoder gives each;
//! - [`raw`]: raw bytes into a System V queue, for the hostile-input test.
//!
//! The binary is `ipc-soak` (`make soak`); the hostile-input, other-user and load tests are
//! in tests/. All `unsafe` is in the private `sys` module (msgget/msgsnd/msgctl for [`raw`]).

#![deny(unsafe_code)]

#[allow(unsafe_code)]
mod sys;

pub mod child;
pub mod command;
pub mod hostile;
pub mod leftover;
pub mod limits;
pub mod mechanism;
pub mod names;
pub mod plan;
pub mod raw;
pub mod report;
pub mod rng;
pub mod round;
pub mod summary;

use std::path::PathBuf;

/// The directory of the workspace's programs: `IPC_BIN` if set (the Makefile sets it), else
/// the directory of the running executable, or its parent when it is a test in `deps/`.
pub fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("IPC_BIN") {
        return PathBuf::from(dir);
    }
    let exe = std::env::current_exe().unwrap_or_default();
    let dir = exe.parent().map(PathBuf::from).unwrap_or_default();
    if dir.ends_with("deps") {
        dir.parent().map(PathBuf::from).unwrap_or(dir)
    } else {
        dir
    }
}

/// The programs of `names` that are missing from `dir` (to say what to build).
pub fn missing_programs(dir: &std::path::Path, names: &[&str]) -> Vec<String> {
    names
        .iter()
        .filter(|name| !dir.join(name).is_file())
        .map(|name| name.to_string())
        .collect()
}
