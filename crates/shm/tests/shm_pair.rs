//! shm-sender and shm-receiver as real processes: many messages through several slots, texts
//! verbatim through one, clear errors (oversize, another size, a dead peer), Ctrl-C on each
//! end, and nothing left in `ipcs -m -s` afterwards.

use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ipc_testkit::{assert_no_sysv_objects, run, unique_key, Running, WATCHDOG};
use nix::sys::signal::Signal;

const READY: &str = "waiting for shm-sender";

fn program(name: &str, key: i32, extra: &[&str]) -> Command {
    let exe = match name {
        "shm-sender" => env!("CARGO_BIN_EXE_shm-sender"),
        _ => env!("CARGO_BIN_EXE_shm-receiver"),
    };
    let mut cmd = Command::new(exe);
    cmd.arg("--key").arg(key.to_string()).args(extra);
    cmd
}

fn receiver(key: i32, extra: &[&str]) -> Running {
    let mut cmd = program("shm-receiver", key, extra);
    cmd.stdin(Stdio::null());
    let mut running = Running::start(cmd, None);
    running.wait_for_stderr(READY, WATCHDOG);
    running
}

fn sender(key: i32, extra: &[&str]) -> Command {
    program("shm-sender", key, extra)
}

/// Asserts that a finished program stopped within `limit` of `since`.
#[track_caller]
fn assert_within(since: Instant, limit: Duration) {
    assert!(since.elapsed() < limit, "took {:?}", since.elapsed());
}

#[test]
fn one_hundred_thousand_messages_through_eight_slots() {
    let key = unique_key();
    let layout = ["--slots", "8", "--slot-size", "2048"];
    let rx = receiver(key, &layout);
    let tx = run(
        sender(
            key,
            &[&layout[..], &["--count", "100000", "--size", "1000"]].concat(),
        ),
        b"",
    );
    tx.assert_code(0).assert_no_panic();
    let done = rx.finish(WATCHDOG);
    done.assert_code(0).assert_no_panic();
    assert_eq!(
        done.last_line(),
        "summary: received=100000 lost=0 duplicated=0 reordered=0 corrupt=0"
    );
    assert_no_sysv_objects(key);
}

#[test]
fn texts_arrive_verbatim_through_the_single_slot() {
    let key = unique_key();
    let rx = receiver(key, &["--slots", "1"]);
    let input = "hello\n  two spaces  \n\nünïcödé ✓\ntab\there\nend\nnot sent\n";
    let tx = run(sender(key, &["--slots", "1"]), input.as_bytes());
    tx.assert_code(0).assert_no_panic();
    assert!(
        !tx.stderr.contains("Enter some text:"),
        "no prompt when stdin is not a terminal"
    );
    let done = rx.finish(WATCHDOG);
    done.assert_code(0);
    assert_eq!(
        done.lines(),
        [
            "You wrote: hello",
            "You wrote:   two spaces  ",
            "You wrote: ",
            "You wrote: ünïcödé ✓",
            "You wrote: tab\there",
            "summary: received=5 lost=0 duplicated=0 reordered=0 corrupt=0"
        ]
    );
    for end in [&tx, &done] {
        let line = end
            .stderr
            .lines()
            .find(|l| l.starts_with("Memory attached at 0x"))
            .expect("attached line");
        let hex = line.trim_start_matches("Memory attached at 0x");
        assert_eq!(hex.len(), 16, "the full 64-bit address: {line}");
        assert!(
            u64::from_str_radix(hex, 16).is_ok_and(|addr| addr != 0),
            "{line}"
        );
    }
    assert_no_sysv_objects(key);
}

#[test]
fn a_sender_started_first_creates_and_its_messages_wait_for_the_receiver() {
    let key = unique_key();
    let tx = run(
        sender(
            key,
            &["--slots", "4", "--message", "early", "--message", "bird"],
        ),
        b"",
    );
    tx.assert_code(0).assert_no_panic();
    assert!(
        tx.stderr.contains("created shared memory segment"),
        "{}",
        tx.stderr
    );
    let mut cmd = program("shm-receiver", key, &["--slots", "4"]);
    cmd.stdin(Stdio::null());
    let done = Running::start(cmd, None).finish(WATCHDOG);
    done.assert_code(0);
    assert_eq!(
        done.lines(),
        [
            "You wrote: early",
            "You wrote: bird",
            "summary: received=2 lost=0 duplicated=0 reordered=0 corrupt=0"
        ]
    );
    assert_no_sysv_objects(key);
}

