//! Which objects our programs made: the records of [`ipc_common::ownership`] (one file per
//! object each program wrote when it created it), matched against the objects that exist.
//!
//! A record proves an object is ours only while it still names that very object:
//! - System V: same kind, same id, same key, and the creation time the kernel shows now
//!   (`ctime` in /proc/sysvipc) equal to the one recorded just after creating it. A semaphore
//!   set's ctime also moves on `SETVAL`/`SETALL`, which our programs do after creating it, so
//!   for a set a later ctime is accepted (an earlier one is not).
//! - POSIX objects, FIFOs, sockets: same name or path, same device and inode numbers.
//!
//! Anything else is a stale record (the object was removed and the id or name reused): the
//! object is not ours, and `--clean` drops the record.

use std::path::{Path, PathBuf};

use ipc_common::ownership::{self, Found, Kind as RecordKind, Record};

use crate::files::{FileKind, FileObject};
use crate::sysv::{Kind, SysvObject};

/// What the records say about one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ownership {
    /// No record names it: our programs did not make it (or could not record it).
    NotOurs,
    /// A record names it and still matches: one of our programs made it.
    Ours(Record),
    /// A record names its id or name, but another object is there now: not ours.
    Stale(Record, String),
}

/// The records of this user, loaded once.
#[derive(Debug, Default)]
pub struct Records {
    /// The record directory.
    pub dir: PathBuf,
    /// Every record file found there.
    pub found: Vec<Found>,
    /// Why the directory was refused (then there are no records: nothing is ours).
    pub refused: Option<String>,
}

impl Records {
    /// Reads the record directory (see [`ownership::read_all`]).
    pub fn load() -> Records {
        let dir = ownership::directory();
        match ownership::read_all() {
            Ok(found) => Records {
                dir,
                found,
                refused: None,
            },
            Err(why) => Records {
                dir,
                found: Vec::new(),
                refused: Some(why),
            },
        }
    }

    /// The readable records, with their files.
    pub fn records(&self) -> impl Iterator<Item = (&Path, &Record)> {
        self.found
            .iter()
            .filter_map(|f| f.record.as_ref().ok().map(|r| (f.path.as_path(), r)))
    }

    /// The FIFO and socket paths the records name (to list them wherever they are).
    pub fn paths(&self) -> Vec<PathBuf> {
        self.records()
            .filter(|(_, r)| matches!(r.kind, RecordKind::Fifo | RecordKind::Socket))
            .map(|(_, r)| PathBuf::from(&r.name))
            .collect()
    }

    /// The record file that names System V object `id` of `kind`, if any.
    pub fn sysv_file(&self, kind: Kind, id: i32) -> Option<&Path> {
        self.records()
            .find(|(_, r)| r.kind == RecordKind::Sysv(kind) && r.id == i64::from(id))
            .map(|(path, _)| path)
    }

    /// The record file that names the file-system object `name` of `kind`, if any.
    pub fn file_file(&self, kind: FileKind, name: &str) -> Option<&Path> {
        let kind = record_kind(kind)?;
        self.records()
            .find(|(_, r)| r.kind == kind && r.name == name)
            .map(|(path, _)| path)
    }

    /// Is this System V object ours?
    pub fn of_sysv(&self, object: &SysvObject) -> Ownership {
        let Some((_, record)) = self
            .records()
            .find(|(_, r)| r.kind == RecordKind::Sysv(object.kind) && r.id == i64::from(object.id))
        else {
            return Ownership::NotOurs;
        };
        let record = record.clone();
        if record.name != object.key.to_string() {
            let why = format!("it was made with key {}", record.name);
            return Ownership::Stale(record, why);
        }
        let same_time = match object.kind {
            Kind::Semaphores => object.ctime >= record.stamp,
            Kind::Queue | Kind::Segment => object.ctime == record.stamp,
        };
        if !same_time {
            let why = format!(
                "it was created at {} (seconds since 1970), this one at {}",
                record.stamp, object.ctime
            );
            return Ownership::Stale(record, why);
        }
        Ownership::Ours(record)
    }

    /// Is this file-system object ours?
    pub fn of_file(&self, object: &FileObject) -> Ownership {
        let Some(kind) = record_kind(object.kind) else {
            return Ownership::NotOurs;
        };
        let Some((_, record)) = self
            .records()
            .find(|(_, r)| r.kind == kind && r.name == object.name)
        else {
            return Ownership::NotOurs;
        };
        let record = record.clone();
        if record.id != object.ino as i64 || record.stamp != object.dev as i64 {
            let why = "another file has that name now (device and inode numbers differ)".into();
            return Ownership::Stale(record, why);
        }
        Ownership::Ours(record)
    }
}

/// The record kind of a file-system object (None: not an IPC object).
fn record_kind(kind: FileKind) -> Option<RecordKind> {
    Some(match kind {
        FileKind::PosixQueue => RecordKind::PosixQueue,
        FileKind::PosixSegment => RecordKind::PosixSegment,
        FileKind::Fifo => RecordKind::Fifo,
        FileKind::Socket => RecordKind::Socket,
        FileKind::Other => return None,
    })
}

/// `made by PROGRAM pid N (alive|dead)`, for the report.
pub fn creator_text(record: &Record) -> String {
    let state = if record.creator_alive() {
        "alive"
    } else {
        "dead"
    };
    format!("made by {} pid {} ({state})", record.program, record.pid)
}
