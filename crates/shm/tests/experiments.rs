//! The porting kit's shm tests: `--no-sync` breaks the handoff on purpose (and the summary
//! shows it), both ends must agree on it, and `--trace` shows shmget/shmat/shmdt/shmctl.

use std::process::{Command, Stdio};
use std::time::Duration;

use ipc_testkit::{assert_no_sysv_objects, run, unique_key, Running, WATCHDOG};
use nix::sys::signal::Signal;

const READY: &str = "waiting for shm-sender";

fn program(exe: &str, key: i32, extra: &[&str]) -> Command {
    let mut cmd = Command::new(exe);
    cmd.arg("--key")
        .arg(key.to_string())
        .args(extra)
        .stdin(Stdio::null());
    cmd
}

fn receiver(key: i32, extra: &[&str]) -> Running {
    let cmd = program(env!("CARGO_BIN_EXE_shm-receiver"), key, extra);
    let mut running = Running::start(cmd, None);
    running.wait_for_stderr(READY, WATCHDOG);
    running
}

fn sender(key: i32, extra: &[&str]) -> Command {
    program(env!("CARGO_BIN_EXE_shm-sender"), key, extra)
}

/// The counts of a `summary:` line, by name.
fn count(summary: &str, name: &str) -> u64 {
    summary
        .split_whitespace()
        .find_map(|field| field.strip_prefix(name)?.strip_prefix('='))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no {name}= in {summary:?}"))
}

#[test]
fn without_the_handoff_messages_are_lost_repeated_or_torn_and_the_summary_says_so() {
    let key = unique_key();
    let rx = receiver(key, &["--no-sync"]);
    // 2000 messages into one slot, as fast as the sender can write them, while the receiver
    // copies the slot once a millisecond: most are overwritten before anyone reads them.
    let tx = run(
        sender(key, &["--no-sync", "--count", "2000", "--size", "900"]),
        b"",
    );
    tx.assert_code(0).assert_no_panic();
    let done = rx.finish(WATCHDOG);
    done.assert_code(1).assert_no_panic();
    let summary = done.last_line();
    assert!(summary.starts_with("summary: "), "{}", done.stdout);
    let broken = count(summary, "lost") + count(summary, "duplicated") + count(summary, "corrupt");
    assert!(
        broken > 0,
        "nothing went wrong without the handoff: {summary}"
    );
    assert!(
        done.stderr.contains("error: checking what arrived"),
        "{}",
        done.stderr
    );
    assert_no_sysv_objects(key);
}

#[test]
fn both_ends_must_agree_on_no_sync() {
    let key = unique_key();
    let rx = receiver(key, &[]);
    let tx = run(sender(key, &["--no-sync", "--message", "hi"]), b"");
    tx.assert_code(2).assert_no_panic();
    assert!(
        tx.stderr
            .contains("the other end runs without --no-sync, and this one with it"),
        "{}",
        tx.stderr
    );
    assert!(
        tx.stderr
            .contains("hint: start both ends with --no-sync, or neither"),
        "{}",
        tx.stderr
    );
    rx.signal(Signal::SIGINT);
    rx.finish(Duration::from_secs(5))
        .assert_code(130)
        .assert_no_panic();
    assert_no_sysv_objects(key);
}

#[test]
fn trace_shows_the_segment_calls_and_the_semaphore_handoff() {
    let key = unique_key();
    let hex = format!("0x{:08x}", key as u32);
    let rx = receiver(key, &["--trace"]);
    let tx = run(sender(key, &["--trace", "--message", "hi"]), b"");
    tx.assert_code(0).assert_no_panic();
    let done = rx.finish(WATCHDOG);
    done.assert_code(0).assert_no_panic();

    // The receiver came first: it created the segment (1024-byte slot + 64-byte header).
    let err = &done.stderr;
    let prefix = format!("shmget({hex}, 1088, 0600|IPC_CREAT|IPC_EXCL) = ");
    let id = err
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {prefix:?} in:\n{err}"));
    let attach = format!("shmat({id}, NULL, 0) = 0x");
    let addr = err
        .lines()
        .find_map(|l| l.strip_prefix(&attach))
        .unwrap_or_else(|| panic!("no {attach:?} in:\n{err}"));
    for line in [
        format!("shmdt(0x{addr}) = 0"),
        format!("shmctl({id}, IPC_RMID, NULL) = 0"),
    ] {
        assert!(err.lines().any(|l| l == line), "no `{line}` in:\n{err}");
    }
    // The sender found it, attached it, and handed slots over with semop.
    let err = &tx.stderr;
    for start in [
        format!("shmget({hex}, 0, 0) = {id}"),
        format!("shmat({id}, NULL, 0) = 0x"),
        "semop(".to_string(),
        "shmdt(0x".to_string(),
    ] {
        assert!(
            err.lines().any(|l| l.starts_with(&start)),
            "no `{start}...` in:\n{err}"
        );
    }
    assert_no_sysv_objects(key);
}
