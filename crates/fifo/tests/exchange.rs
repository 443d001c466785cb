//! fifo-sender and fifo-receiver as real processes: who starts first, many senders at once,
//! successive senders, the receiver going away, --timeout, Ctrl-C. Each test uses its own
//! FIFO path from `unique_path` and ends by checking that nothing is left there.

use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ipc_testkit::{assert_gone, process_exists, unique_path, Finished, Running, WATCHDOG};
use nix::sys::signal::Signal;

const READY: &str = "waiting for a sender";
const SENDER_WAITS: &str = "waiting for a receiver";
const CLEAN: &str = "lost=0 duplicated=0 reordered=0 corrupt=0";

/// A unique FIFO path, and a guard that removes whatever a failed test left there (a passing
/// test has already asserted that nothing is left). Declare it first, so that the processes
/// (declared later, dropped earlier) are killed before it runs.
fn fifo_path(tag: &str) -> (PathBuf, Leftover) {
    let path = unique_path(tag);
    (path.clone(), Leftover(path))
}

struct Leftover(PathBuf);

impl Drop for Leftover {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn receiver(path: &Path, extra: &[&str]) -> Running {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fifo-receiver"));
    cmd.arg("--path").arg(path).args(extra).stdin(Stdio::null());
    Running::start(cmd, None)
}

fn sender(path: &Path, extra: &[&str]) -> Running {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fifo-sender"));
    cmd.arg("--path").arg(path).args(extra).stdin(Stdio::null());
    Running::start(cmd, None)
}

fn sender_with_stdin(path: &Path, input: &str) -> Running {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fifo-sender"));
    cmd.arg("--path").arg(path);
    Running::start(cmd, Some(input.as_bytes().to_vec()))
}

fn is_fifo(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_fifo())
}

#[track_caller]
fn assert_clean_summary(done: &Finished, received: u64) {
    done.assert_code(0).assert_no_panic();
    assert_eq!(
        done.last_line(),
        format!("summary: received={received} {CLEAN}"),
        "{}",
        done.stderr
    );
}

#[test]
fn receiver_first_creates_the_fifo_prints_texts_verbatim_and_removes_it() {
    let (path, _leftover) = fifo_path("fifo-rfirst");
    let mut rx = receiver(&path, &[]);
    rx.wait_for_stderr(READY, WATCHDOG);
    assert!(
        is_fifo(&path),
        "the receiver made a FIFO at {}",
        path.display()
    );
    let tx = sender(
        &path,
        &[
            "--message",
            "hello",
            "--message",
            "a line with  spaces",
            "--message",
            "ünïcödé",
        ],
    )
    .finish(WATCHDOG);
    tx.assert_code(0).assert_no_panic();
    assert!(
        tx.stderr.contains("File Permissions Are OK"),
        "{}",
        tx.stderr
    );
    assert_eq!(
        tx.stderr.matches("Written Successfully...").count(),
        3,
        "{}",
        tx.stderr
    );
    let rx = rx.finish(WATCHDOG);
    assert_clean_summary(&rx, 3);
    assert!(
        rx.stderr.contains("Fifo Created Successfully..."),
        "{}",
        rx.stderr
    );
    assert_eq!(
        rx.lines()[..3],
        [
            "Data From Named Pipe Is: hello",
            "Data From Named Pipe Is: a line with  spaces",
            "Data From Named Pipe Is: ünïcödé"
        ]
    );
    assert_gone(&path);
}

#[test]
fn sender_first_creates_the_fifo_waits_for_the_receiver_and_removes_it() {
    let (path, _leftover) = fifo_path("fifo-sfirst");
    let mut tx = sender(&path, &["--message", "first", "--message", "second"]);
    tx.wait_for_stderr(SENDER_WAITS, WATCHDOG);
    assert!(is_fifo(&path));
    let rx = receiver(&path, &[]).finish(WATCHDOG);
    let tx = tx.finish(WATCHDOG);
    tx.assert_code(0).assert_no_panic();
    assert!(
        tx.stderr.contains("Fifo Created Successfully..."),
        "{}",
        tx.stderr
    );
    assert_clean_summary(&rx, 2);
    assert!(
        rx.stderr.contains("File Permissions Are OK"),
        "{}",
        rx.stderr
    );
    assert_eq!(
        rx.lines()[..2],
        [
            "Data From Named Pipe Is: first",
            "Data From Named Pipe Is: second"
        ]
    );
    assert_gone(&path);
}

