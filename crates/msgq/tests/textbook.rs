//! The classroom path: the textbook's own msg1.c and msg2.c (c/textbook/, compiled as printed),
//! their line-by-line Rust ports (examples/msg1.rs, examples/msg2.rs), our fixed C
//! (c/msgq_sender.c, c/msgq_receiver.c) and msgq-sender/msgq-receiver in `--wire c`, paired
//! each way. The textbook's programs and the examples hard-code key 1234: the LD_PRELOAD shim
//! (`remapped`) moves it to each test's own key, so the tests run in parallel unedited.
//!
//! msg1.c has no ready line and needs none: a queue keeps what is sent before its receiver
//! starts, and every program here creates the queue if it is not there yet.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use ipc_common::sysvipc::{self, Counts, Kind};
use ipc_testkit::{
    assert_no_sysv_objects, c_program, example, remapped, textbook_program, unique_key, Finished,
    Running, WATCHDOG,
};
use support::*;

/// What a student types into msg2: two texts, then `end`.
const INPUT: &[u8] = b"hello\nworld\nend\n";

/// What msg1 prints for INPUT: each text with the newline msg2's fgets kept, `end` included.
const MSG1_PRINTS: &str = "You wrote: hello\nYou wrote: world\nYou wrote: end\n";

/// The line the `--wire c` ends print when they use a queue the textbook made.
const WORLD_OPEN_WARNING: &str = "has the textbook's mode 0666";

/// Removes the test's queue (`ipcrm -Q`) if a failed test left it; a passing test has already
/// checked that nothing is left.
struct Cleanup(i32);

impl Drop for Cleanup {
    fn drop(&mut self) {
        if std::thread::panicking() {
            ipcrm_key(self.0);
        }
    }
}

/// A key of this test's own, and its cleanup guard.
fn own_key() -> (i32, Cleanup) {
    let key = unique_key();
    (key, Cleanup(key))
}

/// A textbook program (msg1, msg2) or an example, on `key`, with no input.
fn on_key(program: &Path, key: i32) -> Command {
    let mut cmd = remapped(program, key, None);
    cmd.stdin(Stdio::null());
    cmd
}

/// Runs `program` (on `key`) to the end with `input` on its stdin.
fn run_on_key(program: &Path, key: i32, input: &[u8]) -> Finished {
    let done = ipc_testkit::run(on_key(program, key), input);
    done.assert_no_panic();
    done
}

/// msg1 and msg2 from c/textbook, or None (the test is skipped) without a C compiler.
fn textbook() -> Option<(PathBuf, PathBuf)> {
    Some((textbook_program("msg1")?, textbook_program("msg2")?))
}

/// (mode, messages, bytes) of the queue with `key`, as /proc/sysvipc/msg shows them.
fn queue_state(key: i32) -> (u32, u64, u64) {
    let row = sysvipc::find(Kind::Queue, key).expect("the queue exists");
    match row.counts {
        Counts::Queue { qnum, cbytes, .. } => (row.mode(), qnum, cbytes),
        other => panic!("not a queue: {other:?}"),
    }
}

/// A `--wire c` receiver that got INPUT: two texts, no blank lines, a clean summary.
#[track_caller]
fn assert_got_hello_world(done: &Finished) {
    done.assert_code(0).assert_no_panic();
    assert_eq!(
        done.stdout,
        format!("You wrote: hello\nYou wrote: world\n{}\n", clean_summary(2)),
        "stderr:\n{}",
        done.stderr
    );
    assert!(
        done.stderr.contains("removed message queue"),
        "{}",
        done.stderr
    );
}

#[test]
fn textbook_msg2_first_then_msgq_receiver_wire_c() {
    let Some((_, msg2)) = textbook() else { return };
    let (raw, _cleanup) = own_key();
    run_on_key(&msg2, raw, INPUT).assert_code(0);
    // msg2.c: 0666, three messages of the whole MAX_TEXT (512) bytes, "end\n" the last.
    assert_eq!(queue_state(raw), (0o666, 3, 3 * 512));
    let done = run(RECEIVER, &["--wire", "c", "--key", &hex(raw)]);
    assert_got_hello_world(&done);
    assert!(done.stderr.contains(WORLD_OPEN_WARNING), "{}", done.stderr);
    assert_eq!(
        done.stderr.matches("warning").count(),
        1,
        "one warning line: {}",
        done.stderr
    );
    assert_no_sysv_objects(raw);
}

#[test]
fn msgq_receiver_wire_c_first_then_textbook_msg2() {
    let Some((_, msg2)) = textbook() else { return };
    let (raw, _cleanup) = own_key();
    let receiver = start_receiver(&["--wire", "c", "--key", &hex(raw)]);
    // msg2's msgget(1234, 0666 | IPC_CREAT) opens our 0600 queue: same user.
    run_on_key(&msg2, raw, INPUT).assert_code(0);
    let done = receiver.finish(WATCHDOG);
    assert_got_hello_world(&done);
    assert!(!done.stderr.contains("warning"), "{}", done.stderr);
    assert_no_sysv_objects(raw);
}

