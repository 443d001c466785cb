//! The System V objects that exist, read from /proc/sysvipc/{msg,sem,shm} (what `ipcs` reads).
//!
//! Each file is a table with a header line naming its columns; we find columns by name, so a
//! kernel that adds columns does not break us. Keys are printed in decimal (`%d` of a `key_t`),
//! permissions in octal. A semaphore set's table records no pid, so for those we ask the kernel
//! with `semctl(GETPID)` per semaphore (see [`crate::sys`]).

use std::collections::HashMap;
use std::fmt;
use std::fs;

use ipc_common::{Context, Result};

use crate::process::{liveness, Liveness};
use crate::sys;

/// The three kinds of System V object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A message queue (msgget).
    Queue,
    /// A semaphore set (semget).
    Semaphores,
    /// A shared memory segment (shmget).
    Segment,
}

impl Kind {
    /// All kinds, in the order we print them.
    pub const ALL: [Kind; 3] = [Kind::Queue, Kind::Semaphores, Kind::Segment];

    /// The /proc/sysvipc table of this kind.
    pub fn table(self) -> &'static str {
        match self {
            Kind::Queue => "/proc/sysvipc/msg",
            Kind::Semaphores => "/proc/sysvipc/sem",
            Kind::Segment => "/proc/sysvipc/shm",
        }
    }

    /// The `ipcrm` option that removes one by id (shown in hints).
    pub fn ipcrm_flag(self) -> &'static str {
        match self {
            Kind::Queue => "-q",
            Kind::Semaphores => "-s",
            Kind::Segment => "-m",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Queue => "message queue",
            Kind::Semaphores => "semaphore set",
            Kind::Segment => "shared memory segment",
        })
    }
}

/// A pid the kernel recorded in an object, with what it did and whether it still runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedPid {
    /// What the kernel recorded it for, e.g. "last msgsnd" or "creator".
    pub role: String,
    pub pid: i32,
    pub liveness: Liveness,
}

/// One System V object, as /proc/sysvipc (and semctl) describe it.
#[derive(Debug, Clone)]
pub struct SysvObject {
    pub kind: Kind,
    pub key: i32,
    pub id: i32,
    /// Permission bits (the low 9 bits of `perms`).
    pub mode: u32,
    /// Owner's uid (`uid` column; the creator is `cuid`).
    pub uid: u32,
    /// Queue: messages waiting. Semaphores: semaphores in the set. Segment: processes attached.
    pub count: u64,
    /// Queue: bytes waiting. Segment: size in bytes. Semaphores: 0.
    pub bytes: u64,
    /// Every non-zero pid the kernel recorded.
    pub pids: Vec<RecordedPid>,
    /// Processes blocked on a semaphore of the set (GETNCNT + GETZCNT), when we may ask.
    pub waiters: u64,
}

impl SysvObject {
    /// The key as ipcs and our programs show it: `1234 (0x000004d2)`.
    pub fn key_text(&self) -> String {
        format!("{} (0x{:08x})", self.key, self.key as u32)
    }
}

/// One parsed table: the column index of each header name, and the data rows.
struct Table {
    columns: HashMap<String, usize>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn parse(text: &str) -> Table {
        let mut lines = text.lines();
        let columns = lines
            .next()
            .unwrap_or("")
            .split_whitespace()
            .enumerate()
            .map(|(i, name)| (name.to_string(), i))
            .collect();
        let rows = lines
            .map(|line| line.split_whitespace().map(str::to_string).collect())
            .filter(|row: &Vec<String>| !row.is_empty())
            .collect();
        Table { columns, rows }
    }

    fn field<'a>(&self, row: &'a [String], name: &str) -> Option<&'a str> {
        self.columns
            .get(name)
            .and_then(|&i| row.get(i))
            .map(String::as_str)
    }

    fn number<T: std::str::FromStr>(&self, row: &[String], name: &str) -> Option<T> {
        self.field(row, name).and_then(|text| text.parse().ok())
    }
}

fn recorded(role: &str, pid: i32) -> Option<RecordedPid> {
    (pid > 0).then(|| RecordedPid {
        role: role.to_string(),
        pid,
        liveness: liveness(pid),
    })
}

