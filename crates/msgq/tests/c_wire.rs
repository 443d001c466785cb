//! `--wire c`: msgq-sender and msgq-receiver talk to the tutorial's C programs
//! (c/msgq_sender.c, c/msgq_receiver.c: `struct { long mtype; char text[512]; }`, the text
//! and its NUL, `end` last), in both directions; and what the C layout cannot carry is refused.

mod support;

use std::process::{Command, Stdio};

use ipc_testkit::{assert_no_sysv_objects, c_program, unique_key, Running, WATCHDOG};
use support::*;

#[test]
fn a_rust_sender_talks_to_the_c_receiver() {
    let Some(c_receiver) = c_program("msgq_receiver") else {
        return;
    };
    let raw = unique_key();
    let key = hex(raw);
    let mut cmd = Command::new(c_receiver);
    cmd.args(["-k", &key]).stdin(Stdio::null());
    let mut receiver = Running::start(cmd, None);
    receiver.wait_for_stderr("waiting for messages on key", READY);
    let sent = run(
        SENDER,
        &[
            "--wire",
            "c",
            "--key",
            &key,
            "--message",
            "hello from Rust",
            "--message",
            "tabs\tand  spaces",
        ],
    );
    sent.assert_code(0);
    let done = receiver.finish(WATCHDOG);
    done.assert_code(0);
    // The C receiver prints every text, `end` included, as the tutorial's receiver.c does.
    assert_eq!(
        done.lines(),
        [
            "You wrote: hello from Rust",
            "You wrote: tabs\tand  spaces",
            "You wrote: end"
        ]
    );
    assert_no_sysv_objects(raw);
}

#[test]
fn the_c_sender_talks_to_a_rust_receiver() {
    let Some(c_sender) = c_program("msgq_sender") else {
        return;
    };
    let raw = unique_key();
    let key = hex(raw);
    let receiver = start_receiver(&["--wire", "c", "--key", &key]);
    let mut cmd = Command::new(c_sender);
    cmd.args(["-k", &key]);
    let sent = ipc_testkit::run(cmd, b"from C\n  second line, spaced\nend\n");
    sent.assert_code(0);
    let done = receiver.finish(WATCHDOG);
    done.assert_code(0).assert_no_panic();
    assert_eq!(
        done.lines(),
        [
            "You wrote: from C",
            "You wrote:   second line, spaced",
            &clean_summary(2)
        ]
    );
    assert!(
        done.stderr.contains("removed message queue"),
        "{}",
        done.stderr
    );
    assert_no_sysv_objects(raw);
}

#[test]
fn the_c_sender_first_and_the_rust_receiver_later_still_gets_everything() {
    let Some(c_sender) = c_program("msgq_sender") else {
        return;
    };
    let raw = unique_key();
    let key = hex(raw);
    let mut cmd = Command::new(c_sender);
    cmd.args(["-k", &key]);
    // The end of input sends `end` too.
    ipc_testkit::run(cmd, b"kept in the queue\n").assert_code(0);
    let done = run(RECEIVER, &["--wire", "c", "--key", &key]);
    done.assert_code(0);
    assert_eq!(
        done.lines(),
        ["You wrote: kept in the queue", &clean_summary(1)]
    );
    assert_no_sysv_objects(raw);
}

#[test]
fn what_the_c_layout_cannot_carry_is_refused_before_anything_is_sent() {
    let raw = unique_key();
    let key = hex(raw);
    let long = "x".repeat(512);
    for (args, why) in [
        (
            vec!["--wire", "c", "--key", &key, "--count", "3"],
            "text lines only",
        ),
        (
            vec!["--wire", "c", "--key", &key, "--message", &long],
            "char some_text[512]",
        ),
    ] {
        let out = run(SENDER, &args);
        out.assert_code(2);
        assert!(out.stderr.contains(why), "{args:?}:\n{}", out.stderr);
    }
    let out = run(SENDER, &["--wire", "c", "--posix", "--message", "x"]);
    out.assert_code(2);
    assert_no_sysv_objects(raw);
}
