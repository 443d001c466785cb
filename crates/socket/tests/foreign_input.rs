//! Foreign input at socket-server: C text where our frames or datagrams are expected is named
//! as C text with what to do (never a decoder's internals such as `OtherString(...)` or a
//! frame length read from text), dropped and counted as corrupt; the server then ends with
//! its summary. The `--wire c` server fed our frames is in c_wire.rs. Real processes.

mod support;

use std::net::UdpSocket;
use std::process::Command;

use ipc_testkit::{c_program, run, WATCHDOG};

use support::{client_cmd, start_server};

/// Asserts the server named C text and quoted no decoder internals.
#[track_caller]
fn assert_named(stderr: &str, advice: &str) {
    assert!(
        stderr.contains("a C-layout text (\"hello\"), not one of our Messages"),
        "{stderr}"
    );
    assert!(stderr.contains(advice), "{stderr}");
    assert!(
        !stderr.contains("OtherString") && !stderr.contains("larger than the limit"),
        "no decoder internals: {stderr}"
    );
}

#[test]
fn a_text_datagram_is_named_as_c_text_and_counted() {
    let (server, port) = start_server(&["--udp", "--port", "0", "--clients", "1"]);
    let text = UdpSocket::bind("127.0.0.1:0").expect("bind");
    text.send_to(b"hello\n", ("127.0.0.1", port)).expect("send");
    let good = run(
        client_cmd(&["--udp", "--port", &port.to_string(), "--count", "3"]),
        b"",
    );
    good.assert_code(0);
    let done = server.finish(WATCHDOG);
    done.assert_code(1).assert_no_panic();
    assert_named(&done.stderr, "the C programs speak TCP only");
    assert_eq!(
        done.last_line(),
        "summary: received=3 lost=0 duplicated=0 reordered=0 corrupt=1"
    );
}

#[test]
fn a_c_client_at_a_default_server_is_named_and_counted() {
    let Some(c_client) = c_program("client") else {
        return;
    };
    let (server, port) = start_server(&["--port", "0", "--clients", "1"]);
    let mut cmd = Command::new(c_client);
    cmd.args(["-P", &port.to_string()]);
    // The C client may see its connection closed: its exit is not what is tested.
    let _ = run(cmd, b"hello\nend\n");
    let done = server.finish(WATCHDOG);
    done.assert_code(1).assert_no_panic();
    assert_named(&done.stderr, "start this end with --wire c");
    assert_eq!(
        done.last_line(),
        "summary: received=0 lost=0 duplicated=0 reordered=0 corrupt=1"
    );
}
