//! Load: a message queue kept full (back-pressure, nothing lost), and, as `--ignored`
//! measurements, 1 GiB through each stream mechanism with the receiver's peak memory compared
//! between 64 MiB and 1 GiB (it must not grow with the volume).
//!
//! The measurements are slow in a debug build; run them on release programs:
//!
//! ```text
//! cargo build --release --workspace --bins
//! IPC_BIN=$PWD/target/release cargo test -p ipc-soak --test load -- --ignored --nocapture
//! ```

mod support;

use std::process::{Command, Stdio};
use std::time::Duration;

use ipc_common::sysvipc::{self, Counts, Kind};
use ipc_testkit::{
    assert_gone, assert_no_sysv_objects, unique_key, unique_path, Running, WATCHDOG,
};

use support::program;

/// Messages and bytes in the System V queue with `key`, from /proc/sysvipc/msg.
fn queue_contents(key: i32) -> Option<(u64, u64)> {
    match sysvipc::find(Kind::Queue, key)?.counts {
        Counts::Queue { qnum, cbytes, .. } => Some((qnum, cbytes)),
        _ => None,
    }
}

#[test]
fn a_full_system_v_queue_holds_three_senders_back_and_loses_nothing() {
    let key = unique_key();
    let key_arg = format!("{key:#x}");
    let senders: Vec<Running> = (0..3)
        .map(|_| {
            let mut cmd = program("msgq-sender");
            cmd.args(["--key", &key_arg, "--count", "300", "--size", "1000"]);
            Running::start(cmd, None)
        })
        .collect();
    let mut senders = senders;
    for tx in &mut senders {
        tx.wait_for_stderr("is full", WATCHDOG);
    }
    // Every sender is blocked in msgsnd; the queue stays full while nobody reads.
    let full = queue_contents(key).expect("the queue exists");
    std::thread::sleep(Duration::from_millis(1500)); // holding the queue full, not a readiness guess
    assert_eq!(
        queue_contents(key),
        Some(full),
        "nothing moved while nobody read"
    );
    for tx in &mut senders {
        assert!(
            ipc_testkit::process_exists(tx.pid()),
            "a blocked sender is still waiting"
        );
    }
    let mut cmd = program("msgq-receiver");
    cmd.args(["--key", &key_arg, "--senders", "3"]);
    let rx = Running::start(cmd, None).finish(WATCHDOG);
    rx.assert_code(0).assert_no_panic();
    assert_eq!(
        rx.last_line(),
        "summary: received=900 lost=0 duplicated=0 reordered=0 corrupt=0"
    );
    for tx in senders {
        tx.finish(WATCHDOG).assert_code(0);
    }
    assert_no_sysv_objects(key);
}

#[test]
fn a_full_posix_queue_holds_two_senders_back_and_loses_nothing() {
    let name = format!("/ipt-load-{}", std::process::id());
    let mut senders: Vec<Running> = (0..2)
        .map(|_| {
            let mut cmd = program("msgq-sender");
            cmd.args([
                "--posix", "--name", &name, "--count", "200", "--size", "4000",
            ]);
            Running::start(cmd, None)
        })
        .collect();
    for tx in &mut senders {
        tx.wait_for_stderr("is full", WATCHDOG);
    }
    std::thread::sleep(Duration::from_millis(1500)); // holding the queue full
    for tx in &mut senders {
        assert!(
            ipc_testkit::process_exists(tx.pid()),
            "a blocked sender is still waiting"
        );
    }
    let mut cmd = program("msgq-receiver");
    cmd.args(["--posix", "--name", &name, "--senders", "2"]);
    let rx = Running::start(cmd, None).finish(WATCHDOG);
    rx.assert_code(0).assert_no_panic();
    assert_eq!(
        rx.last_line(),
        "summary: received=400 lost=0 duplicated=0 reordered=0 corrupt=0"
    );
    for tx in senders {
        tx.finish(WATCHDOG).assert_code(0);
    }
    assert!(!ipc_soak::leftover::posix_queue_exists(&name));
}

