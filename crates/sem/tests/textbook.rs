//! The textbook's own sem1.c (c/textbook/, as printed) beside sem-mutex and beside its Rust
//! port (examples/sem1.rs), both ways round: the copy started with an argument (or
//! `sem-mutex --init`) initialises the one semaphore and removes it at the end, the other
//! joins. Both print to ONE shared stdout, as in one terminal, and the test checks that the X
//! and O pairs never interleave, 10 pairs each, and that nothing is left.
//!
//! sem1 sleeps as printed (2 s at the start, up to 3 s a round, 10 s before removing), so each
//! test takes 15 to 40 s; they run in parallel, each on its own key through the shim.

mod support;

use support::{appending, assert_pairs, finished_lines, printed};

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use ipc_testkit::{
    assert_gone, assert_no_sysv_objects, example, remapped, sysv_key_exists, textbook_program,
    unique_key, unique_path, Running,
};

/// sem1 sleeps up to 2 + 10 * 3 + 10 s; the other copy's turns come on top.
const TEXTBOOK_WATCHDOG: Duration = Duration::from_secs(150);

/// The shared stdout file, removed even when the test fails.
struct Shared(PathBuf);

impl Drop for Shared {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// sem-mutex on `key`, with `args`.
fn sem_mutex(key: i32, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sem-mutex"));
    cmd.arg("--key").arg(key.to_string()).args(args);
    cmd
}

/// `cmd` with one more argument (sem1's "started with an argument").
fn with_arg(mut cmd: Command, arg: &str) -> Command {
    cmd.arg(arg);
    cmd
}

/// Waits until the set with `key` exists (sem1 announces nothing: the set is its only sign
/// of life), within the watchdog.
fn wait_for_set(key: i32) {
    let deadline = Instant::now() + TEXTBOOK_WATCHDOG;
    while !sysv_key_exists("sem", key) {
        assert!(Instant::now() < deadline, "no semaphore set with key {key}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Starts `first`, waits until its set exists, starts `second`, both appending to `out`;
/// checks both exit 0, the pairs never interleave (10 of X, 10 of O), two "finished" lines,
/// and nothing left. Returns both stderrs (first, second).
fn side_by_side(key: i32, first: Command, second: Command, out: &Path) -> (String, String) {
    let first = Running::start(appending(&first, out), None);
    wait_for_set(key);
    let second = Running::start(appending(&second, out), None);
    let second = second.finish(TEXTBOOK_WATCHDOG);
    let first = first.finish(TEXTBOOK_WATCHDOG);
    let text = std::fs::read_to_string(out).unwrap_or_default();
    first.assert_code(0).assert_no_panic();
    second.assert_code(0).assert_no_panic();
    assert_pairs(&printed(out), 'X', 'O', 10);
    assert_eq!(finished_lines(out), 2, "{text}");
    assert_no_sysv_objects(key);
    (first.stderr, second.stderr)
}

#[test]
fn textbook_sem1_initialises_and_sem_mutex_joins() {
    let Some(sem1) = textbook_program("sem1") else {
        return;
    };
    let key = unique_key();
    let out = Shared(unique_path("sem1-x"));
    let (sem1_err, ours) = side_by_side(
        key,
        with_arg(remapped(&sem1, key, None), "1"),
        sem_mutex(key, &[]),
        &out.0,
    );
    assert!(!sem1_err.contains("Failed"), "{sem1_err}");
    // sem1 makes the set 0666: we join it, say so, and leave its removal to sem1.
    assert!(ours.contains("mode 0666"), "{ours}");
    assert!(ours.contains("stays for its initialiser"), "{ours}");
    let path = out.0.clone();
    drop(out);
    assert_gone(&path);
}

#[test]
fn sem_mutex_initialises_and_textbook_sem1_joins() {
    let Some(sem1) = textbook_program("sem1") else {
        return;
    };
    let key = unique_key();
    let out = Shared(unique_path("sem1-o"));
    let (ours, sem1_err) = side_by_side(
        key,
        sem_mutex(key, &["--init"]),
        remapped(&sem1, key, None),
        &out.0,
    );
    // sem1 never saw its set vanish under it (semaphore_p/_v failed), and we removed it.
    assert!(!sem1_err.contains("failed"), "{sem1_err}");
    assert!(ours.contains("semaphore set removed"), "{ours}");
}

#[test]
fn textbook_sem1_started_first_waits_for_sem_mutex_to_initialise() {
    let Some(sem1) = textbook_program("sem1") else {
        return;
    };
    let key = unique_key();
    let out = Shared(unique_path("sem1-o1"));
    // sem1 without an argument creates the set (value 0) and waits in its first P; our
    // initialiser takes that unused set over and sets it to 1.
    let (sem1_err, ours) = side_by_side(
        key,
        remapped(&sem1, key, None),
        sem_mutex(key, &["--init"]),
        &out.0,
    );
    assert!(!sem1_err.contains("failed"), "{sem1_err}");
    assert!(ours.contains("initialised semaphore set"), "{ours}");
    assert!(ours.contains("semaphore set removed"), "{ours}");
}

#[test]
fn the_sem1_example_initialises_and_textbook_sem1_joins() {
    let Some(sem1) = textbook_program("sem1") else {
        return;
    };
    let key = unique_key();
    let out = Shared(unique_path("ex-x"));
    let (example_err, sem1_err) = side_by_side(
        key,
        with_arg(remapped(&example("sem1"), key, None), "x"),
        remapped(&sem1, key, None),
        &out.0,
    );
    assert_eq!(example_err.trim(), "", "the example printed errors");
    assert!(!sem1_err.contains("failed"), "{sem1_err}");
}

#[test]
fn textbook_sem1_initialises_and_the_sem1_example_joins() {
    let Some(sem1) = textbook_program("sem1") else {
        return;
    };
    let key = unique_key();
    let out = Shared(unique_path("ex-o"));
    let (sem1_err, example_err) = side_by_side(
        key,
        with_arg(remapped(&sem1, key, None), "1"),
        remapped(&example("sem1"), key, None),
        &out.0,
    );
    assert!(!sem1_err.contains("Failed"), "{sem1_err}");
    assert_eq!(example_err.trim(), "", "the example printed errors");
}
