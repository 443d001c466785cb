//! The socket calls of this crate, each wrapped once so that `--trace` shows it in C notation,
//! as `strace` would: `socket`, `setsockopt`, `bind`, `getsockname`, `listen`, `accept4`,
//! `connect`, `ioctl(FIONBIO)`, `fcntl(F_DUPFD_CLOEXEC)`, `recvfrom`, `sendto`, `shutdown`.
//!
//! The names are the kernel's, as `strace -f` shows them, not the C library's: std reads and
//! writes a socket with `recv`/`send`, which glibc makes the system calls `recvfrom(fd, buf,
//! len, 0, NULL, NULL)` and `sendto(fd, buf, len, MSG_NOSIGNAL, NULL, 0)` (MSG_NOSIGNAL: a peer
//! that has gone gives EPIPE, not a SIGPIPE that would kill us), where server.c's `read` and
//! `write` are the system calls `read` and `write`. `set_nonblocking` is `ioctl(fd, FIONBIO)`,
//! `local_addr` is `getsockname`, `try_clone` is `fcntl(fd, F_DUPFD_CLOEXEC, 3)`.
//! docs/porting.md lists what `--trace` leaves out (`poll`, `close`, name resolution).
//!
//! std makes these calls, sometimes several in one method: `TcpListener::bind` is
//! `socket(..., SOCK_STREAM|SOCK_CLOEXEC, ...)` + `setsockopt(SO_REUSEADDR)` + `bind` +
//! `listen(fd, 128)`, and `UdpSocket::bind` is `socket` + `bind`. When such a method succeeds
//! we show each of its calls with the descriptor and address it produced; when it fails we
//! cannot tell which of them failed (std closes the socket), and show the one that fails in
//! practice (`bind`: EADDRINUSE, EACCES, EADDRNOTAVAIL; `connect`: ECONNREFUSED) with `-1` for
//! the descriptor. Same signatures as std's, so the other modules call these instead.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs, UdpSocket};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::time::Duration;

use ipc_common::trace;
use nix::errno::Errno;

use crate::stream::Stream;

/// How a std I/O result ends a trace line: the value, or `-1 ERRNO (description)`.
fn result<T>(result: &io::Result<T>, ok: impl FnOnce(&T) -> String) -> String {
    match result {
        Ok(value) => ok(value),
        Err(err) => match err.raw_os_error() {
            Some(code) => trace::failure(Errno::from_raw(code)),
            None => format!("-1 ({err})"),
        },
    }
}

/// A socket address as strace shows it: `{sa_family=AF_INET, sin_port=htons(9734), ...}`.
fn sockaddr(addr: &SocketAddr) -> String {
    match addr {
        SocketAddr::V4(v4) => format!(
            "{{sa_family=AF_INET, sin_port=htons({}), sin_addr=inet_addr(\"{}\")}}",
            v4.port(),
            v4.ip()
        ),
        SocketAddr::V6(v6) => format!(
            "{{sa_family=AF_INET6, sin6_port=htons({}), sin6_addr=inet_pton(\"{}\")}}",
            v6.port(),
            v6.ip()
        ),
    }
}

/// `sizeof` the C struct of the address: `struct sockaddr_in` or `struct sockaddr_in6`.
fn socklen(addr: &SocketAddr) -> u32 {
    if addr.is_ipv4() {
        16
    } else {
        28
    }
}

/// The address and its length, as the last two arguments of `bind`, `connect`, `sendto`.
fn addr(addr: &SocketAddr) -> String {
    format!("{}, {}", sockaddr(addr), socklen(addr))
}

fn family(addr: &SocketAddr) -> &'static str {
    if addr.is_ipv4() {
        "AF_INET"
    } else {
        "AF_INET6"
    }
}

/// `strace`'s `[128 => 16]`: the address buffer std passes (a `sockaddr_storage`, 128 bytes)
/// and how much of it the kernel filled.
fn filled(addr: &SocketAddr) -> String {
    format!("[128 => {}]", socklen(addr))
}

/// C: `getsockname(fd, &addr, &len)`: what std's `local_addr` calls. Traced, then returned.
pub fn getsockname(fd: BorrowedFd<'_>, local: io::Result<SocketAddr>) -> io::Result<SocketAddr> {
    if trace::enabled() {
        let shown = match &local {
            Ok(addr) => format!("{}, {}", sockaddr(addr), filled(addr)),
            Err(_) => "..., [128]".to_string(),
        };
        trace::emit(
            &format!("getsockname({}, {shown})", fd.as_raw_fd()),
            &result(&local, |_| "0".to_string()),
        );
    }
    local
}

