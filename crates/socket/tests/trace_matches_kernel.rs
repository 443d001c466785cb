//! Issue 15 item 7c: `--trace` shows the socket calls the kernel sees, under the kernel's
//! names: `recvfrom`/`sendto(..., MSG_NOSIGNAL, ...)` (not `read`/`write`), and the
//! `setsockopt`, `ioctl(FIONBIO)`, `getsockname`, `shutdown` and `fcntl(F_DUPFD_CLOEXEC)` std
//! makes for us. Two checks over real processes:
//! - the call names of `--trace`, in order, for a TCP, UDP and Unix pair, against a fixed list;
//! - where `strace` is installed, the same run under `strace -f`: every socket call the kernel
//!   saw is in `--trace`, as many times, and nothing more.

mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use ipc_testkit::{unique_path, Finished, Running, WATCHDOG};

use support::READY;

const SERVER: &str = env!("CARGO_BIN_EXE_socket-server");
const CLIENT: &str = env!("CARGO_BIN_EXE_socket-client");

/// The socket system calls `--trace` shows (docs/porting.md lists what it leaves out).
const SOCKET_CALLS: [&str; 12] = [
    "socket",
    "bind",
    "listen",
    "accept4",
    "connect",
    "getsockname",
    "setsockopt",
    "ioctl",
    "shutdown",
    "sendto",
    "recvfrom",
    "fcntl",
];

/// The call names of a `--trace` stderr, in order (`NAME(...) = ...` lines).
fn traced(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|line| line.contains(") = "))
        .filter_map(|line| {
            let name = line.split('(').next()?;
            (!name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'))
            .then(|| name.to_string())
        })
        .collect()
}

/// `traced` with repeats in a row folded into one (a read may come in two pieces) and the
/// calls that only found nothing to do yet (`= -1 EAGAIN`) left out.
fn folded(stderr: &str) -> Vec<String> {
    let kept: String = stderr
        .lines()
        .filter(|line| !line.contains("= -1 EAGAIN"))
        .map(|line| format!("{line}\n"))
        .collect();
    let mut names = traced(&kept);
    names.dedup();
    names
}

/// One end of a pair, started either as it is or under `strace -f` writing to `log`.
fn start(program: &str, args: &[&str], strace_log: Option<&PathBuf>) -> Running {
    let mut cmd = match strace_log {
        Some(log) => {
            let mut cmd = Command::new("strace");
            cmd.arg("-f")
                .arg("-qq")
                .arg("-o")
                .arg(log)
                .arg("-e")
                .arg(format!("trace={}", SOCKET_CALLS.join(",")))
                .arg(program);
            cmd
        }
        None => Command::new(program),
    };
    cmd.args(args).arg("--trace").stdin(Stdio::null());
    Running::start(cmd, None)
}

/// Runs a server (`--clients 1`) and one client with `--trace`; returns both ends.
fn pair(
    server_args: &[&str],
    client_args: impl Fn(&str) -> Vec<String>,
    logs: Option<(&PathBuf, &PathBuf)>,
) -> (Finished, Finished) {
    let mut server = start(SERVER, server_args, logs.map(|l| l.0));
    let line = server.wait_for_stderr("server waiting on ", READY);
    let name = line
        .trim_start_matches("server waiting on ")
        .trim_end_matches(" (udp)")
        .to_string();
    let port = name.rsplit(':').next().unwrap_or("").to_string();
    let args = client_args(&port);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let client = start(CLIENT, &args, logs.map(|l| l.1)).finish(WATCHDOG);
    let server = server.finish(WATCHDOG);
    client.assert_code(0).assert_no_panic();
    server.assert_code(0).assert_no_panic();
    (server, client)
}

fn tcp(logs: Option<(&PathBuf, &PathBuf)>) -> (Finished, Finished) {
    pair(
        &["--port", "0", "--clients", "1"],
        |port| {
            ["127.0.0.1", "--port", port, "--message", "hi"]
                .map(String::from)
                .to_vec()
        },
        logs,
    )
}

fn udp(logs: Option<(&PathBuf, &PathBuf)>) -> (Finished, Finished) {
    pair(
        &["--udp", "--port", "0", "--clients", "1"],
        |port| {
            ["127.0.0.1", "--udp", "--port", port, "--message", "hi"]
                .map(String::from)
                .to_vec()
        },
        logs,
    )
}

fn unix(path: &str, logs: Option<(&PathBuf, &PathBuf)>) -> (Finished, Finished) {
    pair(
        &["--unix", path, "--clients", "1"],
        |_| {
            ["--unix", path, "--message", "hi"]
                .map(String::from)
                .to_vec()
        },
        logs,
    )
}

#[track_caller]
fn assert_names(stderr: &str, expected: &[&str]) {
    assert_eq!(folded(stderr), expected, "--trace said:\n{stderr}");
}

