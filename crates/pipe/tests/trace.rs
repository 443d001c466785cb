//! `--trace` on the pipe programs: pipe2, fork, write and read in C notation, on stderr.

use std::process::{Command, Stdio};

use ipc_testkit::run;

/// The text after `prefix` on the first stderr line that starts with it.
#[track_caller]
fn after<'a>(stderr: &'a str, prefix: &str) -> &'a str {
    stderr
        .lines()
        .find_map(|line| line.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no line `{prefix}...` in:\n{stderr}"))
}

#[test]
fn pipe_demo_traces_pipe2_fork_and_both_ends() {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pipe-demo"));
    cmd.args(["--trace", "--message", "Hello Linux"]);
    let out = run(cmd, b"");
    out.assert_code(0).assert_no_panic();
    assert_eq!(out.stdout, "Hello Linux\n", "traces never go to stdout");
    let err = &out.stderr;

    // pipe2([R, W], O_CLOEXEC) = 0: the two descriptors, as the milestone line prints them.
    let fds = after(err, "pipe2([");
    let fds = fds
        .strip_suffix("], O_CLOEXEC) = 0")
        .unwrap_or_else(|| panic!("{fds}"));
    let (read_end, write_end) = fds.split_once(", ").expect("two descriptors");
    assert_eq!(
        after(err, "Descriptors are: "),
        format!("{read_end} {write_end}")
    );

    // fork() returns twice: the child's pid in the parent, 0 in the child.
    let pids: Vec<&str> = err
        .lines()
        .filter_map(|l| l.strip_prefix("fork() = "))
        .collect();
    assert_eq!(pids.len(), 2, "{err}");
    assert!(pids.contains(&"0"), "{err}");
    assert!(
        pids.iter()
            .any(|p| p.parse::<i32>().is_ok_and(|pid| pid > 0)),
        "{err}"
    );

    // The parent writes the text on the write end; the child reads it, then end-of-file.
    let write = format!("write({write_end}, \"Hello Linux\", 11) = 11");
    assert!(err.lines().any(|l| l == write), "no `{write}` in:\n{err}");
    let read = format!("read({read_end}, \"Hello Linux\", ");
    assert!(
        err.lines()
            .any(|l| l.starts_with(&read) && l.ends_with(") = 11")),
        "no `{read}...) = 11` in:\n{err}"
    );
    let eof = format!("read({read_end}, \"\", ");
    assert!(
        err.lines()
            .any(|l| l.starts_with(&eof) && l.ends_with(") = 0")),
        "the child's last read sees end-of-file:\n{err}"
    );
}

#[test]
fn pipe_sender_passes_trace_to_the_receiver_it_starts() {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pipe-sender"));
    cmd.args(["--trace", "--message", "hi"])
        .stdin(Stdio::null());
    let out = run(cmd, b"");
    out.assert_code(0).assert_no_panic();
    let err = &out.stderr;
    let fds = after(err, "pipe2([");
    let write_end = fds
        .strip_suffix("], O_CLOEXEC) = 0")
        .and_then(|fds| fds.split_once(", "))
        .map(|(_, w)| w)
        .unwrap_or_else(|| panic!("{fds}"));
    // Two frames written: the text and the End, each flushed at once.
    let writes = err
        .lines()
        .filter(|l| l.starts_with(&format!("write({write_end}, \"")))
        .count();
    assert_eq!(writes, 2, "{err}");
    // pipe-receiver reads them from its standard input, descriptor 0.
    assert!(
        err.lines()
            .any(|l| l.starts_with("read(0, \"") && l.contains("hi")),
        "the receiver's read of the pipe:\n{err}"
    );
}