#[test]
fn two_senders_share_one_receiver() {
    let key = unique_key();
    let layout = ["--slots", "4", "--slot-size", "2048"];
    let rx = receiver(key, &[&layout[..], &["--senders", "2"]].concat());
    let a = Running::start(
        sender(
            key,
            &[&layout[..], &["--count", "3000", "--size", "500"]].concat(),
        ),
        Some(Vec::new()),
    );
    let b = Running::start(
        sender(
            key,
            &[&layout[..], &["--count", "2000", "--size", "1500"]].concat(),
        ),
        Some(Vec::new()),
    );
    a.finish(WATCHDOG).assert_code(0);
    b.finish(WATCHDOG).assert_code(0);
    let done = rx.finish(WATCHDOG);
    done.assert_code(0);
    assert_eq!(
        done.last_line(),
        "summary: received=5000 lost=0 duplicated=0 reordered=0 corrupt=0"
    );
    assert_no_sysv_objects(key);
}

#[test]
fn kill_9_of_the_sender_mid_stream_ends_the_receiver_with_an_error() {
    let key = unique_key();
    let rx = receiver(key, &["--slots", "2"]);
    let mut cmd = sender(
        key,
        &["--slots", "2", "--count", "100000000", "--size", "100"],
    );
    cmd.stdin(Stdio::null());
    let mut tx = Running::start(cmd, None);
    tx.wait_for_stderr("Memory attached at", WATCHDOG);
    tx.signal(Signal::SIGKILL);
    let killed = Instant::now();
    assert_eq!(tx.finish(WATCHDOG).code, None);
    let done = rx.finish(WATCHDOG);
    assert_within(killed, Duration::from_secs(5));
    done.assert_code(1).assert_no_panic();
    assert!(done.stderr.contains("shm-receiver: error: waiting for a message: shm-sender went away without sending its End"), "{}", done.stderr);
    assert!(
        done.last_line().starts_with("summary: received="),
        "{}",
        done.stdout
    );
    assert_no_sysv_objects(key);
}

#[test]
fn kill_9_of_the_receiver_ends_the_blocked_sender_which_cleans_up() {
    let key = unique_key();
    let mut cmd = program("shm-receiver", key, &[]);
    cmd.stdin(Stdio::null());
    let mut rx = Running::start(cmd, None);
    rx.wait_for_stderr(READY, WATCHDOG);
    let mut cmd = sender(key, &["--count", "100000000", "--size", "100"]);
    cmd.stdin(Stdio::null());
    let mut tx = Running::start(cmd, None);
    tx.wait_for_stderr("Memory attached at", WATCHDOG);
    rx.signal(Signal::SIGKILL);
    let killed = Instant::now();
    assert_eq!(rx.finish(WATCHDOG).code, None);
    let done = tx.finish(WATCHDOG);
    assert_within(killed, Duration::from_secs(5));
    done.assert_code(1).assert_no_panic();
    assert!(done.stderr.contains("shm-receiver (pid"), "{}", done.stderr);
    assert!(
        done.stderr.contains("is gone without removing the segment"),
        "{}",
        done.stderr
    );
    assert_no_sysv_objects(key);
}

#[test]
fn a_sender_that_finishes_after_its_receiver_was_killed_fails_and_cleans_up() {
    let key = unique_key();
    let mut cmd = program("shm-receiver", key, &["--slots", "8"]);
    cmd.stdin(Stdio::null());
    let mut rx = Running::start(cmd, None);
    rx.wait_for_stderr(READY, WATCHDOG);
    rx.signal(Signal::SIGKILL);
    assert_eq!(rx.finish(WATCHDOG).code, None);
    // Three messages and the End fit the 8 slots: the sender never has to wait, and only
    // at its End can it notice that nobody will read them.
    let done = run(sender(key, &["--slots", "8", "--count", "3"]), b"");
    done.assert_code(1).assert_no_panic();
    assert!(
        done.stderr
            .contains("died without removing the segment (killed?)"),
        "{}",
        done.stderr
    );
    assert_no_sysv_objects(key);
}

#[test]
fn a_message_larger_than_a_slot_is_refused_naming_the_slot_size() {
    let key = unique_key();
    let long = "x".repeat(2000);
    let done = run(sender(key, &["--message", &long]), b"");
    done.assert_code(1).assert_no_panic();
    assert!(
        done.stderr
            .contains("shm-sender: error: sending message 1:"),
        "{}",
        done.stderr
    );
    assert!(
        done.stderr.contains("more than a slot of 1024 bytes holds"),
        "{}",
        done.stderr
    );
    assert!(
        done.stderr
            .contains("hint: start both ends with a larger --slot-size"),
        "{}",
        done.stderr
    );
    // The sender created both objects and no receiver came: it removed them.
    assert_no_sysv_objects(key);

    // A payload of 4090 bytes plus its envelope is more than the 4092 bytes a 4096-byte slot holds.
    let done = run(
        sender(
            key,
            &["--count", "1", "--size", "4090", "--slot-size", "4096"],
        ),
        b"",
    );
    done.assert_code(1);
    assert!(
        done.stderr.contains("more than a slot of 4096 bytes holds"),
        "{}",
        done.stderr
    );
    assert_no_sysv_objects(key);
}

