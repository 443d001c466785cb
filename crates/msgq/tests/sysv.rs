//! System V message queues: msgq-sender and msgq-receiver as real processes, one key per test.
//! Every test ends by checking that its queue is gone.

mod support;

use std::process::Command;

use ipc_testkit::{assert_no_sysv_objects, sysv_key_exists, unique_key, Running, WATCHDOG};
use nix::sys::signal::Signal;
use support::*;

#[test]
fn the_queue_outlives_the_sender_and_a_later_receiver_gets_every_message() {
    let raw = unique_key();
    let key = hex(raw);
    let sent = run(SENDER, &["--key", &key, "--count", "100"]);
    sent.assert_code(0);
    assert!(
        sent.stderr.contains("exiting without waiting"),
        "{}",
        sent.stderr
    );
    assert_eq!(
        sysv_messages(raw),
        Some(101),
        "100 messages and End wait in the queue"
    );

    let received = run(RECEIVER, &["--key", &key]);
    received.assert_code(0);
    assert_eq!(received.last_line(), clean_summary(100));
    assert!(
        received.stderr.contains("removed message queue"),
        "{}",
        received.stderr
    );
    assert_no_sysv_objects(raw);
}

#[test]
fn texts_from_stdin_arrive_verbatim_until_end() {
    let raw = unique_key();
    let key = hex(raw);
    let mut receiver = start_receiver(&["--key", &key]);
    let sent = ipc_testkit::run(
        cmd(SENDER, &["--key", &key]),
        b"hello\n  two  spaces \n\xc3\xbcn\xc3\xafc\xc3\xb6d\xc3\xa9\nend\nnot sent\n",
    );
    sent.assert_code(0);
    receiver.wait_for_stderr("removed", READY);
    let got = receiver.finish(WATCHDOG);
    got.assert_code(0).assert_no_panic();
    assert_eq!(
        got.lines(),
        [
            "You wrote: hello",
            "You wrote:   two  spaces ",
            "You wrote: ünïcödé",
            &clean_summary(3)
        ]
    );
    assert_no_sysv_objects(raw);
}

#[test]
fn a_receiver_of_one_type_leaves_the_others_and_keeps_the_queue() {
    let raw = unique_key();
    let key = hex(raw);
    run(SENDER, &["--key", &key, "--type", "1", "--message", "a1"]).assert_code(0);
    run(
        SENDER,
        &[
            "--key",
            &key,
            "--type",
            "2",
            "--message",
            "b1",
            "--message",
            "b2",
        ],
    )
    .assert_code(0);

    let twos = run(RECEIVER, &["--key", &key, "--type", "2"]);
    twos.assert_code(0);
    assert_eq!(
        twos.lines(),
        ["You wrote: b1", "You wrote: b2", &clean_summary(2)]
    );
    assert!(
        twos.stderr.contains(&format!(
            "kept message queue key {raw} ({key}) with 2 undelivered messages"
        )),
        "{}",
        twos.stderr
    );
    assert!(
        twos.stderr.contains("--nowait") && twos.stderr.contains("ipcrm -q"),
        "{}",
        twos.stderr
    );
    assert_eq!(
        sysv_messages(raw),
        Some(2),
        "a1 and its End are still there"
    );

    let ones = run(RECEIVER, &["--key", &key, "--type", "1"]);
    ones.assert_code(0);
    assert_eq!(ones.lines(), ["You wrote: a1", &clean_summary(1)]);
    assert_no_sysv_objects(raw);
}

