//! `--wire c`: shm-sender and shm-receiver talk to the tutorial's C programs
//! (c/shm_sender.c, c/shm_receiver.c: one NUL-terminated text in a 1024-byte segment, two
//! semaphores EMPTY and FULL, `end` last), in both directions; mixed layouts are refused.

use std::process::{Command, Stdio};

use ipc_testkit::{assert_no_sysv_objects, c_program, run, unique_key, Running, WATCHDOG};

fn rust(exe: &str, key: i32, extra: &[&str]) -> Command {
    let mut cmd = Command::new(exe);
    cmd.arg("--key")
        .arg(key.to_string())
        .args(extra)
        .stdin(Stdio::null());
    cmd
}

#[test]
fn a_rust_sender_talks_to_the_c_receiver() {
    let Some(c_receiver) = c_program("shm_receiver") else {
        return;
    };
    let key = unique_key();
    let mut cmd = Command::new(c_receiver);
    cmd.args(["-k", &key.to_string()]).stdin(Stdio::null());
    let mut receiver = Running::start(cmd, None);
    receiver.wait_for_stderr("waiting for text on key", WATCHDOG);
    let sent = run(
        rust(
            env!("CARGO_BIN_EXE_shm-sender"),
            key,
            &[
                "--wire",
                "c",
                "--message",
                "hello from Rust",
                "--message",
                "two",
            ],
        ),
        b"",
    );
    sent.assert_code(0).assert_no_panic();
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
fn the_c_sender_talks_to_a_rust_receiver() {
    let Some(c_sender) = c_program("shm_sender") else {
        return;
    };
    let key = unique_key();
    let mut receiver = Running::start(
        rust(env!("CARGO_BIN_EXE_shm-receiver"), key, &["--wire", "c"]),
        None,
    );
    receiver.wait_for_stderr("waiting for shm-sender", WATCHDOG);
    let mut cmd = Command::new(c_sender);
    cmd.args(["-k", &key.to_string()]);
    run(cmd, b"from C\n  spaced  out\nend\n").assert_code(0);
    let done = receiver.finish(WATCHDOG);
    done.assert_code(0).assert_no_panic();
    assert_eq!(
        done.lines(),
        [
            "You wrote: from C",
            "You wrote:   spaced  out",
            "summary: received=2 lost=0 duplicated=0 reordered=0 corrupt=0"
        ]
    );
    assert_no_sysv_objects(key);
}

#[test]
fn a_rust_end_without_wire_c_is_told_what_is_wrong() {
    let Some(c_receiver) = c_program("shm_receiver") else {
        return;
    };
    let key = unique_key();
    let mut cmd = Command::new(c_receiver);
    cmd.args(["-k", &key.to_string()]).stdin(Stdio::null());
    let mut receiver = Running::start(cmd, None);
    receiver.wait_for_stderr("waiting for text on key", WATCHDOG);
    // Our own layout needs three semaphores: the C receiver's set has two.
    let sent = run(
        rust(env!("CARGO_BIN_EXE_shm-sender"), key, &["--message", "x"]),
        b"",
    );
    sent.assert_code(1).assert_no_panic();
    assert!(
        sent.stderr.contains("it has 2 semaphore(s)"),
        "{}",
        sent.stderr
    );
    receiver.signal(nix::sys::signal::Signal::SIGINT);
    receiver.finish(WATCHDOG);
    assert_no_sysv_objects(key);
}

#[test]
fn what_the_c_layout_cannot_carry_is_refused() {
    let key = unique_key();
    let exe = env!("CARGO_BIN_EXE_shm-sender");
    let long = "x".repeat(1024);
    for (args, why) in [
        (vec!["--wire", "c", "--count", "2"], "text lines only"),
        (
            vec!["--wire", "c", "--message", &long],
            "char some_text[1024]",
        ),
        (vec!["--wire", "c", "--slots", "4"], "cannot be used with"),
    ] {
        let out = run(rust(exe, key, &args), b"");
        out.assert_code(2).assert_no_panic();
        assert!(out.stderr.contains(why), "{args:?}:\n{}", out.stderr);
    }
    assert_no_sysv_objects(key);
}
