//! scripts/pair-with.sh, run as a student runs it on the textbook's programs: headless (no
//! terminal), on this test's own key and port (the script's --key/--port move the program's
//! 1234/9734 there through the LD_PRELOAD shim), ending with a verdict line.

use std::path::{Path, PathBuf};
use std::process::Command;

use ipc_testkit::{assert_no_sysv_objects, run, textbook_program, unique_key, Finished};

/// The repository's root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// target/debug, where `make build` put our programs (the test runs from target/debug/deps).
fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test knows its path");
    exe.parent()
        .and_then(Path::parent)
        .expect("target/debug/deps/TEST")
        .to_path_buf()
}

/// Runs pair-with.sh on c/textbook/NAME.c with `args`, `input` on its standard input.
fn pair_with(name: &str, args: &[&str], input: &[u8]) -> Option<Finished> {
    textbook_program(name)?; // builds c/textbook (and the shim), or skips without cc
    let mut cmd = Command::new(root().join("scripts/pair-with.sh"));
    cmd.env("IPC_BIN", bin_dir())
        .args(args)
        .arg(root().join(format!("c/textbook/{name}.c")));
    Some(run(cmd, input))
}

fn verdict(out: &Finished) -> &str {
    out.stdout
        .lines()
        .last()
        .unwrap_or_else(|| panic!("no output at all; stderr:\n{}", out.stderr))
}

/// Runs pair-with.sh on c/textbook/NAME.c on a key of this test's own, and checks that it
/// ends with a MATCH verdict containing `says`, exit 0, and nothing left on the key. Returns
/// the verdict and the whole output (None: skipped, no C compiler).
fn expect_match(name: &str, input: &[u8], says: &str) -> Option<(String, Finished)> {
    let key = unique_key();
    let key_arg = format!("0x{:08x}", key as u32);
    let out = pair_with(name, &["--key", &key_arg], input)?;
    let last = verdict(&out).to_string();
    assert!(
        last.starts_with("verdict: MATCH:") && last.contains(says),
        "{name}: {last}\n{}\n{}",
        out.stdout,
        out.stderr
    );
    out.assert_code(0);
    assert_no_sysv_objects(key);
    Some((last, out))
}

#[test]
fn the_textbook_sender_msg2_pairs_with_our_receiver_and_the_verdict_says_so() {
    let Some((last, out)) = expect_match("msg2", b"hello\nworld\nend\n", "sent 2 texts") else {
        return;
    };
    assert!(
        last.contains("512-byte messages with the newline"),
        "{last}"
    );
    assert!(
        out.stdout.contains("[ours] You wrote: world"),
        "{}",
        out.stdout
    );
}

#[test]
fn the_textbook_receiver_msg1_pairs_with_our_sender() {
    let Some((_, out)) = expect_match("msg1", b"one\ntwo\nthree\nend\n", "sent 3 texts") else {
        return;
    };
    assert!(
        out.stdout.contains("[yours] You wrote: two"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_program_without_ipc_calls_is_named_as_such_and_exits_1() {
    let dir = std::env::temp_dir().join(format!("pair-with-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let hello = dir.join("hello.c");
    std::fs::write(
        &hello,
        "#include <stdio.h>\nint main(void) { puts(\"hello\"); return 0; }\n",
    )
    .expect("write");
    let mut cmd = Command::new(root().join("scripts/pair-with.sh"));
    cmd.env("IPC_BIN", bin_dir()).arg(&hello);
    if textbook_program("msg1").is_none() {
        return;
    }
    let out = run(cmd, b"");
    let _ = std::fs::remove_dir_all(&dir);
    out.assert_code(1);
    assert!(
        out.stderr.contains("pair-with: error: no IPC call found"),
        "{}",
        out.stderr
    );
}

#[test]
fn the_textbook_producer_shm2_pairs_with_our_receiver() {
    expect_match("shm2", b"first\nsecond\nend\n", "sent 2 texts");
}

/// A TCP port nobody listens on now: the kernel's choice for port 0, released at once.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

#[test]
fn the_textbook_one_char_client_and_server_pair_with_ours() {
    for (name, says) in [
        ("client", "your client printed: char from server = B"),
        ("server", "your server answered: char from server = B"),
    ] {
        let port = free_port().to_string();
        let Some(out) = pair_with(name, &["--port", &port], b"") else {
            return;
        };
        let last = verdict(&out);
        assert!(
            last.starts_with("verdict: MATCH:") && last.contains(says),
            "{name}: {last}\n{}\n{}",
            out.stdout,
            out.stderr
        );
        out.assert_code(0);
    }
}

#[test]
fn the_textbook_sem1_takes_turns_with_our_sem_mutex() {
    let Some((last, _)) = expect_match("sem1", b"", "printed ") else {
        return;
    };
    // Ten turns each, every char twice in a row: 40 chars, X and O in pairs.
    let chars = last.rsplit("printed ").next().unwrap_or_default().trim();
    assert_eq!(chars.len(), 40, "{last}");
    assert_eq!(chars.replace("XX", "").replace("OO", ""), "", "{last}");
}

/// True when `program --version` runs.
fn installed(program: &str) -> bool {
    Command::new(program)
        .arg("-V")
        .output()
        .is_ok_and(|out| out.status.success())
}

#[test]
fn with_tmux_the_two_ends_run_in_panes_and_what_is_typed_is_the_input() {
    if !installed("tmux") || !installed("script") {
        eprintln!("skipped: tmux or script(1) is not installed");
        return;
    }
    if textbook_program("msg2").is_none() {
        return;
    }
    let key = unique_key();
    let key_arg = format!("0x{:08x}", key as u32);
    let socket = ipc_testkit::unique_path("pw-tmux");
    let tmux = |args: &[&str]| {
        Command::new("tmux")
            .arg("-S")
            .arg(&socket)
            .args(args)
            .output()
            .expect("tmux runs")
    };
    let mut cmd = Command::new(root().join("scripts/pair-with.sh"));
    cmd.env("IPC_BIN", bin_dir())
        .env("PAIR_WITH_TMUX_SOCKET", &socket)
        .args(["--key", &key_arg])
        .arg(root().join("c/textbook/msg2.c"))
        .stdin(std::process::Stdio::null());
    let mut script = ipc_testkit::Running::start(cmd, None);
    script.wait_for_stderr("two panes in tmux session", ipc_testkit::WATCHDOG);
    // The right pane is msg2's (the sending end): type as a student would.
    let session = String::from_utf8_lossy(&tmux(&["list-sessions", "-F", "#S"]).stdout)
        .trim()
        .to_string();
    let pane = format!("{session}:0.1");
    for line in ["hello", "world", "end"] {
        tmux(&["send-keys", "-t", &pane, "-l", line]);
        tmux(&["send-keys", "-t", &pane, "Enter"]);
    }
    let out = script.finish(ipc_testkit::WATCHDOG);
    let _ = tmux(&["kill-server"]);
    let _ = std::fs::remove_file(&socket);
    let last = verdict(&out);
    assert!(
        last.starts_with("verdict: MATCH:") && last.contains("sent 2 texts"),
        "{last}\n{}\n{}",
        out.stdout,
        out.stderr
    );
    assert!(out.stdout.contains("You wrote: world"), "{}", out.stdout);
    out.assert_code(0);
    assert_no_sysv_objects(key);
}
