//! One message per datagram: what the UDP client, the UDP server and ipc-bench share.
//!
//! `socket(AF_INET, SOCK_DGRAM, 0)` gives a socket that sends and receives whole datagrams:
//! one `send` is one `recv` at the other end, so no framing is needed. A datagram holds at
//! most 65,507 bytes (65,535 minus the IPv4 and UDP headers).
//!
//! [`Datagrams`] is the plainest use of a connected UDP socket: blocking `send` and `recv`
//! with a receive timeout (C: `setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, ...)`), so that a lost
//! datagram fails the run instead of hanging it. ipc-bench measures it through its raw path
//! (`Outbox::send_bytes`, `Inbox::receive_bytes`); socket-client and socket-server add
//! acknowledgements, retries and Ctrl-C on top ([`crate::udp`], [`crate::udp_server`]).

use std::io::{self, ErrorKind};
use std::net::UdpSocket;
use std::time::Duration;

use ipc_common::codec::decode_bincode;
use ipc_common::receiver::{Delivery, Inbox};
use ipc_common::sender::Outbox;
use ipc_common::{wire, Context, Error, Message, Result};

use crate::calls;

/// The largest UDP payload over IPv4: 65,535 - 20 (IP header) - 8 (UDP header).
pub const MAX_DATAGRAM: usize = 65_507;

/// A receive buffer larger than any datagram, so none is ever cut short.
pub const RECV_BUFFER: usize = 64 * 1024;

/// A connected UDP socket that carries one record (or one Message) per datagram.
#[derive(Debug)]
pub struct Datagrams {
    socket: UdpSocket,
    /// The largest record expected: the receive buffer's size.
    max_record: usize,
    out: Vec<u8>,
    buf: Vec<u8>,
}

impl Datagrams {
    /// Uses `socket`, bound and connected to its peer (C: `bind` + `connect`), in blocking
    /// mode; a `recv` that waits longer than `timeout` fails. Records up to `max_record`
    /// bytes are received whole (at most [`MAX_DATAGRAM`]; a longer datagram is cut short, as
    /// C's `recv` cuts it): a small bound keeps each `recv`'s buffer small.
    pub fn new(socket: UdpSocket, max_record: usize, timeout: Duration) -> Result<Self> {
        socket
            .set_nonblocking(false)
            .context("making the UDP socket blocking")?;
        socket
            .set_read_timeout(Some(timeout))
            .context("setting a receive timeout (SO_RCVTIMEO)")?;
        Ok(Datagrams {
            socket,
            max_record: max_record.min(MAX_DATAGRAM),
            out: Vec::new(),
            buf: Vec::new(),
        })
    }
}

impl Outbox for Datagrams {
    fn send(&mut self, msg: &Message) -> Result<()> {
        let mut out = std::mem::take(&mut self.out);
        wire::encode(msg, &mut out).map_err(|err| err.context("encoding a message"))?;
        let sent = self.send_bytes(&out);
        self.out = out;
        sent
    }

    /// C: `send(fd, bytes, len, 0)`: the whole record as one datagram.
    fn send_bytes(&mut self, bytes: &[u8]) -> Result<()> {
        check_size(bytes.len(), "sending a datagram")?;
        let sent = calls::send(&self.socket, bytes).context("sending a datagram")?;
        if sent != bytes.len() {
            return Err(Error::new("sending a datagram", "it was truncated"));
        }
        Ok(())
    }
}

impl Inbox for Datagrams {
    fn receive(&mut self) -> Result<Delivery> {
        let mut buf = std::mem::take(&mut self.buf);
        let got = self.receive_bytes(&mut buf);
        let delivery = got.map(|()| decode_bincode(&buf));
        self.buf = buf;
        delivery
    }

    /// C: `recv(fd, buf, len, 0)`: one whole datagram into `buf`.
    fn receive_bytes(&mut self, buf: &mut Vec<u8>) -> Result<()> {
        buf.resize(self.max_record, 0);
        let got = calls::recv(&self.socket, buf).map_err(|err| {
            let what = "receiving a datagram";
            match err.kind() {
                ErrorKind::WouldBlock | ErrorKind::TimedOut => Error::new(
                    what,
                    "nothing arrived in time: the datagram was lost, or the peer is gone",
                ),
                _ => Error::io(what, &err),
            }
        })?;
        buf.truncate(got);
        Ok(())
    }
}

/// Refuses a record too large for one datagram, saying what the limit is.
pub fn check_size(len: usize, what: impl Into<String>) -> Result<()> {
    if len <= MAX_DATAGRAM {
        return Ok(());
    }
    Err(Error::usage(
        what,
        format!(
            "it encodes to {len} bytes, more than one UDP datagram holds ({MAX_DATAGRAM} bytes: \
             65535 minus the IP and UDP headers)"
        ),
    )
    .with_hint("use --size 65000 or less with --udp, or a stream socket (TCP or --unix)"))
}

/// EAGAIN after a wake-up, EINTR: try again.
pub fn retry(err: &io::Error) -> bool {
    matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> (Datagrams, Datagrams) {
        let a = UdpSocket::bind("127.0.0.1:0").expect("binds");
        let b = UdpSocket::bind("127.0.0.1:0").expect("binds");
        a.connect(b.local_addr().expect("address"))
            .expect("connects");
        b.connect(a.local_addr().expect("address"))
            .expect("connects");
        let timeout = Duration::from_secs(2);
        (
            Datagrams::new(a, MAX_DATAGRAM, timeout).expect("ready"),
            Datagrams::new(b, MAX_DATAGRAM, timeout).expect("ready"),
        )
    }

    #[test]
    fn a_record_is_one_datagram_and_a_message_round_trips() {
        let (mut a, mut b) = pair();
        a.send_bytes(b"raw record").expect("sends");
        let mut buf = Vec::new();
        b.receive_bytes(&mut buf).expect("receives");
        assert_eq!(buf, b"raw record");
        a.send(&Message::text(1, 1, "hi")).expect("sends");
        assert_eq!(
            b.receive().expect("receives"),
            Delivery::Message(Message::text(1, 1, "hi"))
        );
    }

    #[test]
    fn a_record_too_large_for_a_datagram_is_refused() {
        let (mut a, _b) = pair();
        let err = a
            .send_bytes(&vec![0; MAX_DATAGRAM + 1])
            .expect_err("too large");
        assert!(err.to_string().contains("65507"), "{err}");
    }
}