#[test]
fn our_own_wire_still_refuses_the_textbooks_world_open_queue() {
    let Some((_, msg2)) = textbook() else { return };
    let (raw, _cleanup) = own_key();
    let key = hex(raw);
    run_on_key(&msg2, raw, INPUT).assert_code(0);
    let refused = run(RECEIVER, &["--key", &key]);
    refused.assert_code(1);
    assert!(
        refused
            .stderr
            .contains("it has mode 0666, not the 0600 asked for")
            && refused.stderr.contains("hint: pass --mode 0666"),
        "{}",
        refused.stderr
    );
    assert_eq!(queue_state(raw), (0o666, 3, 3 * 512), "left untouched");
    // The --wire c end takes what msg2 sent, and removes the queue.
    let done = run(RECEIVER, &["--wire", "c", "--key", &key]);
    assert_got_hello_world(&done);
    assert_no_sysv_objects(raw);
}

#[test]
fn a_wire_c_receiver_stops_on_end_crlf_and_prints_no_carriage_return() {
    let Some((_, msg2)) = textbook() else { return };
    let (raw, _cleanup) = own_key();
    let receiver = start_receiver(&["--wire", "c", "--key", &hex(raw)]);
    // Input saved by a Windows editor: msg2 sends "hello\r\n", then "end\r\n" and stops.
    run_on_key(&msg2, raw, b"hello\r\nend\r\nnever sent\r\n").assert_code(0);
    let done = receiver.finish(WATCHDOG);
    done.assert_code(0);
    assert_eq!(
        done.stdout,
        format!("You wrote: hello\n{}\n", clean_summary(1))
    );
    assert_no_sysv_objects(raw);
}

#[test]
fn msgq_sender_wire_c_to_textbook_msg1() {
    let Some((msg1, _)) = textbook() else { return };
    let (raw, _cleanup) = own_key();
    let sender = cmd(SENDER, &["--wire", "c", "--key", &hex(raw)]);
    // The end of input sends "end\n", as a typed `end` would.
    let sent = ipc_testkit::run(sender, b"hello\nworld\n");
    sent.assert_code(0).assert_no_panic();
    // Ours creates 0600; msg1's msgget(1234, 0666 | IPC_CREAT) opens it. msg2's wire: 512 bytes each.
    assert_eq!(queue_state(raw), (0o600, 3, 3 * 512));
    let done = run_on_key(&msg1, raw, b"");
    done.assert_code(0);
    assert_eq!(done.stdout, MSG1_PRINTS, "one text per line, no blank line");
    assert_no_sysv_objects(raw);
}

#[test]
fn textbook_msg1_started_first_gets_msgq_sender_texts() {
    let Some((msg1, _)) = textbook() else { return };
    let (raw, _cleanup) = own_key();
    // Whichever creates the queue (msg1 with 0666, or the sender with 0600), the other uses it:
    // the sender accepts msg1's 0666 queue under --wire c.
    let receiver = Running::start(on_key(&msg1, raw), None);
    let sent = run(
        SENDER,
        &[
            "--wire",
            "c",
            "--key",
            &hex(raw),
            "--message",
            "hello",
            "--message",
            "world",
        ],
    );
    sent.assert_code(0);
    let done = receiver.finish(WATCHDOG);
    done.assert_code(0);
    assert_eq!(done.stdout, MSG1_PRINTS);
    assert_no_sysv_objects(raw);
}

#[test]
fn the_bufsiz_variant_arrives_whole_at_msgq_receiver_and_at_msg1() {
    let (raw, _cleanup) = own_key();
    let key = hex(raw);
    // 600 bytes do not fit msg2's 512-byte buffer, but fit the BUFSIZ (8192) one.
    let long = "x".repeat(600);
    let args = [
        "--wire",
        "c",
        "--c-text-size",
        "8192",
        "--key",
        &key,
        "--trace",
        "--message",
        &long,
        "--message",
        "hello",
    ];
    let receiver = start_receiver(&["--wire", "c", "--key", &key]);
    let sent = run(SENDER, &args);
    sent.assert_code(0);
    // Every msgsnd sends the whole 8192-byte some_text: two texts and "end\n".
    assert_eq!(
        sent.stderr.matches("}, 8192, ").count(),
        3,
        "{}",
        sent.stderr
    );
    let done = receiver.finish(WATCHDOG);
    done.assert_code(0);
    assert_eq!(
        done.lines(),
        [
            format!("You wrote: {long}").as_str(),
            "You wrote: hello",
            &clean_summary(2)
        ]
    );
    assert_no_sysv_objects(raw);

    // msg1 receives into BUFSIZ bytes: it takes them whole too.
    let Some((msg1, _)) = textbook() else { return };
    let (raw, _cleanup) = own_key();
    let key = hex(raw);
    let receiver = Running::start(on_key(&msg1, raw), None);
    let args = [
        "--wire",
        "c",
        "--c-text-size",
        "8192",
        "--key",
        &key,
        "--message",
        &long,
    ];
    run(SENDER, &args).assert_code(0);
    let done = receiver.finish(WATCHDOG);
    done.assert_code(0);
    assert_eq!(done.stdout, format!("You wrote: {long}\nYou wrote: end\n"));
    assert_no_sysv_objects(raw);
}