#[test]
fn stdin_lines_until_end_are_sent() {
    let (path, _leftover) = fifo_path("fifo-stdin");
    let mut rx = receiver(&path, &[]);
    rx.wait_for_stderr(READY, WATCHDOG);
    let tx = sender_with_stdin(&path, "one\ntwo words\nend\nnot sent\n").finish(WATCHDOG);
    tx.assert_code(0);
    let rx = rx.finish(WATCHDOG);
    assert_clean_summary(&rx, 2);
    assert_eq!(
        rx.lines()[..2],
        [
            "Data From Named Pipe Is: one",
            "Data From Named Pipe Is: two words"
        ]
    );
    assert_gone(&path);
}

#[test]
fn four_concurrent_senders_of_5000_messages_arrive_whole() {
    let (path, _leftover) = fifo_path("fifo-many");
    let mut rx = receiver(&path, &["--senders", "4"]);
    rx.wait_for_stderr(READY, WATCHDOG);
    let senders: Vec<Running> = (0..4)
        .map(|_| sender(&path, &["--count", "5000", "--size", "1000"]))
        .collect();
    for tx in senders {
        let tx = tx.finish(WATCHDOG);
        tx.assert_code(0).assert_no_panic();
        assert!(
            tx.stderr
                .contains("Written Successfully... (5000 generated messages)"),
            "{}",
            tx.stderr
        );
    }
    let rx = rx.finish(WATCHDOG);
    assert_clean_summary(&rx, 20_000);
    assert_gone(&path);
}

#[test]
fn four_senders_started_first_race_to_create_the_fifo() {
    // One of them wins mkfifo, the others get EEXIST and check the winner's FIFO.
    let (path, _leftover) = fifo_path("fifo-race");
    let mut senders: Vec<Running> = (0..4)
        .map(|_| sender(&path, &["--count", "1000", "--size", "1000"]))
        .collect();
    for tx in &mut senders {
        tx.wait_for_stderr(SENDER_WAITS, WATCHDOG);
    }
    let rx = receiver(&path, &["--senders", "4"]).finish(WATCHDOG);
    let mut created = 0;
    for tx in senders {
        let tx = tx.finish(WATCHDOG);
        tx.assert_code(0).assert_no_panic();
        created += usize::from(tx.stderr.contains("Fifo Created Successfully..."));
    }
    assert_eq!(created, 1, "exactly one sender created the FIFO");
    assert_clean_summary(&rx, 4000);
    assert_gone(&path);
}

#[test]
fn successive_senders_are_read_across_end_of_file() {
    // The first sender makes the FIFO and removes it when it is done; the receiver, waiting
    // for a second End, must find or make the FIFO the second sender uses.
    let (path, _leftover) = fifo_path("fifo-succ");
    let mut first = sender(&path, &["--message", "from the first"]);
    first.wait_for_stderr(SENDER_WAITS, WATCHDOG);
    let mut rx = receiver(&path, &["--senders", "2"]);
    let first = first.finish(WATCHDOG);
    first.assert_code(0);
    assert!(
        first.stderr.contains("removed the FIFO"),
        "{}",
        first.stderr
    );
    // The receiver has read the first End and reopened: it says so before we go on.
    rx.wait_for_stderr("every writer closed it", WATCHDOG);
    let second =
        sender(&path, &["--message", "from the second", "--timeout", "30"]).finish(WATCHDOG);
    second.assert_code(0);
    let rx = rx.finish(WATCHDOG);
    assert_clean_summary(&rx, 2);
    assert_eq!(
        rx.lines()[..2],
        [
            "Data From Named Pipe Is: from the first",
            "Data From Named Pipe Is: from the second"
        ]
    );
    assert_gone(&path);
}

#[test]
fn a_receiver_killed_mid_stream_gives_the_sender_epipe() {
    let (path, _leftover) = fifo_path("fifo-epipe");
    // The sender makes the FIFO, so it also removes it after the receiver is killed.
    let mut tx = sender(&path, &["--count", "100000000", "--size", "1000"]);
    tx.wait_for_stderr(SENDER_WAITS, WATCHDOG);
    let mut rx = receiver(&path, &[]);
    tx.wait_for_stderr("a receiver opened", WATCHDOG);
    rx.wait_for_stderr(READY, WATCHDOG);
    rx.signal(Signal::SIGKILL);
    rx.finish(WATCHDOG);
    let tx = tx.finish(WATCHDOG);
    tx.assert_code(1).assert_no_panic();
    assert!(
        tx.stderr.contains(&format!(
            "fifo-sender: error: writing to {}: the receiver closed the FIFO (EPIPE)",
            path.display()
        )),
        "{}",
        tx.stderr
    );
    assert_gone(&path);
}

