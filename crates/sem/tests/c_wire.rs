//! Our fixed C version (c/sem_mutex.c) beside sem-mutex, both ways round: both use sem1.c's
//! one-semaphore set, so their pairs never interleave, whichever initialises, and the
//! initialiser removes the set at the end. Both print to one shared stdout.

mod support;

use support::{appending, assert_pairs, finished_lines, printed};

use std::path::PathBuf;
use std::process::Command;

use ipc_testkit::{assert_no_sysv_objects, c_program, unique_key, unique_path, Running, WATCHDOG};

/// The shared stdout file, removed even when the test fails.
struct Shared(PathBuf);

impl Drop for Shared {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn key_arg(key: i32) -> String {
    format!("0x{:08x}", key as u32)
}

#[test]
fn c_sem_mutex_initialises_and_sem_mutex_joins() {
    let Some(c) = c_program("sem_mutex") else {
        return;
    };
    let key = unique_key();
    let out = Shared(unique_path("csem-x"));
    let mut first = Command::new(c);
    first.args(["-i", "-k", &key_arg(key), "-r", "10", "-d", "40"]);
    let mut first = Running::start(appending(&first, &out.0), None);
    first.wait_for_stderr("semaphore set created", WATCHDOG);
    let mut second = Command::new(env!("CARGO_BIN_EXE_sem-mutex"));
    second.args([
        "--key",
        &key.to_string(),
        "--hold-ms",
        "10",
        "--pause-ms",
        "10",
    ]);
    let second = Running::start(appending(&second, &out.0), None).finish(WATCHDOG);
    let first = first.finish(WATCHDOG);
    first.assert_code(0);
    second.assert_code(0).assert_no_panic();
    assert_pairs(&printed(&out.0), 'X', 'O', 10);
    assert_eq!(finished_lines(&out.0), 2);
    assert!(
        second.stderr.contains("joined semaphore set"),
        "{}",
        second.stderr
    );
    assert_no_sysv_objects(key);
}

#[test]
fn sem_mutex_initialises_and_c_sem_mutex_joins() {
    let Some(c) = c_program("sem_mutex") else {
        return;
    };
    let key = unique_key();
    let out = Shared(unique_path("csem-o"));
    let mut first = Command::new(env!("CARGO_BIN_EXE_sem-mutex"));
    first.args([
        "--init",
        "--key",
        &key.to_string(),
        "--hold-ms",
        "10",
        "--pause-ms",
        "10",
        "--linger-ms",
        "1000",
    ]);
    let mut first = Running::start(appending(&first, &out.0), None);
    first.wait_for_stderr("initialised semaphore set", WATCHDOG);
    let mut second = Command::new(c);
    second.args(["-k", &key_arg(key), "-r", "10", "-d", "40"]);
    let second = Running::start(appending(&second, &out.0), None).finish(WATCHDOG);
    let first = first.finish(WATCHDOG);
    first.assert_code(0).assert_no_panic();
    second.assert_code(0);
    assert_pairs(&printed(&out.0), 'X', 'O', 10);
    assert_eq!(finished_lines(&out.0), 2);
    assert!(
        second.stderr.contains("joined the semaphore set"),
        "{}",
        second.stderr
    );
    assert!(
        first.stderr.contains("semaphore set removed"),
        "{}",
        first.stderr
    );
    assert_no_sysv_objects(key);
}
