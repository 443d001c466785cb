//! Which objects are ours, which are still in use, and so which ones `--clean` removes.
//!
//! `--clean` removes only what our programs and tests leave behind, and only when nobody uses
//! it any more:
//! - System V objects owned by you whose key is the tutorial's 1234, a test key
//!   (0x50000000..=0x5fffffff, see ipc_testkit::unique_key) or an ipc-bench key
//!   (0x49000000..=0x49ffffff, left by a bench killed with -9), and whose recorded processes are
//!   all dead (nothing attached to a segment, nobody blocked on a semaphore). An object no
//!   process has used yet (a queue a receiver just made and waits on records no pid) is kept
//!   unless `--unused` is given.
//! - POSIX queues and segments named /ipc-pairs* or /ipt-*, owned by you, open by nobody.
//! - FIFOs and Unix sockets at /tmp/my_fifo, /tmp/ipt-* or /tmp/ipc-pairs-bench-*, owned by
//!   you, of the right file
//!   type (a regular file there is never touched), not open or bound by anybody.

use std::ops::RangeInclusive;

use crate::files::{FileKind, FileObject, BENCH_PATH_PREFIX, DEFAULT_FIFO, TEST_PATH_PREFIX};
use crate::process::Liveness;
use crate::sysv::{Kind, SysvObject};

/// The tutorial's key, `(key_t)1234`.
pub const TUTORIAL_KEY: i32 = 1234;
/// The keys the tests use (ipc_testkit::unique_key).
pub const TEST_KEYS: RangeInclusive<i32> = 0x5000_0000..=0x5fff_ffff;
/// The keys ipc-bench uses (0x49PPPPNN: "I", its pid, a counter).
pub const BENCH_KEYS: RangeInclusive<i32> = 0x4900_0000..=0x49ff_ffff;
/// The prefixes of the POSIX names our programs (/ipc-pairs) and tests (/ipt-) use.
pub const POSIX_PREFIXES: [&str; 2] = ["/ipc-pairs", "/ipt-"];

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

/// True for the keys our programs and tests use.
pub fn is_our_key(key: i32) -> bool {
    key == TUTORIAL_KEY || TEST_KEYS.contains(&key) || BENCH_KEYS.contains(&key)
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

/// What `--clean` does with a System V object, for the user `me`.
pub fn judge_sysv(object: &SysvObject, me: u32, unused: bool) -> Verdict {
    if !is_our_key(object.key) {
        return Verdict::Keep(
            "key is neither 1234 nor a test key 0x5xxxxxxx nor a bench key 0x49xxxxxx".into(),
        );
    }
    if object.uid != me {
        return Verdict::Keep(format!("owned by uid {}, not you", object.uid));
    }
    match sysv_status(object) {
        Status::Orphaned => Verdict::Remove,
        Status::Unknown if unused => Verdict::Remove,
        Status::Unknown => Verdict::Keep(format!(
            "no process recorded, it may be waiting for its first use: --clean --unused \
             removes it, or ipcrm {} {}",
            crate::sysv::ipcrm_flag(object.kind),
            object.id
        )),
        _ => Verdict::Keep("a live process uses it".into()),
    }
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

/// True for the POSIX names and paths our programs and tests use.
pub fn is_our_name(object: &FileObject) -> bool {
    match object.kind {
        FileKind::PosixQueue | FileKind::PosixSegment => {
            POSIX_PREFIXES.iter().any(|p| object.name.starts_with(p))
        }
        FileKind::Fifo | FileKind::Socket | FileKind::Other => {
            object.name == DEFAULT_FIFO
                || object.name.starts_with(TEST_PATH_PREFIX)
                || object.name.starts_with(BENCH_PATH_PREFIX)
        }
    }
}

/// What `--clean` does with a file-system object, for the user `me`.
pub fn judge_file(object: &FileObject, me: u32) -> Verdict {
    if !is_our_name(object) {
        return Verdict::Keep("name is not one of ours (/ipc-pairs*, /ipt-*)".into());
    }
    if object.kind == FileKind::Other {
        return Verdict::Keep("not a FIFO or socket: never removed".into());
    }
    if object.name == DEFAULT_FIFO && object.kind != FileKind::Fifo {
        return Verdict::Keep("/tmp/my_fifo is only removed when it is a FIFO".into());
    }
    if object.uid != me {
        return Verdict::Keep(format!("owned by uid {}, not you", object.uid));
    }
    match file_status(object) {
        Status::Idle => Verdict::Remove,
        _ => Verdict::Keep("a live process uses it".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sysv::RecordedPid;

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
        }
    }

    fn pid(liveness: Liveness) -> RecordedPid {
        RecordedPid {
            role: "last msgsnd".into(),
            pid: 42,
            liveness,
        }
    }

    #[test]
    fn only_our_keys_of_our_user_with_dead_processes_are_removed() {
        let dead = || vec![pid(Liveness::Dead)];
        assert_eq!(
            judge_sysv(&queue(1234, 7, dead()), 7, false),
            Verdict::Remove
        );
        assert_eq!(
            judge_sysv(&queue(0x5000_0000, 7, dead()), 7, false),
            Verdict::Remove
        );
        assert_eq!(
            judge_sysv(&queue(0x5fff_ffff, 7, dead()), 7, false),
            Verdict::Remove
        );
        assert_eq!(
            judge_sysv(&queue(0x4912_3401, 7, dead()), 7, false),
            Verdict::Remove,
            "a key a killed ipc-bench left"
        );
        assert!(matches!(
            judge_sysv(&queue(0x4fff_ffff, 7, dead()), 7, false),
            Verdict::Keep(_)
        ));
        assert!(matches!(
            judge_sysv(&queue(0x48ff_ffff, 7, dead()), 7, false),
            Verdict::Keep(_)
        ));
        assert!(matches!(
            judge_sysv(&queue(0x6000_0000, 7, dead()), 7, false),
            Verdict::Keep(_)
        ));
        assert!(matches!(
            judge_sysv(&queue(1234, 8, dead()), 7, false),
            Verdict::Keep(_)
        ));
        let live = vec![pid(Liveness::Alive)];
        assert!(matches!(
            judge_sysv(&queue(1234, 7, live), 7, true),
            Verdict::Keep(_)
        ));
    }

    #[test]
    fn objects_without_a_recorded_pid_need_unused() {
        assert!(matches!(
            judge_sysv(&queue(1234, 7, vec![]), 7, false),
            Verdict::Keep(_)
        ));
        assert_eq!(
            judge_sysv(&queue(1234, 7, vec![]), 7, true),
            Verdict::Remove
        );
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
