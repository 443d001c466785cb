//! `--trace`: the System V calls of msgq-sender and msgq-receiver, in C notation, on stderr.
//! The issue's own example: `msgq-sender --trace --message hi` shows the msgget and msgsnd lines.

mod support;

use ipc_common::{trace, wire, Message};
use ipc_msgq::posix::WAIT_SLICE;
use ipc_testkit::{assert_no_sysv_objects, unique_key, Finished, Running, WATCHDOG};
use support::*;

/// Runs `program` to completion and returns what it printed and its pid.
fn run_with_pid(program: &str, args: &[&str]) -> (Finished, u32) {
    let running = Running::start(cmd(program, args), None);
    let pid = running.pid().as_raw() as u32;
    let finished = running.finish(WATCHDOG);
    finished.assert_no_panic();
    (finished, pid)
}

/// The bytes one kernel message carries for `msg`: its bincode encoding.
fn encoded(msg: &Message) -> Vec<u8> {
    let mut buf = Vec::new();
    wire::encode(msg, &mut buf).expect("encodes");
    buf
}

/// The text after `prefix` and before `suffix` on the one stderr line that starts with
/// `prefix` and ends with `suffix`; panics with the whole stderr if there is none.
#[track_caller]
fn between<'a>(stderr: &'a str, prefix: &str, suffix: &str) -> &'a str {
    stderr
        .lines()
        .find_map(|line| line.strip_prefix(prefix)?.strip_suffix(suffix))
        .unwrap_or_else(|| panic!("no line `{prefix}...{suffix}` in:\n{stderr}"))
}

#[test]
fn the_sender_traces_msgget_and_msgsnd_and_the_receiver_msgrcv_and_msgctl() {
    let raw = unique_key();
    let key = hex(raw);
    let (sent, pid) = run_with_pid(SENDER, &["--trace", "--key", &key, "--message", "hi"]);
    sent.assert_code(0);
    let err = &sent.stderr;
    let text = encoded(&Message::text(pid, 1, "hi"));
    let end = encoded(&Message::end(pid, 2));

    // msgget(0x5..., 0600|IPC_CREAT|IPC_EXCL) = ID: the key as ipcs shows it, the mode in octal.
    let id = between(
        err,
        &format!("msgget({key}, 0600|IPC_CREAT|IPC_EXCL) = "),
        "",
    );
    let id: i32 = id
        .parse()
        .unwrap_or_else(|_| panic!("msgget returns an id: {id:?}\n{err}"));
    assert!(id >= 0, "{err}");

    // msgsnd(ID, {mtype=1, "<the encoded Message>"}, LEN, IPC_NOWAIT) = 0: the first try
    // never blocks (so the sender can say once that the queue is full); the text ends the buffer.
    let preview = trace::bytes(&text);
    assert!(preview.ends_with("hi\""), "{preview}");
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("msgsnd(")).collect();
    assert_eq!(
        lines,
        [
            format!(
                "msgsnd({id}, {{mtype=1, {preview}}}, {}, IPC_NOWAIT) = 0",
                text.len()
            ),
            format!(
                "msgsnd({id}, {{mtype=1, {}}}, {}, IPC_NOWAIT) = 0",
                trace::bytes(&end),
                end.len()
            ),
        ],
        "the text and the End:\n{err}"
    );
    // The trace lines come before the summary line the program prints after them.
    let last_msgsnd = err.rfind("msgsnd(").expect("traced");
    let sent_line = err
        .find("msgq-sender: sent 1 message")
        .expect("the summary");
    assert!(last_msgsnd < sent_line, "{err}");
    assert!(
        !sent.stdout.contains("msgsnd"),
        "traces go to stderr only: {}",
        sent.stdout
    );

    // The receiver drains the queue: its last msgrcv fails with ENOMSG, shown as strace shows
    // errors, then the queue is removed with msgctl(IPC_RMID).
    let drained = run(RECEIVER, &["--trace", "--key", &key, "--nowait"]);
    drained.assert_code(0);
    assert_eq!(drained.lines(), ["You wrote: hi", &clean_summary(1)]);
    let err = &drained.stderr;
    between(err, &format!("msgget({key}, 0) = {id}"), "");
    between(
        err,
        &format!("msgrcv({id}, 0x"),
        ", IPC_NOWAIT) = -1 ENOMSG (No message of desired type)",
    );
    let msgmax = std::fs::read_to_string("/proc/sys/kernel/msgmax").expect("msgmax");
    let received = format!(
        "msgrcv({id}, {{mtype=1, {preview}}}, {}, 0, IPC_NOWAIT) = {}",
        msgmax.trim(),
        text.len()
    );
    assert!(
        err.lines().any(|l| l == received),
        "no `{received}` in:\n{err}"
    );
    between(err, &format!("msgctl({id}, IPC_RMID, NULL) = 0"), "");
    assert_no_sysv_objects(raw);
}