/// Parses the text of one /proc/sysvipc table. Rows that do not parse are skipped.
pub fn parse(kind: Kind, text: &str) -> Vec<SysvObject> {
    let table = Table::parse(text);
    let id_column = match kind {
        Kind::Queue => "msqid",
        Kind::Semaphores => "semid",
        Kind::Segment => "shmid",
    };
    let mut objects = Vec::new();
    for row in &table.rows {
        let (Some(key), Some(id), Some(perms), Some(uid)) = (
            table.number::<i32>(row, "key"),
            table.number::<i32>(row, id_column),
            table
                .field(row, "perms")
                .and_then(|p| u32::from_str_radix(p, 8).ok()),
            table.number::<u32>(row, "uid"),
        ) else {
            continue;
        };
        let pid = |name: &str, role: &str| recorded(role, table.number(row, name).unwrap_or(0));
        let (count, bytes, pids) = match kind {
            Kind::Queue => (
                table.number(row, "qnum").unwrap_or(0),
                table.number(row, "cbytes").unwrap_or(0),
                [pid("lspid", "last msgsnd"), pid("lrpid", "last msgrcv")]
                    .into_iter()
                    .flatten()
                    .collect(),
            ),
            Kind::Segment => (
                table.number(row, "nattch").unwrap_or(0),
                table.number(row, "size").unwrap_or(0),
                [pid("cpid", "creator"), pid("lpid", "last shmat/shmdt")]
                    .into_iter()
                    .flatten()
                    .collect(),
            ),
            Kind::Semaphores => (table.number(row, "nsems").unwrap_or(0), 0, Vec::new()),
        };
        let mut object = SysvObject {
            kind,
            key,
            id,
            mode: perms & 0o777,
            uid,
            count,
            bytes,
            pids,
            waiters: 0,
        };
        if kind == Kind::Semaphores {
            ask_semaphores(&mut object);
        }
        objects.push(object);
    }
    objects
}

/// Fills in the last semop pid of each semaphore and the number of blocked waiters. Without
/// read permission on the set the kernel refuses (EACCES): then we know nothing more.
fn ask_semaphores(set: &mut SysvObject) {
    let nsems = u32::try_from(set.count).unwrap_or(0);
    for num in 0..nsems {
        if let Ok(pid) = sys::semctl_getpid(set.id, num) {
            if let Some(rec) = recorded(&format!("last semop on #{num}"), pid) {
                if !set.pids.iter().any(|known| known.pid == rec.pid) {
                    set.pids.push(rec);
                }
            }
        }
        let waiting = sys::semctl_getncnt(set.id, num).unwrap_or(0)
            + sys::semctl_getzcnt(set.id, num).unwrap_or(0);
        set.waiters += u64::try_from(waiting).unwrap_or(0);
    }
}

/// Reads the table of `kind` now.
pub fn list(kind: Kind) -> Result<Vec<SysvObject>> {
    let text = fs::read_to_string(kind.table()).context(format!("reading {}", kind.table()))?;
    Ok(parse(kind, &text))
}

/// Removes one object by id (C: msgctl / semctl / shmctl with IPC_RMID).
pub fn remove(kind: Kind, id: i32) -> std::result::Result<(), nix::errno::Errno> {
    match kind {
        Kind::Queue => sys::msgctl_rmid(id),
        Kind::Semaphores => sys::semctl_rmid(id),
        Kind::Segment => sys::shmctl_rmid(id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queue_row_is_found_by_column_name() {
        let text = "       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid      stime      rtime      ctime\n\
                          1234          3   600          22          4     0     0  1000  1000  1000  1000 0 0 0\n";
        let objects = parse(Kind::Queue, text);
        assert_eq!(objects.len(), 1);
        let q = &objects[0];
        assert_eq!((q.key, q.id, q.mode, q.uid), (1234, 3, 0o600, 1000));
        assert_eq!((q.count, q.bytes), (4, 22));
        assert!(q.pids.is_empty(), "pid 0 means none recorded");
        assert_eq!(q.key_text(), "1234 (0x000004d2)");
    }

    #[test]
    fn segment_flags_above_the_mode_bits_are_dropped_and_negative_keys_parse() {
        let text = "key shmid perms size cpid lpid nattch uid gid cuid cgid\n\
                    -1 7 1600 1024 0 0 0 0 0 0 0\n\
                    garbage\n";
        let objects = parse(Kind::Segment, text);
        assert_eq!(objects.len(), 1);
        assert_eq!(
            (objects[0].key, objects[0].mode, objects[0].bytes),
            (-1, 0o600, 1024)
        );
        assert_eq!(objects[0].key_text(), "-1 (0xffffffff)");
    }
}
