//! ipc-doctor: the machine's IPC limits, the IPC objects that exist, and `--clean` for the
//! ones our programs left behind.
//!
//! What it shows: every limit behind an IPC error (msgmax, shmmax, SEMMSL, PIPE_BUF, ...), with
//! one line on what it means; every System V queue, semaphore set and segment (as `ipcs`), every
//! POSIX queue and segment, and the FIFOs and sockets of our programs, each with its owner, mode
//! and whether the processes the kernel recorded for it are still alive.
//! C and tools it mirrors: `ipcs -l`, `ipcs`, `ipcrm`; calls: reading /proc/sysvipc/*,
//! `semctl(GETPID)`, `kill(pid, 0)`, and for `--clean` `msgctl/semctl/shmctl(IPC_RMID)` and
//! `unlink` (which is what `mq_unlink`/`shm_unlink` do).
//!
//! Usage:
//!   ipc-doctor                      the report
//!   ipc-doctor --clean              ... and remove our orphaned objects (see `ipc_doctor::policy`)
//!   ipc-doctor --key 1234 --clean   only look at (and clean) the objects named
//!   ipc-doctor --remove 1234        remove the objects with key 1234, whoever made them
//! "Ours" means: a record of ownership says one of our programs made it (`ipc_common::ownership`).
//! There is no other end: run it any time, e.g. after killing a receiver with `kill -9`.
#![forbid(unsafe_code)]

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use ipc_common::cli::Key;
use ipc_common::ownership;
use ipc_common::{error, program, Error, Result};
use ipc_doctor::files::{self, FileObject, MQUEUE_DIR, SHM_DIR};
use ipc_doctor::ours::{Ownership, Records};
use ipc_doctor::policy::{self, Verdict};
use ipc_doctor::sysv::{self, Kind, SysvObject};
use ipc_doctor::{limits, remove_file, remove_sysv, report, Filter, Removal};
use nix::unistd::geteuid;

/// Show the machine's IPC limits and objects; with --clean remove what our programs left behind.
#[derive(Debug, Parser)]
#[command(name = "ipc-doctor", version)]
struct Args {
    /// Remove our orphaned objects: those a record says our programs made (owned by you, creator
    /// dead, used by no live process); objects without a record are listed as not ours and kept
    #[arg(long)]
    clean: bool,
    /// Accepted for old scripts; does nothing now (the record of ownership names the creator)
    #[arg(long, requires = "clean", hide = true)]
    unused: bool,
    /// Remove this object whoever made it, if the kernel lets us and no live process uses it: a
    /// key (1234, 0x4d2: every kind with it), a POSIX name (/ipc-pairs) or a path (/tmp/my_fifo)
    #[arg(long, value_name = "KEY|/NAME|PATH", value_parser = parse_target)]
    remove: Vec<String>,
    /// Only look at System V objects with this key (repeatable); naming any object skips the limits
    #[arg(long, value_name = "K")]
    key: Vec<Key>,
    /// Only look at this FIFO or socket path (repeatable)
    #[arg(long, value_name = "PATH")]
    path: Vec<PathBuf>,
    /// Only look at this POSIX queue or segment name, e.g. /ipc-pairs (repeatable)
    #[arg(long, value_name = "/NAME")]
    name: Vec<String>,
}

fn parse_target(text: &str) -> std::result::Result<String, String> {
    Filter::default().add_target(text)?;
    Ok(text.to_string())
}

fn main() -> ExitCode {
    program::main(run)
}

