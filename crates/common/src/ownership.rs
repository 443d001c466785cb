//! The record of ownership: which kernel objects our programs made, so that `ipc-doctor --clean`
//! removes only those, and never another program's object that happens to use the same key.
//!
//! The kernel does not say who made a System V queue (it records the last `msgsnd` and
//! `msgrcv` pids, not the creator), and a key like 1234 proves nothing: any program may use it.
//! So each of our programs writes down every object it creates, at once, and deletes the note
//! when it removes the object:
//!
//! ```text
//! $XDG_RUNTIME_DIR/ipc-pairs/msg-32768     (or /tmp/ipc-pairs-UID/ when XDG_RUNTIME_DIR is unset)
//!   kind=msg key=1234 id=32768 ctime=1733300000 pid=4242 start=123456 program=msgq-receiver
//! ```
//!
//! - **What proves identity.** System V: the id, the key and the creation time the kernel
//!   shows in /proc/sysvipc (`msg_ctime`, `sem_ctime`, `shm_ctime`), read right after creating
//!   it. An id is reused once the object is removed; the same id with the same key and the same
//!   creation second is ours. (The kernel moves ctime on `IPC_SET`, and for a semaphore set on
//!   `SETVAL`/`SETALL`: so a program records a set after giving it its initial values.)
//!   POSIX objects, FIFOs and sockets: the file's device and inode numbers (C: `stat`), which
//!   a new file of the same name does not keep.
//! - **Who made it, and is it dead.** The pid and the process's start time (field 22 of
//!   /proc/PID/stat): a pid reused by a new process has another start time.
//! - **A place safe on a shared machine.** A directory only its user may enter (0700, owned by
//!   the user, not a symlink: checked with `lstat`, and refused otherwise); one file per object,
//!   written to a temporary file in the same directory and renamed over (C: `rename`, atomic: a
//!   reader sees the old record or the new one, never half of one); read with `O_NOFOLLOW`.
//!   `IPC_PAIRS_RECORDS` names another directory (the tests use it).
//! - **A failed record never stops a program.** It warns once on stderr and goes on; the object
//!   is then simply not ours to `ipc-doctor --clean`, which lists it and leaves it.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use nix::fcntl::OFlag;
use nix::unistd::geteuid;

use crate::sysvipc;

/// The variable that names another record directory.
pub const DIR_VARIABLE: &str = "IPC_PAIRS_RECORDS";

/// The kinds of object a record may name; each is also the start of its record's file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A System V object: queue, semaphore set or segment.
    Sysv(sysvipc::Kind),
    /// A POSIX message queue (`mq_open`), seen as /dev/mqueue/NAME.
    PosixQueue,
    /// A POSIX shared memory object (`shm_open`), seen as /dev/shm/NAME.
    PosixSegment,
    /// A FIFO (`mkfifo`).
    Fifo,
    /// A Unix domain socket's path (`bind`).
    Socket,
}

impl Kind {
    /// The tag in the record and its file name: msg, sem, shm, mq, pshm, fifo, socket.
    pub fn tag(self) -> &'static str {
        match self {
            Kind::Sysv(kind) => kind.file(),
            Kind::PosixQueue => "mq",
            Kind::PosixSegment => "pshm",
            Kind::Fifo => "fifo",
            Kind::Socket => "socket",
        }
    }

    fn from_tag(tag: &str) -> Option<Kind> {
        Some(match tag {
            "msg" => Kind::Sysv(sysvipc::Kind::Queue),
            "sem" => Kind::Sysv(sysvipc::Kind::Semaphores),
            "shm" => Kind::Sysv(sysvipc::Kind::Segment),
            "mq" => Kind::PosixQueue,
            "pshm" => Kind::PosixSegment,
            "fifo" => Kind::Fifo,
            "socket" => Kind::Socket,
            _ => return None,
        })
    }
}

/// One record: an object one of our programs made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub kind: Kind,
    /// System V: the key, in decimal. POSIX: the name (`/ipc-pairs`). FIFO, socket: the path.
    pub name: String,
    /// System V: the id (msqid, semid, shmid). Files: the inode number.
    pub id: i64,
    /// System V: the creation time from /proc/sysvipc. Files: the device number.
    pub stamp: i64,
    /// The creator's pid.
    pub pid: u32,
    /// The creator's start time (clock ticks after boot, /proc/PID/stat field 22; 0: unknown).
    pub start: u64,
    /// The creator's program name.
    pub program: String,
}

