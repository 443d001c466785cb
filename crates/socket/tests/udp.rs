//! socket-server --udp and socket-client --udp: one message per datagram, each acknowledged.

mod support;

use std::net::UdpSocket;

use ipc_testkit::{run, Running, WATCHDOG};
use nix::sys::signal::Signal;

use support::{client_cmd, client_summaries, free_udp_port, start_server, AFTER_SIGINT};

#[test]
fn datagram_round_trips_from_several_clients() {
    let (server, port) = start_server(&["--udp", "--port", "0", "--clients", "3"]);
    let port = port.to_string();
    let counted: Vec<Running> = (0..2)
        .map(|_| {
            Running::start(
                client_cmd(&["--udp", "--port", &port, "--count", "500", "--size", "1000"]),
                None,
            )
        })
        .collect();
    let text = run(
        client_cmd(&["--udp", "--port", &port, "--message", "one datagram"]),
        b"",
    );
    text.assert_code(0).assert_no_panic();
    assert_eq!(text.last_line(), "server acknowledged 1 messages");
    for client in counted {
        let done = client.finish(WATCHDOG);
        done.assert_code(0).assert_no_panic();
        assert_eq!(done.last_line(), "server acknowledged 500 messages");
    }
    let done = server.finish(WATCHDOG);
    done.assert_code(0).assert_no_panic();
    assert!(
        done.stdout.contains("] You wrote: one datagram\n"),
        "{}",
        done.stdout
    );
    assert_eq!(client_summaries(&done.stdout).len(), 3, "{}", done.stdout);
    assert_eq!(
        done.last_line(),
        "summary: received=1001 lost=0 duplicated=0 reordered=0 corrupt=0"
    );
}

#[test]
fn no_udp_server_is_connection_refused() {
    let port = free_udp_port().to_string();
    let done = run(
        client_cmd(&["--udp", "--port", &port, "--message", "anyone?"]),
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
    assert!(
        done.stderr.contains("hint: start socket-server first"),
        "{}",
        done.stderr
    );
    assert_eq!(done.stdout, "");
}

#[test]
fn a_garbage_datagram_is_dropped_and_counted() {
    let (server, port) = start_server(&["--udp", "--port", "0", "--clients", "1"]);
    let junk = UdpSocket::bind("127.0.0.1:0").expect("bind");
    junk.send_to(b"this is not a Message", ("127.0.0.1", port))
        .expect("send");
    let good = run(
        client_cmd(&["--udp", "--port", &port.to_string(), "--count", "100"]),
        b"",
    );
    good.assert_code(0);
    assert_eq!(good.last_line(), "server acknowledged 100 messages");
    let done = server.finish(WATCHDOG);
    done.assert_code(1).assert_no_panic();
    assert!(
        done.stderr
            .contains("socket-server: dropped a datagram of 21 bytes from"),
        "{}",
        done.stderr
    );
    assert!(
        done.stderr.contains("sent no End message"),
        "{}",
        done.stderr
    );
    assert_eq!(
        done.last_line(),
        "summary: received=100 lost=0 duplicated=0 reordered=0 corrupt=1"
    );
}

#[test]
fn a_message_larger_than_a_datagram_is_refused() {
    let (server, port) = start_server(&["--udp", "--port", "0"]);
    let done = run(
        client_cmd(&[
            "--udp",
            "--port",
            &port.to_string(),
            "--count",
            "1",
            "--size",
            "70000",
        ]),
        b"",
    );
    done.assert_code(2).assert_no_panic();
    assert!(
        done.stderr
            .contains("more than one UDP datagram holds (65507 bytes"),
        "{}",
        done.stderr
    );
    // The largest payload that fits goes through.
    let fits = run(
        client_cmd(&[
            "--udp",
            "--port",
            &port.to_string(),
            "--count",
            "3",
            "--size",
            "65000",
        ]),
        b"",
    );
    fits.assert_code(0);
    server.signal(Signal::SIGINT);
    let done = server.finish(AFTER_SIGINT);
    done.assert_code(130);
    assert!(
        done.stdout.contains("summary: received=3 lost=0"),
        "{}",
        done.stdout
    );
}

#[test]
fn ctrl_c_on_a_udp_server_gives_its_client_a_clean_error() {
    let (server, port) = start_server(&["--udp", "--port", "0"]);
    let mut client = Running::start(
        client_cmd(&[
            "--udp",
            "--port",
            &port.to_string(),
            "--count",
            "100000000",
            "--timeout",
            "1",
        ]),
        None,
    );
    client.wait_for_stderr("sending datagrams to", WATCHDOG);
    let mut server = server;
    server.wait_for_stderr("first datagram from", WATCHDOG);
    // Let acknowledgements flow first: this times the fault, it does not guess readiness.
    std::thread::sleep(std::time::Duration::from_millis(300));
    server.signal(Signal::SIGINT);
    let done = server.finish(AFTER_SIGINT);
    done.assert_code(130).assert_no_panic();
    let done = client.finish(WATCHDOG);
    done.assert_code(1).assert_no_panic();
    // Normally the server has answered by now: "answers any more". On a loaded machine the
    // stop may land before its first acknowledgement: "answered within", just as clean.
    let answered_before = done.stderr.contains("no UDP server answers any more");
    assert!(
        answered_before || done.stderr.contains("no UDP server answered within"),
        "{}",
        done.stderr
    );
    assert!(
        !answered_before || done.stdout.starts_with("server acknowledged "),
        "{}",
        done.stdout
    );
}
