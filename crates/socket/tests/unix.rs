//! socket-server --unix and socket-client --unix: the socket file's life (created 0600, stale
//! ones replaced, anything else refused and left alone, removed on exit).

mod support;

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::UnixListener;
use std::path::Path;

use ipc_testkit::{assert_gone, run, unique_path, Running, WATCHDOG};
use nix::sys::signal::Signal;

use support::{client_cmd, server_cmd, start_server, AFTER_SIGINT};

fn arg(path: &Path) -> &str {
    path.to_str().expect("test paths are UTF-8")
}

#[test]
fn clients_talk_through_a_socket_file_that_is_gone_afterwards() {
    let path = unique_path("sock");
    let (server, _) = start_server(&["--unix", arg(&path), "--clients", "2"]);
    let meta = std::fs::symlink_metadata(&path).expect("the socket file exists while serving");
    assert!(meta.file_type().is_socket());
    assert_eq!(
        meta.permissions().mode() & 0o777,
        0o600,
        "created for its owner only"
    );

    let a = Running::start(
        client_cmd(&["--unix", arg(&path), "--count", "3000", "--size", "1K"]),
        None,
    );
    let b = run(
        client_cmd(&["--unix", arg(&path), "--message", "over a Unix socket"]),
        b"",
    );
    b.assert_code(0).assert_no_panic();
    assert_eq!(b.last_line(), "server acknowledged 1 messages");
    let a = a.finish(WATCHDOG);
    a.assert_code(0);
    assert_eq!(a.last_line(), "server acknowledged 3000 messages");

    let done = server.finish(WATCHDOG);
    done.assert_code(0).assert_no_panic();
    assert!(
        done.stdout.contains("] You wrote: over a Unix socket\n"),
        "{}",
        done.stdout
    );
    assert!(done.stdout.contains("[unix#"), "{}", done.stdout);
    assert_eq!(
        done.last_line(),
        "summary: received=3001 lost=0 duplicated=0 reordered=0 corrupt=0"
    );
    assert_gone(&path);
}

#[test]
fn a_stale_socket_is_replaced_and_said_so() {
    let path = unique_path("stale");
    // A server that died without unlinking: the file stays, nobody listens.
    drop(UnixListener::bind(&path).expect("bind a socket that goes stale"));
    assert!(std::fs::symlink_metadata(&path).is_ok());

    let client = run(client_cmd(&["--unix", arg(&path), "--message", "x"]), b"");
    client.assert_code(1).assert_no_panic();
    assert!(
        client.stderr.contains(&format!(
            "socket-client: error: connection refused by {}",
            path.display()
        )),
        "{}",
        client.stderr
    );

    let (server, _) = start_server(&["--unix", arg(&path), "--clients", "1"]);
    let client = run(client_cmd(&["--unix", arg(&path), "--count", "10"]), b"");
    client.assert_code(0);
    let done = server.finish(WATCHDOG);
    done.assert_code(0).assert_no_panic();
    assert!(
        done.stderr.contains("removed a stale socket at"),
        "{}",
        done.stderr
    );
    assert_gone(&path);
}

#[test]
fn a_regular_file_is_refused_and_left_as_it_was() {
    let path = unique_path("file");
    std::fs::write(&path, b"precious data\n").expect("write a regular file");
    let done = run(server_cmd(&["--unix", arg(&path)]), b"");
    let content = std::fs::read(&path);
    let _ = std::fs::remove_file(&path);
    done.assert_code(1).assert_no_panic();
    assert!(
        done.stderr
            .contains("exists and is a regular file, not a socket; refusing to replace it"),
        "{}",
        done.stderr
    );
    assert!(done.stderr.contains("hint: "), "{}", done.stderr);
    assert_eq!(
        content.expect("the file is still there"),
        b"precious data\n"
    );

    let client = run(client_cmd(&["--unix", "/tmp", "--message", "x"]), b"");
    client.assert_code(1);
    assert!(
        client.stderr.contains("it exists but is not a socket"),
        "{}",
        client.stderr
    );
}

#[test]
fn a_live_server_is_not_replaced_and_ctrl_c_removes_the_file() {
    let path = unique_path("live");
    let (first, _) = start_server(&["--unix", arg(&path)]);
    let second = run(server_cmd(&["--unix", arg(&path)]), b"");
    second.assert_code(1).assert_no_panic();
    assert!(
        second.stderr.contains("another server is listening on it"),
        "{}",
        second.stderr
    );

    let client = run(
        client_cmd(&["--unix", arg(&path), "--message", "still served"]),
        b"",
    );
    client.assert_code(0);

    first.signal(Signal::SIGINT);
    let done = first.finish(AFTER_SIGINT);
    done.assert_code(130).assert_no_panic();
    assert!(
        done.stdout.contains("You wrote: still served"),
        "{}",
        done.stdout
    );
    assert!(
        done.stderr.contains("removed the socket file"),
        "{}",
        done.stderr
    );
    assert_gone(&path);
}

#[test]
fn a_missing_path_and_mode_0666() {
    let path = unique_path("none");
    let client = run(client_cmd(&["--unix", arg(&path), "--message", "x"]), b"");
    client.assert_code(1).assert_no_panic();
    assert!(
        client.stderr.contains("no socket at this path (ENOENT)"),
        "{}",
        client.stderr
    );
    assert!(
        client.stderr.contains("hint: start socket-server --unix"),
        "{}",
        client.stderr
    );

    let (mut server, _) = start_server(&["--unix", arg(&path), "--mode", "0666", "--clients", "1"]);
    server.wait_for_stderr("warning: mode 0666 lets other users", WATCHDOG);
    let mode = std::fs::symlink_metadata(&path)
        .expect("socket file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o666);
    run(client_cmd(&["--unix", arg(&path), "--count", "1"]), b"").assert_code(0);
    server.finish(WATCHDOG).assert_code(0);
    assert_gone(&path);
}

#[test]
fn a_path_longer_than_sun_path_is_a_usage_error() {
    let long = format!("/tmp/{}", "x".repeat(120));
    let done = run(server_cmd(&["--unix", &long]), b"");
    done.assert_code(2).assert_no_panic();
    assert!(
        done.stderr.contains("sun_path holds 107 bytes"),
        "{}",
        done.stderr
    );
    assert_gone(Path::new(&long));
}

#[test]
fn sigterm_stops_a_unix_server_and_removes_its_file() {
    let path = unique_path("term");
    let (server, _) = start_server(&["--unix", arg(&path)]);
    server.signal(Signal::SIGTERM);
    let done = server.finish(AFTER_SIGINT);
    done.assert_stopped_cleanly("socket-server")
        .assert_nothing_received();
    assert_gone(&path);
}