impl Record {
    /// The record's file name: `msg-32768`, `mq-%2Fipc-pairs`, `fifo-%2Ftmp%2Fmy_fifo`.
    pub fn file_name(&self) -> String {
        file_name(self.kind, &self.name, self.id)
    }

    /// True while the creator still runs: its pid exists, is no zombie, and (when both are
    /// known) started when the creator did.
    pub fn creator_alive(&self) -> bool {
        if !crate::process::is_running(self.pid) {
            return false;
        }
        match (self.start, start_time(self.pid)) {
            (0, _) | (_, None) => true,
            (recorded, Some(now)) => recorded == now,
        }
    }

    /// True when the object this record names is no longer there: System V, no object of its
    /// kind with its id, key and (for a queue or segment) creation time; a file, nothing with
    /// its device and inode numbers at its name. (Unknown, e.g. /proc/sysvipc unreadable: false.)
    pub fn object_gone(&self) -> bool {
        match self.kind {
            Kind::Sysv(kind) => match sysvipc::list(kind) {
                Ok(rows) => !rows.iter().any(|row| {
                    i64::from(row.id) == self.id
                        && row.key.to_string() == self.name
                        && (row.ctime == self.stamp
                            || (kind == sysvipc::Kind::Semaphores && row.ctime >= self.stamp))
                }),
                Err(_) => false,
            },
            _ => {
                let path = match self.kind {
                    Kind::PosixQueue | Kind::PosixSegment => posix_path(self.kind, &self.name),
                    _ => PathBuf::from(&self.name),
                };
                match fs::symlink_metadata(path) {
                    Ok(meta) => meta.ino() as i64 != self.id || meta.dev() as i64 != self.stamp,
                    Err(err) => err.kind() == std::io::ErrorKind::NotFound,
                }
            }
        }
    }

    /// The record as text: one `field=value` per line.
    fn to_text(&self) -> String {
        format!(
            "kind={}\nname={}\nid={}\nstamp={}\npid={}\nstart={}\nprogram={}\n",
            self.kind.tag(),
            escape(&self.name),
            self.id,
            self.stamp,
            self.pid,
            self.start,
            escape(&self.program)
        )
    }

    /// Reads a record's text; None when a field is missing or malformed.
    pub fn parse(text: &str) -> Option<Record> {
        let field = |name: &str| {
            text.lines()
                .find_map(|line| line.strip_prefix(name)?.strip_prefix('='))
        };
        Some(Record {
            kind: Kind::from_tag(field("kind")?)?,
            name: unescape(field("name")?),
            id: field("id")?.parse().ok()?,
            stamp: field("stamp")?.parse().ok()?,
            pid: field("pid")?.parse().ok()?,
            start: field("start")?.parse().ok()?,
            program: unescape(field("program")?),
        })
    }
}

fn file_name(kind: Kind, name: &str, id: i64) -> String {
    match kind {
        Kind::Sysv(_) => format!("{}-{id}", kind.tag()),
        _ => format!("{}-{}", kind.tag(), escape(name)),
    }
}

/// `%` and `/` (and newlines) as %25, %2F, %0A: a name or path fits in one file name and line.
fn escape(text: &str) -> String {
    text.replace('%', "%25")
        .replace('/', "%2F")
        .replace('\n', "%0A")
}

fn unescape(text: &str) -> String {
    text.replace("%0A", "\n")
        .replace("%2F", "/")
        .replace("%25", "%")
}

/// The start time of process `pid` (field 22 of /proc/PID/stat), if /proc shows it.
fn start_time(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "PID (COMM) STATE PPID ...": fields after the last ')' start at field 3.
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(19)?.parse().ok()
}

/// The record directory: `$IPC_PAIRS_RECORDS` if set; else `$XDG_RUNTIME_DIR/ipc-pairs` when
/// that runtime directory is ours; else `/tmp/ipc-pairs-UID`.
pub fn directory() -> PathBuf {
    if let Some(dir) = std::env::var_os(DIR_VARIABLE).filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let uid = geteuid().as_raw();
    if let Some(runtime) = std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from) {
        let ours = fs::symlink_metadata(&runtime)
            .map(|m| m.is_dir() && m.uid() == uid)
            .unwrap_or(false);
        if runtime.is_absolute() && ours {
            return runtime.join("ipc-pairs");
        }
    }
    PathBuf::from(format!("/tmp/ipc-pairs-{uid}"))
}

/// Checks the record directory (creating it 0700 when `create` and it is missing): a real
/// directory (`lstat`: not a symlink), owned by us, that no other user may enter or write.
/// Ok(None): it does not exist and `create` is false. Err: why it is refused.
pub fn checked_directory(create: bool) -> Result<Option<PathBuf>, String> {
    check_directory(directory(), create)
}

