//! The pipe programs as a user runs them: real processes, real pipes, checked from outside.

use std::process::{Command, Stdio};
use std::time::Duration;

use ipc_common::wire::write_frame;
use ipc_common::Message;
use ipc_testkit::{process_exists, run, Running, WATCHDOG};
use nix::sys::signal::Signal;
use nix::unistd::Pid;

const CLEAN_SUMMARY_2: &str = "summary: received=2 lost=0 duplicated=0 reordered=0 corrupt=0";

fn sender() -> Command {
    Command::new(env!("CARGO_BIN_EXE_pipe-sender"))
}

fn receiver() -> Command {
    Command::new(env!("CARGO_BIN_EXE_pipe-receiver"))
}

fn demo() -> Command {
    Command::new(env!("CARGO_BIN_EXE_pipe-demo"))
}

/// The pid pipe-sender reports for the pipe-receiver it started.
fn receiver_pid(stderr: &str) -> Pid {
    let line = stderr
        .lines()
        .find(|l| l.contains("started pipe-receiver (pid "))
        .unwrap_or_else(|| panic!("no 'started pipe-receiver' line in:\n{stderr}"));
    let digits: String = line
        .split("(pid ")
        .nth(1)
        .expect("pid follows")
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    Pid::from_raw(digits.parse().expect("a pid"))
}

#[test]
fn the_issue_example_prints_both_lines_and_a_clean_summary() {
    let out = run(sender(), b"hello\nworld\n");
    out.assert_code(0).assert_no_panic();
    assert_eq!(
        out.lines(),
        ["You wrote: hello", "You wrote: world", CLEAN_SUMMARY_2]
    );
    assert!(
        !process_exists(receiver_pid(&out.stderr)),
        "the receiver was reaped"
    );
}

#[test]
fn text_arrives_verbatim_and_in_order() {
    let input = "  two leading spaces\n\ntabs\tand ünïcödé ✓\nno newline at the end";
    let out = run(sender(), input.as_bytes());
    out.assert_code(0);
    assert_eq!(
        out.lines(),
        [
            "You wrote:   two leading spaces",
            "You wrote: ",
            "You wrote: tabs\tand ünïcödé ✓",
            "You wrote: no newline at the end",
            "summary: received=4 lost=0 duplicated=0 reordered=0 corrupt=0",
        ]
    );
}

#[test]
fn a_line_that_is_exactly_end_stops_the_sender() {
    let out = run(sender(), b"first\nend\nnever sent\n");
    out.assert_code(0);
    assert_eq!(
        out.lines(),
        [
            "You wrote: first",
            "summary: received=1 lost=0 duplicated=0 reordered=0 corrupt=0"
        ]
    );
}

#[test]
fn end_of_input_ends_both_processes() {
    let out = run(sender(), b"");
    out.assert_code(0);
    assert_eq!(
        out.last_line(),
        "summary: received=0 lost=0 duplicated=0 reordered=0 corrupt=0"
    );
    assert!(!process_exists(receiver_pid(&out.stderr)));
}

#[test]
fn message_flags_replace_stdin() {
    let mut cmd = sender();
    cmd.args(["--message", "hello", "--message", "a b  c"]);
    let out = run(cmd, b"ignored\n");
    out.assert_code(0);
    assert_eq!(
        out.lines(),
        ["You wrote: hello", "You wrote: a b  c", CLEAN_SUMMARY_2]
    );
}

#[test]
fn ten_thousand_generated_messages_all_arrive_intact() {
    let mut cmd = sender();
    cmd.args(["--count", "10000", "--size", "1000"])
        .stdin(Stdio::null());
    let out = Running::start(cmd, None).finish(WATCHDOG);
    out.assert_code(0).assert_no_panic();
    assert_eq!(
        out.lines(),
        ["summary: received=10000 lost=0 duplicated=0 reordered=0 corrupt=0"]
    );
}

