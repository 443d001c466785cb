//! Is a process still alive, and which processes hold a file open or mapped?
//!
//! The kernel records pids in IPC objects (the last msgsnd/msgrcv caller of a queue, the creator
//! and last attacher of a segment, the last semop caller of each semaphore), but it keeps those
//! numbers after the process has gone. So "orphaned" means: every recorded process is dead.
//! C: `kill(pid, 0)` answers "does it exist?"; /proc/PID/stat also tells a zombie (a dead
//! process not yet reaped by its parent, which can no longer use anything) from a live one.

use std::fs;
use std::path::Path;

use ipc_common::process::is_running;

/// What we know about a recorded pid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    /// Running (or stopped): it may still use the object.
    Alive,
    /// Gone, or a zombie.
    Dead,
}

/// C: `kill(pid, 0)`, plus /proc/PID/stat to count zombies as dead
/// ([`ipc_common::process::is_running`]).
pub fn liveness(pid: i32) -> Liveness {
    match u32::try_from(pid) {
        Ok(pid) if is_running(pid) => Liveness::Alive,
        _ => Liveness::Dead,
    }
}

/// The pids of live processes that have `path` open (a /proc/PID/fd link names it) or, when
/// `mapped` is set, mapped (a /proc/PID/maps line names it). Processes we may not inspect are
/// skipped.
pub fn users_of(path: &Path, mapped: bool) -> Vec<i32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    let wanted = path.to_string_lossy();
    let mut pids = Vec::new();
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        let dir = entry.path();
        let has_fd = fs::read_dir(dir.join("fd"))
            .into_iter()
            .flatten()
            .flatten()
            .any(|fd| fs::read_link(fd.path()).is_ok_and(|target| target == path));
        let has_map = mapped
            && fs::read_to_string(dir.join("maps")).is_ok_and(|maps| {
                maps.lines()
                    .any(|line| line.split_whitespace().nth(5) == Some(&*wanted))
            });
        if has_fd || has_map {
            pids.push(pid);
        }
    }
    pids
}

/// True when a Unix socket is bound at `path` (listed in /proc/net/unix): a live socket, since
/// the kernel drops the entry when the last descriptor of the socket is closed.
pub fn socket_is_bound(path: &Path) -> bool {
    let wanted = path.to_string_lossy();
    fs::read_to_string("/proc/net/unix").is_ok_and(|table| {
        table
            .lines()
            .skip(1)
            .any(|line| line.split_whitespace().nth(7) == Some(&*wanted))
    })
}