#[test]
fn a_key_holding_a_segment_of_another_size_is_a_clear_error() {
    // A joining end adopts the segment's layout (tests/geometry.rs); one given another
    // --slot-size explicitly is told the segment's.
    let key = unique_key();
    let rx = receiver(key, &["--slot-size", "4096"]);
    let done = run(
        sender(key, &["--slot-size", "1024", "--message", "hi"]),
        b"",
    );
    done.assert_code(1).assert_no_panic();
    assert!(
        done.stderr.contains(
            "it holds 1 slot(s) of 4096 bytes + a 64-byte header = 4160 bytes and this \
             program was started with --slot-size 1024"
        ),
        "{}",
        done.stderr
    );
    assert!(
        done.stderr
            .contains("hint: start this end with --slot-size 4096 --slots 1"),
        "{}",
        done.stderr
    );
    // Same size, other layout: 2 slots of 1024 + header = 1 slot of 2048 + header.
    rx.signal(Signal::SIGINT);
    rx.finish(WATCHDOG).assert_code(130);
    let rx = receiver(key, &["--slot-size", "2048"]);
    let done = run(sender(key, &["--slots", "2", "--message", "hi"]), b"");
    done.assert_code(1);
    assert!(
        done.stderr.contains("it holds 1 slot(s) of 2048 bytes"),
        "{}",
        done.stderr
    );
    assert!(
        done.stderr
            .contains("hint: start this end with --slot-size 2048 --slots 1"),
        "{}",
        done.stderr
    );
    rx.signal(Signal::SIGINT);
    rx.finish(WATCHDOG).assert_code(130);
    assert_no_sysv_objects(key);
}

#[test]
fn ctrl_c_on_a_waiting_receiver_removes_everything() {
    let key = unique_key();
    for signal in [Signal::SIGINT, Signal::SIGTERM] {
        let rx = receiver(key, &["--slots", "3"]);
        let start = Instant::now();
        rx.signal(signal);
        let done = rx.finish(WATCHDOG);
        assert_within(start, Duration::from_secs(5));
        done.assert_stopped_cleanly("shm-receiver")
            .assert_nothing_received();
        assert_no_sysv_objects(key);
    }
}

#[test]
fn ctrl_c_on_the_sender_stops_it_and_the_receiver_cleans_up() {
    let key = unique_key();
    let rx = receiver(key, &[]);
    // The sender reads a stdin that stays open (a socket whose other end we keep, silent):
    // it is blocked in read when Ctrl-C comes.
    let (stdin, _keep_open) = UnixStream::pair().expect("socketpair");
    let mut cmd = sender(key, &[]);
    cmd.stdin(Stdio::from(OwnedFd::from(stdin)));
    let mut tx = Running::start(cmd, None);
    tx.wait_for_stderr("Memory attached at", WATCHDOG);
    let start = Instant::now();
    tx.signal(Signal::SIGINT);
    let done = tx.finish(WATCHDOG);
    assert_within(start, Duration::from_secs(5));
    done.assert_code(130).assert_no_panic();
    let done = rx.finish(WATCHDOG);
    done.assert_code(1);
    assert!(
        done.stderr.contains("went away without sending its End"),
        "{}",
        done.stderr
    );
    assert_no_sysv_objects(key);
}

#[test]
fn ctrl_c_on_a_sender_waiting_for_a_receiver_removes_what_it_created() {
    let key = unique_key();
    // One slot: the first message fills it, the second waits for a receiver that never comes.
    let mut cmd = sender(key, &["--message", "one", "--message", "two"]);
    cmd.stdin(Stdio::null());
    let mut tx = Running::start(cmd, None);
    tx.wait_for_stderr("waiting for shm-receiver to start", WATCHDOG);
    let start = Instant::now();
    tx.signal(Signal::SIGTERM);
    let done = tx.finish(WATCHDOG);
    assert_within(start, Duration::from_secs(5));
    done.assert_code(130).assert_no_panic();
    assert_no_sysv_objects(key);
}

#[test]
fn bad_layouts_are_usage_errors() {
    for args in [
        &["--slots", "0"][..],
        &["--slot-size", "10"][..],
        &["--slots", "40000"][..],
    ] {
        let done = run(program("shm-receiver", unique_key(), args), b"");
        done.assert_code(2).assert_no_panic();
        assert!(
            done.stderr.starts_with("shm-receiver: error:"),
            "{}",
            done.stderr
        );
    }
}
