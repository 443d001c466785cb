//! `--wire c`: msgq-sender and msgq-receiver talk to our fixed C programs (c/msgq_sender.c,
//! c/msgq_receiver.c, on msg2.c/msg1.c's wire: `struct my_msg_st { long int my_msg_type; char
//! some_text[512]; }` sent whole, the text with its newline and NUL, `end\n` last), in both
//! directions; and what the C layout cannot carry is refused. The textbook's own programs
//! and the examples are in textbook.rs.

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
            "some_text[MAX_TEXT] (512)",
        ),
    ] {
        let out = run(SENDER, &args);
        out.assert_code(2);
        assert!(out.stderr.contains(why), "{args:?}:\n{}", out.stderr);
    }
    let out = run(SENDER, &["--wire", "c", "--posix", "--message", "x"]);
    out.assert_code(2);
    let out = run(
        SENDER,
        &["--c-text-size", "8192", "--key", &key, "--message", "x"],
    );
    out.assert_code(2);
    assert!(out.stderr.contains("needs --wire c"), "{}", out.stderr);
    // A stdin line too long for the buffer: an error naming it, and a hint; the queue the
    // sender created for nothing is removed again.
    let mut sender = Command::new(SENDER);
    sender.args(["--wire", "c", "--key", &key]);
    let out = ipc_testkit::run(sender, format!("{long}\n").as_bytes());
    out.assert_code(1).assert_no_panic();
    assert!(
        out.stderr.contains("char some_text[MAX_TEXT] (512)")
            && out.stderr.contains(
                "hint: shorten the line, or send the BUFSIZ variant (--c-text-size 8192)"
            ),
        "{}",
        out.stderr
    );
    assert_no_sysv_objects(raw);
}

#[test]
fn a_text_starting_with_end_is_the_last_one_sent_as_in_msg2() {
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
            "hello",
            "--message",
            "endless",
            "--message",
            "never sent",
        ],
    );
    sent.assert_code(0);
    assert!(
        sent.stderr.contains("nothing more is sent"),
        "{}",
        sent.stderr
    );
    let done = receiver.finish(WATCHDOG);
    done.assert_code(0);
    // The C receiver stops at "endless" (strncmp(text, "end", 3)); nothing is left behind it.
    assert_eq!(done.lines(), ["You wrote: hello", "You wrote: endless"]);
    assert_no_sysv_objects(raw);
}