#[test]
fn timeout_without_a_receiver_fails_after_about_that_long() {
    let (path, _leftover) = fifo_path("fifo-timeout");
    let started = Instant::now();
    let tx = sender(&path, &["--timeout", "1", "--message", "nobody hears this"]).finish(WATCHDOG);
    let took = started.elapsed();
    tx.assert_code(1).assert_no_panic();
    assert!(
        tx.stderr.contains("no receiver opened it within 1 s"),
        "{}",
        tx.stderr
    );
    assert!(
        tx.stderr.contains("hint: start fifo-receiver"),
        "{}",
        tx.stderr
    );
    assert!(
        took >= Duration::from_secs(1),
        "gave up after {took:?}, before the timeout"
    );
    assert!(
        took < Duration::from_secs(10),
        "took {took:?} for --timeout 1"
    );
    assert_gone(&path);
}

/// Sends `signal` once the program printed `ready`, then expects exit 130 within 5 s, the
/// clean-stop line, and the FIFO (which the program created) gone.
fn stops_on_signal(mut running: Running, ready: &str, signal: Signal, path: &Path) -> Finished {
    running.wait_for_stderr(ready, WATCHDOG);
    assert!(is_fifo(path));
    let pid = running.pid();
    running.signal(signal);
    let done = running.finish(Duration::from_secs(5));
    done.assert_code(130).assert_no_panic();
    assert!(
        done.stderr.contains("interrupted: stopped cleanly"),
        "{}",
        done.stderr
    );
    assert!(done.stderr.contains("removed the FIFO"), "{}", done.stderr);
    assert!(!process_exists(pid));
    assert_gone(path);
    done
}

#[test]
fn ctrl_c_while_the_sender_waits_in_open() {
    let (path, _leftover) = fifo_path("fifo-int-open");
    stops_on_signal(
        sender(&path, &["--message", "x"]),
        SENDER_WAITS,
        Signal::SIGINT,
        &path,
    );
}

#[test]
fn ctrl_c_while_the_sender_waits_for_room_in_a_full_fifo() {
    use std::os::unix::fs::OpenOptionsExt;
    let (path, _leftover) = fifo_path("fifo-int-full");
    let mut tx = sender(&path, &["--count", "100000000", "--size", "1000"]);
    tx.wait_for_stderr(SENDER_WAITS, WATCHDOG);
    // A reader that never reads: the sender fills the pipe (64 KiB) and then waits in poll.
    let reader = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK)
        .open(&path)
        .expect("open the FIFO for reading");
    tx.wait_for_stderr("a receiver opened", WATCHDOG);
    // Within microseconds the pipe is full and the sender waits in poll(POLLOUT); whether the
    // signal lands then or while it is still writing, it must stop cleanly.
    let done = stops_on_signal(tx, "a receiver opened", Signal::SIGINT, &path);
    assert!(!done.stderr.contains("EPIPE"), "{}", done.stderr);
    drop(reader);
}

#[test]
fn ctrl_c_while_the_receiver_waits_in_read() {
    let (path, _leftover) = fifo_path("fifo-int-read");
    let done = stops_on_signal(receiver(&path, &[]), READY, Signal::SIGINT, &path);
    assert_eq!(done.last_line(), format!("summary: received=0 {CLEAN}"));
}

#[test]
fn sigterm_while_the_receiver_waits_between_senders() {
    let (path, _leftover) = fifo_path("fifo-term");
    let mut rx = receiver(&path, &["--senders", "2"]);
    rx.wait_for_stderr(READY, WATCHDOG);
    sender(&path, &["--message", "only one"])
        .finish(WATCHDOG)
        .assert_code(0);
    rx.wait_for_stderr("every writer closed it", WATCHDOG);
    let done = stops_on_signal(rx, READY, Signal::SIGTERM, &path);
    assert!(
        done.stdout.contains("Data From Named Pipe Is: only one"),
        "{}",
        done.stdout
    );
    assert_eq!(done.last_line(), format!("summary: received=1 {CLEAN}"));
}