#[test]
fn a_negative_type_takes_the_lowest_types_first() {
    let raw = unique_key();
    let key = hex(raw);
    // Type 3 is sent first, type 1 second: --type -3 must still take every type-1 message first.
    run(
        SENDER,
        &[
            "--key",
            &key,
            "--type",
            "3",
            "--message",
            "low 1",
            "--message",
            "low 2",
        ],
    )
    .assert_code(0);
    run(
        SENDER,
        &[
            "--key",
            &key,
            "--type",
            "1",
            "--message",
            "urgent 1",
            "--message",
            "urgent 2",
        ],
    )
    .assert_code(0);
    // --type -2 takes types 1 and 2 only: the type-3 messages stay behind.
    let urgent = run(
        RECEIVER,
        &["--key", &key, "--type", "-2", "--nowait", "--senders", "2"],
    );
    urgent.assert_code(0);
    assert_eq!(
        urgent.lines(),
        [
            "You wrote: urgent 1",
            "You wrote: urgent 2",
            &clean_summary(2)
        ]
    );
    assert_eq!(sysv_messages(raw), Some(3));
    run(
        SENDER,
        &["--key", &key, "--type", "2", "--message", "middle"],
    )
    .assert_code(0);

    let all = run(RECEIVER, &["--key", &key, "--type", "-3", "--senders", "2"]);
    all.assert_code(0);
    assert_eq!(
        all.lines(),
        [
            "You wrote: middle",
            "You wrote: low 1",
            "You wrote: low 2",
            &clean_summary(3)
        ]
    );
    assert_no_sysv_objects(raw);
}

#[test]
fn four_concurrent_senders_of_5000_messages_lose_nothing() {
    let raw = unique_key();
    let key = hex(raw);
    let receiver = start_receiver(&["--key", &key, "--senders", "4"]);
    let senders: Vec<Running> = (0..4)
        .map(|_| {
            Running::start(
                cmd(SENDER, &["--key", &key, "--count", "5000", "--size", "100"]),
                None,
            )
        })
        .collect();
    for sender in senders {
        sender.finish(WATCHDOG).assert_code(0).assert_no_panic();
    }
    let got = receiver.finish(WATCHDOG);
    got.assert_code(0).assert_no_panic();
    assert_eq!(got.last_line(), clean_summary(20_000));
    assert_no_sysv_objects(raw);
}

#[test]
fn the_largest_message_fits_and_one_byte_more_is_refused_naming_msgmax() {
    let msgmax = proc_limit("/proc/sys/kernel/msgmax");
    let raw = unique_key();
    let key = hex(raw);

    let fits = send_line_of_encoded_len(&["--key", &key], msgmax);
    fits.assert_code(0);
    let got = run(RECEIVER, &["--key", &key]);
    got.assert_code(0);
    assert_eq!(got.lines().len(), 2, "one text and the summary");
    assert!(got.lines()[0].starts_with("You wrote: xxx"));
    assert_eq!(got.last_line(), clean_summary(1));
    assert_no_sysv_objects(raw);

    let too_big = send_line_of_encoded_len(&["--key", &key], msgmax + 1);
    too_big.assert_code(1);
    let expected = format!(
        "msgq-sender: error: sending a message of {} bytes",
        msgmax + 1
    );
    assert!(too_big.stderr.contains(&expected), "{}", too_big.stderr);
    assert!(
        too_big.stderr.contains(&format!(
            "limit of {msgmax} bytes per message (/proc/sys/kernel/msgmax)"
        )),
        "{}",
        too_big.stderr
    );
    assert!(too_big.stderr.contains("hint: "), "{}", too_big.stderr);
    // The sender created the queue and sent nothing: it removed it again.
    assert_no_sysv_objects(raw);
}

#[test]
fn a_full_queue_fails_with_nowait_and_keeps_what_was_sent() {
    let raw = unique_key();
    let key = hex(raw);
    let full = run(
        SENDER,
        &[
            "--key", &key, "--count", "100", "--size", "1000", "--nowait",
        ],
    );
    full.assert_code(1);
    assert!(full.stderr.contains("queue full"), "{}", full.stderr);
    let queued = sysv_messages(raw).expect("the queue is kept");
    assert!(queued > 0 && queued < 100, "{queued} messages queued");

    let drained = run(RECEIVER, &["--key", &key, "--nowait"]);
    drained.assert_code(0);
    assert_eq!(drained.last_line(), clean_summary(queued));
    assert_no_sysv_objects(raw);
}

#[test]
fn a_full_queue_blocks_the_sender_saying_so_once_until_a_receiver_makes_room() {
    let raw = unique_key();
    let key = hex(raw);
    let mut sender = Running::start(
        cmd(SENDER, &["--key", &key, "--count", "60", "--size", "1000"]),
        None,
    );
    sender.wait_for_stderr("is full", READY);
    let got = run(RECEIVER, &["--key", &key]);
    let sent = sender.finish(WATCHDOG);
    sent.assert_code(0).assert_no_panic();
    assert_eq!(sent.stderr.matches("is full").count(), 1, "{}", sent.stderr);
    got.assert_code(0);
    assert_eq!(got.last_line(), clean_summary(60));
    assert_no_sysv_objects(raw);
}

