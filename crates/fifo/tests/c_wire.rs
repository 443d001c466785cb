//! `--wire c`: fifo-sender and fifo-receiver talk to the tutorial's C programs
//! (c/fifo_writer.c, c/fifo_reader.c: one line of text per message, `end` last), in both
//! directions; what the C layout cannot carry is refused.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use ipc_testkit::{assert_gone, c_program, run, unique_path, Running, WATCHDOG};

/// Removes whatever a failed test left at the path.
struct Leftover(PathBuf);

impl Drop for Leftover {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn rust(exe: &str, path: &Path, extra: &[&str]) -> Command {
    let mut cmd = Command::new(exe);
    cmd.arg("--path").arg(path).args(extra).stdin(Stdio::null());
    cmd
}

#[test]
fn a_rust_sender_talks_to_the_c_reader() {
    let Some(c_reader) = c_program("fifo_reader") else {
        return;
    };
    let path = unique_path("fifo-c-rx");
    let _leftover = Leftover(path.clone());
    let mut cmd = Command::new(c_reader);
    cmd.arg("-p").arg(&path).stdin(Stdio::null());
    let mut reader = Running::start(cmd, None);
    reader.wait_for_stderr("waiting for a writer", WATCHDOG);
    let sent = run(
        rust(
            env!("CARGO_BIN_EXE_fifo-sender"),
            &path,
            &[
                "--wire",
                "c",
                "--message",
                "hello from Rust",
                "--message",
                "two  spaces",
            ],
        ),
        b"",
    );
    sent.assert_code(0).assert_no_panic();
    let done = reader.finish(WATCHDOG);
    done.assert_code(0);
    assert_eq!(
        done.lines(),
        [
            "Data From Named Pipe Is: hello from Rust",
            "Data From Named Pipe Is: two  spaces",
            "Data From Named Pipe Is: end"
        ]
    );
    assert_gone(&path);
}

#[test]
fn the_c_writer_talks_to_a_rust_receiver() {
    let Some(c_writer) = c_program("fifo_writer") else {
        return;
    };
    let path = unique_path("fifo-c-tx");
    let _leftover = Leftover(path.clone());
    let mut receiver = Running::start(
        rust(env!("CARGO_BIN_EXE_fifo-receiver"), &path, &["--wire", "c"]),
        None,
    );
    receiver.wait_for_stderr("waiting for a sender", WATCHDOG);
    let mut cmd = Command::new(c_writer);
    cmd.arg("-p").arg(&path);
    run(cmd, b"from C\n\ttabbed\nend\n").assert_code(0);
    let done = receiver.finish(WATCHDOG);
    done.assert_code(0).assert_no_panic();
    assert_eq!(
        done.lines(),
        [
            "Data From Named Pipe Is: from C",
            "Data From Named Pipe Is: \ttabbed",
            "summary: received=2 lost=0 duplicated=0 reordered=0 corrupt=0"
        ]
    );
    assert_gone(&path);
}

#[test]
fn what_the_c_layout_cannot_carry_is_refused() {
    let path = unique_path("fifo-c-refuse");
    let _leftover = Leftover(path.clone());
    let exe = env!("CARGO_BIN_EXE_fifo-sender");
    let long = "x".repeat(4096);
    for (args, why) in [
        (vec!["--wire", "c", "--count", "2"], "text lines only"),
        (vec!["--wire", "c", "--message", &long], "char line[4096]"),
        (vec!["--wire", "c", "--message", "two\nlines"], "newline"),
    ] {
        let out = run(rust(exe, &path, &args), b"");
        out.assert_code(2).assert_no_panic();
        assert!(out.stderr.contains(why), "{args:?}:\n{}", out.stderr);
    }
    assert_gone(&path);
}

#[test]
fn a_c_receiver_fed_our_frames_says_to_use_wire_bincode() {
    let path = unique_path("fifo-c-frames");
    let _leftover = Leftover(path.clone());
    let mut receiver = Running::start(
        rust(env!("CARGO_BIN_EXE_fifo-receiver"), &path, &["--wire", "c"]),
        None,
    );
    receiver.wait_for_stderr("waiting for a sender", WATCHDOG);
    let sender = rust(
        env!("CARGO_BIN_EXE_fifo-sender"),
        &path,
        &["--message", "hello", "--message", "world"],
    );
    run(sender, b"").assert_code(0);
    // One warning per frame (two texts and End), not junk texts cut at the frames' zeros.
    for _ in 0..3 {
        let line = receiver.wait_for_stderr("--wire bincode", WATCHDOG);
        assert!(line.contains("one of our encoded Messages"), "{line}");
    }
    // Our End ends the sender's turn: the receiver stops there with its summary (corrupt, so
    // exit 1) instead of waiting for a C `end` that never comes.
    let done = receiver.finish(WATCHDOG);
    done.assert_code(1).assert_no_panic();
    assert!(
        done.stderr
            .contains("it is its End, so this end stops here"),
        "{}",
        done.stderr
    );
    assert_eq!(
        done.lines(),
        ["summary: received=0 lost=0 duplicated=0 reordered=0 corrupt=3"]
    );
    assert_eq!(
        done.stderr.matches("--wire bincode").count(),
        3,
        "{}",
        done.stderr
    );
    assert_gone(&path);
}
