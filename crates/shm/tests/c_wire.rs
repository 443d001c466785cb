//! `--wire c`: shm-sender and shm-receiver speak the textbook's own protocol (c/textbook/shm1.c
//! and shm2.c: `struct shared_use_st { int written_by_you; char some_text[2048]; }`, the flag
//! handing each text over, `end` last). Each pairing runs real processes on the test's own
//! key: the textbook programs (moved off key 1234 by the LD_PRELOAD shim), our fixed C
//! programs (c/shm_*.c), the Rust examples (shm1, shm2) and our full programs.
//!
//! The textbook's shm1 sleeps `rand() % 4` seconds per text, so the texts are few.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering::Acquire;
use std::time::{Duration, Instant};

use ipc_common::sysvipc::{self, Counts, Kind};
use ipc_shm::shared_use::{shmat, shmdt, shmget};
use ipc_testkit::{
    assert_no_sysv_objects, c_program, example, remapped, run, textbook_program, unique_key,
    Finished, Running, WATCHDOG,
};
use nix::sys::signal::Signal;

const SUMMARY_2: &str = "summary: received=2 lost=0 duplicated=0 reordered=0 corrupt=0";

fn rust(exe: &str, key: i32, extra: &[&str]) -> Command {
    let mut cmd = Command::new(exe);
    cmd.arg("--key")
        .arg(key.to_string())
        .args(extra)
        .stdin(Stdio::null());
    cmd
}

fn receiver(key: i32) -> Running {
    let mut receiver = Running::start(
        rust(env!("CARGO_BIN_EXE_shm-receiver"), key, &["--wire", "c"]),
        None,
    );
    receiver.wait_for_stderr("waiting for shm-sender", WATCHDOG);
    receiver
}

fn sender(key: i32, extra: &[&str]) -> Command {
    let mut args = vec!["--wire", "c"];
    args.extend_from_slice(extra);
    rust(env!("CARGO_BIN_EXE_shm-sender"), key, &args)
}