fn run(args: &Args) -> Result<()> {
    let mut named = Filter::default();
    for target in &args.remove {
        named
            .add_target(target)
            .map_err(|why| Error::usage("--remove", why))?;
    }
    let mut filter = Filter {
        keys: args.key.iter().map(|k| k.0).collect(),
        paths: args.path.clone(),
        names: args.name.clone(),
    };
    // --remove alone looks only at what it names; with --clean and no other choice, at all.
    if !(args.clean && filter.is_empty()) {
        filter.keys.extend(&named.keys);
        filter.paths.extend(named.paths.iter().cloned());
        filter.names.extend(named.names.iter().cloned());
    }
    let is_named_sysv = |o: &SysvObject| !named.is_empty() && named.takes_sysv(o);
    let is_named_file = |o: &FileObject| !named.is_empty() && named.takes_file(o);
    let records = Records::load();
    let me = geteuid().as_raw();
    let mut out = String::new();
    out.push_str(&limits_section(&filter));

    let mut sysv_targets: Vec<SysvObject> = Vec::new();
    let mut stale: Vec<(PathBuf, String)> = Vec::new();
    out.push_str("== System V objects (/proc/sysvipc) ==\n");
    for kind in Kind::ALL {
        let objects: Vec<SysvObject> = match sysv::list(kind) {
            Ok(all) => all.into_iter().filter(|o| filter.takes_sysv(o)).collect(),
            Err(err) => {
                out.push_str(&format!("{kind}s: unavailable: {err}\n"));
                continue;
            }
        };
        out.push_str(&format!("{kind}s: {}\n", count(objects.len(), &filter)));
        for object in objects {
            let ownership = records.of_sysv(&object);
            let verdict = policy::judge_sysv(&object, &ownership, me, is_named_sysv(&object));
            out.push_str(&report::sysv_line(
                &object,
                &ownership,
                &verdict,
                is_named_sysv(&object),
            ));
            out.push('\n');
            if let (Ownership::Stale(_, why), Some(file)) =
                (&ownership, records.sysv_file(object.kind, object.id))
            {
                stale.push((file.to_path_buf(), why.clone()));
            }
            if verdict == Verdict::Remove {
                sysv_targets.push(object);
            }
        }
    }

    let mut file_targets: Vec<FileObject> = Vec::new();
    out.push_str("== POSIX objects and FIFOs ==\n");
    let mut extra_paths = records.paths();
    extra_paths.extend(filter.paths.iter().cloned());
    let sections = [
        (
            "POSIX message queues (/dev/mqueue)",
            files::list_posix(MQUEUE_DIR),
        ),
        ("POSIX shared memory (/dev/shm)", files::list_posix(SHM_DIR)),
        (
            "FIFOs and sockets (/tmp/my_fifo, /tmp/ipt-*, recorded or named paths)",
            Some(files::list_tmp_paths(&extra_paths)),
        ),
    ];
    for (title, found) in sections {
        let Some(found) = found else {
            out.push_str(&format!("{title}: not mounted\n"));
            continue;
        };
        let objects: Vec<FileObject> = found.into_iter().filter(|o| filter.takes_file(o)).collect();
        out.push_str(&format!("{title}: {}\n", count(objects.len(), &filter)));
        for object in objects {
            let ownership = records.of_file(&object);
            let verdict = policy::judge_file(&object, &ownership, me, is_named_file(&object));
            out.push_str(&report::file_line(
                &object,
                &ownership,
                &verdict,
                is_named_file(&object),
            ));
            out.push('\n');
            if let (Ownership::Stale(_, why), Some(file)) =
                (&ownership, records.file_file(object.kind, &object.name))
            {
                stale.push((file.to_path_buf(), why.clone()));
            }
            if verdict == Verdict::Remove {
                file_targets.push(object);
            }
        }
    }
    let gone = gone_records(&records, &filter, &stale);
    out.push_str(&report::records(&records, &stale, &gone));
    print(&out)?;

    if !args.clean && named.is_empty() {
        return Ok(());
    }
    let mut removals: Vec<Removal> = Vec::new();
    let mut dropped: Vec<String> = Vec::new();
    for object in &sysv_targets {
        let judge =
            |o: &SysvObject| policy::judge_sysv(o, &records.of_sysv(o), me, is_named_sysv(o));
        if let Some(removal) = remove_sysv(object, judge) {
            if removal.result.is_ok() {
                dropped.extend(drop_record(
                    records.sysv_file(object.kind, object.id),
                    "its object was removed",
                ));
            }
            removals.push(removal);
        }
    }
    for object in &file_targets {
        if let Some(removal) = remove_file(object) {
            if removal.result.is_ok() {
                dropped.extend(drop_record(
                    records.file_file(object.kind, &object.name),
                    "its object was removed",
                ));
            }
            removals.push(removal);
        }
    }
    if args.clean {
        for (file, why) in &stale {
            dropped.extend(drop_record(Some(file), &format!("stale: {why}")));
        }
        for (file, why) in &gone {
            dropped.extend(drop_record(Some(file), why));
        }
    }
    clean_section(&removals, &dropped)?;
    match (&records.refused, args.clean) {
        (Some(why), true) => Err(Error::new("reading the records of ownership", why.clone())
            .with_hint("until the record directory is safe, nothing is known to be ours: --remove names objects to remove")),
        _ => Ok(()),
    }
}

