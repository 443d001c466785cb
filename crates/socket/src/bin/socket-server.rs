//! socket-server: the tutorial's server.c, serving many clients at once over TCP, a Unix domain
//! stream socket, or UDP.
//!
//! What it shows: a server socket is created, given a name (`bind`: an address and port, or a
//! path), told to queue clients (`listen`), and hands out one new connected socket per client
//! (`accept`). Each client is served by its own thread, so one slow or silent client never
//! holds up the others. C calls it mirrors, in order: `socket`, `bind`, `listen`, then in a
//! loop `accept`, `read`, `write` (the acknowledgement), `close`; for UDP `socket`, `bind`,
//! `recvfrom`, `sendto`.
//!
//! Usage:
//!   socket-server                          # TCP on 127.0.0.1:9734 until Ctrl-C
//!   socket-server --port 0 --clients 3     # any free port (printed), stop after 3 clients
//!   socket-server --bind ::1               # IPv6 loopback
//!   socket-server --unix /tmp/my_socket    # a Unix domain socket at that path
//!   socket-server --udp                    # datagrams on UDP port 9734
//!   socket-server --wire c                 # for the C clients: lines, or the one-char exchange
//! Other end: `socket-client` (`socket-client localhost`). Both at once: `make demo-socket`.
//!
//! Skeleton: parse, create the socket (`Listener` or `UdpServer`), announce, receive (every
//! receiver's `run_receiver` loop over the server's inbox: the messages of all clients), summary.
//! stderr: the ready line `server waiting on ADDRESS`, then one line per client that connects,
//! finishes or is dropped. stdout: `[CLIENT] You wrote: TEXT` for each text, a
//! `[CLIENT] summary: ...` line when a client leaves, and the total `summary:` line last.
//! Exit 0 when every message arrived intact (and in order, except over UDP), 1 otherwise,
//! 130 after Ctrl-C or SIGTERM.
//!
//! With `--wire c` it speaks the C programs' protocols instead (TCP only), both on one port:
//! - the textbook's one-char exchange (c/textbook/client.c, `c/build/client -c A`,
//!   `socket-client --wire c --char`): a client whose first byte comes alone (nothing more
//!   within 200 ms, see ipc_socket::one_char) gets that byte + 1 back and the connection
//!   closed; stdout shows `[CLIENT] char from client = A, sent back B`, and the char counts as
//!   the client's one message and its End;
//! - c/server.c's lines: each line a client sends is one text (a trailing `\r\n` is read as
//!   `\n`), a line starting with `end` is its End, nothing is sent back, and a client may stay
//!   silent for as long as it likes; a line over 4096 bytes (the C programs'
//!   `char line[4096]`) or a NUL byte gets that client dropped. The C client:
//!   `c/build/client -P PORT localhost`.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use ipc_common::cli::{ModeArg, ReceiverArgs, DEFAULT_MODE, DEFAULT_PORT};
use ipc_common::codec::WireArg;
use ipc_common::receiver::{run_receiver, Receiving};
use ipc_common::{program, Error, Result};
use ipc_socket::report::LABEL;
use ipc_socket::{check_c_transport, parse_seconds, Listener, ServerInbox, ServerOptions};
use ipc_socket::{UdpServer, DEFAULT_BIND, DEFAULT_TIMEOUT};

/// Serve socket-client over TCP (default), a Unix domain socket or UDP; many clients at once.
#[derive(Debug, Parser)]
#[command(name = "socket-server", version)]
struct Args {
    /// Address to listen on: 127.0.0.1, ::1, 0.0.0.0 (every interface) or a host name
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_BIND)]
    bind: String,
    /// Port to listen on; 0 lets the kernel pick a free one (printed in the ready line)
    #[arg(long, value_name = "PORT", default_value_t = DEFAULT_PORT)]
    port: u16,
    /// Listen on a Unix domain stream socket at PATH instead of TCP
    #[arg(long, value_name = "PATH", conflicts_with_all = ["udp", "bind", "port"])]
    unix: Option<PathBuf>,
    /// Use UDP datagrams instead of a TCP connection
    #[arg(long)]
    udp: bool,
    /// Exit after N clients have finished (disconnected or dropped; UDP: sent their End)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    clients: Option<u64>,
    /// Drop a client that takes longer than SECS to finish a frame or to read our reply
    /// [default: 5; not with --wire c, which has neither]
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    frame_timeout: Option<Duration>,
    #[command(flatten)]
    wire: WireArg,
    // --mode: the permission bits of the socket file (with --unix only).
    #[command(flatten)]
    mode: ModeArg,
}

fn main() -> ExitCode {
    program::main(run)
}

fn run(args: &Args) -> Result<()> {
    check(args)?;
    // Each client's texts are `[PEER] You wrote: TEXT`; done after --clients N, or at Ctrl-C.
    let receiving = Receiving::new(LABEL, &ReceiverArgs { senders: 1 }).until_closed();
    if args.udp {
        // C: socket(AF_INET, SOCK_DGRAM, 0), bind; then recvfrom/sendto per datagram.
        return run_receiver(receiving.order_not_promised(), || {
            let server = UdpServer::bind(&args.bind, args.port, args.clients)?;
            eprintln!("server waiting on {} (udp)", server.name());
            Ok(server)
        });
    }
    run_receiver(receiving, || {
        // C: socket, bind, listen; then accept, read, write per client (one thread each).
        let listener = match &args.unix {
            Some(path) => {
                args.mode.mode.warn_if_open();
                Listener::bind_unix(path, args.mode.mode)?
            }
            None => Listener::bind_tcp(&args.bind, args.port)?,
        };
        eprintln!("server waiting on {}", listener.name());
        let options = ServerOptions {
            frame_timeout: args.frame_timeout.unwrap_or(DEFAULT_TIMEOUT),
            clients: args.clients,
            wire: args.wire.wire,
        };
        ServerInbox::start(listener, options)
    })
}

/// Refuses, before any socket exists, what does not go together (exit 2).
fn check(args: &Args) -> Result<()> {
    if args.unix.is_none() && args.mode.mode != DEFAULT_MODE {
        return Err(
            Error::usage("--mode", "it applies to the socket file of --unix only").with_hint(
                "TCP and UDP ports have no permission bits; add --unix PATH, or drop --mode",
            ),
        );
    }
    if args.wire.is_c() {
        check_c_transport(args.unix.is_some(), args.udp)?;
        if args.frame_timeout.is_some() {
            return Err(Error::usage(
                "--frame-timeout with --wire c",
                "the C protocol has no frames and no replies to time: a C client may be silent for as long as it likes",
            )
            .with_hint("leave out --frame-timeout"));
        }
    }
    Ok(())
}
