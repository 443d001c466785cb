//! Which objects are ours, which are still in use, and so which ones `--clean` removes.
//!
//! An object is ours only when a record of ownership proves it (see [`crate::ours`]): each of
//! our programs records every object it creates, and its key or name proves nothing (any
//! program may call `msgget(1234, ...)`). So `--clean` removes:
//! - an object a record names and still matches (same id, key and creation time; for a file,
//!   same device and inode), owned by you, whose creator is dead, and that no live process uses
//!   (no live recorded pid, nothing attached to a segment, nobody blocked on a semaphore, no
//!   process with the file open or a socket bound);
//!
//! and never:
//! - an object without a record ("not ours"), whatever its key or name: a foreign queue with key
//!   1234 stays; so does an object our programs could not record, or one the C programs in c/
//!   made (they keep no records): `--remove KEY` (or `--remove /NAME`, `--remove /PATH`) names
//!   one to remove whoever made it, if the kernel lets us;
//! - an object a live process uses, even with `--remove`;
//! - a file at one of our paths that is not a FIFO or socket.

use crate::files::{FileKind, FileObject, DEFAULT_FIFO};
use crate::ours::Ownership;
use crate::process::Liveness;
use crate::sysv::{Kind, SysvObject};

/// Is anybody still using an object?
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Yes: why we think so.
    InUse(String),
    /// Every process the kernel recorded is dead.
    Orphaned,
    /// The kernel recorded no process (and nothing is attached or waiting).
    Unknown,
    /// A file no live process has open, mapped or bound.
    Idle,
    /// Not applicable (a file that is not an IPC object).
    NotIpc,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Status::InUse(why) => write!(f, "in use ({why})"),
            Status::Orphaned => f.write_str("orphaned (every recorded process is dead)"),
            Status::Unknown => f.write_str("unknown (no process recorded)"),
            Status::Idle => f.write_str("idle (no live process has it open)"),
            Status::NotIpc => f.write_str("not an IPC object"),
        }
    }
}

/// What `--clean` does with an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Remove,
    /// Kept, and why.
    Keep(String),
}

/// Is a System V object still in use?
pub fn sysv_status(object: &SysvObject) -> Status {
    if object.kind == Kind::Segment && object.count > 0 {
        return Status::InUse(format!("{} process(es) attached", object.count));
    }
    if object.kind == Kind::Semaphores && object.waiters > 0 {
        return Status::InUse(format!("{} process(es) blocked in semop", object.waiters));
    }
    if let Some(live) = object.pids.iter().find(|p| p.liveness == Liveness::Alive) {
        return Status::InUse(format!("{} pid {} is alive", live.role, live.pid));
    }
    if object.pids.is_empty() {
        Status::Unknown
    } else {
        Status::Orphaned
    }
}

/// What `--clean` does with an object, given who made it and whether it is in use. `named`:
/// the user named it with `--remove` (then the record does not matter, only its use).
fn judge(ownership: &Ownership, uid: u32, me: u32, status: Status, named: bool) -> Verdict {
    if let Status::InUse(why) = &status {
        return Verdict::Keep(format!("a live process uses it ({why})"));
    }
    if status == Status::NotIpc {
        return Verdict::Keep("not a FIFO or socket: never removed".into());
    }
    if named {
        return Verdict::Remove;
    }
    match ownership {
        Ownership::NotOurs => Verdict::Keep(
            "not ours: no record says our programs made it (--remove names one to remove)".into(),
        ),
        Ownership::Stale(_, why) => Verdict::Keep(format!(
            "not ours: its record is stale ({why}); --clean drops the record"
        )),
        Ownership::Ours(_) if uid != me => Verdict::Keep(format!("owned by uid {uid}, not you")),
        Ownership::Ours(record) if record.creator_alive() => Verdict::Keep(format!(
            "its creator {} pid {} is alive",
            record.program, record.pid
        )),
        Ownership::Ours(_) => Verdict::Remove,
    }
}

/// What `--clean` does with a System V object, for the user `me`.
pub fn judge_sysv(object: &SysvObject, ownership: &Ownership, me: u32, named: bool) -> Verdict {
    judge(ownership, object.uid, me, sysv_status(object), named)
}

