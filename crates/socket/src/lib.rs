//! Sockets: the tutorial's server.c and client.c, over TCP, Unix domain stream sockets and UDP.
//!
//! A socket is the one IPC mechanism of the tutorial that is not limited to one machine, and the
//! one where a single server naturally serves many clients at once. The kernel object's life,
//! with the C calls beside the Rust:
//!
//! | step | C (server.c / client.c) | Rust (this crate) |
//! |---|---|---|
//! | create + name | `socket(AF_INET, SOCK_STREAM, 0)`, `bind(fd, &addr, len)` | `TcpListener::bind` in [`Listener::bind_tcp`] |
//! | | `socket(AF_UNIX, ...)`, `unlink(path)`, `bind(fd, path)` | [`Listener::bind_unix`] (checks the path first: [`SocketPath`]) |
//! | | `socket(AF_INET, SOCK_DGRAM, 0)`, `bind(...)` | `UdpSocket::bind` in [`UdpServer::bind`] |
//! | queue clients | `listen(fd, 5)` | done by `bind` (std's backlog: 128 for TCP, `SOMAXCONN` for Unix sockets) |
//! | wait for a client | `accept(fd, &client_addr, &len)` | [`Listener::accept`]: `poll` (wakes on Ctrl-C), then `accept` |
//! | connect | `connect(fd, &addr, len)` (client.c) | [`connect::connect_tcp`] / [`connect::connect_unix`]; UDP: [`udp::UdpClient`] |
//! | talk | `read(fd, ...)` / `write(fd, ...)` | `FrameReader` / `FrameWriter` (or, `--wire c`, `CLineReader` / `CLineWriter`) over [`TimedReader`] / [`TimedWriter`]; UDP: `send`/`recv` one datagram per message ([`Datagrams`]) |
//! | close | `close(fd)`; the Unix server `unlink(path)`s | dropping the `Stream` / `Listener`; [`SocketPath`] unlinks in `Drop` |
//!
//! What the tutorial's one-client server does not show, and this crate does:
//! - **many clients at once** ([`server`], [`session`]): one thread per accepted client, so a
//!   slow or silent client never holds up the others; they forward what arrives to the main
//!   thread, whose receive loop is every receiver's (`run_receiver` over a [`ServerInbox`]);
//! - **a peer cannot hang the server**: every read and write waits in `poll` with a bound, so a
//!   client that stops in the middle of a frame, or stops reading its acknowledgements, is
//!   dropped after `--frame-timeout` seconds with one log line ([`timed`]);
//! - **acknowledgements**: the server answers every message with `Message::ack(pid, seq)`, and
//!   the client waits for it before sending the next one (stop-and-wait), so a client knows how
//!   many of its messages the server really got;
//! - **datagrams** ([`udp`]): one message per datagram, no connection, no promise of order or
//!   delivery: the client gives each acknowledgement a timeout and counts what never came back.
//!
//! And the other way round, to talk to the C programs themselves: with `--wire c` both ends
//! speak c/server.c and c/client.c's protocol over TCP: lines of text, `end` last, no
//! acknowledgements. The layout is `ipc_common::clayout::SOCKET` (`char line[4096]`), read and
//! written by `ipc_common::lines`. The server also does the textbook's one-char exchange
//! ([`one_char`]: the client writes a char, the server answers char + 1 and closes), telling
//! the two kinds of client apart by their first bytes; the client does it with `--char`. The
//! textbook's server.c and client.c themselves, ported line by line, are the crate's examples
//! (`cargo run -p ipc-socket --example server`, `--example client`).
//!
//! There is no `unsafe` in this crate: std's `std::net` and `std::os::unix::net` wrap every
//! socket call we need, and `nix` gives us `poll` and `umask`.
#![forbid(unsafe_code)]

mod calls;
pub mod client;
pub mod connect;
pub mod datagram;
pub mod listener;
pub mod one_char;
pub mod report;
pub mod server;
pub mod session;
pub mod stream;
pub mod timed;
pub mod udp;
pub mod udp_server;
pub mod unix_path;

use std::time::Duration;

use ipc_common::{Error, Result};

pub use datagram::Datagrams;
pub use listener::Listener;
pub use server::ServerInbox;
pub use session::ServerOptions;
pub use stream::Stream;
pub use timed::{TimedReader, TimedWriter};
pub use udp_server::UdpServer;
pub use unix_path::SocketPath;

/// How long a peer may take to finish a frame it has started, or to make room for our reply,
/// before it is dropped (the server's `--frame-timeout`). Also the client's default wait for
/// each acknowledgement (`--timeout`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// The default address the server binds: the loopback interface, so that the tutorial's port
/// is not opened to the network unless asked for (`--bind 0.0.0.0`).
pub const DEFAULT_BIND: &str = "127.0.0.1";

/// The default host of the client, as in the tutorial's `./client localhost`.
pub const DEFAULT_HOST: &str = "localhost";

/// The hint for every "no server there" error.
pub const START_SERVER_HINT: &str = "start socket-server first, or run make demo-socket";

/// Refuses `--wire c` with a Unix domain socket or UDP: the C programs speak TCP only.
pub fn check_c_transport(unix: bool, udp: bool) -> Result<()> {
    let other = match (unix, udp) {
        (true, _) => "--unix",
        (_, true) => "--udp",
        _ => return Ok(()),
    };
    Err(Error::usage(
        format!("--wire c with {other}"),
        "the C programs (c/server.c, c/client.c) speak TCP only",
    )
    .with_hint(format!(
        "leave out {other} to talk to them over TCP, or leave out --wire c"
    )))
}

/// Parses a number of seconds such as `5`, `0.5` or `2.5` (for `--timeout` and `--frame-timeout`).
pub fn parse_seconds(text: &str) -> std::result::Result<Duration, String> {
    match text.parse::<f64>() {
        Ok(secs) if secs > 0.0 && secs <= 3600.0 => Ok(Duration::from_secs_f64(secs)),
        _ => Err(format!(
            "'{text}' is not a number of seconds between 0 and 3600 (e.g. 5 or 0.5)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_parse_with_fractions_and_bounds() {
        assert_eq!(parse_seconds("5"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_seconds("0.25"), Ok(Duration::from_millis(250)));
        assert!(parse_seconds("0").is_err());
        assert!(parse_seconds("-1").is_err());
        assert!(parse_seconds("NaN").is_err());
        assert!(parse_seconds("soon").is_err());
    }

    #[test]
    fn the_c_programs_speak_tcp_only() {
        assert!(check_c_transport(false, false).is_ok());
        assert_eq!(
            check_c_transport(true, false).map_err(|e| e.exit_code()),
            Err(2)
        );
        assert_eq!(
            check_c_transport(false, true).map_err(|e| e.exit_code()),
            Err(2)
        );
    }
}
