//! Datagrams (UDP): one message per datagram, no connection, no promises.
//!
//! `socket(AF_INET, SOCK_DGRAM, 0)` gives a socket that sends and receives whole datagrams:
//! one `sendto` is one `recvfrom` at the other end, so no framing is needed, and one encoded
//! `Message` travels per datagram. What UDP does **not** promise, and the programs show:
//!
//! - **delivery**: a datagram may be dropped (a full receive buffer, a congested network)
//!   and nobody is told. The client waits for each acknowledgement with a timeout and counts
//!   what never came back;
//! - **order**: datagrams may overtake each other, so the server's tally does not count
//!   reordering as a fault (the receivers' `order_not_promised`);
//! - **a connection**: the server does not know its clients until their first datagram, and
//!   not that they left until their End. `connect` on a UDP socket only fixes the peer
//!   address, and lets the kernel report an ICMP "port unreachable" as ECONNREFUSED: that is
//!   how the client learns that no server is there.
//!
//! A datagram holds at most 65,507 bytes (65,535 minus the IPv4 and UDP headers), so the
//! payload of a message is limited accordingly.

use std::collections::{BTreeSet, HashMap};
use std::io::{self, ErrorKind};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use nix::poll::PollFlags;

use ipc_common::message::{Body, Message};
use ipc_common::sender::Outbox;
use ipc_common::{signals, wire, Context, Error, Result};

use crate::calls;
use crate::connect::{host_port, resolve};
use crate::listener::bind_error;
use crate::report::{describe, ClientTally};
use crate::server::{Served, ServerOptions};
use crate::START_SERVER_HINT;

/// The largest UDP payload over IPv4: 65,535 - 20 (IP header) - 8 (UDP header).
pub const MAX_DATAGRAM: usize = 65_507;

/// The receive buffer: larger than any datagram, so none is ever cut short.
const RECV_BUFFER: usize = 64 * 1024;

/// C: `socket(AF_INET, SOCK_DGRAM, 0)` + `bind(host:port)`. Non-blocking: we wait in `poll`.
pub fn bind_server(host: &str, port: u16) -> Result<UdpSocket> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let socket = calls::udp_bind((host, port)).map_err(|err| bind_error(host, port, &err))?;
    socket
        .set_nonblocking(true)
        .context("making the UDP socket non-blocking")?;
    Ok(socket)
}

/// Where clients find a UDP server: `127.0.0.1:9734`.
pub fn local_name(socket: &UdpSocket) -> String {
    match socket.local_addr() {
        Ok(addr) => addr.to_string(),
        Err(err) => format!("(unknown address: {err})"),
    }
}

/// Serves UDP clients until `options.clients` of them have sent their End, or Ctrl-C.
///
/// A client is known by its address (IP and port); its End finishes it. A datagram that is not
/// a valid Message is dropped with one log line and counted as corrupt for its sender.
pub fn serve(socket: &UdpSocket, options: ServerOptions) -> (Served, Result<()>) {
    let mut served = Served::default();
    let mut clients: HashMap<SocketAddr, ClientTally> = HashMap::new();
    let mut buf = vec![0u8; RECV_BUFFER];
    let mut reply = Vec::new();
    let mut finished = 0u64;
    let server = std::process::id();
    let outcome = loop {
        if options.clients.is_some_and(|wanted| finished >= wanted) {
            break Ok(());
        }
        let (len, from) = match recv_from(socket, &mut buf) {
            Ok(got) => got,
            Err(err) => break Err(err),
        };
        let client = clients.entry(from).or_insert_with(|| {
            eprintln!("socket-server: first datagram from {from}");
            ClientTally::new(from)
        });
        let msg = match wire::decode(&buf[..len]) {
            Ok(msg) => msg,
            Err(err) => {
                client.bad_frame();
                eprintln!("socket-server: dropped a datagram of {len} bytes from {from}: {err}");
                continue;
            }
        };
        let first_end = match client.take(&msg) {
            Ok(first_end) => first_end,
            Err(err) => break Err(err),
        };
        // C: sendto(fd, &ack, len, 0, &client_addr, addr_len).
        if let Err(err) = send_ack(socket, &Message::ack(server, msg.seq), from, &mut reply) {
            eprintln!(
                "socket-server: could not acknowledge message {} of {from}: {err}",
                msg.seq
            );
        }
        if first_end {
            eprintln!("socket-server: {from} finished");
            if let Some(client) = clients.remove(&from) {
                served.add(&client.report(), false);
            }
            finished += 1;
        }
    };
    for (from, client) in clients {
        eprintln!("socket-server: {from} sent no End message");
        served.add(&client.report(), false);
    }
    (served, outcome)
}

