//! The textbook's own socket programs (c/textbook/server.c and client.c, *Beginning Linux
//! Programming* ch. 15, compiled as printed) and their line-by-line Rust ports (examples/server.rs,
//! client.rs), against our `--wire c` ends: the one-char exchange (the client writes a char, the
//! server answers char + 1 and closes) in every pairing; a CRLF line client; the error a line
//! client gets from the textbook server.
//!
//! The textbook programs and the examples hard-code port 9734: each test moves it to a port of
//! its own with the LD_PRELOAD shim (`remapped`). The textbook server never exits and says
//! nothing we can wait for (its `printf("server waiting\n")` stays in stdout's buffer when
//! stdout is a pipe), so [`wait_listening`] watches the kernel's table of TCP sockets for its
//! listening socket, and the test ends it with SIGTERM and checks that the port is free again.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ipc_testkit::{
    c_program, example, remapped, run, textbook_program, unique_key, Finished, Running, WATCHDOG,
};
use nix::sys::signal::Signal;
use support::{client_cmd, free_tcp_port, start_server, READY};

/// True when a socket listens on TCP `port` (IPv4): /proc/net/tcp has a line whose local
/// address ends in `:PORT` (hex) in state `0A` (TCP_LISTEN).
fn listening(port: u16) -> bool {
    let table = std::fs::read_to_string("/proc/net/tcp").expect("/proc/net/tcp is readable");
    let local_end = format!(":{port:04X}");
    table.lines().skip(1).any(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        fields
            .get(1)
            .is_some_and(|local| local.ends_with(&local_end))
            && fields.get(3) == Some(&"0A")
    })
}