#[test]
fn tcp_trace_names_the_kernels_calls() {
    let (server, client) = tcp(None);
    assert_names(
        &server.stderr,
        &[
            "socket",
            "setsockopt",
            "bind",
            "listen",
            "ioctl",
            "getsockname",
            "accept4",
            "ioctl",
            "setsockopt",
            "fcntl",
            "recvfrom",
            "sendto",
            "recvfrom",
            "sendto",
            "shutdown",
        ],
    );
    assert_names(
        &client.stderr,
        &[
            "socket",
            "ioctl",
            "connect",
            // FIONBIO 0 after the connect, then FIONBIO 1 for our own waits: folded into one.
            "ioctl",
            "setsockopt",
            "getsockname",
            "sendto",
            "recvfrom",
            "sendto",
            "recvfrom",
        ],
    );
    assert!(
        client.stderr.contains(", MSG_NOSIGNAL, NULL, 0) = "),
        "{}",
        client.stderr
    );
    assert!(
        server.stderr.contains(", 0, NULL, NULL) = "),
        "{}",
        server.stderr
    );
    assert!(
        server.stderr.contains("TCP_NODELAY, [1], 4) = 0"),
        "{}",
        server.stderr
    );
    assert!(
        server.stderr.contains(", SHUT_WR) = 0"),
        "{}",
        server.stderr
    );
}

#[test]
fn udp_trace_names_the_kernels_calls() {
    let (server, client) = udp(None);
    assert_names(
        &server.stderr,
        &[
            "socket",
            "bind",
            "ioctl",
            "getsockname",
            "recvfrom",
            "sendto",
            "recvfrom",
            "sendto",
        ],
    );
    assert_names(
        &client.stderr,
        &[
            "socket", "bind", "connect", "ioctl", "sendto", "recvfrom", "sendto", "recvfrom",
        ],
    );
}

#[test]
fn unix_trace_names_the_kernels_calls() {
    let path = unique_path("trace-unix");
    let path = path.to_str().expect("a UTF-8 path");
    let (server, client) = unix(path, None);
    assert_names(
        &server.stderr,
        &[
            "socket", "bind", "listen", "ioctl", "accept4", "ioctl", "fcntl", "recvfrom", "sendto",
            "recvfrom", "sendto", "shutdown",
        ],
    );
    assert_names(
        &client.stderr,
        &[
            "socket", "connect", "ioctl", "sendto", "recvfrom", "sendto", "recvfrom",
        ],
    );
    assert!(
        server
            .stderr
            .lines()
            .any(|l| l.starts_with("listen(") && l.ends_with(", -1) = 0")),
        "UnixListener listens with backlog -1:\n{}",
        server.stderr
    );
    assert!(
        !std::path::Path::new(path).exists(),
        "the socket file was left"
    );
}

/// The socket calls in an `strace -f -o` log, counted by name: only the ones `--trace`
/// shows (ioctl FIONBIO, fcntl F_DUPFD_CLOEXEC), without the `<... resumed>` halves.
fn kernel_counts(log: &PathBuf) -> BTreeMap<String, usize> {
    let text = std::fs::read_to_string(log).expect("the strace log");
    let mut counts = BTreeMap::new();
    for line in text.lines() {
        let call = line
            .split_once(' ')
            .map_or(line, |(_, rest)| rest)
            .trim_start();
        let Some((name, args)) = call.split_once('(') else {
            continue;
        };
        let shown = match name {
            "ioctl" => args.contains("FIONBIO"),
            "fcntl" => args.contains("F_DUPFD_CLOEXEC"),
            _ => SOCKET_CALLS.contains(&name),
        };
        if shown {
            *counts.entry(name.to_string()).or_insert(0) += 1;
        }
    }
    counts
}

fn counts(names: Vec<String>) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for name in names {
        *counts.entry(name).or_insert(0) += 1;
    }
    counts
}

/// A run of one pair with its two strace logs (server's, client's).
type PairRun<'a> = Box<dyn Fn(&PathBuf, &PathBuf) -> (Finished, Finished) + 'a>;

fn strace_installed() -> bool {
    Command::new("strace")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn under_strace_the_trace_shows_every_socket_call_the_kernel_saw() {
    if !strace_installed() {
        eprintln!("strace is not installed: this comparison is skipped (apt-get install strace)");
        return;
    }
    let unix_path = unique_path("trace-strace");
    let runs: [(&str, PairRun); 3] = [
        ("tcp", Box::new(|s, c| tcp(Some((s, c))))),
        ("udp", Box::new(|s, c| udp(Some((s, c))))),
        (
            "unix",
            Box::new(|s, c| unix(unix_path.to_str().expect("UTF-8"), Some((s, c)))),
        ),
    ];
    for (kind, run) in runs {
        let server_log = unique_path(&format!("strace-server-{kind}"));
        let client_log = unique_path(&format!("strace-client-{kind}"));
        let (server, client) = run(&server_log, &client_log);
        for (end, finished, log) in [
            ("server", &server, &server_log),
            ("client", &client, &client_log),
        ] {
            let kernel = kernel_counts(log);
            let _ = std::fs::remove_file(log);
            assert!(
                !kernel.is_empty(),
                "{kind} {end}: strace saw no socket call"
            );
            assert_eq!(
                counts(traced(&finished.stderr)),
                kernel,
                "{kind} {end}: --trace (left) and strace -f (right) disagree; --trace said:\n{}",
                finished.stderr
            );
        }
    }
}