/// C: `recvfrom(fd, buf, len, 0, &from, &fromlen)`, after `poll` (wakes on Ctrl-C).
fn recv_from(socket: &UdpSocket, buf: &mut [u8]) -> Result<(usize, SocketAddr)> {
    loop {
        signals::wait_fd(socket.as_fd(), PollFlags::POLLIN, None)?;
        match calls::recv_from(socket, buf) {
            Ok(got) => return Ok(got),
            Err(err) if retry(&err) => {}
            Err(err) => return Err(Error::io("receiving a datagram", &err)),
        }
    }
}

/// Encodes and sends one acknowledgement, waiting at most a second for room to send it.
fn send_ack(socket: &UdpSocket, ack: &Message, to: SocketAddr, buf: &mut Vec<u8>) -> Result<()> {
    wire::encode(ack, buf).map_err(|err| err.context("encoding the acknowledgement"))?;
    loop {
        if !signals::wait_fd(
            socket.as_fd(),
            PollFlags::POLLOUT,
            Some(Duration::from_secs(1)),
        )? {
            return Err(Error::new(
                "sending",
                "the socket's send buffer stayed full for 1 s",
            ));
        }
        match calls::send_to(socket, buf, to) {
            Ok(_) => return Ok(()),
            Err(err) if retry(&err) => {}
            Err(err) => return Err(Error::io("sending", &err)),
        }
    }
}

/// EAGAIN after a wake-up, EINTR: try again.
fn retry(err: &io::Error) -> bool {
    matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted)
}

/// How waiting for one acknowledgement ended.
enum Reply {
    /// The acknowledgement of the message arrived.
    Acked,
    /// Nothing (or only older acknowledgements) within the timeout.
    TimedOut,
    /// The kernel reported ICMP "port unreachable": no server at this address.
    Refused,
}

/// The client's end: sends each message as one datagram and waits for its acknowledgement.
#[derive(Debug)]
pub struct UdpClient {
    socket: UdpSocket,
    target: String,
    addrs: Vec<SocketAddr>,
    current: usize,
    answered: bool,
    timeout: Duration,
    out: Vec<u8>,
    buf: Vec<u8>,
    acked: u64,
    end_acked: bool,
    unacked: BTreeSet<u64>,
}

impl UdpClient {
    /// Resolves `host` and points a UDP socket at its first address (C: `socket` +
    /// `connect`). Nothing is sent yet: whether a server is there shows with the first message,
    /// and if that one finds none, the next address is tried.
    pub fn connect(host: &str, port: u16, timeout: Duration) -> Result<UdpClient> {
        let addrs = resolve(host, port)?;
        let socket = open_towards(addrs[0])?;
        Ok(UdpClient {
            socket,
            target: host_port(host, port),
            addrs,
            current: 0,
            answered: false,
            timeout,
            out: Vec::new(),
            buf: vec![0u8; RECV_BUFFER],
            acked: 0,
            end_acked: false,
            unacked: BTreeSet::new(),
        })
    }

    /// The server address we are sending to.
    pub fn server(&self) -> SocketAddr {
        self.addrs[self.current]
    }

    /// True once the server has answered at least once.
    pub fn answered(&self) -> bool {
        self.answered
    }

    /// Text and payload messages the server acknowledged (late acknowledgements included).
    pub fn acknowledged(&self) -> u64 {
        self.acked
    }

    /// Sequence numbers of the messages whose acknowledgement never came back.
    pub fn never_acknowledged(&self) -> &BTreeSet<u64> {
        &self.unacked
    }

    /// True once the server acknowledged our End.
    pub fn end_acknowledged(&self) -> bool {
        self.end_acked
    }

    /// C: `send(fd, buf, len, 0)` on the connected socket. Refused: no server at this address.
    fn transmit(&self) -> Result<bool> {
        loop {
            if !signals::wait_fd(self.socket.as_fd(), PollFlags::POLLOUT, Some(self.timeout))? {
                return Err(Error::new(
                    format!("sending to {}", self.target),
                    "the socket's send buffer stayed full",
                ));
            }
            match calls::send(&self.socket, &self.out) {
                Ok(_) => return Ok(true),
                Err(err) if err.kind() == ErrorKind::ConnectionRefused => return Ok(false),
                Err(err) if retry(&err) => {}
                Err(err) => return Err(Error::io(format!("sending to {}", self.target), &err)),
            }
        }
    }

