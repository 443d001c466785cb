//! The IPC objects that live in file systems: POSIX message queues (/dev/mqueue), POSIX shared
//! memory (/dev/shm), and the FIFOs and Unix sockets our programs make in /tmp.
//!
//! POSIX objects have names like `/ipc-pairs`; Linux shows each as a file in a special file
//! system, so `ls`, `stat` and `rm` work on them (C: `mq_unlink("/ipc-pairs")` is
//! `unlink("/dev/mqueue/ipc-pairs")`). The kernel records no creator pid for them, so "in use"
//! here means: a live process has it open (/proc/PID/fd) or mapped (/proc/PID/maps), or, for a
//! socket, it is still bound.

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use crate::process::{socket_is_bound, users_of};

/// Where Linux shows POSIX message queues (when mounted).
pub const MQUEUE_DIR: &str = "/dev/mqueue";
/// Where Linux shows POSIX shared memory.
pub const SHM_DIR: &str = "/dev/shm";
/// The tutorial's FIFO.
pub const DEFAULT_FIFO: &str = "/tmp/my_fifo";
/// The prefix of every test path (ipc_testkit::unique_path).
pub const TEST_PATH_PREFIX: &str = "/tmp/ipt-";
/// The prefix of ipc-bench's FIFOs and sockets.
pub const BENCH_PATH_PREFIX: &str = "/tmp/ipc-pairs-bench-";

/// What a file-system IPC object is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    PosixQueue,
    PosixSegment,
    Fifo,
    Socket,
    /// A file at one of our paths that is neither a FIFO nor a socket (never removed).
    Other,
}

impl std::fmt::Display for FileKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FileKind::PosixQueue => "POSIX message queue",
            FileKind::PosixSegment => "POSIX shared memory",
            FileKind::Fifo => "FIFO",
            FileKind::Socket => "Unix socket",
            FileKind::Other => "not a FIFO or socket",
        })
    }
}

/// One object found in a file system.
#[derive(Debug, Clone)]
pub struct FileObject {
    pub kind: FileKind,
    /// The file (e.g. /dev/mqueue/ipc-pairs or /tmp/my_fifo).
    pub path: PathBuf,
    /// The name programs use: `/ipc-pairs` for POSIX objects, the path for the others.
    pub name: String,
    pub uid: u32,
    pub mode: u32,
    /// Segment: size in bytes. Queue: bytes waiting (QSIZE). Others: 0.
    pub bytes: u64,
    /// Live processes that have it open or mapped.
    pub users: Vec<i32>,
    /// A socket still bound by a live process.
    pub bound: bool,
    /// The device and inode numbers (C: `st_dev`, `st_ino`): what a record of ownership names.
    pub dev: u64,
    pub ino: u64,
}

impl FileObject {
    fn new(kind: FileKind, path: PathBuf, name: String, meta: &fs::Metadata) -> FileObject {
        FileObject {
            kind,
            path,
            name,
            uid: meta.uid(),
            mode: meta.mode() & 0o7777,
            bytes: 0,
            users: Vec::new(),
            bound: false,
            dev: meta.dev(),
            ino: meta.ino(),
        }
    }

    /// True when a live process still uses it.
    pub fn in_use(&self) -> bool {
        !self.users.is_empty() || self.bound
    }
}

/// The POSIX objects in `dir` (/dev/mqueue or /dev/shm). None when `dir` does not exist
/// (/dev/mqueue is only there when the mqueue file system is mounted).
pub fn list_posix(dir: &str) -> Option<Vec<FileObject>> {
    let entries = fs::read_dir(dir).ok()?;
    let queue = dir == MQUEUE_DIR;
    let mut objects = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue; // removed meanwhile
        };
        if !meta.file_type().is_file() {
            continue;
        }
        let name = format!("/{}", entry.file_name().to_string_lossy());
        let kind = if queue {
            FileKind::PosixQueue
        } else {
            FileKind::PosixSegment
        };
        let mut object = FileObject::new(kind, path.clone(), name.clone(), &meta);
        if queue {
            // Reading a queue's file gives "QSIZE:129 NOTIFY:0 SIGNO:0 NOTIFY_PID:0".
            object.bytes = fs::read_to_string(&path)
                .ok()
                .and_then(|text| {
                    text.split_whitespace()
                        .find_map(|f| f.strip_prefix("QSIZE:").and_then(|n| n.parse().ok()))
                })
                .unwrap_or(0);
            // An open queue descriptor reads back as the name inside the mqueue file system.
            object.users = users_of(&path, false);
            object.users.extend(users_of(Path::new(&name), false));
        } else {
            object.bytes = meta.len();
            object.users = users_of(&path, true);
        }
        object.users.sort_unstable();
        object.users.dedup();
        objects.push(object);
    }
    objects.sort_by(|a, b| a.name.cmp(&b.name));
    Some(objects)
}

/// The FIFOs and sockets our programs, tests and bench may leave: /tmp/my_fifo, /tmp/ipt-*,
/// /tmp/ipc-pairs-bench-*, and `extra` (the paths named on the command line or recorded).
/// Files of another type at those paths are listed as [`FileKind::Other`].
pub fn list_tmp_paths(extra: &[PathBuf]) -> Vec<FileObject> {
    let mut paths = vec![PathBuf::from(DEFAULT_FIFO)];
    paths.extend(extra.iter().cloned());
    if let Ok(entries) = fs::read_dir("/tmp") {
        paths.extend(entries.flatten().map(|e| e.path()).filter(|p| {
            let path = p.to_string_lossy();
            path.starts_with(TEST_PATH_PREFIX) || path.starts_with(BENCH_PATH_PREFIX)
        }));
    }
    paths.sort();
    paths.dedup();
    let mut objects = Vec::new();
    for path in paths {
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        let file_type = meta.file_type();
        let kind = if file_type.is_fifo() {
            FileKind::Fifo
        } else if file_type.is_socket() {
            FileKind::Socket
        } else {
            FileKind::Other
        };
        let name = path.to_string_lossy().into_owned();
        let mut object = FileObject::new(kind, path.clone(), name, &meta);
        match kind {
            FileKind::Fifo => object.users = users_of(&path, false),
            FileKind::Socket => object.bound = socket_is_bound(&path),
            _ => {}
        }
        objects.push(object);
    }
    objects
}