#[test]
fn without_trace_no_call_is_shown() {
    let raw = unique_key();
    let key = hex(raw);
    let sent = run(SENDER, &["--key", &key, "--message", "quiet"]);
    sent.assert_code(0);
    let drained = run(RECEIVER, &["--key", &key, "--nowait"]);
    drained.assert_code(0);
    for err in [&sent.stderr, &drained.stderr] {
        for call in ["msgget(", "msgsnd(", "msgrcv(", "msgctl("] {
            assert!(
                !err.lines().any(|l| l.starts_with(call)),
                "{call} traced without --trace:\n{err}"
            );
        }
    }
    assert_no_sysv_objects(raw);
}

#[test]
fn a_posix_queue_traces_mq_open_mq_timedsend_and_mq_unlink() {
    let name = unique_name();
    let (sent, pid) = run_with_pid(
        SENDER,
        &["--trace", "--posix", "--name", &name, "--message", "hi"],
    );
    sent.assert_code(0);
    let text = encoded(&Message::text(pid, 1, "hi"));
    // A blocking descriptor: no O_NONBLOCK, the waits are bounded by the calls' deadlines.
    let mqd = between(
        &sent.stderr,
        &format!("mq_open(\"{name}\", O_WRONLY|O_CREAT|O_EXCL|O_CLOEXEC, 0600, {{"),
        "",
    );
    let mqd = mqd.rsplit(" = ").next().expect("a result");
    // Until the queue was once full, a send is a try with a deadline already past.
    let line = format!(
        "mq_timedsend({mqd}, {}, {}, 0, {{tv_sec=0, tv_nsec=0}}) = 0",
        trace::bytes(&text),
        text.len()
    );
    assert!(
        sent.stderr.lines().any(|l| l == line),
        "no `{line}` in:\n{}",
        sent.stderr
    );

    let drained = run(
        RECEIVER,
        &["--trace", "--posix", "--name", &name, "--nowait"],
    );
    drained.assert_code(0);
    let msgsize = proc_limit("/proc/sys/fs/mqueue/msgsize_max");
    let received = format!(
        "mq_timedreceive({mqd}, {}, {msgsize}, [0], {{tv_sec=0, tv_nsec=0}}) = {}",
        trace::bytes(&text),
        text.len()
    );
    assert!(
        drained.stderr.lines().any(|l| l == received),
        "no `{received}` in:\n{}",
        drained.stderr
    );
    // --nowait: the last mq_timedreceive finds the queue empty and its deadline past at once.
    between(
        &drained.stderr,
        &format!("mq_timedreceive({mqd}, 0x"),
        ", {tv_sec=0, tv_nsec=0}) = -1 ETIMEDOUT (Connection timed out)",
    );
    between(&drained.stderr, &format!("mq_unlink(\"{name}\") = 0"), "");
    assert!(
        !std::path::Path::new(&format!("/dev/mqueue{name}")).exists(),
        "the queue was unlinked"
    );
}

#[test]
fn a_posix_receiver_waits_in_mq_timedreceive_without_a_line_per_time_slice() {
    let name = unique_name();
    let receiver = start_receiver(&["--trace", "--posix", "--name", &name]);
    // Not a readiness guess (the ready line said the queue exists): let a few of the
    // receiver's 100 ms waits run out before the message comes.
    std::thread::sleep(3 * WAIT_SLICE);
    let sender = run(SENDER, &["--posix", "--name", &name, "--message", "late"]);
    sender.assert_code(0);
    let got = receiver.finish(WATCHDOG);
    got.assert_code(0).assert_no_panic();
    assert_eq!(got.lines(), ["You wrote: late", &clean_summary(1)]);
    // The message came in a wait with a real deadline (not {0, 0}); the slices that ran out
    // before it came are not traced.
    let receives: Vec<&str> = got
        .stderr
        .lines()
        .filter(|l| l.starts_with("mq_timedreceive("))
        .collect();
    assert_eq!(receives.len(), 2, "the text and the End:\n{}", got.stderr);
    for line in &receives {
        assert!(!line.contains("{tv_sec=0, tv_nsec=0}"), "{line}");
        assert!(!line.contains("ETIMEDOUT"), "{line}");
    }
    between(&got.stderr, &format!("mq_unlink(\"{name}\") = 0"), "");
}