#[test]
fn ctrl_c_in_msgrcv_on_an_empty_queue_removes_it() {
    let raw = unique_key();
    let key = hex(raw);
    for signal in [Signal::SIGINT, Signal::SIGTERM] {
        let receiver = start_receiver(&["--key", &key]);
        assert!(sysv_key_exists("msg", raw));
        receiver.signal(signal);
        let got = receiver.finish(STOP);
        got.assert_code(130).assert_no_panic();
        assert!(
            got.stderr.contains("removed message queue"),
            "{}",
            got.stderr
        );
        assert_eq!(got.last_line(), clean_summary(0));
        assert_no_sysv_objects(raw);
    }
}

#[test]
fn ctrl_c_in_msgrcv_on_a_non_empty_queue_keeps_it_and_counts_the_messages() {
    let raw = unique_key();
    let key = hex(raw);
    run(
        SENDER,
        &["--key", &key, "--type", "1", "--message", "for later"],
    )
    .assert_code(0);
    // Waiting for type 2 blocks in msgrcv although the queue holds two type-1 messages.
    let receiver = start_receiver(&["--key", &key, "--type", "2"]);
    receiver.signal(Signal::SIGINT);
    let got = receiver.finish(STOP);
    got.assert_code(130).assert_no_panic();
    assert!(
        got.stderr.contains(&format!(
            "kept message queue key {raw} ({key}) with 2 undelivered messages"
        )),
        "{}",
        got.stderr
    );
    assert!(
        got.stderr
            .contains(&format!("msgq-receiver --key {raw} --nowait")),
        "{}",
        got.stderr
    );
    assert_eq!(sysv_messages(raw), Some(2));

    let drained = run(RECEIVER, &["--key", &key, "--nowait"]);
    drained.assert_code(0);
    assert_eq!(drained.lines(), ["You wrote: for later", &clean_summary(1)]);
    assert_no_sysv_objects(raw);
}

#[test]
fn ctrl_c_in_msgsnd_on_a_full_queue_stops_the_sender_and_keeps_the_queue() {
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
    let drained = run(RECEIVER, &["--key", &key, "--nowait"]);
    drained.assert_code(0);
    assert_eq!(drained.last_line(), clean_summary(queued));
    assert_no_sysv_objects(raw);
}

#[test]
fn nowait_on_a_missing_queue_receives_nothing_and_succeeds() {
    let raw = unique_key();
    let got = run(RECEIVER, &["--key", &hex(raw), "--nowait"]);
    got.assert_code(0);
    assert_eq!(got.lines(), [clean_summary(0)]);
    assert_no_sysv_objects(raw);
}

/// Runs our binary as uid/gid 65534 (nobody), as another user on the machine would.
fn as_nobody(program: &str, args: &[&str]) -> ipc_testkit::Finished {
    let mut command = Command::new("setpriv");
    command
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", program])
        .args(args)
        .stdin(std::process::Stdio::null());
    let finished = Running::start(command, None).finish(WATCHDOG);
    finished.assert_no_panic();
    finished
}

#[test]
fn a_queue_of_another_user_is_refused_naming_the_key_and_the_owner() {
    let raw = unique_key();
    let key = hex(raw);
    as_nobody(SENDER, &["--key", &key, "--message", "not yours"]).assert_code(0);
    assert_eq!(sysv_messages(raw), Some(2));

    let receiver_args = ["--key", key.as_str()];
    let sender_args = ["--key", key.as_str(), "--message", "x"];
    for (program, args) in [(RECEIVER, &receiver_args[..]), (SENDER, &sender_args[..])] {
        let refused = run(program, args);
        refused.assert_code(1);
        assert!(
            refused.stderr.contains(&format!(
                "error: opening message queue key {raw} ({key}): it belongs to uid 65534"
            )),
            "{}",
            refused.stderr
        );
        assert!(refused.stderr.contains("hint: "), "{}", refused.stderr);
        assert_eq!(
            sysv_messages(raw),
            Some(2),
            "someone else's queue is never touched"
        );
    }
    ipcrm_key(raw);
    assert_no_sysv_objects(raw);
}