/// Is a file-system object still in use?
pub fn file_status(object: &FileObject) -> Status {
    if object.kind == FileKind::Other {
        Status::NotIpc
    } else if object.bound {
        Status::InUse("a socket is bound to it".into())
    } else if let Some(pid) = object.users.first() {
        Status::InUse(format!("open in pid {pid}"))
    } else {
        Status::Idle
    }
}

/// What `--clean` does with a file-system object, for the user `me`.
pub fn judge_file(object: &FileObject, ownership: &Ownership, me: u32, named: bool) -> Verdict {
    if object.name == DEFAULT_FIFO && object.kind != FileKind::Fifo {
        return Verdict::Keep("/tmp/my_fifo is only removed when it is a FIFO".into());
    }
    judge(ownership, object.uid, me, file_status(object), named)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sysv::RecordedPid;
    use ipc_common::ownership::{Kind as RecordKind, Record};

    fn queue(key: i32, uid: u32, pids: Vec<RecordedPid>) -> SysvObject {
        SysvObject {
            kind: Kind::Queue,
            key,
            id: 1,
            mode: 0o600,
            uid,
            count: 2,
            bytes: 10,
            pids,
            waiters: 0,
            ctime: 0,
        }
    }

    fn pid(liveness: Liveness) -> RecordedPid {
        RecordedPid {
            role: "last msgsnd".into(),
            pid: 42,
            liveness,
        }
    }

    /// A record whose creator is `pid` (0: nobody, so dead).
    fn record(pid: u32) -> Record {
        Record {
            kind: RecordKind::Sysv(Kind::Queue),
            name: "1234".into(),
            id: 1,
            stamp: 0,
            pid,
            start: 0,
            program: "msgq-receiver".into(),
        }
    }

    fn ours(pid: u32) -> Ownership {
        Ownership::Ours(record(pid))
    }

    #[test]
    fn only_recorded_objects_of_our_user_with_a_dead_creator_are_removed() {
        let dead = || vec![pid(Liveness::Dead)];
        let dead_creator = ours(0);
        assert_eq!(
            judge_sysv(&queue(1234, 7, dead()), &dead_creator, 7, false),
            Verdict::Remove
        );
        // No pid recorded by the kernel (a receiver killed before any message): the record's
        // dead creator is enough.
        assert_eq!(
            judge_sysv(&queue(1234, 7, vec![]), &dead_creator, 7, false),
            Verdict::Remove
        );
        for key in [1234, 0x5000_0000, 0x4912_3401] {
            let kept = judge_sysv(&queue(key, 7, dead()), &Ownership::NotOurs, 7, false);
            assert!(
                matches!(&kept, Verdict::Keep(why) if why.starts_with("not ours")),
                "key {key:#x}: {kept:?}"
            );
        }
        assert!(matches!(
            judge_sysv(&queue(1234, 8, dead()), &dead_creator, 7, false),
            Verdict::Keep(_)
        ));
        let live_creator = ours(std::process::id());
        assert!(matches!(
            judge_sysv(&queue(1234, 7, dead()), &live_creator, 7, false),
            Verdict::Keep(why) if why.contains("creator msgq-receiver")
        ));
        let live = vec![pid(Liveness::Alive)];
        assert!(matches!(
            judge_sysv(&queue(1234, 7, live), &dead_creator, 7, false),
            Verdict::Keep(_)
        ));
        let stale = Ownership::Stale(record(0), "reused".into());
        assert!(matches!(
            judge_sysv(&queue(1234, 7, dead()), &stale, 7, false),
            Verdict::Keep(why) if why.contains("stale")
        ));
    }

    #[test]
    fn a_named_object_is_removed_whoever_made_it_unless_in_use() {
        assert_eq!(
            judge_sysv(&queue(77, 8, vec![]), &Ownership::NotOurs, 7, true),
            Verdict::Remove
        );
        assert!(matches!(
            judge_sysv(
                &queue(77, 8, vec![pid(Liveness::Alive)]),
                &Ownership::NotOurs,
                7,
                true
            ),
            Verdict::Keep(_)
        ));
    }

    #[test]
    fn an_attached_segment_is_in_use_whatever_its_pids_say() {
        let mut segment = queue(1234, 7, vec![pid(Liveness::Dead)]);
        segment.kind = Kind::Segment;
        segment.count = 1;
        assert!(matches!(sysv_status(&segment), Status::InUse(_)));
        segment.count = 0;
        assert_eq!(sysv_status(&segment), Status::Orphaned);
    }
}
