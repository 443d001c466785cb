//! What a round may leave behind: a System V object with its key (read from /proc/sysvipc),
//! its /tmp path, its POSIX queue or its POSIX shared memory; how to find each and remove it.

use std::path::Path;
use std::process::Command;

use ipc_common::sysvipc::{self, Kind};

use crate::names::Names;

/// One object or file of a round that still exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Leftover {
    /// A System V object of this kind with the round's key.
    SysV(Kind),
    /// The round's FIFO path.
    Path,
    /// The round's POSIX queue.
    Posix,
    /// The round's POSIX shared-memory object (a ring): /dev/shm/NAME.
    PosixShm,
}

impl Leftover {
    /// How the report names it.
    pub fn describe(&self, names: &Names) -> String {
        match self {
            Leftover::SysV(kind) => format!("System V {} key {}", kind.file(), names.key_arg()),
            Leftover::Path => format!("file {}", names.path.display()),
            Leftover::Posix => format!("POSIX queue {}", names.posix),
            Leftover::PosixShm => format!("POSIX shared memory {}", names.posix),
        }
    }
}

/// True when the POSIX queue `name` exists. Where the mqueue file system is mounted it is a
/// file in /dev/mqueue; elsewhere we ask the kernel with `mq_open` (no O_CREAT).
pub fn posix_queue_exists(name: &str) -> bool {
    use nix::mqueue::{mq_close, mq_open, MQ_OFlag};
    use nix::sys::stat::Mode;
    if Path::new("/dev/mqueue").join(&name[1..]).exists() {
        return true;
    }
    match mq_open(name, MQ_OFlag::O_RDONLY, Mode::empty(), None) {
        Ok(mqd) => {
            let _ = mq_close(mqd);
            true
        }
        Err(errno) => errno != nix::errno::Errno::ENOENT,
    }
}

/// True when the POSIX shared-memory object `name` exists: shm_open(3) makes `/NAME` the
/// file /dev/shm/NAME (a tmpfs), so that is where to look.
pub fn posix_shm_exists(name: &str) -> bool {
    let file = name.strip_prefix('/').unwrap_or(name);
    std::fs::symlink_metadata(Path::new("/dev/shm").join(file)).is_ok()
}

/// Everything of `names` that exists now.
pub fn leftovers(names: &Names) -> Vec<Leftover> {
    let mut found: Vec<Leftover> = Kind::ALL
        .into_iter()
        .filter(|&kind| sysvipc::find(kind, names.key).is_some())
        .map(Leftover::SysV)
        .collect();
    if std::fs::symlink_metadata(&names.path).is_ok() {
        found.push(Leftover::Path);
    }
    if posix_queue_exists(&names.posix) {
        found.push(Leftover::Posix);
    }
    if posix_shm_exists(&names.posix) {
        found.push(Leftover::PosixShm);
    }
    found
}

/// Removes what is left (after a SIGKILL nobody could clean up after). Uses ipcrm for System
/// V objects, `unlink` for the path, `mq_unlink` for the queue, `shm_unlink` for the ring.
/// Returns what it could not remove.
pub fn remove(names: &Names, what: &[Leftover]) -> Vec<String> {
    let mut failed = Vec::new();
    for item in what {
        let ok = match item {
            Leftover::SysV(kind) => {
                let flag = match kind {
                    Kind::Queue => "-Q",
                    Kind::Semaphores => "-S",
                    Kind::Segment => "-M",
                };
                Command::new("ipcrm")
                    .args([flag, &names.key_arg()])
                    .output()
                    .map(|out| out.status.success())
                    .unwrap_or(false)
            }
            Leftover::Path => std::fs::remove_file(&names.path).is_ok(),
            Leftover::Posix => nix::mqueue::mq_unlink(names.posix.as_str()).is_ok(),
            // C: shm_unlink("/NAME"): the name goes now, the memory with its last mapping.
            Leftover::PosixShm => nix::sys::mman::shm_unlink(names.posix.as_str()).is_ok(),
        };
        if !ok {
            failed.push(item.describe(names));
        }
    }
    failed
}