#[test]
fn a_queue_we_may_not_access_is_refused_naming_the_owner_and_mode() {
    let raw = unique_key();
    let key = hex(raw);
    run(SENDER, &["--key", &key, "--message", "private"]).assert_code(0);
    let refused = as_nobody(RECEIVER, &["--key", &key]);
    refused.assert_code(1);
    assert!(
        refused.stderr.contains(&format!(
            "opening message queue key {raw} ({key}): Permission denied (EACCES)"
        )),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("belongs to uid 0 with mode 0600"),
        "{}",
        refused.stderr
    );
    run(RECEIVER, &["--key", &key]).assert_code(0);
    assert_no_sysv_objects(raw);
}

#[test]
fn a_queue_with_another_mode_is_refused_unless_asked_for() {
    let raw = unique_key();
    let key = hex(raw);
    let open = run(
        SENDER,
        &["--key", &key, "--mode", "0666", "--message", "world-open"],
    );
    open.assert_code(0);
    assert!(
        open.stderr.contains("warning: mode 0666"),
        "{}",
        open.stderr
    );

    let refused = run(RECEIVER, &["--key", &key]);
    refused.assert_code(1);
    assert!(
        refused
            .stderr
            .contains("it has mode 0666, not the 0600 asked for"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("hint: pass --mode 0666"),
        "{}",
        refused.stderr
    );

    let got = run(RECEIVER, &["--key", &key, "--mode", "0666"]);
    got.assert_code(0);
    assert_eq!(got.lines(), ["You wrote: world-open", &clean_summary(1)]);
    assert_no_sysv_objects(raw);
}

#[test]
fn bad_arguments_are_usage_errors() {
    for (program, args) in [
        (SENDER, &["--key", "0"][..]),
        (SENDER, &["--type", "0"]),
        (SENDER, &["--type", "-1"]),
        (RECEIVER, &["--key", "twelve"]),
        (RECEIVER, &["--type", "x"]),
        (RECEIVER, &["--posix", "--type", "2"]),
        (RECEIVER, &["--posix", "--key", "5"]),
        (SENDER, &["--priority", "3"]),
        (SENDER, &["--posix", "--name", "no-slash"]),
    ] {
        let got = run(program, args);
        got.assert_code(2);
        assert!(got.stderr.contains("error: "), "{args:?}: {}", got.stderr);
    }
}

#[test]
fn nowait_drains_every_sender_and_type_left_in_the_queue() {
    let raw = unique_key();
    let key = hex(raw);
    run(
        SENDER,
        &["--key", &key, "--type", "4", "--message", "first"],
    )
    .assert_code(0);
    run(
        SENDER,
        &["--key", &key, "--type", "9", "--message", "second"],
    )
    .assert_code(0);
    let drained = run(RECEIVER, &["--key", &key, "--nowait"]);
    drained.assert_code(0);
    assert_eq!(
        drained.lines(),
        ["You wrote: first", "You wrote: second", &clean_summary(2)]
    );
    assert!(
        drained.stderr.contains("the queue is empty"),
        "{}",
        drained.stderr
    );
    assert_no_sysv_objects(raw);
}

#[test]
fn ctrl_c_on_a_sender_waiting_for_input_removes_the_empty_queue_it_created() {
    let raw = unique_key();
    let key = hex(raw);
    // stdin: a pipe we keep open and never write, so the sender waits for its first line.
    let (read_end, write_end) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).expect("pipe2");
    let mut command = Command::new(SENDER);
    command
        .args(["--key", &key])
        .stdin(std::process::Stdio::from(read_end));
    let mut sender = Running::start(command, None);
    sender.wait_for_stderr("created message queue", READY);
    assert!(sysv_key_exists("msg", raw));
    sender.signal(Signal::SIGINT);
    let stopped = sender.finish(STOP);
    drop(write_end);
    stopped.assert_code(130).assert_no_panic();
    assert!(
        stopped.stderr.contains("removed message queue"),
        "{}",
        stopped.stderr
    );
    assert_no_sysv_objects(raw);
}
