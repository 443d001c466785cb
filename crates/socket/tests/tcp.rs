//! socket-server and socket-client over TCP, as separate processes on port 0.

mod support;

use std::net::TcpListener;

use ipc_testkit::{run, Running, WATCHDOG};
use nix::sys::signal::Signal;

use support::{
    client_cmd, client_summaries, free_tcp_port, start_accepted_client, start_client, start_server,
    AFTER_SIGINT,
};

#[test]
fn fifty_clients_at_once_every_message_acknowledged_and_counted() {
    const CLIENTS: usize = 50;
    let (server, port) = start_server(&["--port", "0", "--clients", "50"]);
    let port = port.to_string();
    let clients: Vec<Running> = (0..CLIENTS)
        .map(|_| {
            Running::start(
                client_cmd(&["--port", &port, "--count", "1000", "--size", "64"]),
                None,
            )
        })
        .collect();
    for client in clients {
        let done = client.finish(WATCHDOG);
        done.assert_code(0).assert_no_panic();
        assert_eq!(done.last_line(), "server acknowledged 1000 messages");
    }
    let done = server.finish(WATCHDOG);
    done.assert_code(0).assert_no_panic();
    assert_eq!(
        done.last_line(),
        "summary: received=50000 lost=0 duplicated=0 reordered=0 corrupt=0"
    );
    let per_client = client_summaries(&done.stdout);
    assert_eq!(
        per_client.len(),
        CLIENTS,
        "one summary per client:\n{}",
        done.stdout
    );
    for line in per_client {
        assert!(
            line.ends_with("] summary: received=1000 lost=0 duplicated=0 reordered=0 corrupt=0"),
            "{line}"
        );
    }
    assert_eq!(
        done.stderr.matches(" finished").count(),
        CLIENTS,
        "{}",
        done.stderr
    );
}

#[test]
fn texts_arrive_verbatim_with_the_clients_address() {
    let (server, port) = start_server(&["--port", "0", "--clients", "2"]);
    let port = port.to_string();
    let flags = run(
        client_cmd(&[
            "localhost",
            "--port",
            &port,
            "--message",
            "hello",
            "--message",
            "two  words, ünïcödé",
        ]),
        b"",
    );
    flags.assert_code(0).assert_no_panic();
    assert_eq!(flags.last_line(), "server acknowledged 2 messages");
    // Lines from stdin until `end`: what follows `end` is not sent.
    let typed = run(
        client_cmd(&["127.0.0.1", "--port", &port]),
        b"first line\nsecond\nend\nnot sent\n",
    );
    typed.assert_code(0);
    assert_eq!(typed.last_line(), "server acknowledged 2 messages");

    let done = server.finish(WATCHDOG);
    done.assert_code(0).assert_no_panic();
    let texts: Vec<&str> = done
        .lines()
        .into_iter()
        .filter_map(|line| {
            line.split_once("] You wrote: ").map(|(peer, text)| {
                assert!(peer.starts_with("[127.0.0.1:"), "{line}");
                text
            })
        })
        .collect();
    assert_eq!(
        texts,
        ["hello", "two  words, ünïcödé", "first line", "second"]
    );
    assert_eq!(
        done.last_line(),
        "summary: received=4 lost=0 duplicated=0 reordered=0 corrupt=0"
    );
}

#[test]
fn no_server_is_a_clear_error_with_a_hint() {
    let port = free_tcp_port().to_string();
    let done = run(
        client_cmd(&["localhost", "--port", &port, "--message", "hi"]),
        b"",
    );
    done.assert_code(1).assert_no_panic();
    assert!(
        done.stderr.contains(&format!(
            "socket-client: error: connection refused by localhost:{port}"
        )),
        "{}",
        done.stderr
    );
    assert!(done
        .stderr
        .contains("hint: start socket-server first, or run make demo-socket"));
    assert!(!done.stderr.contains("os error"), "{}", done.stderr);
    assert_eq!(done.stdout, "");
}

#[test]
fn an_unknown_host_is_a_resolution_error() {
    let done = run(
        client_cmd(&["no-such-host.invalid", "--message", "hi"]),
        b"",
    );
    done.assert_code(1).assert_no_panic();
    assert!(
        done.stderr
            .contains("socket-client: error: resolving no-such-host.invalid: "),
        "{}",
        done.stderr
    );
    assert!(done.stderr.contains("hint: "), "{}", done.stderr);
}

#[test]
fn ipv6_loopback_where_the_machine_has_it() {
    if TcpListener::bind("[::1]:0").is_err() {
        println!("note: this machine has no IPv6 loopback (::1); skipping the IPv6 test");
        return;
    }
    let (server, port) = start_server(&["--bind", "::1", "--port", "0", "--clients", "2"]);
    let port = port.to_string();
    for host in ["::1", "[::1]"] {
        let done = run(
            client_cmd(&[host, "--port", &port, "--count", "200", "--size", "100"]),
            b"",
        );
        done.assert_code(0).assert_no_panic();
        assert_eq!(done.last_line(), "server acknowledged 200 messages");
        assert!(
            done.stderr.contains(&format!("connected to [::1]:{port}")),
            "{}",
            done.stderr
        );
    }
    let done = server.finish(WATCHDOG);
    done.assert_code(0);
    assert!(done.stdout.contains("[[::1]:"), "{}", done.stdout);
    assert_eq!(
        done.last_line(),
        "summary: received=400 lost=0 duplicated=0 reordered=0 corrupt=0"
    );
}

