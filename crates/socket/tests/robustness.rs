//! Peers that misbehave: garbage, a length prefix over the limit, half a frame and then nothing,
//! a silent peer. Each bad one is dropped with one log line; a good client keeps being served.

mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};

use ipc_common::{wire, Message};
use ipc_testkit::{assert_gone, run, unique_path, Running, WATCHDOG};

use support::{client_cmd, client_summaries, start_server, READY};

/// Connects a raw TCP peer (the test plays a broken client).
fn raw_peer(port: u16, bytes: &[u8]) -> TcpStream {
    let mut peer = TcpStream::connect(("127.0.0.1", port)).expect("connect to the server");
    peer.write_all(bytes).expect("write to the server");
    peer
}

/// Reads until the server closes the connection; true if it did (EOF or reset) in time.
fn closed_by_server(mut peer: TcpStream) -> bool {
    peer.set_read_timeout(Some(WATCHDOG))
        .expect("set a read timeout");
    let mut sink = Vec::new();
    match peer.read_to_end(&mut sink) {
        Ok(_) => true,
        Err(err) => err.kind() == ErrorKind::ConnectionReset,
    }
}

#[test]
fn bad_peers_are_dropped_and_a_good_client_keeps_being_served() {
    let (server, port) = start_server(&["--port", "0", "--clients", "5", "--frame-timeout", "2"]);

    // A silent peer: connected, says nothing. Silence between frames is allowed.
    let silent = raw_peer(port, b"");
    // A valid length prefix followed by bytes that are not a Message.
    let garbage = raw_peer(
        port,
        &[8, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
    );
    // A length prefix of 4 GiB: refused before anything is allocated.
    let oversize = raw_peer(port, &u32::MAX.to_le_bytes());
    // Half of a real frame, and then nothing: dropped after --frame-timeout.
    let mut frame = Vec::new();
    wire::write_frame(
        &mut frame,
        &Message::text(1, 1, "half of this never arrives"),
        &mut Vec::new(),
    )
    .expect("encode a frame");
    let half = raw_peer(port, &frame[..frame.len() / 2]);

    let good = run(
        client_cmd(&[
            "--port",
            &port.to_string(),
            "--count",
            "2000",
            "--size",
            "100",
        ]),
        b"",
    );
    good.assert_code(0).assert_no_panic();
    assert_eq!(good.last_line(), "server acknowledged 2000 messages");

    for (name, peer) in [
        ("garbage", garbage),
        ("oversize", oversize),
        ("half frame", half),
    ] {
        assert!(
            closed_by_server(peer),
            "the server did not close the {name} peer"
        );
    }
    // The silent peer outlived the half-frame one (dropped after 2 s of silence mid-frame),
    // and was not dropped: silence between frames is not a fault. Now it leaves.
    drop(silent);

    let done = server.finish(WATCHDOG);
    done.assert_no_panic();
    let dropped: Vec<&str> = done
        .stderr
        .lines()
        .filter(|l| l.starts_with("socket-server: dropped "))
        .collect();
    assert_eq!(dropped.len(), 3, "one line per bad peer:\n{}", done.stderr);
    for why in [
        "not a valid Message",
        "larger than the limit of",
        "stopped in the middle of a frame for 2 s",
    ] {
        assert!(
            dropped.iter().any(|line| line.contains(why)),
            "no drop for {why:?}:\n{}",
            done.stderr
        );
    }
    assert!(
        done.stderr.contains("left without its End message"),
        "{}",
        done.stderr
    );
    assert_eq!(client_summaries(&done.stdout).len(), 5, "{}", done.stdout);
    // Three bad frames, and every message of the good client, exactly.
    assert_eq!(
        done.last_line(),
        "summary: received=2000 lost=0 duplicated=0 reordered=0 corrupt=3"
    );
    done.assert_code(1);
    assert!(
        done.stderr
            .contains("socket-server: error: checking what arrived: "),
        "{}",
        done.stderr
    );
}

#[test]
fn a_peer_that_never_reads_its_acknowledgements_is_dropped() {
    // Over a Unix socket: each unread acknowledgement holds a whole kernel buffer of the
    // server's send allowance, so it runs out after a few hundred (TCP would take millions).
    let path = unique_path("noread");
    let path_arg = path.to_str().expect("UTF-8 path");
    let (mut server, _) =
        start_server(&["--unix", path_arg, "--clients", "1", "--frame-timeout", "2"]);
    // Whole frames, sent by a thread as fast as the server takes them, while nobody ever reads
    // the acknowledgements: the server's writes find no room, and it stops waiting for us.
    let peer = UnixStream::connect(&path).expect("connect");
    let mut writer = peer.try_clone().expect("a second handle on the socket");
    let mut frames = Vec::new();
    let mut scratch = Vec::new();
    for seq in 1..=1000 {
        wire::write_frame(&mut frames, &Message::payload(1, seq, 0), &mut scratch).expect("encode");
    }
    let flood = std::thread::spawn(move || while writer.write_all(&frames).is_ok() {});
    server.wait_for_stderr("has not read what we sent for 2 s", WATCHDOG);
    let done = server.finish(WATCHDOG);
    done.assert_no_panic();
    assert!(
        done.stderr.contains("socket-server: lost unix#1: "),
        "{}",
        done.stderr
    );
    // The server closed the connection: the flood's next write fails and the thread ends.
    flood.join().expect("the writer thread ends");
    drop(peer);
    assert_gone(&path);
}

#[test]
fn a_peer_that_closes_inside_a_frame_is_counted_corrupt() {
    let (server, port) = start_server(&["--port", "0", "--clients", "1"]);
    let mut frame = Vec::new();
    wire::write_frame(&mut frame, &Message::payload(1, 1, 5000), &mut Vec::new()).expect("encode");
    drop(raw_peer(port, &frame[..100]));
    let done = server.finish(WATCHDOG);
    done.assert_code(1).assert_no_panic();
    assert!(done.stderr.contains("truncated frame"), "{}", done.stderr);
    assert_eq!(
        done.last_line(),
        "summary: received=0 lost=0 duplicated=0 reordered=0 corrupt=1"
    );
}

#[test]
fn out_of_file_descriptors_the_server_waits_then_serves_the_rest() {
    // 8 descriptors: stdin/stdout/stderr, the Ctrl-C wake-up pipe, the listening socket, and
    // room for about two clients; the next `accept` fails with EMFILE.
    let script = format!(
        "ulimit -n 8 && exec {} --port 0 --clients 4",
        env!("CARGO_BIN_EXE_socket-server")
    );
    let mut cmd = Command::new("sh");
    cmd.args(["-c", &script]).stdin(Stdio::null());
    let mut server = Running::start(cmd, None);
    let line = server.wait_for_stderr("server waiting on ", READY);
    let port: u16 = line
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("a port");
    let peers: Vec<TcpStream> = (0..4).map(|_| raw_peer(port, b"")).collect();
    server.wait_for_stderr("Too many open files (EMFILE); retrying", READY);
    drop(peers); // the served ones leave, their descriptors free up, the queued ones get in
    let done = server.finish(WATCHDOG);
    done.assert_code(0).assert_no_panic();
    assert!(
        done.stderr.contains("served 4 client(s), 0 dropped"),
        "{}",
        done.stderr
    );
    assert_eq!(
        done.stderr.matches("left without its End message").count(),
        4,
        "{}",
        done.stderr
    );
}
