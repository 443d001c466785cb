//! `--wire c`: socket-client and socket-server talk to the tutorial's C programs (c/client.c,
//! c/server.c: one line of text per message, `end` last, no replies) over TCP, in both
//! directions; a silent client is never dropped in line mode, a line over the C buffer is;
//! what the C protocol cannot carry is refused up front. And the textbook's one-char exchange
//! (`-c CHAR`, `--char`) between c/ and our ends (the textbook's own programs: textbook.rs).

mod support;

use std::io::Write;
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use ipc_testkit::{c_program, run, Running, WATCHDOG};
use nix::sys::signal::Signal;
use support::{client_cmd, server_cmd, start_server, AFTER_SIGINT, READY};

/// Starts c/build/server on a port the kernel picks; returns it and the port.
fn start_c_server(exe: &Path) -> (Running, u16) {
    let mut cmd = Command::new(exe);
    cmd.args(["-P", "0"]).stdin(Stdio::null());
    let mut server = Running::start(cmd, None);
    let line = server.wait_for_stderr("server waiting on port ", READY);
    let port = line
        .trim_start_matches("server waiting on port ")
        .trim()
        .parse()
        .expect("the C server prints its port");
    (server, port)
}

/// c/build/client to `port` on localhost.
fn c_client(exe: &Path, port: u16) -> Command {
    let mut cmd = Command::new(exe);
    cmd.args(["-P", &port.to_string(), "localhost"]);
    cmd
}

#[test]
fn a_rust_client_talks_to_the_c_server() {
    let Some(c_server) = c_program("server") else {
        return;
    };
    let (server, port) = start_c_server(&c_server);
    let longest = "L".repeat(4094); // with its newline, all that fgets(line, 4096) keeps
    let port = port.to_string();
    let sent = run(
        client_cmd(&[
            "--wire",
            "c",
            "--port",
            &port,
            "--message",
            "hello from Rust",
            "--message",
            "  two  spaces\t",
            "--message",
            &longest,
        ]),
        b"",
    );
    sent.assert_code(0).assert_no_panic();
    assert!(sent.stdout.is_empty(), "no acknowledgements to count");
    assert!(
        sent.stderr.contains("sent 3 line(s) and end"),
        "{}",
        sent.stderr
    );
    // The C server stops after the client's `end`.
    let done = server.finish(WATCHDOG);
    done.assert_code(0);
    let long_line = format!("You wrote: {longest}");
    assert_eq!(
        done.lines(),
        [
            "You wrote: hello from Rust",
            "You wrote:   two  spaces\t",
            long_line.as_str(),
            "You wrote: end",
        ]
    );
}

#[test]
fn the_rust_client_sends_typed_lines_and_end_of_input_as_end() {
    let Some(c_server) = c_program("server") else {
        return;
    };
    let (server, port) = start_c_server(&c_server);
    let sent = run(
        client_cmd(&["--wire", "c", "--port", &port.to_string()]),
        b"typed line\nsecond\n",
    );
    sent.assert_code(0).assert_no_panic();
    let done = server.finish(WATCHDOG);
    done.assert_code(0);
    assert_eq!(
        done.lines(),
        [
            "You wrote: typed line",
            "You wrote: second",
            "You wrote: end"
        ]
    );
}

#[test]
fn the_c_client_talks_to_a_rust_server() {
    let Some(c_client_exe) = c_program("client") else {
        return;
    };
    let (server, port) = start_server(&["--wire", "c", "--port", "0", "--clients", "1"]);
    run(c_client(&c_client_exe, port), b"from C\n\ttabbed  \nend\n").assert_code(0);
    let done = server.finish(WATCHDOG);
    done.assert_code(0).assert_no_panic();
    let lines = done.lines();
    assert_eq!(lines.len(), 4, "{}", done.stdout);
    assert!(lines[0].ends_with("] You wrote: from C"), "{}", done.stdout);
    assert!(
        lines[1].ends_with("] You wrote: \ttabbed  "),
        "{}",
        done.stdout
    );
    assert!(
        lines[2].ends_with("] summary: received=2 lost=0 duplicated=0 reordered=0 corrupt=0"),
        "{}",
        done.stdout
    );
    assert_eq!(
        lines[3],
        "summary: received=2 lost=0 duplicated=0 reordered=0 corrupt=0"
    );
    assert!(done.stderr.contains(" finished"), "{}", done.stderr);
}

