//! The System V objects that exist, as ipc-doctor shows them: the rows of /proc/sysvipc (what
//! `ipcs` reads, parsed by [`ipc_common::sysvipc`]), with whether each recorded pid still runs.
//!
//! A semaphore set's table records no pid, so for those we ask the kernel with
//! `semctl(GETPID)` per semaphore, and `semctl(GETNCNT/GETZCNT)` for who waits (see
//! [`crate::sys`]).

use ipc_common::sysvipc::{self, Counts, Row};
use ipc_common::Result;

pub use ipc_common::sysvipc::Kind;

use crate::process::{liveness, Liveness};
use crate::sys;

/// The `ipcrm` option that removes one object of `kind` by id (shown in hints).
pub fn ipcrm_flag(kind: Kind) -> &'static str {
    match kind {
        Kind::Queue => "-q",
        Kind::Semaphores => "-s",
        Kind::Segment => "-m",
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
    /// The creation time (or last `IPC_SET`; for a set also `SETVAL`), seconds since the epoch:
    /// with the id and the key, what proves a record of ownership names this very object.
    pub ctime: i64,
}

impl SysvObject {
    /// The key as ipcs and our programs show it: `1234 (0x000004d2)`.
    pub fn key_text(&self) -> String {
        format!("{} (0x{:08x})", self.key, self.key as u32)
    }
}

fn recorded(role: &str, pid: i32) -> Option<RecordedPid> {
    (pid > 0).then(|| RecordedPid {
        role: role.to_string(),
        pid,
        liveness: liveness(pid),
    })
}

impl SysvObject {
    /// The object a /proc/sysvipc row describes, with the liveness of each recorded pid; for a
    /// semaphore set, what `semctl` adds.
    pub fn from_row(row: &Row) -> SysvObject {
        let (count, bytes) = match row.counts {
            Counts::Queue { qnum, cbytes, .. } => (qnum, cbytes),
            Counts::Semaphores { nsems } => (nsems, 0),
            Counts::Segment { nattch, size, .. } => (nattch, size),
        };
        let pids = row.pids();
        let mut object = SysvObject {
            kind: row.kind,
            key: row.key,
            id: row.id,
            mode: row.mode(),
            uid: row.uid,
            count,
            bytes,
            pids: pids
                .iter()
                .filter_map(|&(role, pid)| recorded(role, pid))
                .collect(),
            waiters: 0,
            ctime: row.ctime,
        };
        if row.kind == Kind::Semaphores {
            ask_semaphores(&mut object);
        }
        object
    }
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
    Ok(sysvipc::list(kind)?
        .iter()
        .map(SysvObject::from_row)
        .collect())
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

    fn objects(kind: Kind, text: &str) -> Vec<SysvObject> {
        sysvipc::parse(kind, text)
            .iter()
            .map(SysvObject::from_row)
            .collect()
    }

    #[test]
    fn a_queue_counts_messages_and_bytes_and_records_no_pid_zero() {
        let text = "key msqid perms cbytes qnum lspid lrpid uid gid cuid cgid\n\
                    1234 3 600 22 4 0 0 1000 1000 1000 1000\n";
        let q = &objects(Kind::Queue, text)[0];
        assert_eq!((q.key, q.id, q.mode, q.uid), (1234, 3, 0o600, 1000));
        assert_eq!((q.count, q.bytes), (4, 22));
        assert!(q.pids.is_empty(), "pid 0 means none recorded");
        assert_eq!(q.key_text(), "1234 (0x000004d2)");
    }

    #[test]
    fn a_segment_counts_attaches_and_bytes_and_drops_flags_above_the_mode() {
        let text = "key shmid perms size cpid lpid nattch uid gid cuid cgid\n\
                    -1 7 1600 1024 0 0 2 0 0 0 0\n";
        let s = &objects(Kind::Segment, text)[0];
        assert_eq!((s.mode, s.count, s.bytes), (0o600, 2, 1024));
        assert_eq!(s.key_text(), "-1 (0xffffffff)");
    }
}
