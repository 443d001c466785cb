//! Issue 15 item 7b: a shm-sender killed (SIGKILL) at the last instant before it hands a
//! filled slot over leaves the ring consistent: the write index and FULL change in one semop,
//! so the slot it filled is neither counted nor skipped, and the next sender and the receiver
//! go on as if it had never been filled.
//!
//! The instant is made deterministic with the sender's documented test-only pause
//! (`IPC_PAIRS_TEST_PAUSE_BEFORE_HANDOVER=N`: stop after filling slot N, before the semop).

use std::process::{Command, Stdio};

use ipc_testkit::{assert_no_sysv_objects, run, unique_key, Running, WATCHDOG};
use nix::sys::signal::Signal;

fn program(exe: &str, key: i32, extra: &[&str]) -> Command {
    let mut cmd = Command::new(exe);
    cmd.arg("--key")
        .arg(key.to_string())
        .args(extra)
        .stdin(Stdio::null());
    cmd
}

const SENDER: &str = env!("CARGO_BIN_EXE_shm-sender");
const RECEIVER: &str = env!("CARGO_BIN_EXE_shm-receiver");

#[test]
fn a_sender_killed_just_before_handing_a_slot_over_loses_only_that_slot() {
    let key = unique_key();
    let layout = ["--slots", "4", "--slot-size", "256"];
    // Only the second sender's End is awaited: the killed one never sends its own.
    let mut rx = Running::start(
        program(RECEIVER, key, &[&layout[..], &["--senders", "1"]].concat()),
        None,
    );
    rx.wait_for_stderr("waiting for shm-sender", WATCHDOG);

    let mut first = program(SENDER, key, &[&layout[..], &["--count", "10"]].concat());
    first.env("IPC_PAIRS_TEST_PAUSE_BEFORE_HANDOVER", "3");
    let mut first = Running::start(first, None);
    first.wait_for_stderr("test pause: slot filled, not handed over", WATCHDOG);
    first.signal(Signal::SIGKILL);
    assert_eq!(first.finish(WATCHDOG).code, None, "killed by SIGKILL");

    // The next sender writes the slot the killed one filled, and every slot after it.
    let second = run(
        program(SENDER, key, &[&layout[..], &["--count", "10"]].concat()),
        b"",
    );
    second.assert_code(0).assert_no_panic();

    let done = rx.finish(WATCHDOG);
    done.assert_code(0).assert_no_panic();
    // Messages 1 and 2 of the killed sender, all 10 of the second, and the second's End.
    assert_eq!(
        done.last_line(),
        "summary: received=12 lost=0 duplicated=0 reordered=0 corrupt=0",
        "{}",
        done.stderr
    );
    assert_no_sysv_objects(key);
}

#[test]
fn without_the_variable_there_is_no_pause() {
    let key = unique_key();
    let layout = ["--slots", "2"];
    let rx = Running::start(program(RECEIVER, key, &layout), None);
    let tx = run(
        program(SENDER, key, &[&layout[..], &["--count", "5"]].concat()),
        b"",
    );
    tx.assert_code(0).assert_no_panic();
    assert!(!tx.stderr.contains("test pause"), "{}", tx.stderr);
    let done = rx.finish(WATCHDOG);
    done.assert_code(0);
    assert_eq!(
        done.last_line(),
        "summary: received=5 lost=0 duplicated=0 reordered=0 corrupt=0"
    );
    assert_no_sysv_objects(key);
}