/// Waits until something listens on `port` (at most READY): the kernel says so, the program
/// does not.
fn wait_listening(port: u16) {
    let deadline = Instant::now() + READY;
    while !listening(port) {
        assert!(
            Instant::now() < deadline,
            "nothing listens on port {port} after {READY:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// `program` (a textbook program or an example) on port `port` instead of 9734, no stdin.
fn on_port(program: &Path, port: u16) -> Command {
    let mut cmd = remapped(program, unique_key(), Some(port));
    cmd.stdin(Stdio::null());
    cmd
}

/// Starts a server that hard-codes port 9734 (the textbook's, or the example) on `port`, and
/// waits until it listens.
fn start_on_port(program: &Path, port: u16) -> Running {
    let server = Running::start(on_port(program, port), None);
    wait_listening(port);
    server
}

/// Ends a server that serves for ever (SIGTERM, as Ctrl-C would) and checks that it died of
/// it and that nothing listens on its port any more.
fn stop_for_ever_server(server: Running, port: u16) -> Finished {
    server.signal(Signal::SIGTERM);
    let done = server.finish(WATCHDOG);
    assert_eq!(
        done.status.signal(),
        Some(Signal::SIGTERM as i32),
        "{:?}\n{}",
        done.status,
        done.stderr
    );
    assert!(!listening(port), "port {port} still listens");
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "port {port} still accepts"
    );
    // (Binding the port again may still fail for a minute: the closed connections wait in
    // TIME_WAIT, and the textbook's server set no SO_REUSEADDR, c/server.c's FIX.)
    done
}

/// Checks a finished socket-server `--wire c` that did one one-char exchange per client.
fn assert_one_char_served(done: &Finished, sent: &[(&str, &str)]) {
    done.assert_code(0).assert_no_panic();
    let exchanges: Vec<&str> = done
        .lines()
        .into_iter()
        .filter(|line| line.contains("] char from client = "))
        .collect();
    assert_eq!(exchanges.len(), sent.len(), "{}", done.stdout);
    for (line, (got, back)) in exchanges.iter().zip(sent) {
        assert!(
            line.ends_with(&format!("] char from client = {got}, sent back {back}")),
            "{}",
            done.stdout
        );
    }
    assert_eq!(
        done.last_line(),
        format!(
            "summary: received={} lost=0 duplicated=0 reordered=0 corrupt=0",
            sent.len()
        )
    );
    assert!(
        done.stderr.contains("finished the one-char exchange"),
        "{}",
        done.stderr
    );
}

#[test]
fn socket_client_char_gets_its_answer_from_the_textbook_server() {
    let Some(textbook_server) = textbook_program("server") else {
        return;
    };
    let port = free_tcp_port();
    let server = start_on_port(&textbook_server, port);
    let port_arg = port.to_string();
    let answered = run(
        client_cmd(&["--wire", "c", "--char", "--port", &port_arg]),
        b"",
    );
    answered.assert_code(0).assert_no_panic();
    assert_eq!(answered.lines(), ["char from server = B"]);
    let answered = run(
        client_cmd(&["--wire", "c", "--char=y", "--port", &port_arg]),
        b"",
    );
    answered.assert_code(0);
    assert_eq!(answered.lines(), ["char from server = z"]);
    // A line client: the textbook server reads its first char, answers and closes. The
    // client says what it met and which option fits.
    let lines = run(
        client_cmd(&["--wire", "c", "--port", &port_arg, "--message", "hello"]),
        b"",
    );
    lines.assert_code(1).assert_no_panic();
    assert!(
        lines
            .stderr
            .contains("the server sent back 'i' and closed the connection"),
        "{}",
        lines.stderr
    );
    assert!(
        lines.stderr.contains("one-char exchange") && lines.stderr.contains("--char"),
        "{}",
        lines.stderr
    );
    stop_for_ever_server(server, port);
}

#[test]
fn the_textbook_client_gets_its_answer_from_socket_server() {
    let Some(textbook_client) = textbook_program("client") else {
        return;
    };
    let (server, port) = start_server(&["--wire", "c", "--port", "0", "--clients", "1"]);
    let client = run(on_port(&textbook_client, port), b"");
    client.assert_code(0);
    assert_eq!(client.lines(), ["char from server = B"]);
    // One textbook client is one client served: the server ends, with its summary.
    let done = server.finish(WATCHDOG);
    assert_one_char_served(&done, &[("A", "B")]);
    assert!(
        done.stdout
            .contains("] summary: received=1 lost=0 duplicated=0 reordered=0 corrupt=0"),
        "{}",
        done.stdout
    );
}

#[test]
fn socket_server_serves_textbook_and_line_clients_on_one_port() {
    let Some(textbook_client) = textbook_program("client") else {
        return;
    };
    let Some(c_client) = c_program("client") else {
        return;
    };
    let (server, port) = start_server(&["--wire", "c", "--port", "0", "--clients", "3"]);
    run(on_port(&textbook_client, port), b"").assert_code(0);
    let mut lines = Command::new(c_client);
    lines.args(["-P", &port.to_string(), "localhost"]);
    // A one-char line ("x\n") and an empty one ("\n") are lines, not one-char clients.
    run(lines, b"x\n\nend\n").assert_code(0);
    let answered = run(
        client_cmd(&["--wire", "c", "--char=%", "--port", &port.to_string()]),
        b"",
    );
    answered.assert_code(0);
    assert_eq!(answered.lines(), ["char from server = &"]);
    let done = server.finish(WATCHDOG);
    assert!(done.stdout.contains("] You wrote: x\n"), "{}", done.stdout);
    assert!(done.stdout.contains("] You wrote: \n"), "{}", done.stdout);
    let exchanges = done.stdout.matches("] char from client = ").count();
    assert_eq!(exchanges, 2, "{}", done.stdout);
    assert!(
        done.stdout.contains("] char from client = %, sent back &"),
        "{}",
        done.stdout
    );
    assert_eq!(
        done.last_line(),
        "summary: received=4 lost=0 duplicated=0 reordered=0 corrupt=0"
    );
}

#[test]
fn the_example_client_gets_its_answer_from_the_textbook_server() {
    let Some(textbook_server) = textbook_program("server") else {
        return;
    };
    let port = free_tcp_port();
    let server = start_on_port(&textbook_server, port);
    let client = run(on_port(&example("client"), port), b"");
    client.assert_code(0).assert_no_panic();
    assert_eq!(client.lines(), ["char from server = B"]);
    stop_for_ever_server(server, port);
}

#[test]
fn the_textbook_client_gets_its_answer_from_the_example_server() {
    let Some(textbook_client) = textbook_program("client") else {
        return;
    };
    let port = free_tcp_port();
    let server = start_on_port(&example("server"), port);
    for _ in 0..2 {
        let client = run(on_port(&textbook_client, port), b"");
        client.assert_code(0);
        assert_eq!(client.lines(), ["char from server = B"]);
    }
    let done = stop_for_ever_server(server, port);
    done.assert_no_panic();
    // Like the C: `server waiting` on stdout before each accept (the third one may not have
    // been printed yet when SIGTERM came).
    let waiting = done.lines();
    assert!(
        (2..=3).contains(&waiting.len()) && waiting.iter().all(|l| *l == "server waiting"),
        "{}",
        done.stdout
    );
}

#[test]
fn the_examples_pair_with_our_full_programs() {
    // The example client against socket-server --wire c ...
    let (server, port) = start_server(&["--wire", "c", "--port", "0", "--clients", "1"]);
    let client = run(on_port(&example("client"), port), b"");
    client.assert_code(0).assert_no_panic();
    assert_eq!(client.lines(), ["char from server = B"]);
    assert_one_char_served(&server.finish(WATCHDOG), &[("A", "B")]);
    // ... and socket-client --wire c --char against the example server.
    let port = free_tcp_port();
    let server = start_on_port(&example("server"), port);
    let answered = run(
        client_cmd(&["--wire", "c", "--char=0", "--port", &port.to_string()]),
        b"",
    );
    answered.assert_code(0).assert_no_panic();
    assert_eq!(answered.lines(), ["char from server = 1"]);
    stop_for_ever_server(server, port);
}

#[test]
fn the_example_client_says_when_no_server_listens() {
    let port = free_tcp_port();
    let client = run(on_port(&example("client"), port), b"");
    client.assert_code(1).assert_no_panic();
    assert!(
        client.stderr.contains("oops: client3: Connection refused"),
        "{}",
        client.stderr
    );
}

#[test]
fn a_crlf_line_client_is_read_as_lines_and_ends_at_end() {
    let (server, port) = start_server(&["--wire", "c", "--port", "0", "--clients", "1"]);
    // As telnet or `nc -C` send them.
    let mut telnet = TcpStream::connect(("127.0.0.1", port)).expect("connects");
    telnet.write_all(b"hello\r\nend\r\n").expect("writes");
    // The server closes after `end` (and sends nothing back).
    let mut rest = Vec::new();
    telnet.read_to_end(&mut rest).expect("reads to the end");
    assert!(rest.is_empty(), "{rest:?}");
    let done = server.finish(WATCHDOG);
    done.assert_code(0).assert_no_panic();
    let lines = done.lines();
    assert_eq!(lines.len(), 3, "{}", done.stdout);
    assert!(lines[0].ends_with("] You wrote: hello"), "{:?}", lines[0]);
    assert_eq!(
        lines[2],
        "summary: received=1 lost=0 duplicated=0 reordered=0 corrupt=0"
    );
    assert!(done.stderr.contains(" finished"), "{}", done.stderr);
}

#[test]
fn socket_client_char_without_an_answer_is_an_error() {
    // A framed socket-server (no --wire c) reads the char as the start of a frame header and
    // answers nothing: the client gives up after --timeout and says why.
    let (server, port) = start_server(&["--port", "0", "--clients", "1"]);
    let answered = run(
        client_cmd(&[
            "--wire",
            "c",
            "--char",
            "--port",
            &port.to_string(),
            "--timeout",
            "0.5",
        ]),
        b"",
    );
    answered.assert_code(1).assert_no_panic();
    assert!(answered.stdout.is_empty(), "{}", answered.stdout);
    assert!(
        answered.stderr.contains("waiting for the server's char"),
        "{}",
        answered.stderr
    );
    drop(server); // killed and reaped: it would wait --frame-timeout for the rest
    let usage = run(client_cmd(&["--char", "--port", "1"]), b"");
    usage.assert_code(2);
    assert!(usage.stderr.contains("add --wire c"), "{}", usage.stderr);
    let usage = run(
        client_cmd(&["--wire", "c", "--char=AB", "--port", "1"]),
        b"",
    );
    usage.assert_code(2);
    assert!(
        usage.stderr.contains("not one ASCII character"),
        "{}",
        usage.stderr
    );
}
