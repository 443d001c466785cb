//! The UDP client: one message per datagram, each acknowledged, no connection, no promises.
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
//! **The first datagram is sent several times.** Until the server has answered once, a lost
//! first datagram (or a server that starts a moment after us: the kernel then answers with
//! ICMP "port unreachable") is not yet a verdict: the client sends it again, up to
//! [`FIRST_TRIES`] times spread over `--timeout`, saying so each time, and only then says
//! that no server answered and what it tried. The server recognises a resent first datagram
//! (it acknowledges it again and does not count it twice). After the first answer each message
//! is sent once: a lost one shows as "never came back", as UDP promises no more.
//!
//! A datagram holds at most 65,507 bytes ([`crate::datagram::MAX_DATAGRAM`]), so the payload of a message is
//! limited accordingly. The server's end is [`crate::udp_server`].

use std::collections::BTreeSet;
use std::io::ErrorKind;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use nix::poll::PollFlags;

use ipc_common::message::{Body, Message};
use ipc_common::sender::{Outbox, Sent};
use ipc_common::{program, signals, wire, Context, Error, Result};

use crate::calls;
use crate::connect::{host_port, resolve};
use crate::datagram::{check_size, retry, RECV_BUFFER};
use crate::report::{describe, print_line};
use crate::START_SERVER_HINT;

/// How many times the first datagram is sent before the client says no server answered.
pub const FIRST_TRIES: u32 = 5;

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

    /// After the last message: `server acknowledged N messages` on stdout (and how many
    /// never came back), then the verdict: `sent` if it failed, else an error when an
    /// acknowledgement (or the End's) did not come back.
    pub fn finish(&self, sent: Result<Sent>) -> Result<()> {
        if !self.answered {
            return sent.map(drop); // no server answered: the error says so, nothing to count
        }
        let missing = self.unacked.len();
        let mut line = format!("server acknowledged {} messages", self.acked);
        if missing > 0 {
            line.push_str(&format!(", {missing} never came back"));
        }
        print_line(&line)?;
        sent?;
        if missing == 0 && self.end_acked {
            return Ok(());
        }
        let end = if self.end_acked {
            ""
        } else {
            " (nor did the End's)"
        };
        Err(Error::new(
            "waiting for acknowledgements",
            format!(
                "{missing} acknowledgement(s) did not come back within {} s{end}: UDP does not \
                 promise delivery",
                self.timeout.as_secs_f64()
            ),
        ))
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

    /// How long each try of the first datagram waits: `--timeout` spread over the tries.
    fn first_wait(&self) -> Duration {
        self.timeout / FIRST_TRIES
    }

    /// C: `poll(fd, POLLIN, ms)`: waits `wait` before a datagram is sent again (a refused one
    /// fails at once); Ctrl-C ends the wait. A datagram that arrives meanwhile is left for
    /// [`UdpClient::await_ack`].
    fn pause(&self, wait: Duration) -> Result<()> {
        signals::wait_fd(self.socket.as_fd(), PollFlags::POLLIN, Some(wait))?;
        Ok(())
    }

    /// C: `poll` + `recv` until the acknowledgement of `seq` arrives or `wait` passes.
    /// Older acknowledgements that arrive late are counted and otherwise skipped.
    fn await_ack(&mut self, seq: u64, wait: Duration) -> Result<Reply> {
        let deadline = Instant::now() + wait;
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
                    "{}: ignored a datagram that is not an acknowledgement: {}",
                    program::name(),
                    describe(&other)
                ),
                Err(err) => eprintln!(
                    "{}: ignored a datagram of {len} bytes: {err}",
                    program::name()
                ),
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

    /// The error when no server answers: `{what} localhost:9734: {why} on 127.0.0.1:9734{tried}`.
    fn no_server(&self, what: &str, why: &str, tried: &str) -> Error {
        let addresses = self.addrs[..=self.current]
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" or ");
        Error::new(
            format!("{what} {}", self.target),
            format!("{why} on {addresses}{tried}"),
        )
        .with_hint(START_SERVER_HINT)
    }
}

impl Outbox for UdpClient {
    fn send(&mut self, msg: &Message) -> Result<()> {
        wire::encode(msg, &mut self.out).map_err(|err| err.context("encoding a message"))?;
        check_size(self.out.len(), format!("sending message {}", msg.seq))?;
        // Tries of this datagram to the current address (more than one only before the
        // server's first answer), and how many of them the kernel refused.
        let mut tries = 0u32;
        let mut refused = 0u32;
        loop {
            tries += 1;
            let wait = if self.answered {
                self.timeout
            } else {
                self.first_wait()
            };
            let reply = if self.transmit()? {
                self.await_ack(msg.seq, wait)?
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
                // ICMP said no server is there (now), or nothing came back: before the
                // first answer, send the datagram again (it may have been lost, or the
                // server may be starting), then try the host's next address, then give up.
                Reply::TimedOut | Reply::Refused => {
                    let why = if matches!(reply, Reply::Refused) {
                        refused += 1;
                        "port unreachable"
                    } else {
                        "no acknowledgement"
                    };
                    if !self.answered && tries < FIRST_TRIES {
                        if matches!(reply, Reply::Refused) {
                            self.pause(wait)?;
                        }
                        eprintln!(
                            "{}: {why} for the first datagram from {}: sending it again ({} of {FIRST_TRIES})",
                            program::name(),
                            self.server(),
                            tries + 1
                        );
                        continue;
                    }
                    if self.try_next_address()? {
                        tries = 0;
                        refused = 0;
                        continue;
                    }
                    let tried = format!(
                        "; the first datagram was sent {tries} times, {} s apart ({refused} refused with port unreachable)",
                        wait.as_secs_f64()
                    );
                    return Err(match reply {
                        Reply::Refused if self.answered => {
                            self.no_server("connection refused by", "no UDP server answers any more", "").with_hint(
                                "socket-server was stopped; start it again, or run make demo-socket",
                            )
                        }
                        Reply::Refused => self.no_server("connection refused by", "no UDP server is listening", &tried),
                        _ => self.no_server(
                            "no answer from",
                            &format!("no UDP server answered within {} s", self.timeout.as_secs_f64()),
                            &tried,
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
    calls::set_nonblocking(socket.as_fd(), true, |on| socket.set_nonblocking(on))
        .context("making the UDP socket non-blocking")?;
    Ok(socket)
}
