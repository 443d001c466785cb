//! `--mode 0666` for semaphores: root (the test) runs sem-receiver, which creates the set
//! world-open, and uid 65534 (nobody, through setpriv) posts to it with sem-sender `--mode 0666`.
//! Without `--mode` nobody is refused, although the kernel alone would let it in.

use std::process::{Command, Stdio};

use ipc_testkit::{assert_no_sysv_objects, unique_key, Finished, Running, WATCHDOG};

const SENDER: &str = env!("CARGO_BIN_EXE_sem-sender");
const RECEIVER: &str = env!("CARGO_BIN_EXE_sem-receiver");

/// Runs sem-sender as uid/gid 65534 (nobody), as another user on the machine would.
fn sender_as_nobody(key: i32, extra: &[&str]) -> Finished {
    let mut cmd = Command::new("setpriv");
    cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", SENDER])
        .arg("--key")
        .arg(key.to_string())
        .args(extra)
        .stdin(Stdio::null());
    let finished = Running::start(cmd, None).finish(WATCHDOG);
    finished.assert_no_panic();
    finished
}

#[test]
fn another_users_sender_with_mode_0666_posts_to_our_0666_set_and_without_it_is_refused() {
    let key = unique_key();
    let mut cmd = Command::new(RECEIVER);
    cmd.args(["--key", &key.to_string(), "--mode", "0666"])
        .stdin(Stdio::null());
    let mut receiver = Running::start(cmd, None);
    receiver.wait_for_stderr("waiting for signals", WATCHDOG);

    let refused = sender_as_nobody(key, &["--message", "no"]);
    refused.assert_code(1);
    assert!(
        refused.stderr.contains("it belongs to uid 0 (mode 0666")
            && refused
                .stderr
                .contains("hint: to share it as its owner meant, pass --mode 0666"),
        "{}",
        refused.stderr
    );

    let sent = sender_as_nobody(key, &["--mode", "0666", "--message", "a", "--message", "b"]);
    sent.assert_code(0);
    assert!(
        sent.stderr.contains("semaphore set key")
            && sent
                .stderr
                .contains("belongs to uid 0 (user root): joining it"),
        "{}",
        sent.stderr
    );
    assert_eq!(
        sent.stderr.matches("warning:").count(),
        1,
        "{}",
        sent.stderr
    );
    let done = receiver.finish(WATCHDOG);
    done.assert_code(0).assert_no_panic();
    assert_eq!(
        done.last_line(),
        "summary: received=2 lost=0 duplicated=0 reordered=0 corrupt=0"
    );
    assert_no_sysv_objects(key);
}