/// The records (selected by `filter`) whose object is gone and whose creator is dead: left by
/// a program killed after its object was removed by someone else. With why, for the report.
fn gone_records(
    records: &Records,
    filter: &Filter,
    stale: &[(PathBuf, String)],
) -> Vec<(PathBuf, String)> {
    records
        .records()
        .filter(|(path, _)| !stale.iter().any(|(file, _)| file == path))
        .filter(|(_, r)| filter.takes_record(r) && !r.creator_alive() && r.object_gone())
        .map(|(path, r)| {
            let what = match r.kind {
                ownership::Kind::Sysv(kind) => format!("{kind} key {} id {}", r.name, r.id),
                _ => r.name.clone(),
            };
            (path.to_path_buf(), format!("{what} no longer exists"))
        })
        .collect()
}

/// Deletes one record file; the line to print, if there was one.
fn drop_record(file: Option<&std::path::Path>, why: &str) -> Option<String> {
    let file = file?;
    Some(match ownership::drop_record(file) {
        Ok(()) => format!("dropped the record {} ({why})", file.display()),
        Err(err) => format!("could not drop the record {}: {err}", file.display()),
    })
}

fn limits_section(filter: &Filter) -> String {
    if filter.is_empty() {
        report::limits(&limits::read_all())
    } else {
        String::new()
    }
}

fn count(n: usize, filter: &Filter) -> String {
    match n {
        0 if filter.is_empty() => "none".into(),
        0 => "none selected".into(),
        n => n.to_string(),
    }
}

fn print(text: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|err| Error::io("writing the report to standard output", &err))
}

/// Prints one line per removal and dropped record, and the total; fails (exit 1) if the kernel
/// refused any removal.
fn clean_section(removals: &[Removal], dropped: &[String]) -> Result<()> {
    let mut out = String::from("== Clean ==\n");
    let mut failed = Vec::new();
    for removal in removals {
        let detail = if removal.detail.is_empty() {
            String::new()
        } else {
            format!(": {}", removal.detail)
        };
        match removal.result {
            Ok(()) => out.push_str(&format!("removed {}{detail}\n", removal.what)),
            Err(errno) => {
                out.push_str(&format!(
                    "NOT removed {}: {}\n",
                    removal.what,
                    error::describe_errno(errno)
                ));
                failed.push(removal.what.clone());
            }
        }
    }
    for line in dropped {
        out.push_str(line);
        out.push('\n');
    }
    let removed = removals.len() - failed.len();
    out.push_str(&format!("clean: removed {removed} object(s)\n"));
    print(&out)?;
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Error::new(
            format!("removing {}", failed.join(", ")),
            "the kernel refused (see the lines above)",
        )
        .with_hint("check the owner with ipcs, or run as the user who created it"))
    }
}
