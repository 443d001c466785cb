//! Other users: with the default mode 0600 an unprivileged user can neither read from nor
//! inject into our message queues, shared memory, semaphores, FIFO or Unix socket; with
//! `--mode 0666` it can, and the program that created the object warned.
//!
//! Needs root (to become another user): run as root, each test plays `nobody` with
//! `setpriv --reuid=65534 --regid=65534 --clear-groups` running tests/support/intruder.py
//! (raw msgrcv/msgsnd, mq_open/mq_send, shmat, semctl/semop, open, connect through Python,
//! with /usr/bin/python3). Not root, or no setpriv or /usr/bin/python3: each test prints a
//! note and passes without checking anything.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use ipc_common::wire;
use ipc_common::Message;
use ipc_testkit::{
    assert_gone, assert_no_sysv_objects, run, unique_key, unique_path, Running, WATCHDOG,
};

use support::program;

/// Removes, when dropped, whatever a failed test left under its key or POSIX name (a passing
/// test has already checked that nothing is left). Declared before the processes.
struct Cleanup {
    key: Option<i32>,
    posix: Option<String>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            let key = format!("{:#x}", key as u32);
            for flag in ["-Q", "-S", "-M"] {
                let _ = Command::new("ipcrm")
                    .args([flag, &key])
                    .stderr(Stdio::null())
                    .status();
            }
        }
        if let Some(name) = &self.posix {
            let _ = nix::mqueue::mq_unlink(name.as_str());
        }
    }
}

/// How the intruder's call ended (its exit code).
#[derive(Debug, PartialEq, Eq)]
enum Access {
    /// The call succeeded.
    Granted,
    /// EACCES or EPERM.
    Refused,
}

const PYTHON: &str = "/usr/bin/python3";
const WARNING: &str = "warning: mode 0666 lets other users";

/// True when the tests can play another user; else prints why they check nothing.
fn can_switch_users(test: &str) -> bool {
    let why = if !nix::unistd::geteuid().is_root() {
        "not running as root"
    } else if !Path::new(PYTHON).is_file() {
        "no /usr/bin/python3"
    } else if Command::new("setpriv").arg("--version").output().is_err() {
        "no setpriv (util-linux)"
    } else {
        return true;
    };
    eprintln!("note: {test} skipped: {why}; run the tests as root to check other users");
    false
}

/// Runs one intruder operation as uid/gid 65534 (nobody).
fn intrude(args: &[&str]) -> Access {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/intruder.py");
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", PYTHON])
        .arg(script)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run setpriv");
    let said =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    match out.status.code() {
        Some(0) => Access::Granted,
        Some(13) => Access::Refused,
        other => panic!("intruder {args:?} failed otherwise ({other:?}): {said}"),
    }
}

/// The encoding of one message (what a message-queue message or a FIFO frame carries), hex.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn encoded(msg: &Message) -> Vec<u8> {
    let mut buf = Vec::new();
    wire::encode(msg, &mut buf).expect("encodes");
    buf
}

fn framed(msgs: &[Message]) -> Vec<u8> {
    let mut out = Vec::new();
    for msg in msgs {
        wire::write_frame(&mut out, msg, &mut Vec::new()).expect("frames");
    }
    out
}

