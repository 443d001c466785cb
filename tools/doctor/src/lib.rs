//! ipc-doctor: what the kernel allows, what exists, and what our programs left behind.
//!
//! Like `ipcs -l`, `ipcs` and `ipcrm` together, in the vocabulary of the tutorial:
//!
//! | step | C / shell | Rust (this crate) |
//! |---|---|---|
//! | limits | `ipcs -l`, `cat /proc/sys/kernel/msgmax` | [`limits::read_all`] |
//! | list System V objects | `ipcs` (reads /proc/sysvipc/*) | [`sysv::list`] |
//! | last semop pid | `semctl(id, n, GETPID)` | [`sys::semctl_getpid`] |
//! | is the creator alive? | `kill(pid, 0)` | [`process::liveness`] |
//! | list POSIX objects | `ls -l /dev/mqueue /dev/shm` | [`files::list_posix`] |
//! | remove | `msgctl/semctl/shmctl(id, IPC_RMID)`, `mq_unlink`, `shm_unlink`, `unlink` | [`clean`] |
//!
//! What `--clean` removes, and why only that, is in [`policy`]; what proves an object is ours
//! (the records our programs write when they create one) is in [`ours`].

#![deny(unsafe_code)]

pub mod files;
pub mod limits;
pub mod ours;
pub mod policy;
pub mod process;
pub mod report;
pub mod sysv;

#[allow(unsafe_code)]
mod sys;

use std::path::PathBuf;

use nix::errno::Errno;

use crate::files::FileObject;
use crate::policy::Verdict;
use crate::sysv::{Kind, SysvObject};

/// Which objects to look at: everything when all lists are empty, else only those named.
/// (The same shape names the objects of `--remove`.)
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub keys: Vec<i32>,
    pub paths: Vec<PathBuf>,
    pub names: Vec<String>,
}

impl Filter {
    /// True when nothing is named: every object is selected.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty() && self.paths.is_empty() && self.names.is_empty()
    }

    /// True when the System V object is selected.
    pub fn takes_sysv(&self, object: &SysvObject) -> bool {
        self.is_empty() || self.keys.contains(&object.key)
    }

    /// True when the file-system object is selected (by path, or by POSIX name).
    pub fn takes_file(&self, object: &FileObject) -> bool {
        self.is_empty() || self.paths.contains(&object.path) || self.names.contains(&object.name)
    }

    /// True when the object a record names is selected.
    pub fn takes_record(&self, record: &ipc_common::ownership::Record) -> bool {
        use ipc_common::ownership::Kind as RecordKind;
        self.is_empty()
            || match record.kind {
                RecordKind::Sysv(_) => self.keys.iter().any(|k| k.to_string() == record.name),
                RecordKind::PosixQueue | RecordKind::PosixSegment => {
                    self.names.contains(&record.name)
                }
                RecordKind::Fifo | RecordKind::Socket => {
                    self.paths.contains(&PathBuf::from(&record.name))
                }
            }
    }

    /// Adds what one `--remove` argument names: a key (`1234`, `0x4d2`), a POSIX name
    /// (`/ipc-pairs`: one slash) or a path (`/tmp/my_fifo`: more than one).
    pub fn add_target(&mut self, target: &str) -> Result<(), String> {
        match target.strip_prefix('/') {
            Some(rest) if rest.contains('/') => self.paths.push(PathBuf::from(target)),
            Some(rest) if !rest.is_empty() => self.names.push(target.to_string()),
            Some(_) => return Err("/ alone names nothing".into()),
            None => {
                let key: ipc_common::cli::Key = target.parse()?;
                self.keys.push(key.0);
            }
        }
        Ok(())
    }
}

/// One removal, as reported on stdout.
#[derive(Debug)]
pub struct Removal {
    /// What was removed, e.g. `message queue key 1234 (0x000004d2) id 3`.
    pub what: String,
    /// Extra words, e.g. `dropped 4 message(s), 22 bytes`.
    pub detail: String,
    /// Ok, or why the kernel refused.
    pub result: Result<(), Errno>,
}

/// Removes a System V object that `judge` still says to remove, checking again just before:
/// the object is looked up anew by id, and must still have the same key and verdict (ids are
/// reused, and a process may have started using it since the report was made).
pub fn remove_sysv(object: &SysvObject, judge: impl Fn(&SysvObject) -> Verdict) -> Option<Removal> {
    let now = sysv::list(object.kind).ok()?;
    let current = now
        .iter()
        .find(|o| o.id == object.id && o.key == object.key)?;
    if judge(current) != Verdict::Remove {
        return None;
    }
    let what = format!(
        "{} key {} id {}",
        current.kind,
        current.key_text(),
        current.id
    );
    let detail = match current.kind {
        Kind::Queue => format!(
            "dropped {} message(s), {} bytes",
            current.count, current.bytes
        ),
        Kind::Semaphores => format!("{} semaphore(s)", current.count),
        Kind::Segment => format!("{} bytes", current.bytes),
    };
    Some(Removal {
        what,
        detail,
        result: sysv::remove(current.kind, current.id),
    })
}

/// Removes a file-system object (C: `mq_unlink`, `shm_unlink` and `unlink` are all an unlink
/// of its file), after checking again that it is still the same kind of file.
pub fn remove_file(object: &FileObject) -> Option<Removal> {
    use std::os::unix::fs::FileTypeExt;
    let meta = std::fs::symlink_metadata(&object.path).ok()?;
    let still_same = match object.kind {
        files::FileKind::Fifo => meta.file_type().is_fifo(),
        files::FileKind::Socket => meta.file_type().is_socket(),
        files::FileKind::PosixQueue | files::FileKind::PosixSegment => meta.file_type().is_file(),
        files::FileKind::Other => false,
    };
    if !still_same {
        return None;
    }
    let result = std::fs::remove_file(&object.path)
        .map_err(|err| Errno::from_raw(err.raw_os_error().unwrap_or(0)));
    let detail = match object.kind {
        files::FileKind::PosixQueue => format!("dropped {} bytes of messages", object.bytes),
        files::FileKind::PosixSegment => format!("{} bytes", object.bytes),
        _ => String::new(),
    };
    Some(Removal {
        what: format!("{} {}", object.kind, object.name),
        detail,
        result,
    })
}
