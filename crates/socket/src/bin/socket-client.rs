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
//! Other end: `socket-server` (start it first). Both at once: `make demo-socket`.
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
//! NUL. The C server: `c/build/server -P PORT`.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use ipc_common::cli::{self, MessageSource, TraceArg, DEFAULT_PORT};
use ipc_common::sender::run_sender;
use ipc_common::{error, signals, Error, Result};
use ipc_socket::client::AckedStream;
use ipc_socket::connect::{connect_tcp, connect_unix};
use ipc_socket::cwire::{self, LineWriter, Wire, WireArg};
use ipc_socket::report::print_line;
use ipc_socket::udp::UdpClient;
use ipc_socket::{parse_seconds, Stream, DEFAULT_HOST};

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
    #[command(flatten)]
    trace: TraceArg,
}

/// The prompt for each line typed at a terminal.
const PROMPT: &str = "Enter some text:";

fn main() -> ExitCode {
    let args: Args = cli::parse();
    error::exit_code("socket-client", run(&args))
}

fn run(args: &Args) -> Result<()> {
    args.trace.apply();
    signals::install()?;
    if args.wire.wire == Wire::C {
        cwire::check_transport(args.unix.is_some(), args.udp)?;
        cwire::check_source(&args.source)?;
    }
    if args.udp {
        return run_udp(args);
    }
    let stream = match &args.unix {
        Some(path) => {
            let stream = connect_unix(path)?;
            eprintln!("socket-client: connected to {}", path.display());
            stream
        }
        None => {
            let (stream, addr) = connect_tcp(&args.host, args.port, args.timeout)?;
            match stream.local_addr() {
                Some(local) => eprintln!("socket-client: connected to {addr} from {local}"),
                None => eprintln!("socket-client: connected to {addr}"),
            }
            stream
        }
    };
    match args.wire.wire {
        Wire::Bincode => send_all(&stream, args),
        Wire::C => send_lines(&stream, args),
    }
}

/// `--wire c`: client.c's loop: each message one line, `end` last, no replies; then `close`.
fn send_lines(stream: &Stream, args: &Args) -> Result<()> {
    let mut server = LineWriter::new(stream, args.timeout);
    run_sender(&args.source, PROMPT, &mut server)?;
    eprintln!(
        "socket-client: sent {} line(s) and end; the C protocol has no acknowledgements",
        server.sent()
    );
    Ok(())
}

/// The stream part: every message, each acknowledged, then `close` (dropping the stream).
fn send_all(stream: &Stream, args: &Args) -> Result<()> {
    let mut server = AckedStream::new(stream, args.timeout);
    let sent = run_sender(&args.source, PROMPT, &mut server);
    print_line(&format!(
        "server acknowledged {} messages",
        server.acknowledged()
    ))?;
    sent.map(drop)
}

/// The datagram part: every message, each given `--timeout` to be acknowledged.
fn run_udp(args: &Args) -> Result<()> {
    let mut server = UdpClient::connect(&args.host, args.port, args.timeout)?;
    eprintln!("socket-client: sending datagrams to {}", server.server());
    let sent = run_sender(&args.source, PROMPT, &mut server);
    let missing = server.never_acknowledged().len();
    if !server.answered() {
        return sent.map(drop); // no server answered: the error says so, there is nothing to count
    }
    let mut line = format!("server acknowledged {} messages", server.acknowledged());
    if missing > 0 {
        line.push_str(&format!(", {missing} never came back"));
    }
    print_line(&line)?;
    sent?;
    if missing > 0 || !server.end_acknowledged() {
        let end = if server.end_acknowledged() {
            ""
        } else {
            " (nor did the End's)"
        };
        return Err(Error::new(
            "waiting for acknowledgements",
            format!(
                "{missing} acknowledgement(s) did not come back within {} s{end}: UDP does not promise delivery",
                args.timeout.as_secs_f64()
            ),
        ));
    }
    Ok(())
}
