//! `shm-sender --ring` and `shm-receiver --ring` as real processes: texts verbatim, a long
//! stream, the sender started first, a message too big for a slot, `kill -9` and Ctrl-C on
//! each end, a ring left by a killed receiver, and the usage errors.
//!
//! Each test names its own ring (`/ipt-shmring-PID-N`) and ends by checking that /dev/shm no
//! longer holds it.

use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ipc_testkit::{assert_gone, run, unique_shm_name, Running, WATCHDOG};
use nix::sys::signal::Signal;

const READY: &str = "waiting for shm-sender --ring";
const SENDER_WAITS: &str = "waiting for shm-receiver --ring to create the ring";

/// A ring name of this test alone, and where it shows up in /dev/shm.
fn unique_ring() -> (String, PathBuf) {
    unique_shm_name("shmring")
}

fn program(name: &str, ring: &str, extra: &[&str]) -> Command {
    let exe = match name {
        "shm-sender" => env!("CARGO_BIN_EXE_shm-sender"),
        _ => env!("CARGO_BIN_EXE_shm-receiver"),
    };
    let mut cmd = Command::new(exe);
    cmd.args(["--ring", "--name", ring]).args(extra);
    cmd
}

/// Starts shm-receiver --ring and waits for its ready line.
fn receiver(ring: &str, extra: &[&str]) -> Running {
    let mut cmd = program("shm-receiver", ring, extra);
    cmd.stdin(Stdio::null());
    let mut running = Running::start(cmd, None);
    running.wait_for_stderr(READY, WATCHDOG);
    running
}

/// Starts shm-sender --ring with stdin closed (for --message / --count).
fn sender(ring: &str, extra: &[&str]) -> Running {
    let mut cmd = program("shm-sender", ring, extra);
    cmd.stdin(Stdio::null());
    Running::start(cmd, None)
}

/// Asserts that a finished program stopped within `limit` of `since`.
#[track_caller]
fn assert_within(since: Instant, limit: Duration) {
    assert!(since.elapsed() < limit, "took {:?}", since.elapsed());
}

#[test]
fn texts_arrive_verbatim_through_the_ring() {
    let (ring, file) = unique_ring();
    let rx = receiver(&ring, &[]);
    assert!(file.exists(), "the receiver created {}", file.display());
    let input = "hello\n  two spaces  \n\nünïcödé ✓\ntab\there\nend\nnot sent\n";
    let tx = run(program("shm-sender", &ring, &[]), input.as_bytes());
    tx.assert_code(0).assert_no_panic();
    assert!(
        !tx.stderr.contains("Enter some text:"),
        "no prompt when stdin is not a terminal"
    );
    assert!(
        tx.stderr.contains("sent 5 message(s) and the End"),
        "{}",
        tx.stderr
    );
    let done = rx.finish(WATCHDOG);
    done.assert_code(0).assert_no_panic();
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
    assert_gone(&file);
}

#[test]
fn twenty_thousand_messages_of_a_thousand_bytes_arrive_intact() {
    let (ring, file) = unique_ring();
    let layout = ["--slots", "8", "--slot-size", "2048"];
    let rx = receiver(&ring, &layout);
    let tx = sender(&ring, &["--count", "20000", "--size", "1000"]).finish(WATCHDOG);
    tx.assert_code(0).assert_no_panic();
    assert!(
        tx.stderr.contains("found the ring") && tx.stderr.contains("8 slot(s) of 2048 bytes"),
        "the sender takes the ring's layout: {}",
        tx.stderr
    );
    let done = rx.finish(WATCHDOG);
    done.assert_code(0).assert_no_panic();
    assert_eq!(
        done.last_line(),
        "summary: received=20000 lost=0 duplicated=0 reordered=0 corrupt=0"
    );
    assert_gone(&file);
}

