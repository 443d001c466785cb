//! `--mode 0666`, the tutorial's two-user mode: root (the test) makes the queue world-open, and
//! uid 65534 (nobody, through setpriv) runs the other end with the same explicit `--mode`. The
//! messages cross; nobody may not remove root's queue (IPC_RMID and mq_unlink need the owner),
//! so it says who can, and the test removes what is left. Without `--mode` nobody is refused.

mod support;

use std::process::Command;

use ipc_testkit::{assert_no_sysv_objects, unique_key, Finished, Running, WATCHDOG};
use support::*;

/// Runs our binary as uid/gid 65534 (nobody), as another user on the machine would.
fn as_nobody(program: &str, args: &[&str]) -> Finished {
    let mut command = Command::new("setpriv");
    command
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", program])
        .args(args)
        .stdin(std::process::Stdio::null());
    let finished = Running::start(command, None).finish(WATCHDOG);
    finished.assert_no_panic();
    finished
}

/// Removes the POSIX queue even when an assertion fails half-way.
struct Cleanup(String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        unlink_posix(&self.0);
    }
}

#[test]
fn another_user_with_mode_0666_receives_from_a_0666_system_v_queue_and_says_who_can_remove_it() {
    let raw = unique_key();
    let key = hex(raw);
    let sent = run(SENDER, &["--key", &key, "--mode", "0666", "--count", "5"]);
    sent.assert_code(0);

    // Without --mode: refused as before, the queue untouched, the hint names --mode 0666.
    let refused = as_nobody(RECEIVER, &["--key", &key]);
    refused.assert_code(1);
    assert!(
        refused.stderr.contains("it belongs to uid 0 (mode 0666"),
        "{}",
        refused.stderr
    );
    assert!(
        refused
            .stderr
            .contains("hint: to share it as its owner meant, pass --mode 0666"),
        "{}",
        refused.stderr
    );
    assert_eq!(sysv_messages(raw), Some(6), "a refusal takes nothing");

    let joined = as_nobody(RECEIVER, &["--key", &key, "--mode", "0666"]);
    joined.assert_code(0);
    assert_eq!(joined.last_line(), clean_summary(5));
    assert!(
        joined
            .stderr
            .contains("belongs to uid 0 (user root): joining it because its mode 0666"),
        "{}",
        joined.stderr
    );
    assert_eq!(
        joined.stderr.matches("warning:").count(),
        1,
        "one warning, that the queue is world-open: {}",
        joined.stderr
    );
    assert!(
        joined.stderr.contains(
            "the queue belongs to uid 0 (user root): only they or root can remove it: ipcrm -q "
        ),
        "{}",
        joined.stderr
    );
    assert!(
        !joined.stderr.contains("removed message queue"),
        "never a false 'removed': {}",
        joined.stderr
    );
    assert_eq!(
        sysv_messages(raw),
        Some(0),
        "left empty, for its owner to remove"
    );
    ipcrm_key(raw);
    assert_no_sysv_objects(raw);
}

#[test]
fn another_users_sender_with_mode_0666_sends_into_a_0666_queue_of_ours() {
    let raw = unique_key();
    let key = hex(raw);
    let mut receiver = start_receiver(&["--key", &key, "--mode", "0666"]);
    receiver.wait_for_stderr(READY_LINE, READY);
    let refused = as_nobody(SENDER, &["--key", &key, "--message", "no"]);
    refused.assert_code(1);
    assert!(refused.stderr.contains("hint: "), "{}", refused.stderr);

    let sent = as_nobody(SENDER, &["--key", &key, "--mode", "0666", "--count", "3"]);
    sent.assert_code(0);
    let received = receiver.finish(WATCHDOG);
    received.assert_code(0).assert_no_panic();
    assert_eq!(received.last_line(), clean_summary(3));
    assert!(
        received.stderr.contains("removed message queue"),
        "the owner removes it: {}",
        received.stderr
    );
    assert_no_sysv_objects(raw);
}

#[test]
fn another_user_with_mode_0666_receives_from_a_0666_posix_queue_and_says_who_can_remove_it() {
    let name = unique_name();
    let _cleanup = Cleanup(name.clone());
    let sent = run(
        SENDER,
        &["--posix", "--name", &name, "--mode", "0666", "--count", "3"],
    );
    sent.assert_code(0);

    let refused = as_nobody(RECEIVER, &["--posix", "--name", &name]);
    refused.assert_code(1);
    assert!(
        refused.stderr.contains("pass --mode 0666"),
        "{}",
        refused.stderr
    );

    let joined = as_nobody(RECEIVER, &["--posix", "--name", &name, "--mode", "0666"]);
    joined.assert_code(0);
    assert_eq!(joined.last_line(), clean_summary(3));
    assert!(
        joined.stderr.contains(&format!(
            "the queue belongs to uid 0 (user root): only they or root can remove it: rm /dev/mqueue{name}"
        )),
        "{}",
        joined.stderr
    );
    assert!(
        !joined.stderr.contains("removed POSIX"),
        "{}",
        joined.stderr
    );
    assert!(posix_queue_exists(&name), "nobody could not unlink it");
    unlink_posix(&name);
    assert_posix_gone(&name);
}