#[test]
fn example_msg2_to_textbook_msg1_and_textbook_msg2_to_example_msg1() {
    let Some((msg1, msg2)) = textbook() else {
        return;
    };
    for (sender, receiver) in [
        (example("msg2"), msg1.clone()),
        (msg2.clone(), example("msg1")),
        (example("msg2"), example("msg1")),
    ] {
        let (raw, _cleanup) = own_key();
        let sent = run_on_key(&sender, raw, INPUT);
        sent.assert_code(0);
        // The same wire as msg2.c: mode 0666, 512 bytes a message.
        assert_eq!(queue_state(raw), (0o666, 3, 3 * 512), "{sender:?}");
        let done = run_on_key(&receiver, raw, b"");
        done.assert_code(0);
        assert_eq!(done.stdout, MSG1_PRINTS, "{sender:?} -> {receiver:?}");
        assert_no_sysv_objects(raw);
    }
}

#[test]
fn example_msg2_to_msgq_receiver_and_msgq_sender_to_example_msg1() {
    let (raw, _cleanup) = own_key();
    let receiver = start_receiver(&["--wire", "c", "--key", &hex(raw)]);
    run_on_key(&example("msg2"), raw, INPUT).assert_code(0);
    assert_got_hello_world(&receiver.finish(WATCHDOG));
    assert_no_sysv_objects(raw);

    let (raw, _cleanup) = own_key();
    let sent = run(
        SENDER,
        &[
            "--wire",
            "c",
            "--key",
            &hex(raw),
            "--message",
            "hello",
            "--message",
            "world",
        ],
    );
    sent.assert_code(0);
    let done = run_on_key(&example("msg1"), raw, b"");
    done.assert_code(0);
    assert_eq!(done.stdout, MSG1_PRINTS);
    assert_no_sysv_objects(raw);
}

#[test]
fn example_msg2_stops_at_the_end_of_input() {
    // msg2.c would send its last line again for ever; the port stops.
    let (raw, _cleanup) = own_key();
    let sent = run_on_key(&example("msg2"), raw, b"only line\n");
    sent.assert_code(0);
    assert_eq!(queue_state(raw), (0o666, 1, 512));
    // Drain what it sent (no end came, so --nowait), which removes the queue.
    let done = run(RECEIVER, &["--wire", "c", "--key", &hex(raw), "--nowait"]);
    done.assert_code(0);
    assert_eq!(done.lines(), ["You wrote: only line", &clean_summary(1)]);
    assert_no_sysv_objects(raw);
}

#[test]
fn our_c_pair_speaks_the_textbook_wire_both_ways() {
    let Some((msg1, msg2)) = textbook() else {
        return;
    };
    let (Some(c_sender), Some(c_receiver)) = (c_program("msgq_sender"), c_program("msgq_receiver"))
    else {
        return;
    };
    // c/msgq_sender.c -> msg1.c
    let (raw, _cleanup) = own_key();
    let mut sender = Command::new(&c_sender);
    sender.args(["-k", &hex(raw)]);
    ipc_testkit::run(sender, INPUT).assert_code(0);
    assert_eq!(queue_state(raw), (0o600, 3, 3 * 512), "msg2's wire");
    let done = run_on_key(&msg1, raw, b"");
    done.assert_code(0);
    assert_eq!(done.stdout, MSG1_PRINTS);
    assert_no_sysv_objects(raw);

    // msg2.c -> c/msgq_receiver.c, which stops on "endless" as msg2 does (strncmp)
    let (raw, _cleanup) = own_key();
    run_on_key(&msg2, raw, b"hello\nendless\nnever sent\n").assert_code(0);
    let mut receiver = Command::new(&c_receiver);
    receiver.args(["-k", &hex(raw)]);
    let done = ipc_testkit::run(receiver, b"");
    done.assert_code(0);
    assert_eq!(done.stdout, "You wrote: hello\nYou wrote: endless\n");
    assert_no_sysv_objects(raw);
}
