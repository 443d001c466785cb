//! The UDP server, as one `Inbox` for `run_receiver`: every client's datagrams on one socket.
//!
//! There is no connection and no `accept`: the server learns of a client from its first
//! datagram (C: `recvfrom` fills in the sender's address) and knows it by that address until
//! its End. Each message is acknowledged with `sendto` that address. What UDP does not
//! promise, the server does not demand: datagrams may overtake each other (the receive loop
//! is `order_not_promised`), and one that is not a Message is dropped with one log line and
//! counted as corrupt for its sender.
//!
//! A client sends its first datagram again when no acknowledgement came back (see
//! [`crate::udp`]): the server may have had it and only the acknowledgement was lost. So a
//! datagram that repeats a client's first one (same address, same sequence number, already
//! acknowledged) is acknowledged again and not counted a second time.

use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsFd;
use std::time::Duration;

use nix::poll::PollFlags;

use ipc_common::receiver::{Delivery, Inbox};
use ipc_common::{program, signals, wire, Context, Error, Message, Result};

use crate::calls;
use crate::datagram::{retry, RECV_BUFFER};
use crate::listener::bind_error;
use crate::report::{ClientTally, Served};

/// How many finished one-datagram clients are remembered (see `UdpServer::finished`).
const FINISHED_KEPT: usize = 1024;

/// A bound UDP socket serving clients until `clients` of them have sent their End.
#[derive(Debug)]
pub struct UdpServer {
    socket: UdpSocket,
    /// Each client by its address, with its number in the total and the sequence number of
    /// its first datagram (the one it may send again).
    clients: HashMap<SocketAddr, (u32, ClientTally, u64)>,
    /// Clients whose very first datagram was their End, by address: a resent End must not
    /// look like a new client. Forgotten past [`FINISHED_KEPT`] entries.
    finished: HashMap<SocketAddr, u64>,
    numbered: u32,
    wanted: Option<u64>,
    served: Served,
    /// The client of the last message, for `[PEER] You wrote: ...`.
    origin: String,
    buf: Vec<u8>,
    reply: Vec<u8>,
}

impl UdpServer {
    /// C: `socket(AF_INET, SOCK_DGRAM, 0)` + `bind(host:port)`. Non-blocking: we wait in
    /// `poll`. `clients`: stop after that many Ends (`--clients N`), or never.
    pub fn bind(host: &str, port: u16, clients: Option<u64>) -> Result<Self> {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let socket = calls::udp_bind((host, port)).map_err(|err| bind_error(host, port, &err))?;
        calls::set_nonblocking(socket.as_fd(), true, |on| socket.set_nonblocking(on))
            .context("making the UDP socket non-blocking")?;
        Ok(UdpServer {
            socket,
            clients: HashMap::new(),
            finished: HashMap::new(),
            numbered: 0,
            wanted: clients,
            served: Served::default(),
            origin: String::new(),
            buf: vec![0u8; RECV_BUFFER],
            reply: Vec::new(),
        })
    }

    /// Where clients find us: `127.0.0.1:9734`.
    pub fn name(&self) -> String {
        match calls::getsockname(self.socket.as_fd(), self.socket.local_addr()) {
            Ok(addr) => addr.to_string(),
            Err(err) => format!("(unknown address: {err})"),
        }
    }

    /// C: `recvfrom(fd, buf, len, 0, &from, &fromlen)`, after `poll` (wakes on Ctrl-C).
    fn recv_from(&mut self) -> Result<(usize, SocketAddr)> {
        loop {
            signals::wait_fd(self.socket.as_fd(), PollFlags::POLLIN, None)?;
            match calls::recv_from(&self.socket, &mut self.buf) {
                Ok(got) => return Ok(got),
                Err(err) if retry(&err) => {}
                Err(err) => return Err(Error::io("receiving a datagram", &err)),
            }
        }
    }

