//! What the socket tests share: start the real socket-server and wait for its ready line,
//! build socket-client commands, find a port nobody listens on.
#![allow(dead_code)] // each test file uses a different part of this module

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::process::{Command, Stdio};
use std::time::Duration;

use ipc_testkit::Running;

/// How long a program may take to print its ready line.
pub const READY: Duration = Duration::from_secs(30);
/// How long a program may take to exit after SIGINT (the contract: within a second; generous).
pub const AFTER_SIGINT: Duration = Duration::from_secs(5);

/// socket-server with `args`, stdin closed.
pub fn server_cmd(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_socket-server"));
    cmd.args(args).stdin(Stdio::null());
    cmd
}

/// socket-client with `args`, stdin closed.
pub fn client_cmd(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_socket-client"));
    cmd.args(args).stdin(Stdio::null());
    cmd
}

/// Starts socket-server and waits for `server waiting on ADDRESS`; returns it and the port
/// it listens on (0 for a Unix socket).
pub fn start_server(args: &[&str]) -> (Running, u16) {
    let mut server = Running::start(server_cmd(args), None);
    let line = server.wait_for_stderr("server waiting on ", READY);
    let name = line
        .trim_start_matches("server waiting on ")
        .trim_end_matches(" (udp)");
    let port = name
        .parse::<SocketAddr>()
        .map(|addr| addr.port())
        .unwrap_or(0);
    (server, port)
}

/// Starts socket-client and waits until it has connected (its `connected to` line).
pub fn start_client(args: &[&str]) -> Running {
    let mut client = Running::start(client_cmd(args), None);
    client.wait_for_stderr("socket-client: connected to", READY);
    client
}

/// Starts a TCP socket-client and waits until `server` has accepted it (the server's
/// `ADDRESS connected` line for the client's own address).
pub fn start_accepted_client(server: &mut Running, args: &[&str]) -> Running {
    let mut client = Running::start(client_cmd(args), None);
    let line = client.wait_for_stderr("socket-client: connected to", READY);
    let (_, local) = line
        .rsplit_once(" from ")
        .expect("a TCP client names its own address");
    server.wait_for_stderr(&format!("socket-server: {local} connected"), READY);
    client
}

/// A TCP port on 127.0.0.1 that nothing listens on (the kernel's pick, then released).
pub fn free_tcp_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local address").port()
}

/// A UDP port on 127.0.0.1 that nothing listens on.
pub fn free_udp_port() -> u16 {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind an ephemeral port");
    socket.local_addr().expect("local address").port()
}

/// The `[PEER] summary: ...` lines of a server's stdout.
pub fn client_summaries(stdout: &str) -> Vec<&str> {
    stdout
        .lines()
        .filter(|line| line.starts_with('[') && line.contains("] summary: "))
        .collect()
}