#[test]
fn a_sender_started_first_waits_for_the_receiver() {
    let (ring, file) = unique_ring();
    let mut tx = sender(&ring, &["--message", "early", "--message", "bird"]);
    tx.wait_for_stderr(SENDER_WAITS, WATCHDOG);
    assert!(!file.exists(), "a sender never creates the ring");
    let rx = receiver(&ring, &["--slots", "4"]);
    tx.finish(WATCHDOG).assert_code(0).assert_no_panic();
    let done = rx.finish(WATCHDOG);
    done.assert_code(0);
    assert_eq!(
        done.lines(),
        [
            "You wrote: early",
            "You wrote: bird",
            "summary: received=2 lost=0 duplicated=0 reordered=0 corrupt=0"
        ]
    );
    assert_gone(&file);
}

#[test]
fn a_message_too_big_for_a_slot_is_refused_and_says_how_to_size_the_slots() {
    let (ring, file) = unique_ring();
    let rx = receiver(&ring, &["--slot-size", "1024"]);
    let tx = sender(&ring, &["--count", "3", "--size", "2000"]).finish(WATCHDOG);
    tx.assert_code(1).assert_no_panic();
    assert!(
        tx.stderr
            .contains("shm-sender: error: sending 3 message(s) of 2000 bytes: it takes 20")
            && tx.stderr.contains("more than a slot of the ring"),
        "{}",
        tx.stderr
    );
    assert!(
        tx.stderr
            .contains("hint: start shm-receiver --ring with --slot-size 20"),
        "{}",
        tx.stderr
    );
    // Refused before it attached: the receiver still waits, and a sender that fits gets through.
    let tx = sender(&ring, &["--count", "3", "--size", "900"]).finish(WATCHDOG);
    tx.assert_code(0);
    let done = rx.finish(WATCHDOG);
    done.assert_code(0);
    assert_eq!(
        done.last_line(),
        "summary: received=3 lost=0 duplicated=0 reordered=0 corrupt=0"
    );

    // A typed line is checked when it is sent: the sender fails, the receiver says it left.
    let rx = receiver(&ring, &[]);
    let long = format!("short\n{}\n", "x".repeat(2000));
    let tx = run(program("shm-sender", &ring, &[]), long.as_bytes());
    tx.assert_code(1);
    assert!(
        tx.stderr
            .contains("shm-sender: error: sending message 2: it takes"),
        "{}",
        tx.stderr
    );
    let done = rx.finish(WATCHDOG);
    done.assert_code(1).assert_no_panic();
    assert!(
        done.stderr
            .contains("shm-sender went away without sending its End"),
        "{}",
        done.stderr
    );
    assert_eq!(done.lines()[0], "You wrote: short");
    assert_gone(&file);
}

#[test]
fn kill_9_of_the_receiver_fails_the_sender_which_removes_the_ring() {
    let (ring, file) = unique_ring();
    let rx = receiver(&ring, &["--slots", "2"]);
    let mut tx = sender(&ring, &["--count", "100000000", "--size", "100"]);
    tx.wait_for_stderr("found the ring", WATCHDOG);
    rx.signal(Signal::SIGKILL);
    let killed = Instant::now();
    assert_eq!(rx.finish(WATCHDOG).code, None);
    let done = tx.finish(WATCHDOG);
    assert_within(killed, Duration::from_secs(5));
    done.assert_code(1).assert_no_panic();
    assert!(
        done.stderr.contains("shm-sender: error: sending message ")
            && done.stderr.contains("shm-receiver (pid")
            && done.stderr.contains("died without removing the ring"),
        "{}",
        done.stderr
    );
    assert!(
        done.stderr.contains(&format!("removed the ring {ring}")),
        "{}",
        done.stderr
    );
    assert_gone(&file);
}

#[test]
fn kill_9_of_the_sender_is_reported_and_the_receiver_removes_the_ring() {
    let (ring, file) = unique_ring();
    let rx = receiver(&ring, &["--slots", "2"]);
    let mut tx = sender(&ring, &["--count", "100000000", "--size", "100"]);
    tx.wait_for_stderr("found the ring", WATCHDOG);
    tx.signal(Signal::SIGKILL);
    let killed = Instant::now();
    assert_eq!(tx.finish(WATCHDOG).code, None);
    let done = rx.finish(WATCHDOG);
    assert_within(killed, Duration::from_secs(5));
    done.assert_code(1).assert_no_panic();
    assert!(
        done.stderr
            .contains("shm-receiver: error: waiting for a message: shm-sender (pid")
            && done.stderr.contains("died without sending its End"),
        "{}",
        done.stderr
    );
    assert!(
        done.last_line().starts_with("summary: received="),
        "{}",
        done.stdout
    );
    assert_gone(&file);
}

