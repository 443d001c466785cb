//! POSIX message queues (`--posix`): the same contract as System V, with priorities in place
//! of types. One /ipt-* name per test; every test ends by checking that its queue is gone.

mod support;

use ipc_testkit::{Running, WATCHDOG};
use nix::sys::signal::Signal;
use support::*;

/// Removes the queue even when an assertion fails half-way, so a failing test leaks nothing.
struct Cleanup(String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        unlink_posix(&self.0);
    }
}

#[test]
fn the_posix_queue_outlives_the_sender_and_a_later_receiver_gets_every_message() {
    let name = unique_name();
    let _cleanup = Cleanup(name.clone());
    // A POSIX queue holds msg_max messages (10 by default): 9 and End fill it exactly.
    let capacity = proc_limit("/proc/sys/fs/mqueue/msg_max");
    let count = (capacity - 1).to_string();
    let sent = run(SENDER, &["--posix", "--name", &name, "--count", &count]);
    sent.assert_code(0);
    assert!(
        sent.stderr.contains("exiting without waiting"),
        "{}",
        sent.stderr
    );
    assert!(posix_queue_exists(&name));

    let got = run(RECEIVER, &["--posix", "--name", &name]);
    got.assert_code(0);
    assert_eq!(got.last_line(), clean_summary(capacity as u64 - 1));
    assert!(
        got.stderr.contains("removed POSIX message queue"),
        "{}",
        got.stderr
    );
    assert_posix_gone(&name);
}

#[test]
fn higher_priorities_are_received_first() {
    let name = unique_name();
    let _cleanup = Cleanup(name.clone());
    let low = [
        "--posix",
        "--name",
        &name,
        "--priority",
        "1",
        "--message",
        "low 1",
        "--message",
        "low 2",
    ];
    run(SENDER, &low).assert_code(0);
    let high = [
        "--posix",
        "--name",
        &name,
        "--priority",
        "5",
        "--message",
        "high 1",
        "--message",
        "high 2",
    ];
    run(SENDER, &high).assert_code(0);

    let got = run(RECEIVER, &["--posix", "--name", &name, "--senders", "2"]);
    got.assert_code(0);
    assert_eq!(
        got.lines(),
        [
            "You wrote: high 1",
            "You wrote: high 2",
            "You wrote: low 1",
            "You wrote: low 2",
            &clean_summary(4)
        ]
    );
    assert_posix_gone(&name);
}

#[test]
fn a_posix_receiver_gets_a_concurrent_sender_through_a_small_queue() {
    let name = unique_name();
    let _cleanup = Cleanup(name.clone());
    let receiver = start_receiver(&["--posix", "--name", &name, "--senders", "2"]);
    let senders: Vec<Running> = (0..2)
        .map(|_| {
            Running::start(
                cmd(SENDER, &["--posix", "--name", &name, "--count", "2000"]),
                None,
            )
        })
        .collect();
    for sender in senders {
        sender.finish(WATCHDOG).assert_code(0).assert_no_panic();
    }
    let got = receiver.finish(WATCHDOG);
    got.assert_code(0).assert_no_panic();
    assert_eq!(got.last_line(), clean_summary(4000));
    assert_posix_gone(&name);
}

#[test]
fn the_largest_posix_message_fits_and_one_byte_more_is_refused() {
    let msgsize = proc_limit("/proc/sys/fs/mqueue/msgsize_max");
    let name = unique_name();
    let _cleanup = Cleanup(name.clone());

    let fits = send_line_of_encoded_len(&["--posix", "--name", &name], msgsize);
    fits.assert_code(0);
    let got = run(RECEIVER, &["--posix", "--name", &name]);
    got.assert_code(0);
    assert!(got.lines()[0].starts_with("You wrote: xxx"));
    assert_eq!(got.last_line(), clean_summary(1));
    assert_posix_gone(&name);

    let too_big = send_line_of_encoded_len(&["--posix", "--name", &name], msgsize + 1);
    too_big.assert_code(1);
    assert!(
        too_big
            .stderr
            .contains(&format!("mq_msgsize, {msgsize} bytes")),
        "{}",
        too_big.stderr
    );
    assert!(
        too_big.stderr.contains("/proc/sys/fs/mqueue/msgsize_max"),
        "{}",
        too_big.stderr
    );
    assert_posix_gone(&name);
}

#[test]
fn a_full_posix_queue_fails_with_nowait_and_keeps_what_was_sent() {
    let capacity = proc_limit("/proc/sys/fs/mqueue/msg_max");
    let name = unique_name();
    let _cleanup = Cleanup(name.clone());
    let full = run(
        SENDER,
        &["--posix", "--name", &name, "--count", "50", "--nowait"],
    );
    full.assert_code(1);
    assert!(full.stderr.contains("queue full"), "{}", full.stderr);

    let drained = run(RECEIVER, &["--posix", "--name", &name, "--nowait"]);
    drained.assert_code(0);
    assert_eq!(drained.last_line(), clean_summary(capacity as u64));
    assert_posix_gone(&name);
}

#[test]
fn ctrl_c_while_waiting_on_an_empty_posix_queue_removes_it() {
    let name = unique_name();
    let _cleanup = Cleanup(name.clone());
    let receiver = start_receiver(&["--posix", "--name", &name]);
    assert!(posix_queue_exists(&name));
    receiver.signal(Signal::SIGINT);
    let got = receiver.finish(STOP);
    got.assert_code(130).assert_no_panic();
    assert!(
        got.stderr.contains("removed POSIX message queue"),
        "{}",
        got.stderr
    );
    assert_posix_gone(&name);
}

#[test]
fn ctrl_c_while_a_sender_waits_on_a_full_posix_queue_keeps_the_messages() {
    let capacity = proc_limit("/proc/sys/fs/mqueue/msg_max");
    let name = unique_name();
    let _cleanup = Cleanup(name.clone());
    let mut sender = Running::start(
        cmd(SENDER, &["--posix", "--name", &name, "--count", "50"]),
        None,
    );
    sender.wait_for_stderr("is full", READY);
    sender.signal(Signal::SIGTERM);
    sender.finish(STOP).assert_code(130).assert_no_panic();
    assert!(
        posix_queue_exists(&name),
        "the sender never removes a queue it put messages in"
    );

    let drained = run(RECEIVER, &["--posix", "--name", &name, "--nowait"]);
    drained.assert_code(0);
    assert_eq!(drained.last_line(), clean_summary(capacity as u64));
    assert_posix_gone(&name);
}

#[test]
fn a_posix_queue_with_another_mode_is_refused_unless_asked_for() {
    let name = unique_name();
    let _cleanup = Cleanup(name.clone());
    run(
        SENDER,
        &[
            "--posix",
            "--name",
            &name,
            "--mode",
            "0666",
            "--message",
            "open",
        ],
    )
    .assert_code(0);
    let refused = run(RECEIVER, &["--posix", "--name", &name]);
    refused.assert_code(1);
    assert!(
        refused
            .stderr
            .contains("it has mode 0666, not the 0600 asked for"),
        "{}",
        refused.stderr
    );
    let got = run(RECEIVER, &["--posix", "--name", &name, "--mode", "0666"]);
    got.assert_code(0);
    assert_eq!(got.lines(), ["You wrote: open", &clean_summary(1)]);
    assert_posix_gone(&name);
}