/// [`checked_directory`] for the directory `dir`.
fn check_directory(dir: PathBuf, create: bool) -> Result<Option<PathBuf>, String> {
    let meta = match fs::symlink_metadata(&dir) {
        Ok(meta) => meta,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound && !create => return Ok(None),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            // C: mkdir(dir, 0700); the umask can only take bits away.
            DirBuilder::new()
                .mode(0o700)
                .create(&dir)
                .or_else(|err| match err.kind() {
                    std::io::ErrorKind::AlreadyExists => Ok(()),
                    _ => Err(format!("cannot create {}: {err}", dir.display())),
                })?;
            fs::symlink_metadata(&dir).map_err(|err| format!("{}: {err}", dir.display()))?
        }
        Err(err) => return Err(format!("{}: {err}", dir.display())),
    };
    let me = geteuid().as_raw();
    if meta.file_type().is_symlink() {
        return Err(format!(
            "{} is a symbolic link, not a directory: refused (someone may be redirecting \
             our records; remove it, or set {DIR_VARIABLE} to a directory of yours)",
            dir.display()
        ));
    }
    if !meta.is_dir() {
        return Err(format!("{} is not a directory: refused", dir.display()));
    }
    if meta.uid() != me {
        return Err(format!(
            "{} belongs to uid {}, not to us (uid {me}): refused (remove it, or set \
             {DIR_VARIABLE} to a directory of yours)",
            dir.display(),
            meta.uid()
        ));
    }
    if meta.mode() & 0o077 != 0 {
        return Err(format!(
            "{} has mode {:04o}: other users may enter or change it: refused (chmod 700 it)",
            dir.display(),
            meta.mode() & 0o7777
        ));
    }
    Ok(Some(dir))
}

static WARNED: AtomicBool = AtomicBool::new(false);

/// Says once per process that records cannot be written, and what that means.
fn warn_once(why: &str) {
    if !WARNED.swap(true, Ordering::Relaxed) {
        eprintln!(
            "{}: warning: cannot record what we create: {why}; ipc-doctor --clean will list \
             our objects as not ours and leave them (remove them by name with ipc-doctor --remove)",
            crate::program::name()
        );
    }
}

/// Writes `record` atomically: a temporary file in the same directory (created exclusively,
/// 0600, never through a symlink), then `rename` over the record's name.
fn write(dir: &Path, record: &Record) -> std::io::Result<()> {
    let final_path = dir.join(record.file_name());
    let temp = dir.join(format!(
        ".tmp-{}-{}",
        std::process::id(),
        record.file_name()
    ));
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true) // O_CREAT | O_EXCL: never an existing file or symlink
        .mode(0o600)
        .custom_flags(OFlag::O_NOFOLLOW.bits())
        .open(&temp)?;
    let written = file
        .write_all(record.to_text().as_bytes())
        .and_then(|()| fs::rename(&temp, &final_path));
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written
}

/// Records an object we just created. `id` and `stamp` as in [`Record`].
fn record(kind: Kind, name: String, id: i64, stamp: i64) {
    record_at(directory(), kind, name, id, stamp);
}

/// [`record`] in the directory `dir`.
fn record_at(dir: PathBuf, kind: Kind, name: String, id: i64, stamp: i64) {
    let pid = std::process::id();
    let record = Record {
        kind,
        name,
        id,
        stamp,
        pid,
        start: start_time(pid).unwrap_or(0),
        program: crate::program::name().to_string(),
    };
    let dir = match check_directory(dir, true) {
        Ok(Some(dir)) => dir,
        Ok(None) => return,
        Err(why) => return warn_once(&why),
    };
    if let Err(err) = write(&dir, &record) {
        warn_once(&format!(
            "writing {}: {err}",
            dir.join(record.file_name()).display()
        ));
    }
    prune(&dir);
}

