//! The System V objects that exist, read from /proc/sysvipc/{msg,sem,shm}: what `ipcs` reads.
//!
//! The kernel keeps one table per kind. Each is plain text: a header line naming the columns,
//! then one line per object (`msgget`, `semget` or `shmget` made it, `IPC_RMID` ends it):
//!
//! ```text
//!        key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid ...
//!       1234          3   600          22          4  4242     0  1000  1000  1000  1000 ...
//! ```
//!
//! Columns are found by their header name, so a kernel that adds or moves columns does not
//! break us. Keys are printed as C `%d` of a `key_t` (so `IPC_PRIVATE` is 0 and a key above
//! 0x7fffffff is negative), permissions in octal. A recorded pid of 0 means "none yet".
//! C has no call for this listing: `ipcs` reads these files, and so do we.

use std::collections::HashMap;
use std::fmt;

use crate::{Context, Result};

/// The three kinds of System V object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A message queue (C: `msgget`), `ipcs -q`.
    Queue,
    /// A semaphore set (C: `semget`), `ipcs -s`.
    Semaphores,
    /// A shared memory segment (C: `shmget`), `ipcs -m`.
    Segment,
}

impl Kind {
    /// Every kind: queues, semaphore sets, segments.
    pub const ALL: [Kind; 3] = [Kind::Queue, Kind::Semaphores, Kind::Segment];

    /// The table's file name in /proc/sysvipc: `msg`, `sem` or `shm`.
    pub fn file(self) -> &'static str {
        match self {
            Kind::Queue => "msg",
            Kind::Semaphores => "sem",
            Kind::Segment => "shm",
        }
    }

    /// The table's path, e.g. `/proc/sysvipc/msg`.
    pub fn path(self) -> String {
        format!("/proc/sysvipc/{}", self.file())
    }

    /// The header of the id column: `msqid`, `semid` or `shmid`.
    fn id_column(self) -> &'static str {
        match self {
            Kind::Queue => "msqid",
            Kind::Semaphores => "semid",
            Kind::Segment => "shmid",
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

/// What only one kind records: its contents and the pids the kernel wrote down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counts {
    /// A queue (C: `struct msqid_ds`).
    Queue {
        /// Bytes waiting in the queue (`msg_cbytes`).
        cbytes: u64,
        /// Messages waiting (`msg_qnum`).
        qnum: u64,
        /// The last `msgsnd` caller (`msg_lspid`; 0: none yet).
        lspid: i32,
        /// The last `msgrcv` caller (`msg_lrpid`; 0: none yet).
        lrpid: i32,
    },
    /// A semaphore set (C: `struct semid_ds`). The table records no pid: ask
    /// `semctl(id, n, GETPID)` per semaphore.
    Semaphores {
        /// Semaphores in the set (`sem_nsems`).
        nsems: u64,
    },
    /// A segment (C: `struct shmid_ds`).
    Segment {
        /// Its size in bytes (`shm_segsz`).
        size: u64,
        /// Processes attached now (`shm_nattch`).
        nattch: u64,
        /// The creator (`shm_cpid`).
        cpid: i32,
        /// The last `shmat`/`shmdt` caller (`shm_lpid`; 0: none yet).
        lpid: i32,
    },
}

/// One System V object: one line of its table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Which table it came from.
    pub kind: Kind,
    /// The key it was made with (`key_t`; 0 is `IPC_PRIVATE`).
    pub key: i32,
    /// The id the `*get` call returned (msqid, semid, shmid).
    pub id: i32,
    /// The `perms` column: the mode bits, and for a segment the flags above them
    /// (`SHM_DEST` 01000: removed, waiting for its last detach; `SHM_LOCKED` 02000).
    pub perms: u32,
    /// The owner's uid (`uid`: may be changed with `IPC_SET`).
    pub uid: u32,
    /// The creator's uid (`cuid`).
    pub cuid: u32,
    /// The last change (creation or `IPC_SET`), seconds since the epoch (`ctime`).
    pub ctime: i64,
    /// What this kind records.
    pub counts: Counts,
}

impl Row {
    /// The permission bits alone (`perms & 0777`), as `ipcs` shows them.
    pub fn mode(&self) -> u32 {
        self.perms & 0o777
    }

    /// Every non-zero pid the table recorded, with what for, e.g. `("last msgsnd", 4242)`.
    pub fn pids(&self) -> Vec<(&'static str, i32)> {
        let recorded: &[(&'static str, i32)] = match &self.counts {
            Counts::Queue { lspid, lrpid, .. } => {
                &[("last msgsnd", *lspid), ("last msgrcv", *lrpid)]
            }
            Counts::Segment { cpid, lpid, .. } => {
                &[("creator", *cpid), ("last shmat/shmdt", *lpid)]
            }
            Counts::Semaphores { .. } => &[],
        };
        recorded
            .iter()
            .copied()
            .filter(|&(_, pid)| pid > 0)
            .collect()
    }
}

/// One table: the column index of each header name, and the fields of each line.
struct Table<'a> {
    columns: HashMap<&'a str, usize>,
}

