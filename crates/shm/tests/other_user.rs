//! `--mode 0666`, the tutorial's two-user mode, for the segment and its semaphore set: root
//! (the test) creates them world-open, and uid 65534 (nobody, through setpriv) runs the other
//! end with the same explicit `--mode`. The messages cross; nobody may not remove root's objects
//! (IPC_RMID needs the owner), so it says who can, and the test removes them. Without `--mode`
//! nobody is refused and nothing is touched.

use std::process::{Command, Stdio};

use ipc_testkit::{
    assert_no_sysv_objects, run, sysv_key_exists, unique_key, Finished, Running, WATCHDOG,
};

const SENDER: &str = env!("CARGO_BIN_EXE_shm-sender");
const RECEIVER: &str = env!("CARGO_BIN_EXE_shm-receiver");

fn ours(program: &str, key: i32, extra: &[&str]) -> Command {
    let mut cmd = Command::new(program);
    cmd.arg("--key").arg(key.to_string()).args(extra);
    cmd.stdin(Stdio::null());
    cmd
}

/// Runs our binary as uid/gid 65534 (nobody), as another user on the machine would.
fn as_nobody(program: &str, key: i32, extra: &[&str]) -> Finished {
    let mut cmd = Command::new("setpriv");
    cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", program])
        .arg("--key")
        .arg(key.to_string())
        .args(extra)
        .stdin(Stdio::null());
    let finished = Running::start(cmd, None).finish(WATCHDOG);
    finished.assert_no_panic();
    finished
}

fn ipcrm(key: i32) {
    let key = key.to_string();
    let _ = Command::new("ipcrm")
        .args(["-M", &key, "-S", &key])
        .status();
}

#[test]
fn another_users_receiver_with_mode_0666_reads_a_0666_segment_and_says_who_can_remove_it() {
    let key = unique_key();
    let tx = run(
        ours(
            SENDER,
            key,
            &[
                "--mode",
                "0666",
                "--slots",
                "4",
                "--message",
                "one",
                "--message",
                "two",
            ],
        ),
        b"",
    );
    tx.assert_code(0).assert_no_panic();

    let refused = as_nobody(RECEIVER, key, &["--slots", "4"]);
    refused.assert_code(1);
    assert!(
        refused.stderr.contains("it belongs to uid 0 (mode 0666")
            && refused
                .stderr
                .contains("hint: to share it as its owner meant, pass --mode 0666"),
        "{}",
        refused.stderr
    );
    assert!(
        sysv_key_exists("shm", key) && sysv_key_exists("sem", key),
        "a refusal touches nothing"
    );

    let joined = as_nobody(RECEIVER, key, &["--slots", "4", "--mode", "0666"]);
    joined.assert_code(0);
    assert_eq!(
        joined.lines(),
        [
            "You wrote: one",
            "You wrote: two",
            "summary: received=2 lost=0 duplicated=0 reordered=0 corrupt=0"
        ]
    );
    for (what, command) in [("the set", "ipcrm -s "), ("the segment", "ipcrm -m ")] {
        assert!(
            joined.stderr.contains(&format!(
                "{what} belongs to uid 0 (user root): only they or root can remove it: {command}"
            )),
            "{}",
            joined.stderr
        );
    }
    assert!(
        !joined.stderr.contains("warning: could not remove"),
        "{}",
        joined.stderr
    );
    assert!(
        sysv_key_exists("shm", key),
        "nobody could not remove root's segment"
    );
    ipcrm(key);
    assert_no_sysv_objects(key);
}

#[test]
fn another_users_sender_with_mode_0666_writes_into_our_0666_segment() {
    let key = unique_key();
    let mut receiver = Running::start(ours(RECEIVER, key, &["--mode", "0666"]), None);
    receiver.wait_for_stderr("waiting for shm-sender", WATCHDOG);

    let refused = as_nobody(SENDER, key, &["--message", "no"]);
    refused.assert_code(1);
    assert!(
        refused.stderr.contains("pass --mode 0666"),
        "{}",
        refused.stderr
    );

    let sent = as_nobody(SENDER, key, &["--mode", "0666", "--message", "hello"]);
    sent.assert_code(0);
    assert!(
        sent.stderr
            .contains("belongs to uid 0 (user root): joining it"),
        "{}",
        sent.stderr
    );
    let done = receiver.finish(WATCHDOG);
    done.assert_code(0).assert_no_panic();
    assert_eq!(
        done.lines(),
        [
            "You wrote: hello",
            "summary: received=1 lost=0 duplicated=0 reordered=0 corrupt=0"
        ]
    );
    assert_no_sysv_objects(key);
}

#[test]
fn another_users_ring_sender_with_mode_0666_writes_into_our_0666_ring() {
    let (name, file) = ipc_testkit::unique_shm_name("ring-share");
    let mut cmd = Command::new(RECEIVER);
    cmd.args(["--ring", "--name", &name, "--mode", "0666"])
        .stdin(Stdio::null());
    let mut receiver = Running::start(cmd, None);
    receiver.wait_for_stderr("waiting for shm-sender --ring", WATCHDOG);
    let mode = std::fs::metadata(&file)
        .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o777);
    assert_eq!(mode.ok(), Some(0o666), "exactly --mode, whatever the umask");

    let nobody = |extra: &[&str]| {
        let mut cmd = Command::new("setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", SENDER])
            .args(["--ring", "--name", &name])
            .args(extra)
            .stdin(Stdio::null());
        let finished = Running::start(cmd, None).finish(WATCHDOG);
        finished.assert_no_panic();
        finished
    };
    let refused = nobody(&["--message", "no"]);
    refused.assert_code(1);
    assert!(
        refused.stderr.contains("pass --mode 0666"),
        "{}",
        refused.stderr
    );
    let sent = nobody(&["--mode", "0666", "--message", "ring hello"]);
    sent.assert_code(0);
    assert!(sent.stderr.contains("joining it"), "{}", sent.stderr);

    let done = receiver.finish(WATCHDOG);
    done.assert_code(0).assert_no_panic();
    assert_eq!(
        done.lines(),
        [
            "You wrote: ring hello",
            "summary: received=1 lost=0 duplicated=0 reordered=0 corrupt=0"
        ]
    );
    ipc_testkit::assert_gone(&file);
}

#[test]
fn another_users_wire_c_sender_with_mode_0666_writes_into_our_textbook_segment() {
    let key = unique_key();
    let mut receiver = Running::start(
        ours(RECEIVER, key, &["--wire", "c", "--mode", "0666"]),
        None,
    );
    receiver.wait_for_stderr("waiting for shm-sender", WATCHDOG);

    let refused = as_nobody(SENDER, key, &["--wire", "c", "--message", "no"]);
    refused.assert_code(1);
    assert!(
        refused.stderr.contains("it belongs to uid 0 (mode 0666")
            && refused.stderr.contains("pass --mode 0666"),
        "{}",
        refused.stderr
    );
    let sent = as_nobody(
        SENDER,
        key,
        &["--wire", "c", "--mode", "0666", "--message", "textbook"],
    );
    sent.assert_code(0);
    let done = receiver.finish(WATCHDOG);
    done.assert_code(0).assert_no_panic();
    assert_eq!(
        done.lines(),
        [
            "You wrote: textbook",
            "summary: received=1 lost=0 duplicated=0 reordered=0 corrupt=0"
        ]
    );
    assert_no_sysv_objects(key);
}