/// Housekeeping: deletes the records whose object is gone and whose creator is dead (another
/// program removed the object, e.g. the C receiver that `msgctl(IPC_RMID)`s our sender's queue),
/// so the directory does not grow.
fn prune(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        if let Ok(record) = read_one(&entry.path()) {
            if !record.creator_alive() && record.object_gone() {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
}

/// Records the System V object `id` (with `key`) we just created; its creation time is read
/// from /proc/sysvipc. A semaphore set: call after setting its initial values (SETVAL moves
/// the time).
pub fn record_sysv(kind: sysvipc::Kind, key: i32, id: i32) {
    let row = sysvipc::list(kind)
        .ok()
        .and_then(|rows| rows.into_iter().find(|r| r.id == id && r.key == key));
    match row {
        Some(row) => record(Kind::Sysv(kind), key.to_string(), id.into(), row.ctime),
        None => warn_once(&format!("{kind} id {id} is not in {}", kind.path())),
    }
}

/// Records a file-system object we just created at `path` (a POSIX object's file in
/// /dev/mqueue or /dev/shm, a FIFO, a socket); `name` is what programs call it.
fn record_file(kind: Kind, name: &str, path: &Path) {
    match fs::symlink_metadata(path) {
        Ok(meta) => record(kind, name.to_string(), meta.ino() as i64, meta.dev() as i64),
        Err(err) => warn_once(&format!("{}: {err}", path.display())),
    }
}

/// The file behind a POSIX name: `/ipc-pairs` is /dev/mqueue/ipc-pairs or /dev/shm/ipc-pairs.
pub fn posix_path(kind: Kind, name: &str) -> PathBuf {
    let dir = if kind == Kind::PosixQueue {
        "/dev/mqueue"
    } else {
        "/dev/shm"
    };
    Path::new(dir).join(name.trim_start_matches('/'))
}

/// Records a POSIX message queue we just created (C: `mq_open(name, O_CREAT | O_EXCL, ...)`).
pub fn record_posix_queue(name: &str) {
    record_file(Kind::PosixQueue, name, &posix_path(Kind::PosixQueue, name));
}

/// Records a POSIX shared memory object we just created (C: `shm_open(name, O_CREAT | O_EXCL)`).
pub fn record_posix_segment(name: &str) {
    record_file(
        Kind::PosixSegment,
        name,
        &posix_path(Kind::PosixSegment, name),
    );
}

/// Records a FIFO we just created (C: `mkfifo`).
pub fn record_fifo(path: &Path) {
    record_file(Kind::Fifo, &path.to_string_lossy(), path);
}

/// Records a Unix socket path we just bound (C: `bind`).
pub fn record_socket(path: &Path) {
    record_file(Kind::Socket, &path.to_string_lossy(), path);
}

/// Deletes the record of an object once it is gone (we removed it, or found it removed or
/// replaced); a record whose object is still there is kept (quietly: no record, nothing to do).
/// So a guard may call it whatever happened, and never deletes the record of another of our
/// processes that made a new object with the same name.
fn forget(kind: Kind, name: &str, id: i64) {
    forget_at(directory(), kind, name, id);
}

/// [`forget`] in the directory `dir`.
fn forget_at(dir: PathBuf, kind: Kind, name: &str, id: i64) {
    if let Ok(Some(dir)) = check_directory(dir, false) {
        let path = dir.join(file_name(kind, name, id));
        if read_one(&path).is_ok_and(|record| record.object_gone()) {
            let _ = fs::remove_file(path);
        }
    }
}

/// Deletes the record of System V object `id` if it is gone (we just removed it: `IPC_RMID`).
pub fn forget_sysv(kind: sysvipc::Kind, id: i32) {
    forget(Kind::Sysv(kind), "", id.into());
}

/// Deletes the record of POSIX queue `name` if it is gone (we just removed it: `mq_unlink`).
pub fn forget_posix_queue(name: &str) {
    forget(Kind::PosixQueue, name, 0);
}

/// Deletes the record of POSIX shared memory object `name` if it is gone (`shm_unlink`).
pub fn forget_posix_segment(name: &str) {
    forget(Kind::PosixSegment, name, 0);
}

/// Deletes the record of the FIFO at `path` if it is gone or replaced (`unlink`).
pub fn forget_fifo(path: &Path) {
    forget(Kind::Fifo, &path.to_string_lossy(), 0);
}

/// Deletes the record of the socket at `path` if it is gone or replaced (`unlink`).
pub fn forget_socket(path: &Path) {
    forget(Kind::Socket, &path.to_string_lossy(), 0);
}

/// One file found in the record directory.
#[derive(Debug)]
pub struct Found {
    /// The record file.
    pub path: PathBuf,
    /// The record, or why it cannot be read.
    pub record: Result<Record, String>,
}

/// Every record of this user. Ok(empty) when there is no directory yet; Err when the
/// directory is refused (see [`checked_directory`]). Each file is opened with `O_NOFOLLOW`
/// (a symlink is refused, not followed) and must be a regular file.
pub fn read_all() -> Result<Vec<Found>, String> {
    read_all_at(directory())
}

/// [`read_all`] in the directory `dir`.
fn read_all_at(dir: PathBuf) -> Result<Vec<Found>, String> {
    let Some(dir) = check_directory(dir, false)? else {
        return Ok(Vec::new());
    };
    let entries = fs::read_dir(&dir).map_err(|err| format!("{}: {err}", dir.display()))?;
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue; // a temporary file being written
        }
        let path = entry.path();
        let record = read_one(&path);
        found.push(Found { path, record });
    }
    found.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(found)
}

