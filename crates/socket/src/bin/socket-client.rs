//! socket-client: the tutorial's client.c: connect to socket-server and send it messages.
//!
//! What it shows: a client needs no name of its own. It creates a socket and `connect`s it to
//! the server's name (a host and port, or a path), then reads and writes it like a file. C calls
//! it mirrors, in order: `gethostbyname` (here `getaddrinfo`, trying every address: IPv6 and
//! IPv4), `socket`, `connect`, then per message `write` and `read` (the server's
//! acknowledgement), `close`; for UDP `socket`, `connect`, `send`, `recv` (with a timeout).
//!
//! Usage:
//!   socket-client                          # to localhost:9734; type lines, `end` or Ctrl-D ends
//!   socket-client localhost --message hello --message world
//!   socket-client 127.0.0.1 --port 9734 --count 1000 --size 1K
//!   socket-client --unix /tmp/my_socket --message hi
//!   socket-client --udp --count 100
//!   socket-client --wire c --message hi    # to c/build/server: lines of text, no replies
//!   socket-client --wire c --char          # the textbook's client.c: send A, print B
//! Other end: `socket-server` (start it first). Both at once: `make demo-socket`.
//!
//! Skeleton: parse, connect (`connect`, or a `UdpClient`), announce, send (every sender's
//! `run_sender` loop), summary (`server acknowledged N messages`).
//!
//! Each message waits for the server's acknowledgement before the next one is sent. At the
//! end stdout shows `server acknowledged N messages` (UDP: and how many never came back).
//! Exit 0 when every message was acknowledged, 1 on a failure (no server: `connection refused
//! by localhost:9734`), 2 on a usage error, 130 after Ctrl-C.
//!
//! With `--wire c` it speaks c/client.c's protocol instead (TCP only): each message is one
//! line of text, `end` last, and nothing comes back, so stdout stays empty and stderr says how
//! many lines were sent. What a line cannot carry is refused up front (exit 2): `--count`, a
//! text over 4094 bytes (c/server.c's `fgets(line, 4096, ...)` would cut it), a newline or a
//! NUL. The C server: `c/build/server -P PORT`. A server that answers the first char and
//! closes (the textbook's server.c) is an error that says so: `--char` is its exchange.
//!
//! `--wire c --char [C]` is the textbook's client.c (*Beginning Linux Programming*, ch. 15):
//! `write(sockfd, &ch, 1)` with C (default `A`), `read(sockfd, &ch, 1)`, and
//! `char from server = B` on stdout. It pairs with the textbook's server.c, c/server.c and
//! `socket-server --wire c`. Exit 1 if the server closes without answering.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use ipc_common::clayout::SOCKET;
use ipc_common::cli::{MessageSource, DEFAULT_PORT};
use ipc_common::codec::WireArg;
use ipc_common::program;
use ipc_common::sender::{run_sender, ENTER_SOME_TEXT};
use ipc_common::{Error, Result};
use ipc_socket::client::{connect, finish_lines, line_writer, AckedStream};
use ipc_socket::one_char;
use ipc_socket::report::print_line;
use ipc_socket::udp::UdpClient;
use ipc_socket::{check_c_transport, parse_seconds, DEFAULT_HOST};

/// Send messages to socket-server over TCP (default), a Unix domain socket or UDP.
#[derive(Debug, Parser)]
#[command(name = "socket-client", version)]
struct Args {
    /// The server's host name or address (the tutorial's `./client localhost`)
    #[arg(value_name = "HOST", default_value = DEFAULT_HOST)]
    host: String,
    /// The server's port
    #[arg(long, value_name = "PORT", default_value_t = DEFAULT_PORT)]
    port: u16,
    /// Connect to a Unix domain stream socket at PATH instead of TCP
    #[arg(long, value_name = "PATH", conflicts_with_all = ["udp", "host", "port"])]
    unix: Option<PathBuf>,
    /// Use UDP datagrams instead of a TCP connection
    #[arg(long)]
    udp: bool,
    /// Wait at most SECS to connect and for each acknowledgement
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = parse_seconds)]
    timeout: Duration,
    #[command(flatten)]
    source: MessageSource,
    #[command(flatten)]
    wire: WireArg,
    /// With --wire c: the textbook's one-char exchange: send the one char C (default A) and
    /// print the char the server sends back (C + 1). Write --char=C before HOST
    #[arg(long = "char", value_name = "C", num_args = 0..=1, default_missing_value = "A",
          value_parser = parse_char, conflicts_with_all = ["messages", "count", "udp", "unix"])]
    one_char: Option<u8>,
}

fn main() -> ExitCode {
    program::main(run)
}

fn run(args: &Args) -> Result<()> {
    check(args)?;
    if args.udp {
        // C: socket(AF_INET, SOCK_DGRAM, 0), connect; then send/recv per datagram.
        let mut server = UdpClient::connect(&args.host, args.port, args.timeout)?;
        eprintln!(
            "{}: sending datagrams to {}",
            program::name(),
            server.server()
        );
        let sent = run_sender(&args.source, ENTER_SOME_TEXT, &mut server);
        return server.finish(sent);
    }
    // C: socket, connect; then write and read (the acknowledgement) per message.
    let stream = connect(&args.host, args.port, args.unix.as_deref(), args.timeout)?;
    if let Some(ch) = args.one_char {
        // C: write(sockfd, &ch, 1); read(sockfd, &ch, 1); printf("char from server = %c\n", ch);
        let answer = one_char::exchange(&stream, ch, args.timeout)?;
        return print_line(&format!("char from server = {}", one_char::show(answer)));
    }
    if args.wire.is_c() {
        let mut server = line_writer(&stream, args.timeout);
        let sent = run_sender(&args.source, ENTER_SOME_TEXT, &mut server);
        finish_lines(&stream, args.timeout, sent)?;
        eprintln!(
            "{}: sent {} line(s) and end; the C protocol has no acknowledgements",
            program::name(),
            server.sent()
        );
        return Ok(());
    }
    let mut server = AckedStream::new(&stream, args.timeout);
    let sent = run_sender(&args.source, ENTER_SOME_TEXT, &mut server);
    server.finish(sent) // dropping the stream: close(sockfd)
}

/// Refuses, before connecting, what the C protocol cannot carry (exit 2).
fn check(args: &Args) -> Result<()> {
    if args.one_char.is_some() && !args.wire.is_c() {
        return Err(Error::usage(
            "--char",
            "the one-char exchange is the textbook's C protocol",
        )
        .with_hint("add --wire c"));
    }
    if args.wire.is_c() {
        check_c_transport(args.unix.is_some(), args.udp)?;
        SOCKET.check_source(&args.source)?;
    }
    Ok(())
}

/// `--char C`: one ASCII character (a C `char`, as the textbook's client sends).
fn parse_char(text: &str) -> std::result::Result<u8, String> {
    match text.as_bytes() {
        [ch] if ch.is_ascii() && *ch != 0 => Ok(*ch),
        _ => Err(format!(
            "'{text}' is not one ASCII character (e.g. A); write --char=C before a HOST"
        )),
    }
}