#[test]
fn ctrl_c_on_a_waiting_receiver_removes_the_ring() {
    let (ring, file) = unique_ring();
    for signal in [Signal::SIGINT, Signal::SIGTERM] {
        let rx = receiver(&ring, &["--slots", "3"]);
        assert!(file.exists());
        let start = Instant::now();
        rx.signal(signal);
        let done = rx.finish(WATCHDOG);
        assert_within(start, Duration::from_secs(5));
        done.assert_stopped_cleanly("shm-receiver")
            .assert_nothing_received();
        assert_gone(&file);
    }
}

#[test]
fn ctrl_c_on_the_sender_stops_it_and_the_receiver_removes_the_ring() {
    let (ring, file) = unique_ring();
    let rx = receiver(&ring, &[]);
    // The sender reads a stdin that stays open and silent: it is blocked in read.
    let (stdin, _keep_open) = UnixStream::pair().expect("socketpair");
    let mut cmd = program("shm-sender", &ring, &[]);
    cmd.stdin(Stdio::from(OwnedFd::from(stdin)));
    let mut tx = Running::start(cmd, None);
    tx.wait_for_stderr("found the ring", WATCHDOG);
    let start = Instant::now();
    tx.signal(Signal::SIGINT);
    let done = tx.finish(WATCHDOG);
    assert_within(start, Duration::from_secs(5));
    done.assert_code(130).assert_no_panic();
    let done = rx.finish(WATCHDOG);
    done.assert_code(1);
    assert!(
        done.stderr
            .contains("shm-sender went away without sending its End"),
        "{}",
        done.stderr
    );
    assert_gone(&file);
}

#[test]
fn a_second_sender_is_refused_and_the_first_one_is_not_disturbed() {
    let (ring, file) = unique_ring();
    let rx = receiver(&ring, &[]);
    let (stdin, keep_open) = UnixStream::pair().expect("socketpair");
    let mut cmd = program("shm-sender", &ring, &[]);
    cmd.stdin(Stdio::from(OwnedFd::from(stdin)));
    let mut first = Running::start(cmd, None);
    first.wait_for_stderr("found the ring", WATCHDOG);
    let second = sender(&ring, &["--message", "me too"]).finish(WATCHDOG);
    second.assert_code(1).assert_no_panic();
    assert!(
        second.stderr.contains("already has (or had) a producer")
            && second.stderr.contains("hint: one shm-sender per ring"),
        "{}",
        second.stderr
    );
    // The first sender goes on: its line and its End (stdin closed) arrive.
    let mut keep_open = keep_open;
    std::io::Write::write_all(&mut keep_open, b"first\n").expect("write a line");
    drop(keep_open);
    first.finish(WATCHDOG).assert_code(0);
    let done = rx.finish(WATCHDOG);
    done.assert_code(0);
    assert_eq!(
        done.lines(),
        [
            "You wrote: first",
            "summary: received=1 lost=0 duplicated=0 reordered=0 corrupt=0"
        ]
    );
    assert_gone(&file);
}

#[test]
fn ctrl_c_on_a_sender_waiting_for_the_ring_stops_it() {
    let (ring, file) = unique_ring();
    let mut tx = sender(&ring, &["--message", "never"]);
    tx.wait_for_stderr(SENDER_WAITS, WATCHDOG);
    let start = Instant::now();
    tx.signal(Signal::SIGINT);
    let done = tx.finish(WATCHDOG);
    assert_within(start, Duration::from_secs(5));
    done.assert_code(130).assert_no_panic();
    assert_gone(&file);
}