fn read_one(path: &Path) -> Result<Record, String> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(OFlag::O_NOFOLLOW.bits() | OFlag::O_NONBLOCK.bits())
        .open(path)
        .map_err(|err| format!("not read: {err}"))?;
    check_regular(&file)?;
    let mut text = String::new();
    file.take(4096)
        .read_to_string(&mut text)
        .map_err(|err| format!("not read: {err}"))?;
    Record::parse(&text).ok_or_else(|| "not a record (a field is missing or malformed)".into())
}

fn check_regular(file: &File) -> Result<(), String> {
    match file.metadata() {
        Ok(meta) if meta.is_file() => Ok(()),
        Ok(_) => Err("not a regular file".into()),
        Err(err) => Err(format!("not read: {err}")),
    }
}

/// Deletes one record file (ipc-doctor, for a record that no longer names a live object).
pub fn drop_record(path: &Path) -> std::io::Result<()> {
    fs::remove_file(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_reads_back_as_written_whatever_its_name_holds() {
        let record = Record {
            kind: Kind::Fifo,
            name: "/tmp/odd%name/x".into(),
            id: 42,
            stamp: -7,
            pid: 9,
            start: 11,
            program: "fifo-sender".into(),
        };
        assert_eq!(Record::parse(&record.to_text()), Some(record.clone()));
        assert_eq!(record.file_name(), "fifo-%2Ftmp%2Fodd%25name%2Fx");
        let queue = Record {
            kind: Kind::Sysv(sysvipc::Kind::Queue),
            ..record
        };
        assert_eq!(queue.file_name(), "msg-42");
        assert_eq!(Record::parse("kind=msg\nid=1\n"), None);
        assert_eq!(Record::parse("kind=nope\n"), None);
    }

    #[test]
    fn our_own_process_is_alive_with_its_start_time_and_not_with_another() {
        let me = std::process::id();
        let mut record = Record {
            kind: Kind::Fifo,
            name: String::new(),
            id: 0,
            stamp: 0,
            pid: me,
            start: start_time(me).expect("our own stat"),
            program: String::new(),
        };
        assert!(record.creator_alive());
        record.start += 1;
        assert!(!record.creator_alive(), "same pid, another process");
    }

    #[test]
    fn a_fifo_is_recorded_its_record_outlives_it_not_and_a_symlinked_directory_is_refused() {
        let base = std::env::temp_dir().join(format!("ipt-own-unit-{}", std::process::id()));
        let records = base.join("records");
        let fifo = base.join("fifo");
        fs::create_dir_all(&base).expect("mkdir");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600))
            .expect("mkfifo");
        let meta = fs::symlink_metadata(&fifo).expect("lstat");
        let name = fifo.to_string_lossy().into_owned();
        record_at(
            records.clone(),
            Kind::Fifo,
            name.clone(),
            meta.ino() as i64,
            meta.dev() as i64,
        );
        let found = read_all_at(records.clone()).expect("our directory");
        let mode = fs::metadata(&records).expect("created").mode();
        assert_eq!(mode & 0o777, 0o700);
        assert_eq!(found.len(), 1);
        let record = found[0].record.as_ref().expect("readable");
        assert_eq!((record.kind, &record.name), (Kind::Fifo, &name));
        assert!(record.creator_alive() && !record.object_gone());
        forget_at(records.clone(), Kind::Fifo, &name, 0);
        assert_eq!(
            read_all_at(records.clone()).expect("ours").len(),
            1,
            "still there: kept"
        );
        fs::remove_file(&fifo).expect("unlink");
        forget_at(records.clone(), Kind::Fifo, &name, 0);
        assert!(
            read_all_at(records.clone()).expect("ours").is_empty(),
            "gone: forgotten"
        );

        fs::remove_dir(&records).expect("rmdir");
        std::os::unix::fs::symlink(&base, &records).expect("symlink");
        let refused = read_all_at(records.clone()).expect_err("a symlink is refused");
        assert!(refused.contains("symbolic link"), "{refused}");
        fs::remove_dir_all(&base).expect("cleanup");
    }
}