    /// C: `sendto(fd, &ack, len, 0, &client_addr, addr_len)`, waiting at most a second for
    /// room to send it.
    fn acknowledge(&mut self, seq: u64, to: SocketAddr) -> Result<()> {
        let ack = Message::ack(std::process::id(), seq);
        wire::encode(&ack, &mut self.reply)
            .map_err(|err| err.context("encoding the acknowledgement"))?;
        let room = Some(Duration::from_secs(1));
        loop {
            if !signals::wait_fd(self.socket.as_fd(), PollFlags::POLLOUT, room)? {
                return Err(Error::new(
                    "sending",
                    "the socket's send buffer stayed full for 1 s",
                ));
            }
            match calls::send_to(&self.socket, &self.reply, to) {
                Ok(_) => return Ok(()),
                Err(err) if retry(&err) => {}
                Err(err) => return Err(Error::io("sending", &err)),
            }
        }
    }
}

impl Inbox for UdpServer {
    /// The next datagram of any client, acknowledged; `Closed` after `--clients N` Ends.
    fn receive(&mut self) -> Result<Delivery> {
        loop {
            if let Some(delivery) = self.take_datagram()? {
                return Ok(delivery);
            }
        }
    }

    fn origin(&self) -> Option<&str> {
        Some(&self.origin)
    }
}

impl UdpServer {
    /// One datagram, acknowledged: `None` when it was a resent first datagram (acknowledged
    /// again, nothing to count).
    fn take_datagram(&mut self) -> Result<Option<Delivery>> {
        let name = program::name();
        if self
            .wanted
            .is_some_and(|wanted| self.served.clients >= wanted)
        {
            return Ok(Some(Delivery::Closed));
        }
        let (len, from) = self.recv_from()?;
        // Decoded before the client is looked up: a resent first datagram is recognised by
        // its sequence number.
        let decoded = wire::decode(&self.buf[..len]);
        let seq = decoded.as_ref().ok().map(|msg| msg.seq);
        let resent = match (seq, self.clients.get(&from), self.finished.get(&from)) {
            (Some(seq), Some((_, _, first)), _) => seq == *first,
            (Some(seq), None, Some(end)) => seq == *end,
            _ => false,
        };
        if let (true, Some(seq)) = (resent, seq) {
            eprintln!(
                "{name}: {from} sent its first datagram (message {seq}) again: acknowledged again, not counted twice"
            );
            if let Err(err) = self.acknowledge(seq, from) {
                eprintln!("{name}: could not acknowledge message {seq} of {from}: {err}");
            }
            return Ok(None);
        }
        let numbered = &mut self.numbered;
        let (id, client, _) = self.clients.entry(from).or_insert_with(|| {
            eprintln!("{name}: first datagram from {from}");
            *numbered += 1;
            (
                *numbered,
                ClientTally::new(from.to_string()),
                seq.unwrap_or(0),
            )
        });
        self.origin.clear();
        self.origin.push_str(client.peer());
        let mut msg = match decoded {
            Ok(msg) => msg,
            Err(err) => {
                client.bad_record();
                // Named, not quoted from the decoder: C text says which --wire it is.
                let what = ipc_common::codec::describe_foreign_with(
                    &self.buf[..len],
                    &err.to_string(),
                    "the C programs speak TCP only (socket-server --wire c, without --udp)",
                );
                eprintln!("{name}: dropped a datagram of {len} bytes from {from}: {what}");
                return Ok(Some(Delivery::Garbled(format!(
                    "{from} sent something that is not a message (counted as corrupt)"
                ))));
            }
        };
        let first_end = client.record(&msg);
        // Each client is its own sender in the total, as it is in its own count.
        msg.sender = *id;
        if let Err(err) = self.acknowledge(msg.seq, from) {
            eprintln!(
                "{name}: could not acknowledge message {} of {from}: {err}",
                msg.seq
            );
        }
        if first_end {
            eprintln!("{name}: {from} finished");
            if let Some((_, client, first)) = self.clients.remove(&from) {
                client.report();
                if first == msg.seq {
                    // Its End was its first datagram: it may come again.
                    if self.finished.len() >= FINISHED_KEPT {
                        self.finished.clear();
                    }
                    self.finished.insert(from, first);
                }
            }
            self.served.add(false);
        }
        Ok(Some(Delivery::Message(msg)))
    }
}

impl Drop for UdpServer {
    /// Shows the counts of the clients that never sent their End, and how many were served.
    fn drop(&mut self) {
        for (from, (_, client, _)) in self.clients.drain() {
            eprintln!("{}: {from} sent no End message", program::name());
            client.report();
            self.served.add(false);
        }
        self.served.announce();
    }
}