    /// C: `poll` + `recv` until the acknowledgement of `seq` arrives or `timeout` passes.
    /// Older acknowledgements that arrive late are counted and otherwise skipped.
    fn await_ack(&mut self, seq: u64) -> Result<Reply> {
        let deadline = Instant::now() + self.timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if !signals::wait_fd(self.socket.as_fd(), PollFlags::POLLIN, Some(left))? {
                return Ok(Reply::TimedOut);
            }
            let len = match calls::recv(&self.socket, &mut self.buf) {
                Ok(len) => len,
                Err(err) if err.kind() == ErrorKind::ConnectionRefused => {
                    return Ok(Reply::Refused)
                }
                Err(err) if retry(&err) => continue,
                Err(err) => return Err(Error::io(format!("receiving from {}", self.target), &err)),
            };
            match wire::decode(&self.buf[..len]) {
                Ok(Message {
                    seq: got,
                    body: Body::Ack,
                    ..
                }) if got == seq => return Ok(Reply::Acked),
                Ok(Message {
                    seq: got,
                    body: Body::Ack,
                    ..
                }) => {
                    if self.unacked.remove(&got) {
                        self.acked += 1; // it did come back, late
                    }
                }
                Ok(other) => eprintln!(
                    "socket-client: ignored a datagram that is not an acknowledgement: {}",
                    describe(&other)
                ),
                Err(err) => eprintln!("socket-client: ignored a datagram of {len} bytes: {err}"),
            }
        }
    }

    /// Points the socket at the next address of the host, if there is one not yet tried.
    fn try_next_address(&mut self) -> Result<bool> {
        if self.answered || self.current + 1 >= self.addrs.len() {
            return Ok(false);
        }
        self.current += 1;
        self.socket = open_towards(self.addrs[self.current])?;
        Ok(true)
    }

    /// The error when no server answers: `{what} localhost:9734: {why} on 127.0.0.1:9734`.
    fn no_server(&self, what: &str, why: &str) -> Error {
        let tried = self.addrs[..=self.current]
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" or ");
        Error::new(
            format!("{what} {}", self.target),
            format!("{why} on {tried}"),
        )
        .with_hint(START_SERVER_HINT)
    }
}

impl Outbox for UdpClient {
    fn send(&mut self, msg: &Message) -> Result<()> {
        wire::encode(msg, &mut self.out).map_err(|err| err.context("encoding a message"))?;
        if self.out.len() > MAX_DATAGRAM {
            return Err(Error::usage(
                format!("sending message {}", msg.seq),
                format!(
                    "it encodes to {} bytes, more than one UDP datagram holds ({MAX_DATAGRAM} bytes: \
                     65535 minus the IP and UDP headers)",
                    self.out.len()
                ),
            )
            .with_hint("use --size 65000 or less with --udp, or a stream socket (TCP or --unix)"));
        }
        loop {
            let reply = if self.transmit()? {
                self.await_ack(msg.seq)?
            } else {
                Reply::Refused
            };
            match reply {
                Reply::Acked => {
                    self.answered = true;
                    if msg.is_end() {
                        self.end_acked = true;
                    } else {
                        self.acked += 1;
                    }
                    return Ok(());
                }
                Reply::TimedOut if self.answered => {
                    if !msg.is_end() {
                        self.unacked.insert(msg.seq);
                    }
                    return Ok(());
                }
                // ICMP said no server is there (now), or nothing ever came back: try the
                // host's next address while none has answered yet, else give up.
                Reply::TimedOut | Reply::Refused => {
                    if self.try_next_address()? {
                        continue;
                    }
                    return Err(match reply {
                        Reply::Refused if self.answered => {
                            self.no_server("connection refused by", "no UDP server answers any more").with_hint(
                                "socket-server was stopped; start it again, or run make demo-socket",
                            )
                        }
                        Reply::Refused => self.no_server("connection refused by", "no UDP server is listening"),
                        _ => self.no_server(
                            "no answer from",
                            &format!("no UDP server answered within {} s", self.timeout.as_secs_f64()),
                        ),
                    });
                }
            }
        }
    }
}

/// A UDP socket bound to an ephemeral port of `addr`'s family and connected to `addr`.
fn open_towards(addr: SocketAddr) -> Result<UdpSocket> {
    let local: SocketAddr = match addr {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let socket = calls::udp_bind(local).context("creating a UDP socket")?;
    // C: connect(fd, &server_addr, len): fixes the peer, so send needs no address and the
    // kernel passes on ICMP errors (ECONNREFUSED) and only the server's datagrams.
    calls::udp_connect(&socket, addr).context(format!("connecting the UDP socket to {addr}"))?;
    socket
        .set_nonblocking(true)
        .context("making the UDP socket non-blocking")?;
    Ok(socket)
}