#[test]
fn the_rust_server_takes_every_line_the_c_client_can_send() {
    let Some(c_client_exe) = c_program("client") else {
        return;
    };
    // client.c's fgets cuts a typed line of 5000 bytes into 4095 and 905 bytes, each sent
    // with a newline: the first is a full 4096-byte line, the most a C client sends at once.
    let (server, port) = start_server(&["--wire", "c", "--port", "0", "--clients", "1"]);
    let mut input = "y".repeat(5000).into_bytes();
    input.extend_from_slice(b"\n"); // end of input: client.c sends `end` itself
    run(c_client(&c_client_exe, port), &input).assert_code(0);
    let done = server.finish(WATCHDOG);
    done.assert_code(0).assert_no_panic();
    let texts: Vec<usize> = done
        .lines()
        .iter()
        .filter_map(|line| line.split_once("] You wrote: "))
        .map(|(_, text)| text.len())
        .collect();
    assert_eq!(texts, [4095, 905], "{}", done.stdout);
}

#[test]
fn a_silent_client_is_not_dropped_in_line_mode_but_an_overlong_line_is() {
    let Some(c_client_exe) = c_program("client") else {
        return;
    };
    let (mut server, port) = start_server(&["--wire", "c", "--port", "0", "--clients", "3"]);
    // 1. Half a line, then silence. Read as a frame, "hel" + "l" would be a length prefix of
    //    1.8 GB: our framed server would drop it at once, or after --frame-timeout (5 s).
    let mut silent = TcpStream::connect(("127.0.0.1", port)).expect("connects");
    silent.write_all(b"hell").expect("writes");
    let local = silent.local_addr().expect("address").to_string();
    server.wait_for_stderr(&format!("socket-server: {local} connected"), READY);
    // 2. Meanwhile a C client is served to its end, and a client that sends a line longer
    //    than char line[4096] is dropped.
    run(c_client(&c_client_exe, port), b"meanwhile\nend\n").assert_code(0);
    let mut flood = TcpStream::connect(("127.0.0.1", port)).expect("connects");
    flood.write_all(&[b'z'; 5000]).expect("writes");
    let flood_addr = flood.local_addr().expect("address").to_string();
    server.wait_for_stderr(&format!("socket-server: dropped {flood_addr}"), READY);
    // 3. Longer than our framed server's default --frame-timeout: still being served.
    std::thread::sleep(Duration::from_secs(6));
    silent
        .write_all(b"o, late\nend\n")
        .expect("the server kept the connection");
    let done = server.finish(WATCHDOG);
    done.assert_code(1).assert_no_panic(); // the overlong line counts as corrupt
    assert!(
        done.stdout
            .contains(&format!("[{local}] You wrote: hello, late")),
        "{}",
        done.stdout
    );
    assert!(
        done.stdout.contains("] You wrote: meanwhile"),
        "{}",
        done.stdout
    );
    assert!(
        done.stderr.contains(
            "a line longer than the C programs' char line[4096] (4096 bytes with its newline)"
        ),
        "{}",
        done.stderr
    );
    assert!(
        done.stderr.contains("served 3 client(s), 1 dropped"),
        "{}",
        done.stderr
    );
    assert_eq!(
        done.last_line(),
        "summary: received=2 lost=0 duplicated=0 reordered=0 corrupt=1"
    );
}

#[test]
fn a_framed_client_at_a_line_server_is_dropped_with_a_reason() {
    let (server, port) = start_server(&["--wire", "c", "--port", "0", "--clients", "1"]);
    let port = port.to_string();
    let sent = run(
        client_cmd(&["--port", &port, "--timeout", "30", "--message", "hi"]),
        b"",
    );
    sent.assert_code(1).assert_no_panic();
    // Closed at once (EOF) or, if part of its frame was still unread, reset (ECONNRESET).
    assert!(
        sent.stderr.contains("the server closed the connection")
            || sent.stderr.contains("ECONNRESET"),
        "{}",
        sent.stderr
    );
    let done = server.finish(WATCHDOG);
    done.assert_code(1).assert_no_panic();
    assert!(
        done.stderr.contains("NUL byte, which is not C text"),
        "{}",
        done.stderr
    );
}

