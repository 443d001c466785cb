//! The server's listening socket: server.c's `socket` + `bind` + `listen`, and `accept`.
//!
//! `accept` blocks until a client connects, and ctrlc's `SA_RESTART` handler would simply let
//! the kernel restart it after Ctrl-C. So the listening socket is non-blocking and we wait for
//! a connection in `poll` ([`signals::wait_fd`]), which also watches the Ctrl-C wake-up pipe.

use std::fmt;
use std::io::ErrorKind;
use std::net::{SocketAddr, TcpListener};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use nix::poll::PollFlags;

use ipc_common::cli::Mode;
use ipc_common::{signals, Context, Error, Result};

use crate::stream::Stream;
use crate::unix_path::SocketPath;

/// How often a waiting `accept` looks whether it should stop.
const STOP_CHECK: Duration = Duration::from_millis(100);

/// A listening stream socket, TCP or Unix domain.
#[derive(Debug)]
pub enum Listener {
    /// Bound to an IP address and port.
    Tcp(TcpListener),
    /// Bound to a path; `path` unlinks the socket file when the listener is dropped.
    Unix {
        /// The listening socket.
        listener: UnixListener,
        /// The guard of the socket file (dropped after the socket is closed).
        path: SocketPath,
    },
}

/// Who is at the other end of an accepted connection: shown in front of every line about it.
#[derive(Debug, Clone)]
pub enum Peer {
    /// A TCP client's address and port, as `accept` filled them in.
    Tcp(SocketAddr),
    /// A Unix domain client: its socket has no name, so we number the connections.
    Unix(u64),
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Peer::Tcp(addr) => write!(f, "{addr}"),
            Peer::Unix(n) => write!(f, "unix#{n}"),
        }
    }
}

impl Listener {
    /// C: `socket(AF_INET or AF_INET6, SOCK_STREAM, 0)`, `bind` to `host:port` (port 0: the
    /// kernel picks a free one), `listen`. std sets `SO_REUSEADDR`, so a restarted server can
    /// bind again at once although connections of the previous one are in TIME_WAIT.
    pub fn bind_tcp(host: &str, port: u16) -> Result<Listener> {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let listener =
            crate::calls::tcp_listen(host, port).map_err(|err| bind_error(host, port, &err))?;
        crate::calls::set_nonblocking(listener.as_fd(), true, |on| listener.set_nonblocking(on))
            .context("making the listening socket non-blocking")?;
        Ok(Listener::Tcp(listener))
    }

    /// C: `socket(AF_UNIX, SOCK_STREAM, 0)`, `bind(fd, path)`, `listen`; see [`SocketPath`].
    pub fn bind_unix(path: &Path, mode: Mode) -> Result<Listener> {
        let (listener, path) = SocketPath::bind(path, mode)?;
        crate::calls::set_nonblocking(listener.as_fd(), true, |on| listener.set_nonblocking(on))
            .context("making the listening socket non-blocking")?;
        Ok(Listener::Unix { listener, path })
    }

    /// Where clients find us: `127.0.0.1:9734` (the real port when we asked for port 0) or the
    /// socket's path. Goes into the ready line `server waiting on ...`.
    pub fn name(&self) -> String {
        match self {
            Listener::Tcp(listener) => {
                match crate::calls::getsockname(listener.as_fd(), listener.local_addr()) {
                    Ok(addr) => addr.to_string(),
                    Err(err) => format!("(unknown address: {err})"),
                }
            }
            Listener::Unix { path, .. } => path.path().display().to_string(),
        }
    }

    /// C: `accept(fd, &addr, &len)`: waits (in `poll`, woken by Ctrl-C) for the next client;
    /// `None` once `stop` is set (looked at every 100 ms). Unix peers are numbered with
    /// `next_unix`.
    pub fn accept(&self, next_unix: &mut u64, stop: &AtomicBool) -> Result<Option<(Stream, Peer)>> {
        loop {
            if stop.load(Ordering::Relaxed) {
                return Ok(None);
            }
            if !signals::wait_fd(self.as_fd(), PollFlags::POLLIN, Some(STOP_CHECK))? {
                continue;
            }
            let accepted = match self {
                Listener::Tcp(listener) => crate::calls::tcp_accept(listener)
                    .map(|(tcp, addr)| (Stream::Tcp(tcp), Peer::Tcp(addr))),
                Listener::Unix { listener, .. } => {
                    crate::calls::unix_accept(listener).map(|(unix, _)| {
                        *next_unix += 1;
                        (Stream::Unix(unix), Peer::Unix(*next_unix))
                    })
                }
            };
            match accepted {
                Ok((stream, peer)) => return Ok(Some((stream.prepare()?, peer))),
                // The client gave up between poll and accept (ECONNABORTED), or another wake-up.
                Err(err)
                    if matches!(
                        err.kind(),
                        ErrorKind::WouldBlock
                            | ErrorKind::Interrupted
                            | ErrorKind::ConnectionAborted
                    ) => {}
                Err(err) => return Err(Error::io("accepting a client", &err)),
            }
        }
    }
}

impl AsFd for Listener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Listener::Tcp(listener) => listener.as_fd(),
            Listener::Unix { listener, .. } => listener.as_fd(),
        }
    }
}

/// Explains a failed `bind` with what the user can do about it.
pub fn bind_error(host: &str, port: u16, err: &std::io::Error) -> Error {
    let error = Error::io(format!("binding {host} port {port}"), err);
    match err.kind() {
        ErrorKind::AddrInUse => {
            error.with_hint("another program (another socket-server?) uses this port: stop it, or choose another --port (0 picks a free one)")
        }
        ErrorKind::PermissionDenied => error.with_hint("ports below 1024 need privileges: use the default 9734 or another port"),
        ErrorKind::AddrNotAvailable => error.with_hint("this machine has no such address: use 127.0.0.1, ::1 or 0.0.0.0"),
        _ if err.raw_os_error().is_none() => error.with_hint("--bind takes an IP address such as 127.0.0.1 or ::1, or a host name"),
        _ => error,
    }
}