/// C: `ioctl(fd, FIONBIO, &on)`: what std's `set_nonblocking(on)` calls; `set` makes the call.
pub fn set_nonblocking(
    fd: BorrowedFd<'_>,
    on: bool,
    set: impl FnOnce(bool) -> io::Result<()>,
) -> io::Result<()> {
    let done = set(on);
    trace_line(
        || format!("ioctl({}, FIONBIO, [{}])", fd.as_raw_fd(), u8::from(on)),
        &done,
        |()| "0".to_string(),
    );
    done
}

/// C: `setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one)`: std's `set_nodelay(true)`.
pub fn set_nodelay(tcp: &TcpStream) -> io::Result<()> {
    let done = tcp.set_nodelay(true);
    trace_line(
        || {
            format!(
                "setsockopt({}, SOL_TCP, TCP_NODELAY, [1], 4)",
                tcp.as_raw_fd()
            )
        },
        &done,
        |()| "0".to_string(),
    );
    done
}

/// C: `shutdown(fd, SHUT_WR)` or `shutdown(fd, SHUT_RDWR)`; `call` makes it.
pub fn shutdown(
    fd: BorrowedFd<'_>,
    how: Shutdown,
    call: impl FnOnce(Shutdown) -> io::Result<()>,
) -> io::Result<()> {
    let done = call(how);
    let how_name = match how {
        Shutdown::Read => "SHUT_RD",
        Shutdown::Write => "SHUT_WR",
        Shutdown::Both => "SHUT_RDWR",
    };
    trace_line(
        || format!("shutdown({}, {how_name})", fd.as_raw_fd()),
        &done,
        |()| "0".to_string(),
    );
    done
}

/// C: `fcntl(fd, F_DUPFD_CLOEXEC, 3)`: std's `try_clone`, a second descriptor of the same
/// socket (C programs call `dup(fd)`).
pub fn dup(stream: &Stream) -> io::Result<Stream> {
    let cloned = stream.clone_handle();
    trace_line(
        || format!("fcntl({}, F_DUPFD_CLOEXEC, 3)", stream.as_fd().as_raw_fd()),
        &cloned,
        |copy| copy.as_fd().as_raw_fd().to_string(),
    );
    cloned
}