/// "Maximum resident set size (kbytes): N" from `/usr/bin/time -v`.
fn max_rss_kib(time_output: &str) -> u64 {
    time_output
        .lines()
        .find_map(|line| {
            line.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no maximum RSS in:\n{time_output}"))
}

/// Streams `bytes` through a pipe (pipe-sender --stdout | pipe-receiver) in messages of
/// `size` bytes; returns the receiver's peak RSS in KiB and the seconds it took.
fn through_pipe(bytes: u64, size: u64) -> (u64, f64) {
    let count = (bytes / size).to_string();
    let mut tx = program("pipe-sender")
        .args(["--stdout", "--count", &count, "--size", &size.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start pipe-sender");
    let pipe = tx.stdout.take().expect("piped");
    let mut cmd = Command::new("/usr/bin/time");
    cmd.arg("-v")
        .arg(ipc_soak::bin_dir().join("pipe-receiver"))
        .stdin(Stdio::from(pipe));
    let started = std::time::Instant::now();
    let rx = Running::start(cmd, None).finish(Duration::from_secs(600));
    let secs = started.elapsed().as_secs_f64();
    assert!(tx.wait().expect("reap pipe-sender").success());
    rx.assert_code(0);
    assert_eq!(
        rx.last_line(),
        format!("summary: received={count} lost=0 duplicated=0 reordered=0 corrupt=0")
    );
    (max_rss_kib(&rx.stderr), secs)
}

/// The same through a FIFO (fifo-sender and fifo-receiver under /usr/bin/time -v).
fn through_fifo(bytes: u64, size: u64) -> (u64, f64) {
    let path = unique_path("load-fifo");
    let count = (bytes / size).to_string();
    let mut cmd = Command::new("/usr/bin/time");
    cmd.arg("-v")
        .arg(ipc_soak::bin_dir().join("fifo-receiver"))
        .arg("--path")
        .arg(&path)
        .stdin(Stdio::null());
    let started = std::time::Instant::now();
    let mut rx = Running::start(cmd, None);
    rx.wait_for_stderr("waiting for a sender", WATCHDOG);
    let mut cmd = program("fifo-sender");
    cmd.arg("--path")
        .arg(&path)
        .args(["--count", &count, "--size", &size.to_string()]);
    let tx = Running::start(cmd, None);
    let rx = rx.finish(Duration::from_secs(600));
    let secs = started.elapsed().as_secs_f64();
    tx.finish(WATCHDOG).assert_code(0);
    rx.assert_code(0);
    assert_eq!(
        rx.last_line(),
        format!("summary: received={count} lost=0 duplicated=0 reordered=0 corrupt=0")
    );
    assert_gone(&path);
    (max_rss_kib(&rx.stderr), secs)
}

const MIB: u64 = 1 << 20;

/// Runs `through` with 64 MiB and 1 GiB, prints the figures and checks the peak stays flat.
fn flat(mechanism: &str, size: u64, through: fn(u64, u64) -> (u64, f64)) {
    let (small, small_secs) = through(64 * MIB, size);
    let (large, large_secs) = through(1024 * MIB, size);
    eprintln!(
        "{mechanism}: messages of {size} bytes; receiver peak RSS {small} KiB for 64 MiB \
         ({small_secs:.1} s), {large} KiB for 1 GiB ({large_secs:.1} s, {:.0} MiB/s)",
        1024.0 / large_secs
    );
    assert!(
        large <= small + 4096,
        "{mechanism}: the receiver's peak memory grew with the volume: {small} KiB -> {large} KiB"
    );
}

#[test]
#[ignore = "a measurement: 1 GiB through each stream mechanism (run on release programs)"]
fn one_gib_through_a_pipe_keeps_the_receivers_memory_flat() {
    flat("pipe", 64 * 1024, through_pipe);
}

#[test]
#[ignore = "a measurement: 1 GiB through each stream mechanism (run on release programs)"]
fn one_gib_through_a_fifo_keeps_the_receivers_memory_flat() {
    // A FIFO message is one atomic write of at most PIPE_BUF (4096) bytes, frame included.
    flat("fifo", 4000, through_fifo);
}

#[test]
fn socket_server_serves_200_concurrent_clients_and_loses_nothing() {
    let path = unique_path("load-200");
    let shown = path.display().to_string();
    let mut cmd = program("socket-server");
    cmd.args(["--unix", &shown, "--clients", "200"]);
    let mut server = Running::start(cmd, None);
    server.wait_for_stderr("server waiting on", WATCHDOG);
    let clients: Vec<Running> = (0..200)
        .map(|_| {
            let mut cmd = program("socket-client");
            cmd.args(["--unix", &shown, "--count", "50", "--size", "100"]);
            Running::start(cmd, None)
        })
        .collect();
    for client in clients {
        let done = client.finish(WATCHDOG);
        done.assert_code(0).assert_no_panic();
        assert_eq!(done.last_line(), "server acknowledged 50 messages");
    }
    let served = server.finish(WATCHDOG);
    served.assert_code(0).assert_no_panic();
    assert_eq!(
        served.last_line(),
        "summary: received=10000 lost=0 duplicated=0 reordered=0 corrupt=0"
    );
    assert_eq!(
        served.stderr.matches(" finished").count(),
        200,
        "{}",
        served.stderr
    );
    assert_gone(&path);
}

/// The same through a Unix domain stream socket (socket-server --unix, one socket-client).
fn through_unix_socket(bytes: u64, size: u64) -> (u64, f64) {
    let path = unique_path("load-unix");
    let count = (bytes / size).to_string();
    let mut cmd = Command::new("/usr/bin/time");
    cmd.arg("-v")
        .arg(ipc_soak::bin_dir().join("socket-server"))
        .arg("--unix")
        .arg(&path)
        .args(["--clients", "1"])
        .stdin(Stdio::null());
    let started = std::time::Instant::now();
    let mut rx = Running::start(cmd, None);
    rx.wait_for_stderr("server waiting on", WATCHDOG);
    let mut cmd = program("socket-client");
    cmd.arg("--unix")
        .arg(&path)
        .args(["--count", &count, "--size", &size.to_string()]);
    let tx = Running::start(cmd, None);
    let rx = rx.finish(Duration::from_secs(600));
    let secs = started.elapsed().as_secs_f64();
    tx.finish(WATCHDOG).assert_code(0);
    rx.assert_code(0);
    assert_eq!(
        rx.last_line(),
        format!("summary: received={count} lost=0 duplicated=0 reordered=0 corrupt=0")
    );
    assert_gone(&path);
    (max_rss_kib(&rx.stderr), secs)
}

#[test]
#[ignore = "a measurement: 1 GiB through each stream mechanism (run on release programs)"]
fn one_gib_through_a_unix_socket_keeps_the_servers_memory_flat() {
    flat("unix socket", 64 * 1024, through_unix_socket);
}