#[test]
fn garbage_in_the_fifo_is_an_error_not_a_panic() {
    use std::io::Write;
    let (path, _leftover) = fifo_path("fifo-garbage");
    let mut rx = receiver(&path, &[]);
    rx.wait_for_stderr(READY, WATCHDOG);
    // What `echo hello > /tmp/my_fifo` would do: bytes that are no frame.
    let mut fifo = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .expect("open the FIFO for writing");
    fifo.write_all(b"hello, this is not a frame\n")
        .expect("write");
    drop(fifo);
    let rx = rx.finish(WATCHDOG);
    rx.assert_code(1).assert_no_panic();
    assert!(
        rx.stderr.contains(&format!(
            "fifo-receiver: error: reading {}:",
            path.display()
        )),
        "{}",
        rx.stderr
    );
    assert!(
        rx.last_line().starts_with("summary: received=0"),
        "{}",
        rx.stdout
    );
    assert_gone(&path);
}

#[test]
fn messages_larger_than_pipe_buf_are_refused_before_anything_is_created() {
    let (path, _leftover) = fifo_path("fifo-big");
    let long = "x".repeat(5000);
    let done = sender(&path, &["--message", &long]).finish(WATCHDOG);
    done.assert_code(2).assert_no_panic();
    assert!(
        done.stderr.contains("more than PIPE_BUF (4096 bytes)"),
        "{}",
        done.stderr
    );
    let done = sender(&path, &["--count", "3", "--size", "4096"]).finish(WATCHDOG);
    done.assert_code(2);
    assert!(
        done.stderr.contains("PIPE_BUF") && done.stderr.contains("hint: keep --size to at most"),
        "{}",
        done.stderr
    );
    assert_gone(&path);
}

#[test]
fn an_overlong_stdin_line_is_refused_naming_pipe_buf() {
    let (path, _leftover) = fifo_path("fifo-longline");
    let mut rx = receiver(&path, &[]);
    rx.wait_for_stderr(READY, WATCHDOG);
    let input = format!("short\n{}\n", "y".repeat(4200));
    let tx = sender_with_stdin(&path, &input).finish(WATCHDOG);
    tx.assert_code(1).assert_no_panic();
    assert!(
        tx.stderr.contains("fifo-sender: error: sending message 2:"),
        "{}",
        tx.stderr
    );
    assert!(tx.stderr.contains("PIPE_BUF"), "{}", tx.stderr);
    // The receiver got the short line, then end-of-file without an End: it waits for another
    // sender until stopped.
    rx.wait_for_stderr("every writer closed it", WATCHDOG);
    let done = stops_on_signal(rx, READY, Signal::SIGINT, &path);
    assert!(
        done.stdout.contains("Data From Named Pipe Is: short"),
        "{}",
        done.stdout
    );
}

#[test]
fn a_waiting_sender_uses_a_checked_fifo_that_replaced_its_own() {
    // Regression (found by the soak, tools/soak): several senders wait, the one that made
    // the FIFO finishes and removes it, the receiver makes a new one at the same path. A
    // sender still waiting then opened a FIFO other than the one it had checked and failed
    // with "the path was replaced by another FIFO". Made deterministic here: the test itself
    // replaces the waiting sender's FIFO with another private FIFO of the same user.
    let (path, _leftover) = fifo_path("fifo-replaced");
    let mut tx = sender(&path, &["--count", "3", "--size", "10"]);
    tx.wait_for_stderr(SENDER_WAITS, WATCHDOG);
    // Made beside it and renamed over it, so that it cannot reuse the old FIFO's inode
    // number (a FIFO is recognised by device and inode).
    let other = path.with_extension("new");
    nix::unistd::mkfifo(&other, nix::sys::stat::Mode::from_bits_truncate(0o600))
        .expect("make another FIFO");
    std::fs::rename(&other, &path).expect("put it in the place of the sender's FIFO");
    let rx = receiver(&path, &[]).finish(WATCHDOG);
    let tx = tx.finish(WATCHDOG);
    tx.assert_code(0).assert_no_panic();
    assert_clean_summary(&rx, 3);
    // Neither end created this FIFO, so neither removed it: the test does.
    assert!(is_fifo(&path));
    std::fs::remove_file(&path).expect("remove the test's FIFO");
    assert_gone(&path);
}