/// `--mode 0666` or nothing, and the access the other user should get.
fn modes() -> [(Option<&'static str>, Access); 2] {
    [(None, Access::Refused), (Some("0666"), Access::Granted)]
}

fn with_mode(cmd: &mut Command, mode: Option<&str>) {
    if let Some(mode) = mode {
        cmd.args(["--mode", mode]);
    }
}

#[test]
fn a_system_v_queue_is_closed_to_other_users_unless_0666() {
    if !can_switch_users("a_system_v_queue_is_closed_to_other_users_unless_0666") {
        return;
    }
    for (mode, expected) in modes() {
        let key_number = unique_key();
        let key = format!("{:#x}", key_number as u32);
        let _cleanup = Cleanup {
            key: Some(key_number),
            posix: None,
        };
        let mut cmd = program("msgq-sender");
        cmd.args(["--key", &key, "--message", "secret"]);
        with_mode(&mut cmd, mode);
        let sent = run(cmd, b"");
        sent.assert_code(0);
        assert_eq!(
            sent.stderr.contains(WARNING),
            mode.is_some(),
            "{}",
            sent.stderr
        );
        assert_eq!(
            intrude(&["msg-read", &key]),
            expected,
            "read, mode {mode:?}"
        );
        let injected = hex(&encoded(&Message::text(4242, 1, "injected")));
        assert_eq!(
            intrude(&["msg-write", &key, &injected]),
            expected,
            "inject, mode {mode:?}"
        );
        let mut cmd = program("msgq-receiver");
        cmd.args(["--key", &key, "--nowait"]);
        with_mode(&mut cmd, mode);
        let got = run(cmd, b"");
        if expected == Access::Refused {
            got.assert_code(0);
            assert_eq!(got.lines()[0], "You wrote: secret");
            assert!(!got.stdout.contains("injected"));
        } else {
            // The other user took "secret" and put its own message in.
            assert!(got.stdout.contains("You wrote: injected"), "{}", got.stdout);
            assert!(!got.stdout.contains("secret"));
            assert!(got.last_line().contains(" lost=1 "), "{}", got.stdout);
        }
        assert_no_sysv_objects(key_number);
    }
}

#[test]
fn a_posix_queue_is_closed_to_other_users_unless_0666() {
    if !can_switch_users("a_posix_queue_is_closed_to_other_users_unless_0666") {
        return;
    }
    for (round, (mode, expected)) in modes().into_iter().enumerate() {
        let name = format!("/ipt-users-{}-{round}", std::process::id());
        let _cleanup = Cleanup {
            key: None,
            posix: Some(name.clone()),
        };
        let mut cmd = program("msgq-sender");
        cmd.args(["--posix", "--name", &name, "--message", "secret"]);
        with_mode(&mut cmd, mode);
        let sent = run(cmd, b"");
        sent.assert_code(0);
        assert_eq!(
            sent.stderr.contains(WARNING),
            mode.is_some(),
            "{}",
            sent.stderr
        );
        assert_eq!(
            intrude(&["mq-read", &name]),
            expected,
            "read, mode {mode:?}"
        );
        let injected = hex(&encoded(&Message::text(4242, 1, "injected")));
        assert_eq!(
            intrude(&["mq-write", &name, &injected]),
            expected,
            "inject, mode {mode:?}"
        );
        let mut cmd = program("msgq-receiver");
        cmd.args(["--posix", "--name", &name, "--nowait"]);
        with_mode(&mut cmd, mode);
        let got = run(cmd, b"");
        assert!(got.stdout.contains("You wrote: secret"), "{}", got.stdout);
        assert_eq!(got.stdout.contains("injected"), expected == Access::Granted);
        assert!(
            !ipc_soak::leftover::posix_queue_exists(&name),
            "{name} left behind"
        );
    }
}

#[test]
fn shared_memory_and_its_semaphores_are_closed_to_other_users_unless_0666() {
    if !can_switch_users("shared_memory_and_its_semaphores_are_closed_to_other_users_unless_0666") {
        return;
    }
    for (mode, expected) in modes() {
        let key_number = unique_key();
        let key = format!("{:#x}", key_number as u32);
        let _cleanup = Cleanup {
            key: Some(key_number),
            posix: None,
        };
        let mut cmd = program("shm-receiver");
        cmd.args(["--key", &key]);
        with_mode(&mut cmd, mode);
        let mut rx = Running::start(cmd, None);
        rx.wait_for_stderr("waiting for shm-sender on", WATCHDOG);
        assert_eq!(
            intrude(&["shm-read", &key]),
            expected,
            "shmat read-only, mode {mode:?}"
        );
        assert_eq!(
            intrude(&["shm-write", &key]),
            expected,
            "shmat read-write, mode {mode:?}"
        );
        assert_eq!(
            intrude(&["sem-read", &key]),
            expected,
            "semctl GETVAL, mode {mode:?}"
        );
        let mut cmd = program("shm-sender");
        cmd.args(["--key", &key, "--message", "hello"]);
        with_mode(&mut cmd, mode);
        run(cmd, b"").assert_code(0);
        let got = rx.finish(WATCHDOG);
        got.assert_code(0);
        assert_eq!(
            got.stderr.contains(WARNING),
            mode.is_some(),
            "{}",
            got.stderr
        );
        assert_eq!(got.lines()[0], "You wrote: hello");
        assert_no_sysv_objects(key_number);
    }
}

#[test]
fn a_semaphore_set_is_closed_to_other_users_unless_0666() {
    if !can_switch_users("a_semaphore_set_is_closed_to_other_users_unless_0666") {
        return;
    }
    for (mode, expected) in modes() {
        let key_number = unique_key();
        let key = format!("{:#x}", key_number as u32);
        let _cleanup = Cleanup {
            key: Some(key_number),
            posix: None,
        };
        let mut cmd = program("sem-receiver");
        cmd.args(["--key", &key]);
        with_mode(&mut cmd, mode);
        let mut rx = Running::start(cmd, None);
        rx.wait_for_stderr("waiting for signals", WATCHDOG);
        assert_eq!(
            intrude(&["sem-read", &key]),
            expected,
            "semctl GETVAL, mode {mode:?}"
        );
        // Semaphore 3 (ROOM) counts free room (32767): one less does not disturb the pair.
        assert_eq!(
            intrude(&["sem-write", &key, "3", "-1"]),
            expected,
            "semop, mode {mode:?}"
        );
        let mut cmd = program("sem-sender");
        cmd.args(["--key", &key, "--message", "a"]);
        run(cmd, b"").assert_code(0);
        let got = rx.finish(WATCHDOG);
        got.assert_code(0);
        assert_eq!(
            got.stderr.contains(WARNING),
            mode.is_some(),
            "{}",
            got.stderr
        );
        assert_eq!(got.lines()[0], "signal 1 received");
        assert_no_sysv_objects(key_number);
    }
}

#[test]
fn a_fifo_is_closed_to_other_users_unless_0666() {
    if !can_switch_users("a_fifo_is_closed_to_other_users_unless_0666") {
        return;
    }
    for (mode, expected) in modes() {
        let path = unique_path("users-fifo");
        let shown = path.display().to_string();
        let mut cmd = program("fifo-receiver");
        cmd.args(["--path", &shown]);
        with_mode(&mut cmd, mode);
        let mut rx = Running::start(cmd, None);
        rx.wait_for_stderr("waiting for a sender", WATCHDOG);
        assert_eq!(
            intrude(&["fifo-read", &shown]),
            expected,
            "open for reading, mode {mode:?}"
        );
        let stream = hex(&framed(&[
            Message::text(4242, 1, "injected"),
            Message::end(4242, 2),
        ]));
        assert_eq!(
            intrude(&["fifo-write", &shown, &stream]),
            expected,
            "inject, mode {mode:?}"
        );
        let got = if expected == Access::Refused {
            let mut cmd = program("fifo-sender");
            cmd.args(["--path", &shown, "--message", "hello"]);
            run(cmd, b"").assert_code(0);
            rx.finish(WATCHDOG)
        } else {
            // The other user's stream was the whole conversation; the receiver is done.
            rx.finish(WATCHDOG)
        };
        got.assert_code(0);
        assert_eq!(
            got.stderr.contains(WARNING),
            mode.is_some(),
            "{}",
            got.stderr
        );
        let text = if expected == Access::Refused {
            "hello"
        } else {
            "injected"
        };
        assert_eq!(got.lines()[0], format!("Data From Named Pipe Is: {text}"));
        assert_gone(&path);
    }
}

#[test]
fn a_unix_socket_is_closed_to_other_users_unless_0666() {
    if !can_switch_users("a_unix_socket_is_closed_to_other_users_unless_0666") {
        return;
    }
    for (mode, expected) in modes() {
        let path = unique_path("users-sock");
        let shown = path.display().to_string();
        let mut cmd = program("socket-server");
        cmd.args(["--unix", &shown]);
        with_mode(&mut cmd, mode);
        let mut server = Running::start(cmd, None);
        server.wait_for_stderr("server waiting on", WATCHDOG);
        // connect(2) on a Unix socket needs write permission on its file.
        assert_eq!(
            intrude(&["unix-connect", &shown]),
            expected,
            "connect, mode {mode:?}"
        );
        let mut cmd = program("socket-client");
        cmd.args(["--unix", &shown, "--message", "hello"]);
        run(cmd, b"").assert_code(0);
        server.signal(nix::sys::signal::Signal::SIGINT);
        let got = server.finish(WATCHDOG);
        got.assert_code(130).assert_no_panic();
        assert_eq!(
            got.stderr.contains(WARNING),
            mode.is_some(),
            "{}",
            got.stderr
        );
        assert!(got.stdout.contains("You wrote: hello"), "{}", got.stdout);
        assert_gone(&path);
    }
}