impl<'a> Table<'a> {
    fn field(&self, row: &[&'a str], name: &str) -> Option<&'a str> {
        self.columns.get(name).and_then(|&i| row.get(i)).copied()
    }

    fn number<T: std::str::FromStr>(&self, row: &[&str], name: &str) -> Option<T> {
        self.field(row, name).and_then(|text| text.parse().ok())
    }

    /// A count or pid: 0 when the column is missing.
    fn or_zero<T: std::str::FromStr + Default>(&self, row: &[&str], name: &str) -> T {
        self.number(row, name).unwrap_or_default()
    }

    fn row(&self, kind: Kind, fields: &[&str]) -> Option<Row> {
        let counts = match kind {
            Kind::Queue => Counts::Queue {
                cbytes: self.or_zero(fields, "cbytes"),
                qnum: self.or_zero(fields, "qnum"),
                lspid: self.or_zero(fields, "lspid"),
                lrpid: self.or_zero(fields, "lrpid"),
            },
            Kind::Semaphores => Counts::Semaphores {
                nsems: self.or_zero(fields, "nsems"),
            },
            Kind::Segment => Counts::Segment {
                size: self.or_zero(fields, "size"),
                nattch: self.or_zero(fields, "nattch"),
                cpid: self.or_zero(fields, "cpid"),
                lpid: self.or_zero(fields, "lpid"),
            },
        };
        let uid = self.number(fields, "uid")?;
        Some(Row {
            kind,
            key: self.number(fields, "key")?,
            id: self.number(fields, kind.id_column())?,
            perms: u32::from_str_radix(self.field(fields, "perms")?, 8).ok()?,
            uid,
            cuid: self.number(fields, "cuid").unwrap_or(uid),
            ctime: self.or_zero(fields, "ctime"),
            counts,
        })
    }
}

/// Parses the text of one table. Lines without a key, id, perms or uid are skipped.
pub fn parse(kind: Kind, text: &str) -> Vec<Row> {
    let mut lines = text.lines();
    let header = lines.next().unwrap_or("");
    let table = Table {
        columns: header
            .split_whitespace()
            .enumerate()
            .map(|(i, name)| (name, i))
            .collect(),
    };
    lines
        .filter_map(|line| table.row(kind, &line.split_whitespace().collect::<Vec<_>>()))
        .collect()
}

/// Every object of `kind` that exists now (C: none; `ipcs` reads the same file).
pub fn list(kind: Kind) -> Result<Vec<Row>> {
    let path = kind.path();
    let text = std::fs::read_to_string(&path).context(format!("reading {path}"))?;
    Ok(parse(kind, &text))
}

/// The object of `kind` made with `key`, if one exists now. `None` also when the table cannot
/// be read (a kernel without System V IPC): then no object can exist either.
pub fn find(kind: Kind, key: i32) -> Option<Row> {
    list(kind).ok()?.into_iter().find(|row| row.key == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSG: &str = "       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid      stime      rtime      ctime\n\
                             1234          3   600          22          4  4242     0  1000  1000     0     0 0 0 1700000000\n";
    const SEM: &str =
        "       key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime\n\
                       1342177281          5   666          2  1000  1000  1000  1000 0 0\n";
    const SHM: &str = "       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap\n\
                               -1          7  1600                  1024   300   301      0     0     0     0     0 0 0 0 4096 0\n\
                       garbage\n\n";

    #[test]
    fn a_queue_row_is_read_by_column_name() {
        let rows = parse(Kind::Queue, MSG);
        assert_eq!(rows.len(), 1);
        let q = &rows[0];
        assert_eq!(
            (q.key, q.id, q.mode(), q.uid, q.cuid),
            (1234, 3, 0o600, 1000, 0)
        );
        assert_eq!(q.ctime, 1_700_000_000);
        let counts = Counts::Queue {
            cbytes: 22,
            qnum: 4,
            lspid: 4242,
            lrpid: 0,
        };
        assert_eq!(q.counts, counts);
        assert_eq!(
            q.pids(),
            vec![("last msgsnd", 4242)],
            "pid 0 means none recorded"
        );
    }

    #[test]
    fn a_semaphore_set_records_its_size_and_no_pid() {
        let rows = parse(Kind::Semaphores, SEM);
        assert_eq!(
            (rows[0].key, rows[0].id, rows[0].mode()),
            (0x5000_0001, 5, 0o666)
        );
        assert_eq!(rows[0].counts, Counts::Semaphores { nsems: 2 });
        assert!(rows[0].pids().is_empty());
    }

    #[test]
    fn segment_flags_stay_in_perms_negative_keys_parse_and_garbage_is_skipped() {
        let rows = parse(Kind::Segment, SHM);
        assert_eq!(rows.len(), 1);
        let s = &rows[0];
        assert_eq!((s.key, s.perms, s.mode()), (-1, 0o1600, 0o600));
        let counts = Counts::Segment {
            size: 1024,
            nattch: 0,
            cpid: 300,
            lpid: 301,
        };
        assert_eq!(s.counts, counts);
        assert_eq!(s.pids(), vec![("creator", 300), ("last shmat/shmdt", 301)]);
    }

    #[test]
    fn columns_are_found_wherever_the_kernel_puts_them() {
        let moved = "uid perms msqid key\n1000 640 9 77\n";
        let rows = parse(Kind::Queue, moved);
        assert_eq!(
            (rows[0].key, rows[0].id, rows[0].mode(), rows[0].uid),
            (77, 9, 0o640, 1000)
        );
        assert_eq!(rows[0].cuid, 1000, "no cuid column: the owner made it");
        assert!(parse(Kind::Queue, "").is_empty());
        assert!(parse(Kind::Semaphores, MSG).is_empty(), "no semid column");
    }

    #[test]
    fn the_tables_of_this_kernel_parse() {
        for kind in Kind::ALL {
            if let Ok(rows) = list(kind) {
                assert!(rows.iter().all(|row| row.kind == kind));
            }
            assert_eq!(find(kind, i32::MIN + 7), None);
        }
    }
}