/// A program that prints nothing we can wait for (the textbook's shm1 buffers its stdout in
/// a pipe) is ready once it has attached the segment: shm_nattch >= 1 in /proc/sysvipc/shm.
fn wait_until_attached(key: i32) {
    let deadline = Instant::now() + WATCHDOG;
    loop {
        if let Some(row) = sysvipc::find(Kind::Segment, key) {
            if matches!(row.counts, Counts::Segment { nattch, .. } if nattch >= 1) {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no process attached segment key {key}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Waits until a sender started first has put a text in the segment (`written_by_you == 1`),
/// looking with the textbook's own calls, so that the receiver started next finds it there.
fn wait_for_waiting_text(key: i32) {
    let deadline = Instant::now() + WATCHDOG;
    loop {
        if let Ok(shmid) = shmget(key, 0, 0) {
            if let Ok(shared_stuff) = shmat(shmid) {
                let set = shared_stuff.written_by_you().load(Acquire) == 1;
                shmdt(shared_stuff).expect("shmdt");
                if set {
                    return;
                }
            }
        }
        assert!(Instant::now() < deadline, "no text waits in key {key}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Starts a consumer that gives no ready line (textbook shm1, example shm1) and waits until
/// it has attached.
fn consumer(program: &Path, key: i32) -> Running {
    let mut cmd = remapped(program, key, None);
    cmd.stdin(Stdio::null());
    let running = Running::start(cmd, None);
    wait_until_attached(key);
    running
}

/// A consumer's stdout after its `Memory attached at ...` line.
fn texts(done: &Finished) -> Vec<&str> {
    let lines = done.lines();
    assert!(
        lines
            .first()
            .is_some_and(|l| l.starts_with("Memory attached at ")),
        "{}",
        done.stdout
    );
    lines[1..].to_vec()
}

#[test]
fn the_textbook_shm1_prints_what_a_rust_sender_writes() {
    let Some(shm1) = textbook_program("shm1") else {
        return;
    };
    let key = unique_key();
    let shm1 = consumer(&shm1, key);
    let sent = run(
        sender(key, &["--message", "hello from Rust", "--message", "two"]),
        b"",
    );
    sent.assert_code(0).assert_no_panic();
    assert!(
        sent.stderr.contains("found the textbook's segment"),
        "{}",
        sent.stderr
    );
    let done = shm1.finish(WATCHDOG);
    done.assert_code(0);
    assert_eq!(
        texts(&done),
        [
            "You wrote: hello from Rust",
            "You wrote: two",
            "You wrote: end"
        ]
    );
    assert_no_sysv_objects(key);
}

#[test]
fn a_rust_sender_stops_after_a_text_that_ends_the_textbook_shm1() {
    // shm1.c stops at any text that starts with "end" (strncmp(text, "end", 3)); a sender
    // that went on would wait for ever for a flag nobody clears.
    let Some(shm1) = textbook_program("shm1") else {
        return;
    };
    let key = unique_key();
    let shm1 = consumer(&shm1, key);
    let sent = run(
        sender(
            key,
            &[
                "--message",
                "one",
                "--message",
                "endless",
                "--message",
                "never",
            ],
        ),
        b"",
    );
    sent.assert_code(0).assert_no_panic();
    assert!(
        sent.stderr.contains("nothing more is sent, as in msg2.c"),
        "{}",
        sent.stderr
    );
    let done = shm1.finish(WATCHDOG);
    done.assert_code(0);
    assert_eq!(texts(&done), ["You wrote: one", "You wrote: endless"]);
    assert_no_sysv_objects(key);
}

#[test]
fn a_rust_receiver_prints_what_the_textbook_shm2_writes() {
    let Some(shm2) = textbook_program("shm2") else {
        return;
    };
    let key = unique_key();
    let receiver = receiver(key);
    let sent = run(remapped(&shm2, key, None), b"hello\nworld\nend\n");
    sent.assert_code(0);
    let done = receiver.finish(WATCHDOG);
    done.assert_code(0).assert_no_panic();
    assert_eq!(
        done.lines(),
        ["You wrote: hello", "You wrote: world", SUMMARY_2]
    );
    assert!(
        done.stderr.contains("Memory attached at "),
        "{}",
        done.stderr
    );
    assert_no_sysv_objects(key);
}

#[test]
fn a_text_written_before_the_receiver_started_is_not_lost() {
    // shm1.c sets written_by_you = 0 when it starts, which throws such a text away.
    let Some(shm2) = textbook_program("shm2") else {
        return;
    };
    let key = unique_key();
    let mut shm2 = remapped(&shm2, key, None);
    shm2.stdin(Stdio::null());
    let producer = Running::start(shm2, Some(b"early bird\nend\n".to_vec()));
    wait_for_waiting_text(key);
    let receiver = receiver(key);
    producer.finish(WATCHDOG).assert_code(0);
    let done = receiver.finish(WATCHDOG);
    done.assert_code(0).assert_no_panic();
    assert_eq!(
        done.lines(),
        [
            "You wrote: early bird",
            "summary: received=1 lost=0 duplicated=0 reordered=0 corrupt=0"
        ]
    );
    assert!(done.stderr.contains("found the textbook's segment"));
    assert_no_sysv_objects(key);
}

#[test]
fn a_rust_sender_started_first_leaves_its_texts_for_the_receiver() {
    let key = unique_key();
    let mut sending = Running::start(sender(key, &["--message", "first"]), None);
    sending.wait_for_stderr("created the textbook's segment", WATCHDOG);
    wait_for_waiting_text(key);
    let receiver = receiver(key);
    sending.finish(WATCHDOG).assert_code(0).assert_no_panic();
    let done = receiver.finish(WATCHDOG);
    done.assert_code(0).assert_no_panic();
    assert_eq!(
        done.lines(),
        [
            "You wrote: first",
            "summary: received=1 lost=0 duplicated=0 reordered=0 corrupt=0"
        ]
    );
    assert_no_sysv_objects(key);
}

#[test]
fn a_receiver_stops_on_end_with_a_carriage_return() {
    let Some(shm2) = textbook_program("shm2") else {
        return;
    };
    let key = unique_key();
    let receiver = receiver(key);
    // A text typed in a terminal that sends CRLF; then `end\r\n`, and a line never sent.
    run(remapped(&shm2, key, None), b"hi\r\nend\r\nnever\n").assert_code(0);
    let done = receiver.finish(WATCHDOG);
    done.assert_code(0).assert_no_panic();
    assert_eq!(
        done.lines(),
        [
            "You wrote: hi",
            "summary: received=1 lost=0 duplicated=0 reordered=0 corrupt=0"
        ]
    );
    assert_no_sysv_objects(key);
}

#[test]
fn the_example_shm1_prints_what_the_textbook_shm2_writes() {
    let Some(shm2) = textbook_program("shm2") else {
        return;
    };
    let key = unique_key();
    let shm1 = consumer(&example("shm1"), key);
    run(remapped(&shm2, key, None), b"hello\nend\n").assert_code(0);
    let done = shm1.finish(WATCHDOG);
    done.assert_code(0).assert_no_panic();
    assert_eq!(texts(&done), ["You wrote: hello", "You wrote: end"]);
    assert_no_sysv_objects(key);
}

#[test]
fn the_textbook_shm1_prints_what_the_example_shm2_writes() {
    let Some(shm1) = textbook_program("shm1") else {
        return;
    };
    let key = unique_key();
    let shm1 = consumer(&shm1, key);
    let sent = run(remapped(&example("shm2"), key, None), b"hello\nend\n");
    sent.assert_code(0).assert_no_panic();
    assert!(
        sent.stdout.starts_with("Memory attached at "),
        "{}",
        sent.stdout
    );
    let done = shm1.finish(WATCHDOG);
    done.assert_code(0);
    assert_eq!(texts(&done), ["You wrote: hello", "You wrote: end"]);
    assert_no_sysv_objects(key);
}

#[test]
fn our_c_receiver_prints_what_a_rust_sender_writes() {
    let Some(c_receiver) = c_program("shm_receiver") else {
        return;
    };
    let key = unique_key();
    let mut cmd = Command::new(c_receiver);
    cmd.args(["-k", &key.to_string()]).stdin(Stdio::null());
    let mut receiver = Running::start(cmd, None);
    receiver.wait_for_stderr("waiting for text on key", WATCHDOG);
    run(
        sender(key, &["--message", "hello from Rust", "--message", "two"]),
        b"",
    )
    .assert_code(0)
    .assert_no_panic();
    let done = receiver.finish(WATCHDOG);
    done.assert_code(0);
    assert_eq!(
        done.lines(),
        [
            "You wrote: hello from Rust",
            "You wrote: two",
            "You wrote: end"
        ]
    );
    assert_no_sysv_objects(key);
}

#[test]
fn a_rust_receiver_prints_what_our_c_sender_writes() {
    let Some(c_sender) = c_program("shm_sender") else {
        return;
    };
    let key = unique_key();
    let receiver = receiver(key);
    let mut cmd = Command::new(c_sender);
    cmd.args(["-k", &key.to_string()]);
    run(cmd, b"from C\n  spaced  out\nend\n").assert_code(0);
    let done = receiver.finish(WATCHDOG);
    done.assert_code(0).assert_no_panic();
    assert_eq!(
        done.lines(),
        ["You wrote: from C", "You wrote:   spaced  out", SUMMARY_2]
    );
    assert_no_sysv_objects(key);
}

#[test]
fn an_end_of_the_other_layout_is_told_which_wire_fits() {
    let key = unique_key();
    // Our own layout finds the textbook's segment.
    let receiver = receiver(key);
    let out = run(
        rust(env!("CARGO_BIN_EXE_shm-sender"), key, &["--message", "x"]),
        b"",
    );
    out.assert_code(1).assert_no_panic();
    assert!(
        out.stderr.contains("it is 2052 bytes") && out.stderr.contains("with --wire c"),
        "{}",
        out.stderr
    );
    receiver.signal(Signal::SIGINT);
    receiver
        .finish(WATCHDOG)
        .assert_stopped_cleanly("shm-receiver");
    assert_no_sysv_objects(key);

    // The textbook's layout finds our own.
    let mut ours = Running::start(rust(env!("CARGO_BIN_EXE_shm-receiver"), key, &[]), None);
    ours.wait_for_stderr("waiting for shm-sender", WATCHDOG);
    let out = run(sender(key, &["--message", "x"]), b"");
    out.assert_code(1).assert_no_panic();
    assert!(
        out.stderr
            .contains("not the textbook's struct shared_use_st (2052 bytes)")
            && out.stderr.contains("without --wire c"),
        "{}",
        out.stderr
    );
    ours.signal(Signal::SIGINT);
    ours.finish(WATCHDOG).assert_stopped_cleanly("shm-receiver");
    assert_no_sysv_objects(key);
}

#[test]
fn what_the_textbook_layout_cannot_carry_is_refused() {
    let key = unique_key();
    let long = "x".repeat(2047);
    for (args, why) in [
        (vec!["--count", "2"], "text lines only"),
        (vec!["--message", &long], "char some_text[TEXT_SZ]"),
        (vec!["--slots", "4"], "cannot be used with"),
        (vec!["--slot-size", "4096"], "cannot be used with"),
        (vec!["--ring"], "cannot be used with"),
    ] {
        let out = run(sender(key, &args), b"");
        out.assert_code(2).assert_no_panic();
        assert!(out.stderr.contains(why), "{args:?}:\n{}", out.stderr);
    }
    // From stdin the line is only known once read: a clear error, and nothing left.
    let out = run(sender(key, &[]), format!("{long}\n").as_bytes());
    out.assert_code(1).assert_no_panic();
    assert!(out.stderr.contains("at most 2046 bytes"), "{}", out.stderr);
    assert_no_sysv_objects(key);
}

#[test]
fn ctrl_c_stops_a_waiting_end_and_removes_what_nobody_else_uses() {
    let key = unique_key();
    // A receiver waiting for a text.
    let receiver = receiver(key);
    receiver.signal(Signal::SIGINT);
    receiver
        .finish(Duration::from_secs(5))
        .assert_stopped_cleanly("shm-receiver");
    assert_no_sysv_objects(key);

    // A sender that created the segment and waits for a receiver that never comes.
    let mut sending = Running::start(sender(key, &["--message", "a", "--message", "b"]), None);
    sending.wait_for_stderr("waiting for client...", WATCHDOG);
    sending.signal(Signal::SIGINT);
    sending
        .finish(Duration::from_secs(5))
        .assert_stopped_cleanly("shm-sender");
    assert_no_sysv_objects(key);
}