/// The address `host:port` names, for a failed call's line (the first one, as std tries).
fn wanted(host: &str, port: u16) -> String {
    match (host, port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
    {
        Some(first) => addr(&first),
        None => format!("{{{host}:{port}}}"),
    }
}

/// server.c's `socket` + `setsockopt(SO_REUSEADDR)` + `bind` + `listen`: `TcpListener::bind`.
pub fn tcp_listen(host: &str, port: u16) -> io::Result<TcpListener> {
    let listener = TcpListener::bind((host, port));
    if trace::enabled() {
        match &listener {
            Ok(socket) => {
                let fd = socket.as_raw_fd();
                // The family of the address asked for (no getsockname: the kernel would show it).
                let fam = match (host, port)
                    .to_socket_addrs()
                    .ok()
                    .and_then(|mut a| a.next())
                {
                    Some(asked) => family(&asked),
                    None => "AF_INET",
                };
                trace::emit(
                    &format!("socket({fam}, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP)"),
                    &fd.to_string(),
                );
                trace::emit(
                    &format!("setsockopt({fd}, SOL_SOCKET, SO_REUSEADDR, [1], 4)"),
                    "0",
                );
                trace::emit(&format!("bind({fd}, {})", wanted(host, port)), "0");
                trace::emit(&format!("listen({fd}, 128)"), "0");
            }
            _ => trace::emit(
                &format!("bind(-1, {})", wanted(host, port)),
                &result(&listener, |_| String::new()),
            ),
        }
    }
    listener
}

/// C: `accept4(fd, &addr, &len, SOCK_CLOEXEC)` on a TCP listener.
pub fn tcp_accept(listener: &TcpListener) -> io::Result<(TcpStream, SocketAddr)> {
    let accepted = listener.accept();
    if trace::enabled() {
        let peer = match &accepted {
            Ok((_, peer)) => format!("{}, {}", sockaddr(peer), filled(peer)),
            Err(_) => "..., [128]".to_string(),
        };
        trace::emit(
            &format!("accept4({}, {peer}, SOCK_CLOEXEC)", listener.as_raw_fd()),
            &result(&accepted, |(stream, _)| stream.as_raw_fd().to_string()),
        );
    }
    accepted
}

/// C: `accept4(fd, NULL, NULL, SOCK_CLOEXEC)` on a Unix domain listener.
pub fn unix_accept(
    listener: &UnixListener,
) -> io::Result<(UnixStream, std::os::unix::net::SocketAddr)> {
    let accepted = listener.accept();
    if trace::enabled() {
        trace::emit(
            &format!(
                "accept4({}, {{sa_family=AF_UNIX}}, [110 => 2], SOCK_CLOEXEC)",
                listener.as_raw_fd()
            ),
            &result(&accepted, |(stream, _)| stream.as_raw_fd().to_string()),
        );
    }
    accepted
}

/// client.c's `socket` + `connect`: `TcpStream::connect_timeout`. std connects without
/// blocking: `ioctl(fd, FIONBIO, [1])`, `connect` (which returns EINPROGRESS at once), `poll`
/// at most `timeout` (not shown, as every poll), `ioctl(fd, FIONBIO, [0])`. A failure is shown
/// as the one `connect` line with `-1` for the descriptor (std has closed it).
pub fn tcp_connect(to: &SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
    let connected = TcpStream::connect_timeout(to, timeout);
    let socket = || {
        format!(
            "socket({}, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP)",
            family(to)
        )
    };
    if trace::enabled() {
        if let Ok(stream) = &connected {
            let fd = stream.as_raw_fd();
            trace::emit(&socket(), &fd.to_string());
            trace::emit(&format!("ioctl({fd}, FIONBIO, [1])"), "0");
            trace::emit(
                &format!("connect({fd}, {})", addr(to)),
                &trace::failure(Errno::EINPROGRESS),
            );
            trace::emit(&format!("ioctl({fd}, FIONBIO, [0])"), "0");
            return connected;
        }
    }
    trace_connect(&connected, socket, || addr(to));
    connected
}

/// The trace lines of a std connect: `socket(...)` and `connect(fd, ADDRESS)` when it worked,
/// else the failed `connect(-1, ADDRESS)`.
fn trace_connect<S: AsRawFd>(
    connected: &io::Result<S>,
    socket: impl FnOnce() -> String,
    to: impl FnOnce() -> String,
) {
    if !trace::enabled() {
        return;
    }
    match connected {
        Ok(stream) => {
            let fd = stream.as_raw_fd();
            trace::emit(&socket(), &fd.to_string());
            trace::emit(&format!("connect({fd}, {})", to()), "0");
        }
        Err(_) => trace::emit(
            &format!("connect(-1, {})", to()),
            &result(connected, |_| String::new()),
        ),
    }
}

/// `{sa_family=AF_UNIX, sun_path="/tmp/sock"}, 13`: std passes the family (2 bytes), the path
/// and its NUL, not the whole 110-byte `sockaddr_un`.
fn unix_addr(path: &Path) -> String {
    let len = 2 + path.as_os_str().len() + 1;
    format!("{{sa_family=AF_UNIX, sun_path={path:?}}}, {len}")
}

/// C: `socket(AF_UNIX, SOCK_STREAM, 0)` + `connect(fd, path)`: `UnixStream::connect`.
pub fn unix_connect(path: &Path) -> io::Result<UnixStream> {
    let connected = UnixStream::connect(path);
    let socket = || "socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0)".to_string();
    trace_connect(&connected, socket, || unix_addr(path));
    connected
}

/// server.c's calls for a Unix domain socket: `socket` + `bind(fd, path)` + `listen`:
/// `UnixListener::bind` (whose backlog is -1: the kernel makes it its maximum, somaxconn).
pub fn unix_listen(path: &Path) -> io::Result<UnixListener> {
    let bound = UnixListener::bind(path);
    if trace::enabled() {
        match &bound {
            Ok(listener) => {
                let fd = listener.as_raw_fd();
                trace::emit(
                    "socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0)",
                    &fd.to_string(),
                );
                trace::emit(&format!("bind({fd}, {})", unix_addr(path)), "0");
                trace::emit(&format!("listen({fd}, -1)"), "0");
            }
            Err(_) => trace::emit(
                &format!("bind(-1, {})", unix_addr(path)),
                &result(&bound, |_| String::new()),
            ),
        }
    }
    bound
}

/// The UDP server's and client's `socket(..., SOCK_DGRAM, ...)` + `bind`: `UdpSocket::bind`.
pub fn udp_bind<A: ToSocketAddrs + Copy + std::fmt::Debug>(at: A) -> io::Result<UdpSocket> {
    let socket = UdpSocket::bind(at);
    if trace::enabled() {
        let asked = at.to_socket_addrs().ok().and_then(|mut a| a.next());
        match (&socket, asked) {
            (Ok(udp), Some(asked)) => {
                let fd = udp.as_raw_fd();
                trace::emit(
                    &format!(
                        "socket({}, SOCK_DGRAM|SOCK_CLOEXEC, IPPROTO_IP)",
                        family(&asked)
                    ),
                    &fd.to_string(),
                );
                trace::emit(&format!("bind({fd}, {})", addr(&asked)), "0");
            }
            _ => trace::emit(
                &format!("bind(-1, {at:?})"),
                &result(&socket, |_| String::new()),
            ),
        }
    }
    socket
}

/// C: `connect(fd, &addr, len)` on a UDP socket: fixes its peer.
pub fn udp_connect(socket: &UdpSocket, to: SocketAddr) -> io::Result<()> {
    let connected = socket.connect(to);
    trace_line(
        || format!("connect({}, {})", socket.as_raw_fd(), addr(&to)),
        &connected,
        |()| "0".to_string(),
    );
    connected
}

/// C: `recvfrom(fd, buf, len, 0, &from, &fromlen)`.
pub fn recv_from(socket: &UdpSocket, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
    let got = socket.recv_from(buf);
    if trace::enabled() {
        let (data, from) = match &got {
            Ok((n, from)) => (
                trace::bytes(&buf[..*n]),
                format!("{}, {}", sockaddr(from), filled(from)),
            ),
            Err(_) => (trace::pointer(buf.as_ptr() as usize), "...".to_string()),
        };
        trace::emit(
            &format!(
                "recvfrom({}, {data}, {}, 0, {from})",
                socket.as_raw_fd(),
                buf.len()
            ),
            &result(&got, |(n, _)| n.to_string()),
        );
    }
    got
}

/// C: `sendto(fd, buf, len, 0, &to, tolen)`; std adds MSG_NOSIGNAL.
pub fn send_to(socket: &UdpSocket, buf: &[u8], to: SocketAddr) -> io::Result<usize> {
    let sent = socket.send_to(buf, to);
    trace_line(
        || {
            format!(
                "sendto({}, {}, {}, MSG_NOSIGNAL, {})",
                socket.as_raw_fd(),
                trace::bytes(buf),
                buf.len(),
                addr(&to)
            )
        },
        &sent,
        usize::to_string,
    );
    sent
}

/// C: `send(fd, buf, len, 0)` on a connected UDP socket: the system call
/// `sendto(fd, buf, len, MSG_NOSIGNAL, NULL, 0)`.
pub fn send(socket: &UdpSocket, buf: &[u8]) -> io::Result<usize> {
    let sent = socket.send(buf);
    trace_line(
        || {
            format!(
                "sendto({}, {}, {}, MSG_NOSIGNAL, NULL, 0)",
                socket.as_raw_fd(),
                trace::bytes(buf),
                buf.len()
            )
        },
        &sent,
        usize::to_string,
    );
    sent
}

/// C: `recv(fd, buf, len, 0)` on a connected UDP socket: the system call
/// `recvfrom(fd, buf, len, 0, NULL, NULL)`.
pub fn recv(socket: &UdpSocket, buf: &mut [u8]) -> io::Result<usize> {
    let got = socket.recv(buf);
    if trace::enabled() {
        let data = match &got {
            Ok(n) => trace::bytes(&buf[..*n]),
            Err(_) => trace::pointer(buf.as_ptr() as usize),
        };
        trace::emit(
            &format!(
                "recvfrom({}, {data}, {}, 0, NULL, NULL)",
                socket.as_raw_fd(),
                buf.len()
            ),
            &result(&got, usize::to_string),
        );
    }
    got
}

/// C: `read(fd, buf, len)` on a connected stream socket; std reads with `recv`, the system
/// call `recvfrom(fd, buf, len, 0, NULL, NULL)`.
pub fn read(stream: &Stream, buf: &mut [u8]) -> io::Result<usize> {
    let got = { stream }.read(buf);
    if trace::enabled() {
        let data = match &got {
            Ok(n) => trace::bytes(&buf[..*n]),
            Err(_) => trace::pointer(buf.as_ptr() as usize),
        };
        trace::emit(
            &format!(
                "recvfrom({}, {data}, {}, 0, NULL, NULL)",
                stream.as_fd().as_raw_fd(),
                buf.len()
            ),
            &result(&got, usize::to_string),
        );
    }
    got
}

/// C: `write(fd, buf, len)` on a connected stream socket; std writes with `send`, the system
/// call `sendto(fd, buf, len, MSG_NOSIGNAL, NULL, 0)`.
pub fn write(stream: &Stream, buf: &[u8]) -> io::Result<usize> {
    let written = { stream }.write(buf);
    trace_line(
        || {
            format!(
                "sendto({}, {}, {}, MSG_NOSIGNAL, NULL, 0)",
                stream.as_fd().as_raw_fd(),
                trace::bytes(buf),
                buf.len()
            )
        },
        &written,
        usize::to_string,
    );
    written
}

/// One trace line for a std call, built only when tracing is on.
fn trace_line<T>(
    call: impl FnOnce() -> String,
    got: &io::Result<T>,
    ok: impl FnOnce(&T) -> String,
) {
    if trace::enabled() {
        trace::emit(&call(), &result(got, ok));
    }
}
