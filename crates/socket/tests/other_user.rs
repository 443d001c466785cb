//! Unix domain sockets shared by two users: the server's `--mode` is the socket file's mode,
//! and `connect` needs write permission on it. Root (the test) serves in /tmp, which both users
//! reach; uid 65534 (nobody, through setpriv) is the other user.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::process::{Command, Stdio};

use ipc_testkit::{assert_gone, unique_path, Finished, Running, WATCHDOG};
use nix::sys::signal::Signal;

const SERVER: &str = env!("CARGO_BIN_EXE_socket-server");
const CLIENT: &str = env!("CARGO_BIN_EXE_socket-client");

fn as_nobody(program: &str, args: &[&str]) -> Finished {
    let mut cmd = Command::new("setpriv");
    cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", program])
        .args(args)
        .stdin(Stdio::null());
    let finished = Running::start(cmd, None).finish(WATCHDOG);
    finished.assert_no_panic();
    finished
}

fn server(path: &Path, extra: &[&str]) -> Running {
    let mut cmd = Command::new(SERVER);
    cmd.arg("--unix").arg(path).args(extra).stdin(Stdio::null());
    let mut server = Running::start(cmd, None);
    server.wait_for_stderr("server waiting on", WATCHDOG);
    server
}

#[test]
fn another_users_client_connects_to_a_server_started_with_mode_0666() {
    let path = unique_path("sock-share");
    let shown = path.to_str().expect("a UTF-8 temp path");
    let server = server(&path, &["--mode", "0666", "--clients", "1"]);
    let client = as_nobody(CLIENT, &["--unix", shown, "--message", "from nobody"]);
    client.assert_code(0);
    let done = server.finish(WATCHDOG);
    done.assert_code(0).assert_no_panic();
    assert!(
        done.stdout.contains("You wrote: from nobody"),
        "{}",
        done.stdout
    );
    assert_eq!(
        done.last_line(),
        "summary: received=1 lost=0 duplicated=0 reordered=0 corrupt=0"
    );
    assert_gone(&path);
}

#[test]
fn without_mode_0666_another_users_client_is_refused_with_a_hint() {
    let path = unique_path("sock-private");
    let shown = path.to_str().expect("a UTF-8 temp path");
    let server = server(&path, &[]);
    let refused = as_nobody(CLIENT, &["--unix", shown, "--message", "no"]);
    refused.assert_code(1);
    assert!(
        refused.stderr.contains(
            "hint: the socket belongs to uid 0 (user root) with mode 0600: its server lets other \
             users connect only when started with --mode 0666"
        ),
        "{}",
        refused.stderr
    );
    server.signal(Signal::SIGINT);
    let done = server.finish(WATCHDOG);
    done.assert_code(130).assert_no_panic();
    assert_eq!(
        done.last_line(),
        "summary: received=0 lost=0 duplicated=0 reordered=0 corrupt=0"
    );
    assert_gone(&path);
}

#[test]
fn a_stale_socket_of_another_user_is_left_and_its_owner_named() {
    let path = unique_path("sock-stale");
    let shown = path.to_str().expect("a UTF-8 temp path");
    // A stale socket of root's, open to all: bound, then closed without unlink.
    drop(UnixListener::bind(&path).expect("binding a test socket"));
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666))
        .expect("chmod of the test socket");
    let refused = as_nobody(SERVER, &["--unix", shown]);
    refused.assert_code(1);
    assert!(
        refused.stderr.contains(&format!(
            "the socket file belongs to uid 0 (user root): only they or root can remove it: rm {shown}"
        )),
        "{}",
        refused.stderr
    );
    assert!(path.exists(), "another user's file is left as it was");
    std::fs::remove_file(&path).expect("removing the test socket");
    assert_gone(&path);
}
