//! What the message-queue tests share: starting the two programs, and checking what is left.
#![allow(dead_code)] // each test file uses a different part

use std::io::Write;
use std::os::fd::OwnedFd;
use std::process::{Command, Stdio};
use std::time::Duration;

use ipc_common::wire;
use ipc_common::Message;
use ipc_testkit::{Finished, Running, WATCHDOG};
use nix::errno::Errno;
use nix::mqueue::{mq_close, mq_open, mq_unlink, MQ_OFlag};
use nix::sys::stat::Mode;

pub const SENDER: &str = env!("CARGO_BIN_EXE_msgq-sender");
pub const RECEIVER: &str = env!("CARGO_BIN_EXE_msgq-receiver");

/// How long a program may take to print its ready line or to exit after a signal.
pub const READY: Duration = Duration::from_secs(20);
pub const STOP: Duration = Duration::from_secs(5);

/// The receiver's ready line (on stderr, once the queue exists).
pub const READY_LINE: &str = "waiting for messages on";

pub const CLEAN_SUMMARY_TAIL: &str = "lost=0 duplicated=0 reordered=0 corrupt=0";

/// A command for `program` with `args`, stdin from /dev/null.
pub fn cmd(program: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(program);
    cmd.args(args).stdin(Stdio::null());
    cmd
}

/// Runs `program` to completion (watchdog) with no input.
pub fn run(program: &str, args: &[&str]) -> Finished {
    let finished = Running::start(cmd(program, args), None).finish(WATCHDOG);
    finished.assert_no_panic();
    finished
}

/// Starts a receiver and waits for its ready line.
pub fn start_receiver(args: &[&str]) -> Running {
    let mut receiver = Running::start(cmd(RECEIVER, args), None);
    receiver.wait_for_stderr(READY_LINE, READY);
    receiver
}

/// The key argument for `key`, in hex as ipcs shows it.
pub fn hex(key: i32) -> String {
    format!("0x{:08x}", key as u32)
}

/// The `summary:` line for `received` messages and nothing wrong.
pub fn clean_summary(received: u64) -> String {
    format!("summary: received={received} {CLEAN_SUMMARY_TAIL}")
}

/// The number of messages in the System V queue with `key`, from /proc/sysvipc/msg.
pub fn sysv_messages(key: i32) -> Option<u64> {
    let table = std::fs::read_to_string("/proc/sysvipc/msg").expect("/proc/sysvipc/msg");
    table.lines().skip(1).find_map(|line| {
        let cols: Vec<&str> = line.split_whitespace().collect();
        (cols[0].parse::<i64>().ok()? == i64::from(key)).then(|| cols[4].parse().expect("qnum"))
    })
}

/// Removes the System V queue with `key` if a test left it (as root, like `ipcrm -Q`).
pub fn ipcrm_key(key: i32) {
    let _ = Command::new("ipcrm")
        .args(["-Q", &hex(key)])
        .stderr(Stdio::null())
        .status();
}

/// A unique POSIX queue name for one test: /ipt-msgq-PID-N.
pub fn unique_name() -> String {
    let path = ipc_testkit::unique_path("msgq");
    let file = path
        .file_name()
        .expect("a file name")
        .to_string_lossy()
        .into_owned();
    format!("/{file}")
}

/// True while a POSIX queue with `name` exists (/dev/mqueue may not be mounted, so ask
/// mq_open itself: ENOENT means gone).
pub fn posix_queue_exists(name: &str) -> bool {
    match mq_open(
        name,
        MQ_OFlag::O_RDONLY | MQ_OFlag::O_NONBLOCK,
        Mode::empty(),
        None,
    ) {
        Ok(mqd) => {
            let _ = mq_close(mqd);
            true
        }
        Err(Errno::ENOENT) => false,
        Err(errno) => panic!("mq_open({name}) failed: {errno}"),
    }
}

#[track_caller]
pub fn assert_posix_gone(name: &str) {
    assert!(
        !posix_queue_exists(name),
        "POSIX queue {name} was left behind"
    );
}

/// Removes a POSIX queue a failed test may have left.
pub fn unlink_posix(name: &str) {
    let _ = mq_unlink(name);
}

/// Runs the sender with one line on stdin, sized so that its encoded Message is exactly
/// `encoded_len` bytes. The line is computed after the sender started, from its real pid (the
/// pid is part of the Message, and its encoded length varies with its value).
pub fn send_line_of_encoded_len(args: &[&str], encoded_len: usize) -> Finished {
    // O_CLOEXEC: no child (of this or a parallel test) may inherit the write end, or the
    // sender would never see the end of its input.
    let (read_end, write_end): (OwnedFd, OwnedFd) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).expect("pipe2");
    let mut command = Command::new(SENDER);
    command.args(args).stdin(Stdio::from(read_end));
    let sender = Running::start(command, None);
    let pid = sender.pid().as_raw() as u32;
    let line = text_of_encoded_len(pid, encoded_len);
    let mut input = std::fs::File::from(write_end);
    input.write_all(line.as_bytes()).expect("write the line");
    input.write_all(b"\n").expect("write the newline");
    drop(input);
    let finished = sender.finish(WATCHDOG);
    finished.assert_no_panic();
    finished
}

/// A text whose Message (sender `pid`, seq 1) encodes to exactly `encoded_len` bytes.
pub fn text_of_encoded_len(pid: u32, encoded_len: usize) -> String {
    let mut buf = Vec::new();
    let mut len = encoded_len;
    loop {
        let text = "x".repeat(len);
        wire::encode(&Message::text(pid, 1, text.as_str()), &mut buf).expect("encode");
        match buf.len().cmp(&encoded_len) {
            std::cmp::Ordering::Equal => return text,
            std::cmp::Ordering::Greater => len -= 1,
            std::cmp::Ordering::Less => panic!("no text encodes to exactly {encoded_len} bytes"),
        }
    }
}

/// Reads a limit from /proc.
pub fn proc_limit(path: &str) -> usize {
    std::fs::read_to_string(path)
        .expect(path)
        .trim()
        .parse()
        .expect(path)
}
