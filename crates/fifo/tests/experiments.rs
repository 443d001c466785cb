//! The porting kit's FIFO tests: `--allow-split` breaks PIPE_BUF atomicity on purpose (two
//! senders' pieces interleave and the receiver sees mixed-up frames), and `--trace` shows
//! mkfifo/open/write/read/unlink in C notation.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use ipc_common::{trace, wire, Message};
use ipc_testkit::{assert_gone, unique_path, Running, WATCHDOG};

const READY: &str = "waiting for a sender";

/// Removes whatever a failed test left at the path.
struct Leftover(PathBuf);

impl Drop for Leftover {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn start(exe: &str, path: &Path, extra: &[&str]) -> Running {
    let mut cmd = Command::new(exe);
    cmd.arg("--path").arg(path).args(extra).stdin(Stdio::null());
    Running::start(cmd, None)
}

fn receiver(path: &Path, extra: &[&str]) -> Running {
    let mut rx = start(env!("CARGO_BIN_EXE_fifo-receiver"), path, extra);
    rx.wait_for_stderr(READY, WATCHDOG);
    rx
}

fn sender(path: &Path, extra: &[&str]) -> Running {
    start(env!("CARGO_BIN_EXE_fifo-sender"), path, extra)
}

#[test]
fn split_messages_from_two_senders_interleave_and_the_receiver_sees_broken_frames() {
    let path = unique_path("fifo-split");
    let _leftover = Leftover(path.clone());
    let rx = receiver(&path, &["--senders", "2"]);
    // 6000-byte payloads: each frame is two pieces (4096 + the rest), written 1 ms apart.
    let big = ["--allow-split", "--count", "2000", "--size", "6000"];
    let mut first = sender(&path, &big);
    first.wait_for_stderr("a receiver opened", WATCHDOG);
    // The first sender needs at least 2 s (1 ms between the pieces of 2000 frames): the
    // second one starts while it is still writing.
    let second = sender(&path, &big);
    let done = rx.finish(WATCHDOG);
    done.assert_code(1).assert_no_panic();
    assert!(
        done.last_line().starts_with("summary: "),
        "the summary is still printed last:\n{}",
        done.stdout
    );
    let broken = [
        "not a valid Message",
        "truncated frame",
        "larger than the limit",
    ];
    assert!(
        done.stderr.contains("fifo-receiver: error: reading ")
            && broken.iter().any(|why| done.stderr.contains(why)),
        "the receiver reports a frame made of two senders' pieces:\n{}",
        done.stderr
    );
    // The senders then find the FIFO closed (EPIPE) or finish; neither hangs or panics.
    for tx in [first, second] {
        tx.finish(WATCHDOG).assert_no_panic();
    }
    assert_gone(&path);
}

#[test]
fn one_split_sender_alone_still_gets_through_intact() {
    let path = unique_path("fifo-split1");
    let _leftover = Leftover(path.clone());
    let rx = receiver(&path, &[]);
    let tx = sender(
        &path,
        &["--allow-split", "--count", "20", "--size", "10000"],
    );
    tx.finish(WATCHDOG).assert_code(0).assert_no_panic();
    let done = rx.finish(WATCHDOG);
    done.assert_code(0);
    assert_eq!(
        done.last_line(),
        "summary: received=20 lost=0 duplicated=0 reordered=0 corrupt=0"
    );
    assert_gone(&path);
}

#[test]
fn without_allow_split_a_message_over_pipe_buf_is_refused() {
    let path = unique_path("fifo-nosplit");
    let _leftover = Leftover(path.clone());
    let tx = sender(&path, &["--count", "1", "--size", "6000"]);
    let done = tx.finish(WATCHDOG);
    done.assert_code(2).assert_no_panic();
    assert!(done.stderr.contains("PIPE_BUF"), "{}", done.stderr);
    assert_gone(&path);
}

#[test]
fn trace_shows_mkfifo_open_write_read_and_unlink() {
    let path = unique_path("fifo-trace");
    let _leftover = Leftover(path.clone());
    let shown = format!("{path:?}"); // "/tmp/ipt-...": quoted, as in C
    let rx = receiver(&path, &["--trace"]);
    let tx = sender(&path, &["--trace", "--message", "hi"]);
    let pid = tx.pid().as_raw() as u32;
    let sent = tx.finish(WATCHDOG);
    sent.assert_code(0).assert_no_panic();
    let done = rx.finish(WATCHDOG);
    done.assert_code(0).assert_no_panic();

    let err = &done.stderr;
    let open = format!("open({shown}, O_RDONLY|O_NONBLOCK|O_NOFOLLOW|O_CLOEXEC) = ");
    let fd = err
        .lines()
        .find_map(|l| l.strip_prefix(&open))
        .unwrap_or_else(|| panic!("no {open:?} in:\n{err}"));
    for line in [
        format!("mkfifo({shown}, 0600) = 0"),
        format!("unlink({shown}) = 0"),
    ] {
        assert!(err.lines().any(|l| l == line), "no `{line}` in:\n{err}");
    }
    // Reads into the receiver's 64 KiB buffer; the first brings the text's frame (and maybe
    // the End's: how the bytes are cut into reads depends on timing, a byte stream's nature).
    let read = format!("read({fd}, \"");
    assert!(
        err.lines()
            .any(|l| l.starts_with(&read) && l.contains("hi") && l.contains(", 65536) = ")),
        "no read of the text's frame:\n{err}"
    );

    // The sender's write is exactly the frame: 4-byte length, then the encoded Message.
    let mut encoded = Vec::new();
    wire::encode(&Message::text(pid, 1, "hi"), &mut encoded).expect("encodes");
    let mut frame = (encoded.len() as u32).to_le_bytes().to_vec();
    frame.extend_from_slice(&encoded);
    let err = &sent.stderr;
    let open = format!("open({shown}, O_WRONLY|O_NONBLOCK|O_NOFOLLOW|O_CLOEXEC) = ");
    let fd = err
        .lines()
        .find_map(|l| l.strip_prefix(&open))
        .unwrap_or_else(|| panic!("no {open:?} in:\n{err}"));
    let write = format!(
        "write({fd}, {}, {len}) = {len}",
        trace::bytes(&frame),
        len = frame.len()
    );
    assert!(err.lines().any(|l| l == write), "no `{write}` in:\n{err}");
    assert_gone(&path);
}
