//! One connected stream socket, TCP or Unix domain: the `fd` that `accept` returns in server.c
//! and that `connect` fills in client.c.
//!
//! Both kinds are byte streams with the same `read`/`write` calls; only the address differs
//! (an IP address and port, or a path). [`Stream`] lets the rest of the crate treat them alike.
//!
//! Every stream is switched to non-blocking mode (C: `fcntl(fd, F_SETFL, O_NONBLOCK)`): we wait
//! for it in `poll` (which wakes on Ctrl-C and has a timeout) and then read or write what is
//! possible at once. A blocking `write` of a large buffer to a peer that does not read would
//! otherwise sit in the kernel for ever, out of reach of Ctrl-C.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;

use ipc_common::{Context, Result};

use crate::calls;

/// A connected stream socket.
#[derive(Debug)]
pub enum Stream {
    /// `AF_INET` / `AF_INET6`, `SOCK_STREAM`.
    Tcp(TcpStream),
    /// `AF_UNIX`, `SOCK_STREAM`.
    Unix(UnixStream),
}

impl Stream {
    /// Prepares a freshly connected or accepted socket: non-blocking, and for TCP without
    /// Nagle's delay (C: `setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, ...)`), because each
    /// message waits for its acknowledgement and must leave at once.
    pub fn prepare(self) -> Result<Self> {
        match &self {
            Stream::Tcp(tcp) => {
                calls::set_nonblocking(tcp.as_fd(), true, |on| tcp.set_nonblocking(on))
                    .context("making the TCP socket non-blocking")?;
                calls::set_nodelay(tcp).context("setting TCP_NODELAY on the socket")?;
            }
            Stream::Unix(unix) => {
                calls::set_nonblocking(unix.as_fd(), true, |on| unix.set_nonblocking(on))
                    .context("making the Unix socket non-blocking")?;
            }
        }
        Ok(self)
    }

    /// Our own end's address (C: `getsockname`): the kernel picked an ephemeral port for a
    /// TCP client at `connect`. A Unix client's socket has no name: `None`.
    pub fn local_addr(&self) -> Option<std::net::SocketAddr> {
        match self {
            Stream::Tcp(tcp) => calls::getsockname(tcp.as_fd(), tcp.local_addr()).ok(),
            Stream::Unix(_) => None,
        }
    }

    /// A second handle on the same connection (C: `dup(fd)`; std's `try_clone` calls
    /// `fcntl(fd, F_DUPFD_CLOEXEC, 3)`), traced.
    pub fn try_clone(&self) -> std::io::Result<Stream> {
        calls::dup(self)
    }

    /// std's `try_clone`, untraced: [`calls::dup`] makes the call through this.
    pub(crate) fn clone_handle(&self) -> std::io::Result<Stream> {
        match self {
            Stream::Tcp(tcp) => tcp.try_clone().map(Stream::Tcp),
            Stream::Unix(unix) => unix.try_clone().map(Stream::Unix),
        }
    }

    /// C: `shutdown(fd, SHUT_RDWR)`: ends the connection both ways; a read blocked on it, in
    /// any thread, returns end-of-file.
    pub fn shutdown_both(&self) {
        let _ = calls::shutdown(self.as_fd(), Shutdown::Both, |how| match self {
            Stream::Tcp(tcp) => tcp.shutdown(how),
            Stream::Unix(unix) => unix.shutdown(how),
        });
    }

    /// C: `shutdown(fd, SHUT_WR)`: tells the peer we will send nothing more (it reads EOF),
    /// while we can still read its last replies.
    pub fn shutdown_write(&self) {
        let _ = calls::shutdown(self.as_fd(), Shutdown::Write, |how| match self {
            Stream::Tcp(tcp) => tcp.shutdown(how),
            Stream::Unix(unix) => unix.shutdown(how),
        });
    }
}

impl AsFd for Stream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Stream::Tcp(tcp) => tcp.as_fd(),
            Stream::Unix(unix) => unix.as_fd(),
        }
    }
}

/// C: `read(fd, buf, len)`. Reading through a shared reference lets one thread hold a reader
/// and a writer on the same socket, as C code passes the same `fd` to `read` and `write`.
impl Read for &Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(tcp) => (&*tcp).read(buf),
            Stream::Unix(unix) => (&*unix).read(buf),
        }
    }
}

/// C: `write(fd, buf, len)`.
impl Write for &Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(tcp) => (&*tcp).write(buf),
            Stream::Unix(unix) => (&*unix).write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