#[test]
fn a_shell_pipe_between_siblings_works() {
    // pipe-sender --stdout | pipe-receiver, with the test as the shell.
    let mut producer = sender()
        .args(["--stdout", "--message", "through a shell pipe"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start pipe-sender");
    let pipe = producer.stdout.take().expect("stdout is piped");
    let mut cmd = receiver();
    cmd.stdin(Stdio::from(pipe));
    let out = Running::start(cmd, None).finish(WATCHDOG);
    assert!(producer.wait().expect("reap pipe-sender").success());
    out.assert_code(0);
    assert_eq!(
        out.lines(),
        [
            "You wrote: through a shell pipe",
            "summary: received=1 lost=0 duplicated=0 reordered=0 corrupt=0"
        ]
    );
}

/// Runs pipe-receiver on `input` with its address space capped at 256 MiB, so that an attempt
/// to allocate what a hostile length prefix claims (4 GiB) would abort instead of passing.
fn receive_bytes(input: &[u8]) -> ipc_testkit::Finished {
    let mut cmd = Command::new("prlimit");
    cmd.arg("--as=268435456")
        .arg(env!("CARGO_BIN_EXE_pipe-receiver"));
    run(cmd, input)
}

fn one_frame() -> Vec<u8> {
    let mut bytes = Vec::new();
    write_frame(
        &mut bytes,
        &Message::text(42, 1, "a message to cut short"),
        &mut Vec::new(),
    )
    .expect("write to a Vec");
    bytes
}

#[test]
fn a_truncated_frame_is_a_clear_error() {
    let frame = one_frame();
    for cut in [2, 4, 10, frame.len() - 1] {
        let out = receive_bytes(&frame[..cut]);
        out.assert_code(1).assert_no_panic();
        assert!(
            out.stderr
                .contains("pipe-receiver: error: reading the pipe: truncated frame"),
            "cut at {cut}: {}",
            out.stderr
        );
    }
}

#[test]
fn a_four_gib_length_prefix_is_refused_without_allocating_it() {
    let out = receive_bytes(&u32::MAX.to_le_bytes());
    out.assert_code(1).assert_no_panic();
    assert!(
        out.stderr
            .contains("frame of 4294967295 bytes is larger than the limit"),
        "{}",
        out.stderr
    );
}

#[test]
fn random_garbage_is_refused_without_a_panic() {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for round in 0..8 {
        let garbage: Vec<u8> = (0..4096 * (round + 1))
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        let out = receive_bytes(&garbage);
        out.assert_code(1).assert_no_panic();
        assert!(
            out.stderr
                .contains("pipe-receiver: error: reading the pipe: "),
            "{}",
            out.stderr
        );
    }
}

#[test]
fn a_stream_that_ends_without_end_is_an_error_after_the_summary() {
    let out = receive_bytes(&one_frame());
    out.assert_code(1);
    assert_eq!(out.lines()[0], "You wrote: a message to cut short");
    assert!(out.last_line().starts_with("summary: received=1 "));
    assert!(
        out.stderr.contains("before the sender's End message"),
        "{}",
        out.stderr
    );
}

#[test]
fn ctrl_c_to_the_sender_mid_stream_ends_both_with_130() {
    let mut cmd = sender();
    cmd.args(["--count", "100000000", "--size", "1000"])
        .stdin(Stdio::null());
    let mut running = Running::start(cmd, None);
    let line = running.wait_for_stderr("started pipe-receiver", WATCHDOG);
    let child = receiver_pid(&line);
    // Let the stream get going: this times the fault, it does not guess readiness.
    std::thread::sleep(Duration::from_millis(300));
    running.signal(Signal::SIGINT);
    let out = running.finish(Duration::from_secs(5));
    out.assert_code(130).assert_no_panic();
    assert!(
        out.stderr.contains("pipe-sender: interrupted"),
        "{}",
        out.stderr
    );
    assert!(
        out.last_line().starts_with("summary: received="),
        "the receiver still summed up"
    );
    assert!(!process_exists(child), "no pipe-receiver left behind");
}

#[test]
fn pipe_demo_prints_the_tutorial_lines_with_real_descriptors() {
    let mut cmd = demo();
    cmd.args(["--message", "Hello Linux"]);
    let out = run(cmd, b"");
    out.assert_code(0).assert_no_panic();
    assert_eq!(out.stdout, "Hello Linux\n");
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines[0], "Pipe Created Successfully...");
    let fds: Vec<u32> = lines[1]
        .strip_prefix("Descriptors are: ")
        .expect("the descriptors line")
        .split(' ')
        .map(|n| n.parse().expect("a descriptor number"))
        .collect();
    assert_eq!(fds.len(), 2);
    assert!(fds[0] >= 3 && fds[1] >= 3 && fds[0] != fds[1], "{fds:?}");
    let order = |needles: &[&str]| {
        let positions: Vec<usize> = needles
            .iter()
            .map(|n| {
                lines
                    .iter()
                    .position(|l| l == n)
                    .unwrap_or_else(|| panic!("no {n:?}"))
            })
            .collect();
        assert!(
            positions.windows(2).all(|w| w[0] < w[1]),
            "{needles:?} out of order"
        );
    };
    order(&[
        "Parent Process....",
        "Enter Data To Be Written To Pipe",
        "Pipe Written Successfully..",
    ]);
    order(&["Child Process", "Pipe Read Successfully"]);
}

#[test]
fn pipe_demo_reads_one_whole_line_with_spaces() {
    let out = run(demo(), b"Hello Linux, with spaces\nsecond line ignored\n");
    out.assert_code(0);
    assert_eq!(out.stdout, "Hello Linux, with spaces\n");
}

#[test]
fn pipe_demo_refuses_a_line_over_pipe_buf() {
    let mut cmd = demo();
    cmd.args(["--message", &"x".repeat(5000)]);
    let out = run(cmd, b"");
    out.assert_code(2).assert_no_panic();
    assert!(out.stderr.contains("PIPE_BUF"), "{}", out.stderr);
}

#[test]
fn ctrl_c_while_pipe_demo_waits_for_input_stops_parent_and_child() {
    let mut cmd = demo();
    cmd.stdin(Stdio::piped()); // held open and silent: the parent blocks reading it
    let mut running = Running::start(cmd, None);
    running.wait_for_stderr("Child Process", WATCHDOG);
    running.wait_for_stderr("Enter Data To Be Written To Pipe", WATCHDOG);
    running.signal(Signal::SIGINT);
    let out = running.finish(Duration::from_secs(5));
    out.assert_code(130).assert_no_panic();
    assert!(
        out.stderr.contains("pipe-demo: interrupted"),
        "{}",
        out.stderr
    );
}

#[test]
fn usage_errors_exit_2_with_the_program_name() {
    let mut cmd = sender();
    cmd.arg("--no-such-flag");
    let out = run(cmd, b"");
    out.assert_code(2);
    assert!(
        out.stderr.starts_with("pipe-sender: error: "),
        "{}",
        out.stderr
    );
    let mut cmd = sender();
    cmd.args(["--count", "1", "--size", "17M"]);
    run(cmd, b"").assert_code(2);
}

#[test]
fn ctrl_c_to_the_receiver_alone_is_the_senders_failure_not_its_interruption() {
    let mut cmd = sender();
    cmd.args(["--count", "100000000", "--size", "1000"])
        .stdin(Stdio::null());
    let mut running = Running::start(cmd, None);
    let line = running.wait_for_stderr("started pipe-receiver", WATCHDOG);
    let child = receiver_pid(&line);
    std::thread::sleep(Duration::from_millis(300));
    nix::sys::signal::kill(child, Signal::SIGINT).expect("signal the receiver");
    let out = running.finish(Duration::from_secs(5));
    out.assert_code(1).assert_no_panic();
    assert!(
        out.stderr.contains("pipe-sender: error: "),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("pipe-sender: interrupted"),
        "{}",
        out.stderr
    );
    assert!(!process_exists(child));
}
