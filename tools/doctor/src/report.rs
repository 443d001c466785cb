//! How the report reads: one line per limit, one line per object, in plain ASCII.

use std::fmt::Write as _;
use std::path::PathBuf;

use nix::unistd::{Uid, User};

use crate::files::{FileKind, FileObject};
use crate::limits::Group;
use crate::ours::{self, Ownership, Records};
use crate::policy::{self, Verdict};
use crate::process::Liveness;
use crate::sysv::{Kind, SysvObject};

/// The limits section: `  NAME  VALUE  MEANING [SOURCE]`.
pub fn limits(groups: &[Group]) -> String {
    let mut text = String::from("== Limits ==\n");
    for group in groups {
        let _ = writeln!(text, "{}", group.title);
        for limit in &group.limits {
            let value = limit.value.as_deref().unwrap_or("unavailable");
            let _ = writeln!(
                text,
                "  {:<16} {:>20}  {} [{}]",
                limit.name, value, limit.meaning, limit.source
            );
        }
    }
    text
}

/// A uid as a user name when the system knows it, else the number.
pub fn owner(uid: u32) -> String {
    match User::from_uid(Uid::from_raw(uid)) {
        Ok(Some(user)) => user.name,
        _ => uid.to_string(),
    }
}

fn verdict_text(verdict: &Verdict, named: bool) -> String {
    match verdict {
        Verdict::Remove if named => "--remove removes it".into(),
        Verdict::Remove => "--clean removes it".into(),
        Verdict::Keep(why) => format!("--clean keeps it: {why}"),
    }
}

/// Who made an object, as far as the records say.
fn maker_text(ownership: &Ownership) -> String {
    match ownership {
        Ownership::Ours(record) => ours::creator_text(record),
        Ownership::NotOurs => "no record: not made by our programs".into(),
        Ownership::Stale(..) => "stale record: not made by our programs".into(),
    }
}

/// One System V object: key, id, owner, mode, contents, recorded pids, maker, status, verdict.
/// `named`: the object was named with `--remove`.
pub fn sysv_line(
    object: &SysvObject,
    ownership: &Ownership,
    verdict: &Verdict,
    named: bool,
) -> String {
    let contents = match object.kind {
        Kind::Queue => format!("{} message(s), {} bytes", object.count, object.bytes),
        Kind::Semaphores => format!("{} semaphore(s)", object.count),
        Kind::Segment => format!("{} bytes, {} attached", object.bytes, object.count),
    };
    let pids = if object.pids.is_empty() {
        "no pid recorded".to_string()
    } else {
        object
            .pids
            .iter()
            .map(|p| {
                let state = match p.liveness {
                    Liveness::Alive => "alive",
                    Liveness::Dead => "dead",
                };
                format!("{} {} ({state})", p.role, p.pid)
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "  key {}  id {}  owner {}  mode {:04o}  {contents}  {pids}; {}\n    status: {}; {}",
        object.key_text(),
        object.id,
        owner(object.uid),
        object.mode,
        maker_text(ownership),
        policy::sysv_status(object),
        verdict_text(verdict, named)
    )
}

/// One file-system object: name, kind, owner, mode, size, maker, status, verdict.
/// `named`: the object was named with `--remove`.
pub fn file_line(
    object: &FileObject,
    ownership: &Ownership,
    verdict: &Verdict,
    named: bool,
) -> String {
    let size = match object.kind {
        FileKind::PosixQueue => format!("  {} bytes queued", object.bytes),
        FileKind::PosixSegment => format!("  {} bytes", object.bytes),
        _ => String::new(),
    };
    format!(
        "  {}  {}  owner {}  mode {:04o}{size}  {}\n    status: {}; {}",
        object.name,
        object.kind,
        owner(object.uid),
        object.mode,
        maker_text(ownership),
        policy::file_status(object),
        verdict_text(verdict, named)
    )
}

/// The records section: where they are, how many, and the ones `--clean` drops (stale: their
/// id or name now names another object; gone: their object no longer exists) or cannot read.
pub fn records(
    records: &Records,
    stale: &[(PathBuf, String)],
    gone: &[(PathBuf, String)],
) -> String {
    let mut text = format!("== Records of ownership ({}) ==\n", records.dir.display());
    if let Some(why) = &records.refused {
        let _ = writeln!(text, "refused: {why}");
        let _ = writeln!(
            text,
            "so nothing is known to be ours: --clean removes nothing"
        );
        return text;
    }
    let _ = writeln!(text, "{} record(s)", records.found.len());
    for found in &records.found {
        if let Err(why) = &found.record {
            let _ = writeln!(text, "  {}: {why}; left alone", found.path.display());
        }
    }
    for (file, why) in stale {
        let _ = writeln!(
            text,
            "  {}: stale ({why}); --clean drops it",
            file.display()
        );
    }
    for (file, why) in gone {
        let _ = writeln!(
            text,
            "  {}: {why}, its creator is dead; --clean drops it",
            file.display()
        );
    }
    text
}
