//! Foreign input is named, counted and never waited on for ever: a receiver that meets the
//! other `--wire` layout says which it is and which `--wire` to use, counts each such message
//! as corrupt, and a `--wire c` receiver fed only our encoded Messages stops at our End with
//! its summary line. When a queue is kept, the drain it suggests speaks the queue's layout.
//! Real processes (our programs and the C programs of c/); nothing left afterwards.

mod support;

use std::process::Command;

use ipc_testkit::{assert_no_sysv_objects, c_program, unique_key, WATCHDOG};
use nix::sys::signal::Signal;
use support::*;

#[test]
fn a_c_receiver_fed_our_messages_names_them_and_stops_at_our_end() {
    let raw = unique_key();
    let key = hex(raw);
    // Sent first: two of our Messages and our End wait in the queue.
    run(
        SENDER,
        &["--key", &key, "--message", "hi", "--message", "there"],
    )
    .assert_code(0);
    let done = run(RECEIVER, &["--wire", "c", "--key", &key]);
    done.assert_code(1);
    assert_eq!(
        done.lines(),
        ["summary: received=0 lost=0 duplicated=0 reordered=0 corrupt=3"],
        "nothing shown as text, each of ours counted as corrupt"
    );
    let named = done
        .stderr
        .matches("it is one of our encoded Messages: the sender speaks --wire bincode; start this end without --wire c")
        .count();
    assert_eq!(named, 3, "{}", done.stderr);
    assert!(
        done.stderr
            .contains("it is its End, so this end stops here"),
        "{}",
        done.stderr
    );
    assert_no_sysv_objects(raw);
}

#[test]
fn a_default_receiver_fed_c_texts_names_them_counts_them_and_stops_with_its_summary() {
    let Some(c_sender) = c_program("msgq_sender") else {
        return;
    };
    let raw = unique_key();
    let key = hex(raw);
    let mut receiver = start_receiver(&["--key", &key]);
    let mut cmd = Command::new(c_sender);
    cmd.args(["-k", &key]);
    ipc_testkit::run(cmd, b"hello\nworld\n").assert_code(0);
    // Three C texts (hello, world, end): each named as the C layout, with the --wire to use.
    for _ in 0..3 {
        receiver.wait_for_stderr("start this end with --wire c", READY);
    }
    receiver.signal(Signal::SIGINT);
    let done = receiver.finish(WATCHDOG);
    done.assert_stopped_cleanly("msgq-receiver");
    assert_eq!(
        done.last_line(),
        "summary: received=0 lost=0 duplicated=0 reordered=0 corrupt=3"
    );
    for text in ["hello", "world", "end"] {
        assert!(
            done.stderr.contains(&format!(
                "a C-layout text ({text:?}), not one of our Messages"
            )),
            "{}",
            done.stderr
        );
    }
    assert!(
        !done.stderr.contains("OtherString") && !done.stderr.contains("invalid value"),
        "no decoder internals: {}",
        done.stderr
    );
    assert_no_sysv_objects(raw);
}

#[test]
fn the_drain_a_c_receiver_suggests_for_a_kept_queue_reads_it() {
    let raw = unique_key();
    let key = hex(raw);
    // Two C-layout senders, each `x`/`y` and `end`: the receiver stops at the first `end`.
    for text in ["x", "y"] {
        run(SENDER, &["--wire", "c", "--key", &key, "--message", text]).assert_code(0);
    }
    let done = run(RECEIVER, &["--wire", "c", "--key", &key]);
    done.assert_code(0);
    assert_eq!(done.lines(), ["You wrote: x", &clean_summary(1)]);
    let hint = done
        .stderr
        .lines()
        .find(|line| line.starts_with("hint: drain it with `"))
        .unwrap_or_else(|| panic!("no drain hint: {}", done.stderr));
    let drain = hint
        .split('`')
        .nth(1)
        .expect("the command between backquotes");
    assert!(drain.contains("--wire c"), "{hint}");
    // The suggested command, as a user would paste it.
    let mut words = drain.split_whitespace();
    assert_eq!(words.next(), Some("msgq-receiver"), "{hint}");
    let args: Vec<&str> = words.collect();
    let drained = run(RECEIVER, &args);
    drained.assert_code(0);
    assert_eq!(drained.lines(), ["You wrote: y", &clean_summary(1)]);
    assert_no_sysv_objects(raw);
}
