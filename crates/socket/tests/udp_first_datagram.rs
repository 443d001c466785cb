//! Issue 15 item 7a: a UDP client whose first datagram is lost does not say "no UDP server
//! answered" while a server runs. It sends the first datagram again (up to 5 times over
//! --timeout), and the server acknowledges a resent first datagram again without counting it
//! twice. Real processes; the losses are made by a small relay in the test that drops one
//! datagram on purpose.

mod support;

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use ipc_testkit::{run, Running, WATCHDOG};

use support::{client_cmd, client_summaries, free_udp_port, server_cmd, start_server, READY};

/// A relay between one client and the server that drops the first datagram in one direction.
struct Relay {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// Which datagram the relay loses.
#[derive(Clone, Copy)]
enum Lose {
    /// The client's first datagram: the server never sees it.
    FirstRequest,
    /// The server's first acknowledgement: the server had the datagram, the client never
    /// learns it.
    FirstReply,
}

impl Relay {
    fn start(server: SocketAddr, lose: Lose) -> Relay {
        let front = UdpSocket::bind("127.0.0.1:0").expect("bind the relay's front");
        let back = UdpSocket::bind("127.0.0.1:0").expect("bind the relay's back");
        back.connect(server)
            .expect("connect the relay to the server");
        let wait = Some(Duration::from_millis(20));
        front.set_read_timeout(wait).expect("read timeout");
        back.set_read_timeout(wait).expect("read timeout");
        let port = front.local_addr().expect("relay address").port();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut buf = vec![0u8; 65536];
            let mut client: Option<SocketAddr> = None;
            let (mut requests, mut replies) = (0u32, 0u32);
            while !stopping.load(Ordering::Relaxed) {
                if let Ok((len, from)) = front.recv_from(&mut buf) {
                    client = Some(from);
                    requests += 1;
                    if !(requests == 1 && matches!(lose, Lose::FirstRequest)) {
                        let _ = back.send(&buf[..len]);
                    }
                }
                if let (Ok(len), Some(to)) = (back.recv(&mut buf), client) {
                    replies += 1;
                    if !(replies == 1 && matches!(lose, Lose::FirstReply)) {
                        let _ = front.send_to(&buf[..len], to);
                    }
                }
            }
        });
        Relay {
            port,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Runs a client through a relay that loses `lose`; returns the client's and the server's end.
fn through_relay(lose: Lose) -> (ipc_testkit::Finished, ipc_testkit::Finished) {
    let (server, port) = start_server(&["--udp", "--port", "0", "--clients", "1"]);
    let relay = Relay::start(SocketAddr::from(([127, 0, 0, 1], port)), lose);
    let relay_port = relay.port.to_string();
    let client = run(
        client_cmd(&[
            "--udp",
            "127.0.0.1",
            "--port",
            &relay_port,
            "--timeout",
            "10",
            "--count",
            "5",
        ]),
        b"",
    );
    let server = server.finish(WATCHDOG);
    drop(relay);
    (client, server)
}

#[test]
fn a_lost_first_datagram_is_sent_again_and_arrives_once() {
    let (client, server) = through_relay(Lose::FirstRequest);
    client.assert_code(0).assert_no_panic();
    assert!(
        client
            .stderr
            .contains("no acknowledgement for the first datagram from 127.0.0.1:"),
        "{}",
        client.stderr
    );
    assert!(
        client.stderr.contains("sending it again (2 of 5)"),
        "{}",
        client.stderr
    );
    assert_eq!(client.last_line(), "server acknowledged 5 messages");
    server.assert_code(0).assert_no_panic();
    assert_eq!(
        server.last_line(),
        "summary: received=5 lost=0 duplicated=0 reordered=0 corrupt=0",
        "{}",
        server.stderr
    );
}

#[test]
fn a_lost_first_acknowledgement_is_sent_again_and_the_datagram_is_not_counted_twice() {
    let (client, server) = through_relay(Lose::FirstReply);
    client.assert_code(0).assert_no_panic();
    assert!(
        client.stderr.contains("sending it again (2 of 5)"),
        "{}",
        client.stderr
    );
    assert_eq!(client.last_line(), "server acknowledged 5 messages");
    server.assert_code(0).assert_no_panic();
    assert!(
        server.stderr.contains(
            "sent its first datagram (message 1) again: acknowledged again, not counted twice"
        ),
        "{}",
        server.stderr
    );
    assert_eq!(
        client_summaries(&server.stdout).len(),
        1,
        "{}",
        server.stdout
    );
    assert_eq!(
        server.last_line(),
        "summary: received=5 lost=0 duplicated=0 reordered=0 corrupt=0",
        "{}",
        server.stderr
    );
}

#[test]
fn a_server_started_after_the_first_datagram_gets_the_resent_one() {
    let port = free_udp_port().to_string();
    // No server yet: the first datagram is refused (ICMP port unreachable).
    let mut client = Running::start(
        client_cmd(&[
            "--udp",
            "127.0.0.1",
            "--port",
            &port,
            "--timeout",
            "20",
            "--message",
            "late server",
        ]),
        None,
    );
    client.wait_for_stderr("port unreachable for the first datagram", READY);
    let mut server = Running::start(
        server_cmd(&["--udp", "--port", &port, "--clients", "1"]),
        None,
    );
    server.wait_for_stderr("server waiting on ", READY);
    let client = client.finish(WATCHDOG);
    client.assert_code(0).assert_no_panic();
    assert_eq!(client.last_line(), "server acknowledged 1 messages");
    let server = server.finish(WATCHDOG);
    server.assert_code(0).assert_no_panic();
    assert!(
        server.stdout.contains("] You wrote: late server\n"),
        "{}",
        server.stdout
    );
    assert_eq!(
        server.last_line(),
        "summary: received=1 lost=0 duplicated=0 reordered=0 corrupt=0"
    );
}

#[test]
fn no_server_at_all_says_how_often_the_first_datagram_was_sent() {
    let port = free_udp_port().to_string();
    let done = run(
        client_cmd(&[
            "--udp",
            "127.0.0.1",
            "--port",
            &port,
            "--timeout",
            "0.5",
            "--message",
            "anyone?",
        ]),
        b"",
    );
    done.assert_code(1).assert_no_panic();
    assert_eq!(
        done.stderr.matches("sending it again").count(),
        4,
        "{}",
        done.stderr
    );
    assert!(
        done.stderr.contains(&format!(
            "socket-client: error: connection refused by 127.0.0.1:{port}: no UDP server is listening on 127.0.0.1:{port}; the first datagram was sent 5 times, 0.1 s apart (5 refused with port unreachable)"
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
