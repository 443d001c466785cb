//! Issue 15, items 4 and 5, over real processes:
//! - a receiver that takes messages by type (`--type -N`) or priority (POSIX) takes one
//!   sender's messages out of their order when that sender used several types or priorities:
//!   the summary counts them as reordered, and that is not a failure (exit 0);
//! - a sender stopped (SIGINT) while it waits on a full queue says what it leaves: the queue,
//!   how many messages, and the commands that drain or remove it; the drain command it prints
//!   works as printed.

mod support;

use ipc_testkit::{assert_no_sysv_objects, unique_key, Running};
use nix::sys::signal::Signal;
use support::*;

/// Removes the POSIX queue even when an assertion fails half-way.
struct Cleanup(String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        unlink_posix(&self.0);
    }
}

/// The command a `hint: drain it with `...`` line names, split into its words.
fn drain_hint(stderr: &str) -> Vec<String> {
    let start = stderr
        .find("drain it with `")
        .unwrap_or_else(|| panic!("no drain hint in:\n{stderr}"))
        + "drain it with `".len();
    let end = stderr[start..].find('`').expect("the closing backquote") + start;
    stderr[start..end]
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// Runs the receiver with the words of a printed `msgq-receiver ...` command.
fn run_printed(command: &[String]) -> ipc_testkit::Finished {
    assert_eq!(command[0], "msgq-receiver", "{command:?}");
    let args: Vec<&str> = command[1..].iter().map(String::as_str).collect();
    run(RECEIVER, &args)
}

#[test]
fn a_negative_type_reorders_one_senders_types_and_that_is_not_a_failure() {
    let raw = unique_key();
    let key = hex(raw);
    // Types 1, 3, 1, 3, 1, 3 for messages 1..6, End with type 3 (the highest, taken last).
    run(SENDER, &["--key", &key, "--count", "6", "--type", "1,3"]).assert_code(0);
    let got = run(RECEIVER, &["--key", &key, "--type", "-3"]);
    // msgrcv(-3) takes 1, 3, 5 (type 1) before 2, 4, 6 (type 3): 2 and 4 arrive after a later one.
    got.assert_code(0);
    assert_eq!(
        got.last_line(),
        "summary: received=6 lost=0 duplicated=0 reordered=2 corrupt=0",
        "{}",
        got.stderr
    );
    assert!(!got.stderr.contains("error"), "{}", got.stderr);
    assert_no_sysv_objects(raw);
}

#[test]
fn type_zero_takes_one_senders_types_in_the_order_sent() {
    let raw = unique_key();
    let key = hex(raw);
    run(SENDER, &["--key", &key, "--count", "6", "--type", "1,3"]).assert_code(0);
    let got = run(RECEIVER, &["--key", &key]);
    got.assert_code(0);
    assert_eq!(got.last_line(), clean_summary(6), "{}", got.stderr);
    assert_no_sysv_objects(raw);
}

#[test]
fn posix_priorities_reorder_one_senders_messages_and_that_is_not_a_failure() {
    let name = unique_name();
    let _cleanup = Cleanup(name.clone());
    // Priorities 0, 5, 0, 5 for messages 1..4, End with priority 0 (the lowest, taken last).
    run(
        SENDER,
        &[
            "--posix",
            "--name",
            &name,
            "--count",
            "4",
            "--priority",
            "0,5",
        ],
    )
    .assert_code(0);
    let got = run(RECEIVER, &["--posix", "--name", &name]);
    // mq_receive takes 2, 4 (priority 5) before 1, 3 (priority 0): 1 and 3 arrive late.
    got.assert_code(0);
    assert_eq!(
        got.last_line(),
        "summary: received=4 lost=0 duplicated=0 reordered=2 corrupt=0",
        "{}",
        got.stderr
    );
    assert_posix_gone(&name);
}

#[test]
fn a_sender_stopped_on_a_full_queue_says_what_it_keeps_and_how_to_drain_it() {
    let raw = unique_key();
    let key = hex(raw);
    let mut sender = Running::start(
        cmd(SENDER, &["--key", &key, "--count", "100", "--size", "1000"]),
        None,
    );
    sender.wait_for_stderr("is full", READY);
    sender.signal(Signal::SIGINT);
    let stopped = sender.finish(STOP);
    stopped.assert_code(130).assert_no_panic();
    let queued = sysv_messages(raw).expect("the sender never removes a queue it put messages in");
    let kept = "msgq-sender: kept message queue key ";
    assert!(stopped.stderr.contains(kept), "{}", stopped.stderr);
    assert!(
        stopped
            .stderr
            .contains(&format!("with {queued} undelivered messages")),
        "{}",
        stopped.stderr
    );
    assert!(stopped.stderr.contains("ipcrm -q "), "{}", stopped.stderr);
    // The kept line comes before the program's last line.
    assert_eq!(
        stopped.stderr.lines().last(),
        Some("msgq-sender: interrupted: stopped cleanly"),
        "{}",
        stopped.stderr
    );
    let drained = run_printed(&drain_hint(&stopped.stderr));
    drained.assert_code(0);
    assert_eq!(drained.last_line(), clean_summary(queued));
    assert_no_sysv_objects(raw);
}

#[test]
fn a_posix_sender_stopped_on_a_full_queue_says_what_it_keeps_and_how_to_drain_it() {
    let name = unique_name();
    let _cleanup = Cleanup(name.clone());
    let mut sender = Running::start(
        cmd(SENDER, &["--posix", "--name", &name, "--count", "50"]),
        None,
    );
    sender.wait_for_stderr("is full", READY);
    sender.signal(Signal::SIGINT);
    let stopped = sender.finish(STOP);
    stopped.assert_code(130).assert_no_panic();
    let capacity = proc_limit("/proc/sys/fs/mqueue/msg_max");
    assert!(
        stopped.stderr.contains(&format!(
            "msgq-sender: kept POSIX message queue {name} with {capacity} undelivered messages"
        )),
        "{}",
        stopped.stderr
    );
    let drained = run_printed(&drain_hint(&stopped.stderr));
    drained.assert_code(0);
    assert_eq!(drained.last_line(), clean_summary(capacity as u64));
    assert_posix_gone(&name);
}

#[test]
fn a_sender_that_sent_nothing_leaves_nothing_and_says_nothing_kept() {
    // A full queue made by someone else's sender: ours created nothing and sent nothing, so
    // there is nothing of its own to report; the queue it found is left as it was.
    let raw = unique_key();
    let key = hex(raw);
    let mut first = Running::start(
        cmd(SENDER, &["--key", &key, "--count", "100", "--size", "1000"]),
        None,
    );
    first.wait_for_stderr("is full", READY);
    first.signal(Signal::SIGINT);
    first.finish(STOP).assert_code(130);
    let queued = sysv_messages(raw).expect("queue kept");
    let mut second = Running::start(
        cmd(SENDER, &["--key", &key, "--count", "1", "--size", "1000"]),
        None,
    );
    second.wait_for_stderr("is full", READY);
    second.signal(Signal::SIGINT);
    let stopped = second.finish(STOP);
    stopped.assert_code(130).assert_no_panic();
    assert!(!stopped.stderr.contains("kept"), "{}", stopped.stderr);
    assert_eq!(sysv_messages(raw), Some(queued));
    run(RECEIVER, &["--key", &key, "--nowait"]).assert_code(0);
    assert_no_sysv_objects(raw);
}
