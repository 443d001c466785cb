//! sem-sender and sem-receiver as real processes: signals counted, End honoured, errors
//! clear, Ctrl-C clean, and no semaphore set left behind.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ipc_testkit::{assert_no_sysv_objects, run, unique_key, Running, WATCHDOG};
use nix::sys::signal::Signal;

fn receiver(key: i32, extra: &[&str]) -> Running {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sem-receiver"));
    cmd.arg("--key")
        .arg(key.to_string())
        .args(extra)
        .stdin(Stdio::null());
    let mut running = Running::start(cmd, None);
    running.wait_for_stderr("waiting for signals", WATCHDOG);
    running
}

fn sender(key: i32, extra: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sem-sender"));
    cmd.arg("--key").arg(key.to_string()).args(extra);
    cmd
}

#[test]
fn each_line_is_one_signal_and_end_finishes() {
    let key = unique_key();
    let rx = receiver(key, &[]);
    run(
        sender(key, &[]),
        b"hello\nworld\nthird line\nend\nnot sent\n",
    )
    .assert_code(0)
    .assert_no_panic();
    let done = rx.finish(WATCHDOG);
    done.assert_code(0).assert_no_panic();
    assert_eq!(
        done.lines(),
        [
            "signal 1 received",
            "signal 2 received",
            "signal 3 received",
            "summary: received=3 lost=0 duplicated=0 reordered=0 corrupt=0"
        ]
    );
    assert_no_sysv_objects(key);
}

#[test]
fn two_senders_many_signals_none_lost() {
    let key = unique_key();
    let rx = receiver(key, &["--senders", "2"]);
    let a = Running::start(sender(key, &["--count", "3000"]), Some(Vec::new()));
    let b = Running::start(sender(key, &["--count", "2000"]), Some(Vec::new()));
    a.finish(WATCHDOG).assert_code(0);
    b.finish(WATCHDOG).assert_code(0);
    let done = rx.finish(WATCHDOG);
    done.assert_code(0);
    assert_eq!(
        done.last_line(),
        "summary: received=5000 lost=0 duplicated=0 reordered=0 corrupt=0"
    );
    assert_eq!(done.lines().len(), 5001);
    assert_no_sysv_objects(key);
}

#[test]
fn a_sender_without_receiver_says_what_to_start() {
    let key = unique_key();
    let done = run(sender(key, &["--message", "x"]), b"");
    done.assert_code(1).assert_no_panic();
    assert!(
        done.stderr
            .contains("sem-sender: error: opening the semaphore set with key"),
        "{}",
        done.stderr
    );
    assert!(
        done.stderr.contains("hint: start sem-receiver first"),
        "{}",
        done.stderr
    );
    assert_no_sysv_objects(key);
}

#[test]
fn a_second_receiver_on_the_same_key_is_refused_and_removes_nothing() {
    let key = unique_key();
    let first = receiver(key, &[]);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sem-receiver"));
    cmd.arg("--key").arg(key.to_string());
    let second = run(cmd, b"");
    second.assert_code(1).assert_no_panic();
    assert!(
        second.stderr.contains("already exists (EEXIST)"),
        "{}",
        second.stderr
    );
    // The first one's set is still there and still works.
    run(sender(key, &["--message", "still here"]), b"").assert_code(0);
    let done = first.finish(WATCHDOG);
    done.assert_code(0);
    assert_eq!(done.lines()[0], "signal 1 received");
    assert_no_sysv_objects(key);
}

#[test]
fn ctrl_c_on_a_waiting_receiver_stops_it_and_removes_the_set() {
    let key = unique_key();
    for signal in [Signal::SIGINT, Signal::SIGTERM] {
        let rx = receiver(key, &[]);
        let start = Instant::now();
        rx.signal(signal);
        let done = rx.finish(WATCHDOG);
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "took {:?}",
            start.elapsed()
        );
        done.assert_stopped_cleanly("sem-receiver")
            .assert_nothing_received();
        assert_no_sysv_objects(key);
    }
}

#[test]
fn bad_arguments_are_usage_errors() {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sem-receiver"));
    cmd.args(["--key", "0"]);
    let done = run(cmd, b"");
    done.assert_code(2).assert_no_panic();
    assert!(
        done.stderr.starts_with("sem-receiver: error:"),
        "{}",
        done.stderr
    );
}