#[test]
fn a_ring_left_by_a_killed_receiver_is_removed_by_whoever_comes_next() {
    let (ring, file) = unique_ring();
    // Nobody else is attached: the killed receiver's ring stays in /dev/shm.
    let rx = receiver(&ring, &[]);
    rx.signal(Signal::SIGKILL);
    assert_eq!(rx.finish(WATCHDOG).code, None);
    assert!(file.exists(), "a killed receiver cannot remove its ring");
    // A new receiver takes the name over.
    let mut cmd = program("shm-receiver", &ring, &[]);
    cmd.stdin(Stdio::null());
    let mut rx = Running::start(cmd, None);
    rx.wait_for_stderr(
        &format!("removed the ring {ring} left by shm-receiver pid"),
        WATCHDOG,
    );
    rx.wait_for_stderr(READY, WATCHDOG);
    rx.signal(Signal::SIGKILL);
    assert_eq!(rx.finish(WATCHDOG).code, None);
    assert!(file.exists());
    // So does a sender, which then waits for a live receiver.
    let mut tx = sender(&ring, &["--message", "after"]);
    tx.wait_for_stderr(&format!("removed the ring {ring}"), WATCHDOG);
    tx.wait_for_stderr(SENDER_WAITS, WATCHDOG);
    let rx = receiver(&ring, &[]);
    tx.finish(WATCHDOG).assert_code(0);
    let done = rx.finish(WATCHDOG);
    done.assert_code(0);
    assert_eq!(done.lines()[0], "You wrote: after");
    assert_gone(&file);
}

#[test]
fn ring_with_a_system_v_option_or_a_bad_name_is_a_usage_error() {
    let (ring, file) = unique_ring();
    for name in ["shm-sender", "shm-receiver"] {
        for extra in [
            &["--no-sync"][..],
            &["--key", "0x5000"][..],
            &["--wire", "c"][..],
        ] {
            let done = run(program(name, &ring, extra), b"");
            done.assert_code(2).assert_no_panic();
            assert!(
                done.stderr.starts_with(&format!("{name}: error: "))
                    && done.stderr.contains("--ring"),
                "{name} {extra:?}: {}",
                done.stderr
            );
        }
        // --name alone belongs to --ring.
        let mut cmd = Command::new(match name {
            "shm-sender" => env!("CARGO_BIN_EXE_shm-sender"),
            _ => env!("CARGO_BIN_EXE_shm-receiver"),
        });
        cmd.args(["--name", &ring]);
        run(cmd, b"").assert_code(2).assert_no_panic();
        // Not a POSIX shared-memory name.
        let done = run(program(name, "no-slash", &[]), b"");
        done.assert_code(2).assert_no_panic();
        assert!(
            done.stderr.contains("is not a POSIX shared-memory name"),
            "{}",
            done.stderr
        );
    }
    let done = run(program("shm-receiver", &ring, &["--senders", "2"]), b"");
    done.assert_code(2).assert_no_panic();
    assert!(done.stderr.contains("one shm-sender"), "{}", done.stderr);
    let done = run(program("shm-receiver", &ring, &["--slot-size", "10"]), b"");
    done.assert_code(2).assert_no_panic();
    assert_gone(&file);
}

#[test]
fn trace_shows_the_ring_s_system_calls_in_c_notation() {
    let (ring, file) = unique_ring();
    let rx = receiver(&ring, &["--trace"]);
    let tx = run(
        program("shm-sender", &ring, &["--trace", "--message", "hi"]),
        b"",
    );
    tx.assert_code(0).assert_no_panic();
    let rx = rx.finish(WATCHDOG);
    rx.assert_code(0).assert_no_panic();
    for (who, stderr, calls) in [
        (
            "receiver",
            &rx.stderr,
            &[
                "shm_open(",
                "O_CREAT|O_EXCL",
                "ftruncate(",
                "mmap(NULL, ",
                "munmap(",
                "shm_unlink(",
            ][..],
        ),
        (
            "sender",
            &tx.stderr,
            &["shm_open(", "fstat(", "mmap(NULL, ", "munmap("][..],
        ),
    ] {
        for call in calls {
            assert!(stderr.contains(call), "the {who} traces {call}:\n{stderr}");
        }
        assert!(stderr.contains("Memory attached at 0x"), "{stderr}");
    }
    assert!(
        !rx.stderr.contains("ETIMEDOUT"),
        "a wait that runs out is not traced:\n{}",
        rx.stderr
    );
    assert_gone(&file);
}
