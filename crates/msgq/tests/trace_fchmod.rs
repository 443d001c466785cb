//! Issue 15 item 7c, POSIX queues: `--trace` shows the `fchmod` that follows `mq_open` (the
//! mode is set exactly, past the umask) and the `fstat` (the system call `newfstatat`) that
//! checks the queue's owner and mode; where strace is installed, the kernel saw the same.

mod support;

use std::process::{Command, Stdio};

use ipc_testkit::{unique_path, Running, WATCHDOG};
use support::*;

/// Removes the queue even when an assertion fails half-way.
struct Cleanup(String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        unlink_posix(&self.0);
    }
}

/// The `= N` result of the first line of `stderr` that starts with `prefix`.
fn result_of<'a>(stderr: &'a str, prefix: &str) -> &'a str {
    stderr
        .lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(" = ").next())
        .unwrap_or_else(|| panic!("no `{prefix}...` line in:\n{stderr}"))
}

#[test]
fn creating_a_posix_queue_traces_mq_open_then_fchmod_then_fstat() {
    let name = unique_name();
    let _cleanup = Cleanup(name.clone());
    let sent = run(
        SENDER,
        &[
            "--trace",
            "--posix",
            "--name",
            &name,
            "--mode",
            "0640",
            "--message",
            "hi",
        ],
    );
    sent.assert_code(0);
    let mqd = result_of(&sent.stderr, &format!("mq_open(\"{name}\", "));
    let calls: Vec<&str> = sent.stderr.lines().filter(|l| l.contains(") = ")).collect();
    let open = calls
        .iter()
        .position(|l| l.starts_with("mq_open("))
        .expect("mq_open");
    assert_eq!(
        calls[open + 1],
        format!("fchmod({mqd}, 0640) = 0"),
        "{}",
        sent.stderr
    );
    assert!(
        calls[open + 2].starts_with(&format!("newfstatat({mqd}, \"\", {{st_mode=S_IFREG|0640, "))
            && calls[open + 2].ends_with(", AT_EMPTY_PATH) = 0"),
        "{}",
        sent.stderr
    );
    run(
        RECEIVER,
        &["--posix", "--name", &name, "--mode", "0640", "--nowait"],
    )
    .assert_code(0);
    assert_posix_gone(&name);
}

#[test]
fn under_strace_the_kernel_sees_the_same_fchmod_and_fstat() {
    let installed = Command::new("strace")
        .arg("-V")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !installed {
        eprintln!("strace is not installed: this comparison is skipped (apt-get install strace)");
        return;
    }
    let name = unique_name();
    let _cleanup = Cleanup(name.clone());
    let log = unique_path("strace-mq");
    let mut cmd = Command::new("strace");
    cmd.args(["-f", "-qq", "-e", "trace=fchmod,newfstatat", "-o"])
        .arg(&log)
        .arg(SENDER)
        .args(["--trace", "--posix", "--name", &name, "--message", "hi"])
        .stdin(Stdio::null());
    let sent = Running::start(cmd, None).finish(WATCHDOG);
    sent.assert_code(0).assert_no_panic();
    let kernel = std::fs::read_to_string(&log).expect("the strace log");
    let _ = std::fs::remove_file(&log);
    let mqd = result_of(&sent.stderr, &format!("mq_open(\"{name}\", "));
    // The kernel's lines, without strace's pid column and its padding before ` = `.
    let kernel_lines: Vec<String> = kernel
        .lines()
        .map(|l| l.split_once(' ').map_or(l, |(_, rest)| rest).trim_start())
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    for ours in sent.stderr.lines().filter(|l| {
        l.starts_with(&format!("fchmod({mqd}, ")) || l.starts_with(&format!("newfstatat({mqd}, "))
    }) {
        assert!(
            kernel_lines.iter().any(|k| k == ours),
            "--trace printed `{ours}` but strace -f saw:\n{kernel}"
        );
    }
    let ours_fchmod = sent
        .stderr
        .lines()
        .filter(|l| l.starts_with("fchmod("))
        .count();
    let kernel_fchmod = kernel_lines
        .iter()
        .filter(|l| l.starts_with("fchmod("))
        .count();
    assert_eq!(
        ours_fchmod, kernel_fchmod,
        "fchmod calls: --trace vs strace:\n{kernel}"
    );
    assert_eq!(ours_fchmod, 1);
    run(RECEIVER, &["--posix", "--name", &name, "--nowait"]).assert_code(0);
    assert_posix_gone(&name);
}
