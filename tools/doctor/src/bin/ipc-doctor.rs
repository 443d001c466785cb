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
//!   ipc-doctor --clean --unused     ... also ours that no process has used yet
//!   ipc-doctor --key 1234 --clean   only look at (and clean) the objects named
//! There is no other end: run it any time, e.g. after killing a receiver with `kill -9`.
#![forbid(unsafe_code)]

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use ipc_common::cli::Key;
use ipc_common::{error, program, Error, Result};
use ipc_doctor::files::{self, FileObject, MQUEUE_DIR, SHM_DIR};
use ipc_doctor::policy::{self, Verdict};
use ipc_doctor::sysv::{self, Kind, SysvObject};
use ipc_doctor::{limits, remove_file, remove_sysv, report, Filter, Removal};
use nix::unistd::geteuid;

/// Show the machine's IPC limits and objects; with --clean remove what our programs left behind.
#[derive(Debug, Parser)]
#[command(name = "ipc-doctor", version)]
struct Args {
    /// Remove our orphaned objects: keys 1234 and 0x5xxxxxxx, /ipc-pairs*, /ipt-*, /tmp/my_fifo,
    /// /tmp/ipt-*, owned by you, used by no live process
    #[arg(long)]
    clean: bool,
    /// With --clean: also remove our System V objects that no process has used yet
    #[arg(long, requires = "clean")]
    unused: bool,
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

fn main() -> ExitCode {
    program::main(run)
}

fn run(args: &Args) -> Result<()> {
    let filter = Filter {
        keys: args.key.iter().map(|k| k.0).collect(),
        paths: args.path.clone(),
        names: args.name.clone(),
    };
    let me = geteuid().as_raw();
    let mut out = String::new();
    out.push_str(&limits_section(&filter));

    let mut sysv_targets: Vec<SysvObject> = Vec::new();
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
            let verdict = policy::judge_sysv(&object, me, args.unused);
            out.push_str(&report::sysv_line(&object, &verdict));
            out.push('\n');
            if verdict == Verdict::Remove {
                sysv_targets.push(object);
            }
        }
    }

    let mut file_targets: Vec<FileObject> = Vec::new();
    out.push_str("== POSIX objects and FIFOs ==\n");
    let sections = [
        (
            "POSIX message queues (/dev/mqueue)",
            files::list_posix(MQUEUE_DIR),
        ),
        ("POSIX shared memory (/dev/shm)", files::list_posix(SHM_DIR)),
        (
            "FIFOs and sockets (/tmp/my_fifo, /tmp/ipt-*)",
            Some(files::list_tmp_paths()),
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
            let verdict = policy::judge_file(&object, me);
            out.push_str(&report::file_line(&object, &verdict));
            out.push('\n');
            if verdict == Verdict::Remove {
                file_targets.push(object);
            }
        }
    }
    print(&out)?;

    if !args.clean {
        return Ok(());
    }
    let mut removals: Vec<Removal> = Vec::new();
    for object in &sysv_targets {
        let judge = |o: &SysvObject| policy::judge_sysv(o, me, args.unused);
        removals.extend(remove_sysv(object, judge));
    }
    for object in &file_targets {
        removals.extend(remove_file(object));
    }
    clean_section(&removals)
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

/// Prints one line per removal and the total; fails (exit 1) if the kernel refused any.
fn clean_section(removals: &[Removal]) -> Result<()> {
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
