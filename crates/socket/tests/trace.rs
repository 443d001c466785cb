//! `--trace` on the socket programs: server.c's and client.c's calls in C notation, on stderr.

mod support;

use ipc_testkit::{run, WATCHDOG};

use support::{client_cmd, start_server};

#[test]
fn server_and_client_trace_bind_listen_accept_connect_read_and_write() {
    let (server, port) = start_server(&["--trace", "--port", "0", "--clients", "1"]);
    let client = run(
        client_cmd(&["--trace", "--port", &port.to_string(), "--message", "hi"]),
        b"",
    );
    client.assert_code(0).assert_no_panic();
    let done = server.finish(WATCHDOG);
    done.assert_code(0).assert_no_panic();

    // The server: socket + setsockopt(SO_REUSEADDR) + bind (port 0, as asked: the kernel
    // picks one) + listen, as std does them; getsockname then shows the port it picked.
    let err = &done.stderr;
    let fd = err
        .lines()
        .find_map(|l| l.strip_prefix("socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP) = "))
        .unwrap_or_else(|| panic!("no socket() line in:\n{err}"));
    let addr =
        format!("{{sa_family=AF_INET, sin_port=htons({port}), sin_addr=inet_addr(\"127.0.0.1\")}}");
    let asked = "{sa_family=AF_INET, sin_port=htons(0), sin_addr=inet_addr(\"127.0.0.1\")}";
    for line in [
        format!("setsockopt({fd}, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0"),
        format!("bind({fd}, {asked}, 16) = 0"),
        format!("listen({fd}, 128) = 0"),
        format!("getsockname({fd}, {addr}, [128 => 16]) = 0"),
    ] {
        assert!(err.lines().any(|l| l == line), "no `{line}` in:\n{err}");
    }
    let accept = format!("accept4({fd}, {{sa_family=AF_INET, ");
    assert!(
        err.lines()
            .any(|l| l.starts_with(&accept) && l.contains("[128 => 16], SOCK_CLOEXEC) = ")),
        "no accept4 in:\n{err}"
    );
    assert!(
        err.lines()
            .any(|l| l.starts_with("recvfrom(") && l.contains("hi") && !l.contains("= -1")),
        "the server's read of the text (std's recv: the system call recvfrom):\n{err}"
    );

    // The client: socket + a non-blocking connect to the server's address (EINPROGRESS, then
    // poll), then write and read (std's send and recv: the system calls sendto and recvfrom).
    let err = &client.stderr;
    let connect = format!(", {addr}, 16) = -1 EINPROGRESS (");
    assert!(
        err.lines()
            .any(|l| l.starts_with("connect(") && l.contains(&connect)),
        "no connect to {addr} in:\n{err}"
    );
    assert!(
        err.lines()
            .any(|l| l.starts_with("sendto(") && l.contains("hi") && !l.contains("= -1")),
        "the client's write of the text:\n{err}"
    );
    assert!(
        !client.stdout.contains("sendto(") && !done.stdout.contains("recvfrom("),
        "traces go to stderr only"
    );
}

#[test]
fn a_refused_connection_is_traced_like_strace_shows_it() {
    let port = support::free_tcp_port();
    let client = run(
        client_cmd(&["--trace", "--port", &port.to_string(), "--message", "x"]),
        b"",
    );
    client.assert_code(1).assert_no_panic();
    let refused = format!(
        "connect(-1, {{sa_family=AF_INET, sin_port=htons({port}), sin_addr=inet_addr(\"127.0.0.1\")}}, 16) = -1 ECONNREFUSED ("
    );
    assert!(
        client.stderr.lines().any(|l| l.starts_with(&refused)),
        "no `{refused}...` in:\n{}",
        client.stderr
    );
}