#[test]
fn what_the_c_protocol_cannot_carry_is_refused() {
    // (A NUL cannot be passed in argv: common's lines.rs and codec.rs unit tests cover it.)
    let long = "x".repeat(4095);
    for (args, why) in [
        (vec!["--wire", "c", "--count", "2"], "text lines only"),
        (vec!["--wire", "c", "--message", &long], "char line[4096]"),
        (vec!["--wire", "c", "--message", "two\nlines"], "newline"),
        (vec!["--wire", "c", "--udp", "--message", "a"], "TCP only"),
        (
            vec!["--wire", "c", "--unix", "/tmp/ipt-x", "--message", "a"],
            "TCP only",
        ),
    ] {
        // Port 1: nothing listens there, so only an up-front refusal gives exit 2.
        let mut all = vec!["--port", "1"];
        if args.contains(&"--unix") {
            all.clear();
        }
        all.extend(&args);
        let out = run(client_cmd(&all), b"");
        out.assert_code(2).assert_no_panic();
        assert!(out.stderr.contains(why), "{args:?}:\n{}", out.stderr);
    }
    for (args, why) in [
        (vec!["--wire", "c", "--udp"], "TCP only"),
        (vec!["--wire", "c", "--unix", "/tmp/ipt-x"], "TCP only"),
        (vec!["--wire", "c", "--frame-timeout", "3"], "no frames"),
    ] {
        let out = run(server_cmd(&args), b"");
        out.assert_code(2).assert_no_panic();
        assert!(out.stderr.contains(why), "{args:?}:\n{}", out.stderr);
    }
    assert!(!Path::new("/tmp/ipt-x").exists());
}

#[test]
fn ctrl_c_stops_a_line_server_waiting_for_a_silent_client() {
    let (mut server, port) = start_server(&["--wire", "c", "--port", "0"]);
    let mut silent = TcpStream::connect(("127.0.0.1", port)).expect("connects");
    silent.write_all(b"half a li").expect("writes");
    let local = silent.local_addr().expect("address").to_string();
    server.wait_for_stderr(&format!("socket-server: {local} connected"), READY);
    server.signal(Signal::SIGINT);
    let done = server.finish(AFTER_SIGINT);
    done.assert_code(130).assert_no_panic();
    assert!(
        done.stderr
            .contains(&format!("closed {local}: the server is stopping")),
        "{}",
        done.stderr
    );
}

#[test]
fn socket_client_char_does_the_one_char_exchange_with_the_c_server() {
    let Some(c_server) = c_program("server") else {
        return;
    };
    let (server, port) = start_c_server(&c_server);
    let answered = run(
        client_cmd(&["--wire", "c", "--char=a", "--port", &port.to_string()]),
        b"",
    );
    answered.assert_code(0).assert_no_panic();
    assert_eq!(answered.lines(), ["char from server = b"]);
    // A one-char exchange is a one-char client's whole conversation: the C server stops.
    let done = server.finish(WATCHDOG);
    done.assert_code(0);
    assert_eq!(done.lines(), ["char from client = a, sent back b"]);
}

#[test]
fn the_c_client_does_the_one_char_exchange_with_a_rust_server() {
    let Some(c_client_exe) = c_program("client") else {
        return;
    };
    let (server, port) = start_server(&["--wire", "c", "--port", "0", "--clients", "1"]);
    let mut client = c_client(&c_client_exe, port);
    client.args(["-c", "A"]);
    let answered = run(client, b"");
    answered.assert_code(0);
    assert_eq!(answered.lines(), ["char from server = B"]);
    let done = server.finish(WATCHDOG);
    done.assert_code(0).assert_no_panic();
    let lines = done.lines();
    assert_eq!(lines.len(), 3, "{}", done.stdout);
    assert!(
        lines[0].ends_with("] char from client = A, sent back B"),
        "{}",
        done.stdout
    );
    assert_eq!(
        lines[2],
        "summary: received=1 lost=0 duplicated=0 reordered=0 corrupt=0"
    );
}

#[test]
fn the_textbook_client_gets_its_answer_from_the_c_server() {
    let (Some(c_server), Some(textbook_client)) =
        (c_program("server"), ipc_testkit::textbook_program("client"))
    else {
        return;
    };
    let (server, port) = start_c_server(&c_server);
    let mut client = ipc_testkit::remapped(&textbook_client, ipc_testkit::unique_key(), Some(port));
    client.stdin(Stdio::null());
    let answered = run(client, b"");
    answered.assert_code(0);
    assert_eq!(answered.lines(), ["char from server = B"]);
    let done = server.finish(WATCHDOG);
    done.assert_code(0);
    assert_eq!(done.lines(), ["char from client = A, sent back B"]);
}