#[test]
fn ctrl_c_on_the_server_with_clients_connected() {
    let (mut server, port) = start_server(&["--port", "0"]);
    let port = port.to_string();
    // Two clients that would run for hours: they are mid-stream when the server stops.
    let clients = [
        start_accepted_client(
            &mut server,
            &["--port", &port, "--count", "100000000", "--size", "32"],
        ),
        start_accepted_client(
            &mut server,
            &["--port", &port, "--count", "100000000", "--size", "2000"],
        ),
    ];
    server.signal(Signal::SIGINT);
    let done = server.finish(AFTER_SIGINT);
    done.assert_stopped_cleanly("socket-server");
    assert_eq!(client_summaries(&done.stdout).len(), 2, "{}", done.stdout);
    assert!(
        done.last_line().starts_with("summary: received="),
        "{}",
        done.stdout
    );
    for client in clients {
        let done = client.finish(AFTER_SIGINT);
        done.assert_code(1).assert_no_panic();
        assert!(
            done.stderr.contains("socket-client: error: "),
            "{}",
            done.stderr
        );
        assert!(
            done.stdout.starts_with("server acknowledged "),
            "{}",
            done.stdout
        );
    }
}

#[test]
fn ctrl_c_on_a_client_stops_it_cleanly() {
    let (server, port) = start_server(&["--port", "0", "--clients", "1"]);
    let port = port.to_string();
    let client = start_client(&["--port", &port, "--count", "100000000"]);
    client.signal(Signal::SIGINT);
    let done = client.finish(AFTER_SIGINT);
    done.assert_stopped_cleanly("socket-client");
    // The server saw the client go between two frames: no End, nothing lost, nothing corrupt.
    let done = server.finish(WATCHDOG);
    done.assert_code(0).assert_no_panic();
    // Between two frames it closed (FIN), or reset (RST: an acknowledgement was still unread).
    assert!(
        done.stderr.contains("left without its End message")
            || done.stderr.contains("socket-server: lost 127.0.0.1:"),
        "{}",
        done.stderr
    );
}

#[test]
fn a_client_killed_mid_stream_does_not_disturb_the_server() {
    let (server, port) = start_server(&["--port", "0", "--clients", "2"]);
    let port = port.to_string();
    let victim = start_client(&["--port", &port, "--count", "100000000", "--size", "20000"]);
    let survivor = Running::start(
        client_cmd(&["--port", &port, "--count", "1000", "--size", "500"]),
        None,
    );
    victim.signal(Signal::SIGKILL);
    drop(victim); // reaped
    let done = survivor.finish(WATCHDOG);
    done.assert_code(0);
    assert_eq!(done.last_line(), "server acknowledged 1000 messages");

    let done = server.finish(WATCHDOG);
    done.assert_no_panic();
    // The victim died between frames (left without End) or inside one (a truncated frame,
    // counted as corrupt); either way the survivor's count is exact and nothing else is off.
    let survivor_line = client_summaries(&done.stdout)
        .into_iter()
        .find(|line| line.contains("received=1000 "))
        .map(str::to_owned);
    assert!(survivor_line.is_some(), "{}", done.stdout);
    assert!(
        done.last_line()
            .contains(" lost=0 duplicated=0 reordered=0 "),
        "{}",
        done.stdout
    );
    assert!(
        done.code == Some(0) || done.code == Some(1),
        "{:?}",
        done.code
    );
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["--udp", "--unix", "/tmp/x"][..],
        &["--unix", "/tmp/x", "somehost"][..],
        &["--timeout", "0"][..],
        &["--port", "70000"][..],
        &["--size", "10"][..],
    ] {
        let done = run(client_cmd(args), b"");
        done.assert_code(2).assert_no_panic();
        assert!(
            done.stderr.starts_with("socket-client: error: "),
            "{args:?}: {}",
            done.stderr
        );
    }
    let done = run(support::server_cmd(&["--mode", "0666"]), b"");
    done.assert_code(2);
    assert!(
        done.stderr.contains("socket-server: error: --mode: "),
        "{}",
        done.stderr
    );
}

#[test]
fn a_port_in_use_is_explained() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("address").port().to_string();
    let done = run(support::server_cmd(&["--port", &port]), b"");
    done.assert_code(1).assert_no_panic();
    assert!(
        done.stderr.contains(&format!("socket-server: error: binding 127.0.0.1 port {port}: Address already in use (EADDRINUSE)")),
        "{}",
        done.stderr
    );
    assert!(done.stderr.contains("hint: "), "{}", done.stderr);
}
