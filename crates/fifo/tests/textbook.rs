//! The classroom path: the tutorial's FIFO writer and reader (c/textbook/fifo_writer.c and
//! fifo_reader.c, compiled as printed, bugs included), their line-by-line Rust ports
//! (examples/fifo_writer.rs, examples/fifo_reader.rs), and fifo-sender/fifo-receiver in
//! `--wire c`, paired each way. The tutorial's programs and the examples hard-code
//! /tmp/my_fifo: the LD_PRELOAD shim (`remapped_fifo`) moves it to each test's own path.
//!
//! The tutorial's writer ends each text with its newline and a NUL (`strlen(buf) + 1`); its
//! reader prints what each read() returned, so texts that arrive together print together, and
//! those after a NUL are lost (its bug). Every test keeps its input under the reader's 99-byte
//! read, so no text is ever cut between two reads.

use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ipc_testkit::remapped_fifo;
use ipc_testkit::{assert_gone, example, run, textbook_program, unique_path, Running, WATCHDOG};

const PREFIX: &str = "Data From Named Pipe Is: ";

/// Removes whatever a failed test left at the path.
struct Leftover(PathBuf);

impl Drop for Leftover {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A path of this test's own, and its cleanup guard.
fn own_path(tag: &str) -> (PathBuf, Leftover) {
    let path = unique_path(tag);
    (path.clone(), Leftover(path))
}

/// A tutorial program or an example, on `fifo` instead of /tmp/my_fifo.
fn on_path(program: &Path, fifo: &Path) -> Command {
    let mut cmd = remapped_fifo(program, fifo);
    cmd.stdin(Stdio::null());
    cmd
}

/// Starts a reader that makes the FIFO (the tutorial's or the example), and waits until the
/// FIFO is there: these readers print their milestone on a buffered stdout, which a test sees
/// only at their exit, so the FIFO itself is the ready sign.
fn start_reader(program: &Path, fifo: &Path) -> Running {
    let reader = Running::start(on_path(program, fifo), None);
    let deadline = Instant::now() + WATCHDOG;
    while !std::fs::symlink_metadata(fifo).is_ok_and(|m| m.file_type().is_fifo()) {
        assert!(
            Instant::now() < deadline,
            "{} was never made",
            fifo.display()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    reader
}

/// fifo-receiver or fifo-sender in `--wire c` on `fifo`.
fn rust(exe: &str, fifo: &Path, extra: &[&str]) -> Command {
    let mut cmd = Command::new(exe);
    cmd.args(["--wire", "c", "--path"])
        .arg(fifo)
        .args(extra)
        .stdin(Stdio::null());
    cmd
}

/// The tutorial's writer, whose every text is "line\n\0", to the example reader, which prints
/// every text each read() returned, up to its NUL.
#[test]
fn the_tutorials_writer_talks_to_the_example_reader() {
    let Some(c_writer) = textbook_program("fifo_writer") else {
        return;
    };
    let (fifo, _leftover) = own_path("fifo-tb-w");
    let reader = start_reader(&example("fifo_reader"), &fifo);
    let wrote = run(on_path(&c_writer, &fifo), b"hello world\n\ttabbed\nend\n");
    wrote.assert_code(0);
    assert_eq!(
        wrote
            .lines()
            .iter()
            .filter(|l| **l == "Written Successfully...")
            .count(),
        3,
        "{}",
        wrote.stdout
    );
    let done = reader.finish(WATCHDOG);
    done.assert_code(0).assert_no_panic();
    assert_eq!(
        done.lines(),
        [
            "Fifo Created Successfully...",
            "Data From Named Pipe Is: hello world",
            "Data From Named Pipe Is: \ttabbed",
            "Data From Named Pipe Is: end",
        ]
    );
    assert_gone(&fifo);
}

/// What the example writer puts in the FIFO, byte for byte: what the tutorial's writer does,
/// `write(fd, buf, strlen(buf) + 1)` after `fgets`, so each text with its newline and a NUL.
#[test]
fn the_example_writer_writes_the_tutorials_bytes() {
    if textbook_program("libremap.so").is_none() {
        return;
    }
    let (fifo, _leftover) = own_path("fifo-tb-bytes");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600))
        .expect("mkfifo in /tmp");
    let writer = Running::start(
        remapped_fifo(&example("fifo_writer"), &fifo),
        Some(b"Hello Linux\n\nend\n".to_vec()),
    );
    // C: open(path, O_RDONLY), then read to end-of-file; in a thread, so that a writer that
    // never opens the FIFO fails the test instead of hanging it.
    let (tx, rx) = std::sync::mpsc::channel();
    let path = fifo.clone();
    std::thread::spawn(move || {
        let _ = tx.send(std::fs::read(&path));
    });
    let bytes = rx
        .recv_timeout(WATCHDOG)
        .expect("the writer opened the FIFO")
        .expect("reads");
    writer.finish(WATCHDOG).assert_code(0).assert_no_panic();
    assert_eq!(bytes, b"Hello Linux\n\0\n\0end\n\0");
    std::fs::remove_file(&fifo).expect("the test made it, the test removes it");
    assert_gone(&fifo);
}

/// The example writer sends the tutorial's bytes ("line\n\0"), so the tutorial's reader prints
/// the first text of each read() whole and the rest of that read not at all: whatever the
/// reads were, it printed texts the writer sent, in order, starting with the first.
#[test]
fn the_example_writer_talks_to_the_tutorials_reader() {
    let Some(c_reader) = textbook_program("fifo_reader") else {
        return;
    };
    let (fifo, _leftover) = own_path("fifo-tb-r");
    let reader = start_reader(&c_reader, &fifo);
    let wrote = run(
        on_path(&example("fifo_writer"), &fifo),
        b"Hello Linux\nsecond\nend\n",
    );
    wrote.assert_code(0).assert_no_panic();
    assert!(
        wrote.stdout.starts_with("File Permissions Are OK\n"),
        "{}",
        wrote.stdout
    );
    let done = reader.finish(WATCHDOG);
    done.assert_code(0);
    let lines = done.lines();
    assert_eq!(lines[0], "Fifo Created Successfully...", "{}", done.stdout);
    let printed: Vec<&str> = lines[1..]
        .iter()
        .map(|line| {
            line.strip_prefix(PREFIX)
                .unwrap_or_else(|| panic!("{}", done.stdout))
        })
        .collect();
    assert_eq!(printed.first(), Some(&"Hello Linux"), "{}", done.stdout);
    let mut sent = ["Hello Linux", "second", "end"].into_iter();
    assert!(
        printed.iter().all(|text| sent.any(|s| s == *text)),
        "not the texts sent, in order:\n{}",
        done.stdout
    );
    assert_gone(&fifo);
}

/// fifo-receiver --wire c takes the tutorial's "text\n\0" as one text each, `end` included.
#[test]
fn the_tutorials_writer_talks_to_fifo_receiver() {
    let Some(c_writer) = textbook_program("fifo_writer") else {
        return;
    };
    let (fifo, _leftover) = own_path("fifo-tb-rx");
    let mut receiver = Running::start(rust(env!("CARGO_BIN_EXE_fifo-receiver"), &fifo, &[]), None);
    receiver.wait_for_stderr("waiting for a sender", WATCHDOG);
    run(
        on_path(&c_writer, &fifo),
        b"from the tutorial\n\nlast one\nend\n",
    )
    .assert_code(0);
    let done = receiver.finish(WATCHDOG);
    done.assert_code(0).assert_no_panic();
    assert_eq!(
        done.lines(),
        [
            "Data From Named Pipe Is: from the tutorial",
            "Data From Named Pipe Is: ",
            "Data From Named Pipe Is: last one",
            "summary: received=3 lost=0 duplicated=0 reordered=0 corrupt=0"
        ]
    );
    assert_gone(&fifo);
}

/// fifo-sender --wire c writes "text\n" with no NUL: the tutorial's reader prints each of our
/// texts, though texts that arrive in one read() print after one "Data From Named Pipe Is: ".
#[test]
fn fifo_sender_talks_to_the_tutorials_reader() {
    let Some(c_reader) = textbook_program("fifo_reader") else {
        return;
    };
    let (fifo, _leftover) = own_path("fifo-tb-tx");
    let reader = start_reader(&c_reader, &fifo);
    let sender = rust(
        env!("CARGO_BIN_EXE_fifo-sender"),
        &fifo,
        // The tutorial's reader made the FIFO with mode 0666 (less the umask): open to
        // other users, which fifo-sender refuses unless told to accept it.
        &[
            "--mode",
            "0666",
            "--message",
            "hello from Rust",
            "--message",
            "two  spaces",
        ],
    );
    run(sender, b"").assert_code(0).assert_no_panic();
    let done = reader.finish(WATCHDOG);
    done.assert_code(0);
    let lines = done.lines();
    assert_eq!(lines[0], "Fifo Created Successfully...", "{}", done.stdout);
    assert!(lines[1].starts_with(PREFIX), "{}", done.stdout);
    let printed: Vec<&str> = lines[1..]
        .iter()
        .map(|line| line.strip_prefix(PREFIX).unwrap_or(line))
        .collect();
    assert_eq!(
        printed,
        ["hello from Rust", "two  spaces", "end"],
        "{}",
        done.stdout
    );
    assert_gone(&fifo);
}

/// A writer of CRLF lines (a terminal's, `nc -C`'s), and one of bare C strings
/// (`scanf` then `strlen(buf) + 1`): the receiver stops at their `end`.
#[test]
fn fifo_receiver_stops_at_end_whatever_ends_the_texts() {
    for (bytes, texts) in [
        (&b"hello\r\nend\r\n"[..], &["hello"][..]),
        (b"one\0two\0end\0", &["one", "two"][..]),
    ] {
        let (fifo, _leftover) = own_path("fifo-tb-end");
        let mut receiver =
            Running::start(rust(env!("CARGO_BIN_EXE_fifo-receiver"), &fifo, &[]), None);
        receiver.wait_for_stderr("waiting for a sender", WATCHDOG);
        // C: fd = open(path, O_WRONLY); write(fd, bytes, n); close(fd);
        std::fs::OpenOptions::new()
            .write(true)
            .open(&fifo)
            .and_then(|mut f| std::io::Write::write_all(&mut f, bytes))
            .expect("the receiver has the FIFO open");
        let done = receiver.finish(WATCHDOG);
        done.assert_code(0).assert_no_panic();
        let mut expected: Vec<String> = texts.iter().map(|t| format!("{PREFIX}{t}")).collect();
        expected.push(format!(
            "summary: received={} lost=0 duplicated=0 reordered=0 corrupt=0",
            texts.len()
        ));
        assert_eq!(done.lines(), expected, "{bytes:?}");
        assert_gone(&fifo);
    }
}
