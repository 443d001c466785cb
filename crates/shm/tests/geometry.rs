//! The segment's geometry travels in its header: the end that creates the segment records its
//! slots and slot size there, and an end that joins adopts them, so only the first end needs
//! `--slots` and `--slot-size`. A value given explicitly that differs from the header's is
//! still an error, naming both layouts and what to do. Real processes; nothing left after.

use std::process::{Command, Stdio};

use ipc_testkit::{assert_no_sysv_objects, run, unique_key, Finished, Running, WATCHDOG};

const READY: &str = "waiting for shm-sender";

fn program(name: &str, key: i32, extra: &[&str]) -> Command {
    let exe = match name {
        "shm-sender" => env!("CARGO_BIN_EXE_shm-sender"),
        _ => env!("CARGO_BIN_EXE_shm-receiver"),
    };
    let mut cmd = Command::new(exe);
    cmd.arg("--key").arg(key.to_string()).args(extra);
    cmd.stdin(Stdio::null());
    cmd
}

/// A receiver run to its end (for one that joins a segment its sender left).
fn receive(key: i32, extra: &[&str]) -> Finished {
    Running::start(program("shm-receiver", key, extra), None).finish(WATCHDOG)
}

/// The line where an end says what it created or found.
fn found_line(stderr: &str) -> &str {
    stderr
        .lines()
        .find(|line| line.contains("shared memory segment key"))
        .unwrap_or_else(|| panic!("no created/found line in:\n{stderr}"))
}

#[test]
fn a_receiver_joining_without_options_adopts_the_senders_slots_and_slot_size() {
    let key = unique_key();
    let tx = run(
        program(
            "shm-sender",
            key,
            &[
                "--slots",
                "4",
                "--slot-size",
                "512",
                "--message",
                "one",
                "--message",
                "two",
                "--message",
                "three",
            ],
        ),
        b"",
    );
    tx.assert_code(0).assert_no_panic();
    assert!(found_line(&tx.stderr).contains("created"), "{}", tx.stderr);
    let done = receive(key, &[]);
    done.assert_code(0).assert_no_panic();
    let found = found_line(&done.stderr);
    assert!(
        found.contains("found") && found.contains("4 slot(s) of 512 bytes"),
        "the receiver took the segment's layout: {found}"
    );
    assert_eq!(
        done.lines(),
        [
            "You wrote: one",
            "You wrote: two",
            "You wrote: three",
            "summary: received=3 lost=0 duplicated=0 reordered=0 corrupt=0"
        ]
    );
    assert_no_sysv_objects(key);
}

#[test]
fn a_sender_joining_without_options_adopts_the_receivers_layout() {
    let key = unique_key();
    let mut rx = Running::start(
        program("shm-receiver", key, &["--slots", "3", "--slot-size", "256"]),
        None,
    );
    rx.wait_for_stderr(READY, WATCHDOG);
    // 200-byte messages fit a 256-byte slot; 2000 of them go round the 3 slots many times.
    let tx = run(
        program("shm-sender", key, &["--count", "2000", "--size", "200"]),
        b"",
    );
    tx.assert_code(0).assert_no_panic();
    let found = found_line(&tx.stderr);
    assert!(
        found.contains("found") && found.contains("3 slot(s) of 256 bytes"),
        "{found}"
    );
    let done = rx.finish(WATCHDOG);
    done.assert_code(0).assert_no_panic();
    assert_eq!(
        done.last_line(),
        "summary: received=2000 lost=0 duplicated=0 reordered=0 corrupt=0"
    );
    assert_no_sysv_objects(key);
}

#[test]
fn a_value_given_explicitly_that_differs_from_the_segments_is_still_an_error() {
    let key = unique_key();
    let tx = run(
        program(
            "shm-sender",
            key,
            &["--slots", "4", "--slot-size", "512", "--message", "kept"],
        ),
        b"",
    );
    tx.assert_code(0).assert_no_panic();
    for (given, named) in [
        (&["--slots", "2"][..], "--slots 2"),
        (&["--slot-size", "1024"][..], "--slot-size 1024"),
        (
            &["--slots", "4", "--slot-size", "256"][..],
            "--slot-size 256",
        ),
    ] {
        let refused = receive(key, given);
        refused.assert_code(1).assert_no_panic();
        assert!(
            refused.stderr.contains(
                "it holds 4 slot(s) of 512 bytes + a 64-byte header = 2112 bytes and this \
                 program was started with"
            ) && refused.stderr.contains(named),
            "{given:?}: {}",
            refused.stderr
        );
        assert!(
            refused
                .stderr
                .contains("hint: start this end with --slot-size 512 --slots 4, or without"),
            "{}",
            refused.stderr
        );
        assert_eq!(
            refused.last_line(),
            "summary: received=0 lost=0 duplicated=0 reordered=0 corrupt=0"
        );
    }
    // The refused receivers left the segment and its message to the right one.
    let done = receive(key, &["--slots", "4"]);
    done.assert_code(0).assert_no_panic();
    assert_eq!(
        done.lines(),
        [
            "You wrote: kept",
            "summary: received=1 lost=0 duplicated=0 reordered=0 corrupt=0"
        ]
    );
    assert_no_sysv_objects(key);
}
