//! The porting kit's sem tests: `--no-lock` breaks the critical section on purpose (and the
//! breakage shows in the output), and `--trace` shows semget/semctl/semop in C notation.

mod support;

use support::{mutex, printed, wait_for_output};

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use ipc_testkit::{assert_gone, assert_no_sysv_objects, run, unique_key, unique_path, WATCHDOG};
use nix::sys::signal::Signal;

/// Removes the shared output file even when the test fails.
struct Remove<'a>(&'a Path);

impl Drop for Remove<'_> {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.0);
    }
}

#[test]
fn without_the_lock_a_second_instance_enters_while_the_first_is_inside() {
    let key = unique_key();
    let out = unique_path("nolock");
    let _remove = Remove(&out);
    // X enters (prints X) and stays inside for a minute: long enough for anything to happen.
    let mut x = mutex(
        key,
        &out,
        &[
            "--no-lock",
            "--char",
            "X",
            "--rounds",
            "1",
            "--hold-ms",
            "60000",
        ],
    );
    x.wait_for_stderr("--no-lock", WATCHDOG);
    wait_for_output(&out, "X");
    // O walks in and out while X is still inside: with the semaphore it would have to wait.
    let o = mutex(
        key,
        &out,
        &[
            "--no-lock",
            "--char",
            "O",
            "--rounds",
            "1",
            "--hold-ms",
            "0",
            "--pause-ms",
            "0",
        ],
    );
    o.finish(WATCHDOG).assert_code(0).assert_no_panic();
    assert_eq!(
        printed(&out),
        "XOO",
        "O's pair landed inside X's: the critical section was not protected"
    );
    // X is still inside; stop it. The last one out removes the set as usual.
    x.signal(Signal::SIGINT);
    let done = x.finish(Duration::from_secs(5));
    done.assert_code(130).assert_no_panic();
    assert_no_sysv_objects(key);
    drop(_remove);
    assert_gone(&out);
}

#[test]
fn trace_shows_semget_semctl_and_each_p_and_v() {
    let key = unique_key();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sem-mutex"));
    cmd.args([
        "--trace",
        "--key",
        &key.to_string(),
        "--rounds",
        "1",
        "--hold-ms",
        "0",
        "--pause-ms",
        "0",
        "--linger-ms",
        "0",
    ]);
    let done = run(cmd, b"");
    done.assert_code(0).assert_no_panic();
    // The first copy finds no set: it initialises it and prints X, then sem1.c's last line.
    assert_eq!(
        done.stdout,
        format!("XX\n{} - finished\n", done_pid(&done.stderr))
    );
    let err = &done.stderr;
    let prefix = format!(
        "semget(0x{:08x}, 1, 0600|IPC_CREAT|IPC_EXCL) = ",
        key as u32
    );
    let id = err
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {prefix:?} in:\n{err}"));
    let expected = [
        format!("semctl({id}, 0, SETVAL, 1) = 0"),
        // P on entering: {0, -1, SEM_UNDO}
        format!("semop({id}, [{{sem_num=0, sem_op=-1, sem_flg=SEM_UNDO}}], 1) = 0"),
        // The initialiser, holding the lock at the end, looks for waiters before removing.
        format!("semctl({id}, 0, GETNCNT) = 0"),
        format!("semctl({id}, 0, IPC_RMID) = 0"),
    ];
    for line in &expected {
        assert!(err.lines().any(|l| l == line), "no `{line}` in:\n{err}");
    }
    // V on leaving: {0, +1, SEM_UNDO}, bounded with semtimedop so Ctrl-C cannot hang it.
    let v = format!(
        "semtimedop({id}, [{{sem_num=0, sem_op=1, sem_flg=SEM_UNDO}}], 1, {{tv_sec=0, tv_nsec="
    );
    assert!(
        err.lines()
            .any(|l| l.starts_with(&v) && l.ends_with("}) = 0")),
        "no V in:\n{err}"
    );
    assert_no_sysv_objects(key);
}

/// The pid sem-mutex names in its ready line (`sem-mutex X: pid 123 initialised ...`).
fn done_pid(stderr: &str) -> &str {
    stderr
        .lines()
        .find_map(|l| l.split(": pid ").nth(1))
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_else(|| panic!("no pid in:\n{stderr}"))
}
