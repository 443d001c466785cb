//! The client's side of the rendezvous: client.c's `gethostbyname` + `socket` + `connect`.
//!
//! `connect(2)` on a blocking socket and the resolver (`getaddrinfo(3)`) may each wait for
//! seconds on a slow network, and neither notices Ctrl-C (ctrlc installs its handler with
//! `SA_RESTART`). std offers no non-blocking connect, so each of them runs on a short-lived
//! helper thread while this thread waits for its answer and checks for a stop every 50 ms:
//! Ctrl-C ends the client at once, and the helper dies with the process.

use std::io::{self, ErrorKind};
use std::net::{SocketAddr, ToSocketAddrs};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use ipc_common::error::describe_errno;
use ipc_common::{signals, Error, Result};
use nix::errno::Errno;

use crate::stream::Stream;
use crate::unix_path::check_length;
use crate::START_SERVER_HINT;

/// How often the waiting thread checks for Ctrl-C.
const CHECK_EVERY: Duration = Duration::from_millis(50);

/// `host:port` as people write it: `localhost:9734`, `[::1]:9734`.
pub fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// C: `getaddrinfo(host, port, ...)` (the tutorial's `gethostbyname`): every address of
/// `host`, IPv6 and IPv4, in the resolver's order of preference.
pub fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>> {
    let bare = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let lookup = bare.clone();
    let addrs = interruptible(move || {
        (lookup.as_str(), port)
            .to_socket_addrs()
            .map(Iterator::collect::<Vec<_>>)
    })?
    .map_err(|err| {
        Error::io(format!("resolving {bare}"), &err).with_hint(
            "check the host name; localhost, 127.0.0.1 and ::1 always work for a local server",
        )
    })?;
    if addrs.is_empty() {
        return Err(Error::new(
            format!("resolving {bare}"),
            "the name has no address",
        ));
    }
    Ok(addrs)
}

/// Connects to `host:port` over TCP, trying every address `host` resolves to until one
/// accepts (C: the loop over `getaddrinfo`'s list, `connect` on each). Each attempt gives up
/// after `timeout`. Returns the connected stream and the address that answered.
pub fn connect_tcp(host: &str, port: u16, timeout: Duration) -> Result<(Stream, SocketAddr)> {
    let addrs = resolve(host, port)?;
    connect_first(&addrs, &host_port(host, port), timeout)
}

/// C: `connect` to each address in turn until one accepts; `target` names them in the error.
pub fn connect_first(
    addrs: &[SocketAddr],
    target: &str,
    timeout: Duration,
) -> Result<(Stream, SocketAddr)> {
    let mut failures = Vec::new();
    for &addr in addrs {
        match interruptible(move || crate::calls::tcp_connect(&addr, timeout))? {
            Ok(tcp) => return Ok((Stream::Tcp(tcp).prepare()?, addr)),
            Err(err) => failures.push((addr, err)),
        }
    }
    Err(connect_error(target, &failures))
}

/// C: `socket(AF_UNIX, SOCK_STREAM, 0)` + `connect(fd, path)`.
pub fn connect_unix(path: &Path) -> Result<Stream> {
    check_length(path)?;
    let shown = path.display().to_string();
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if !meta.file_type().is_socket() {
            return Err(Error::new(
                format!("connecting to {shown}"),
                "it exists but is not a socket",
            )
            .with_hint("pass the path socket-server --unix was started with"));
        }
    }
    let target: PathBuf = path.to_path_buf();
    match interruptible(move || crate::calls::unix_connect(&target))? {
        Ok(unix) => Stream::Unix(unix).prepare(),
        Err(err) => Err(match err.kind() {
            ErrorKind::ConnectionRefused => Error::new(
                format!("connection refused by {shown}"),
                "the socket file is there but no server is listening on it (ECONNREFUSED)",
            )
            .with_hint(format!("start socket-server --unix {shown} (it replaces the stale socket), or run make demo-socket")),
            ErrorKind::NotFound => Error::new(format!("connecting to {shown}"), "no socket at this path (ENOENT)")
                .with_hint(format!("start socket-server --unix {shown} first, or run make demo-socket")),
            // connect needs write permission on the socket file: the server's --mode decides.
            ErrorKind::PermissionDenied => {
                let error = Error::io(format!("connecting to {shown}"), &err);
                match std::fs::symlink_metadata(path) {
                    Ok(meta) if meta.uid() != nix::unistd::geteuid().as_raw() => error.with_hint(format!(
                        "the socket belongs to {} with mode {:04o}: its server lets other users connect \
                         only when started with --mode 0666",
                        ipc_common::cli::owner_name(meta.uid()),
                        meta.mode() & 0o777
                    )),
                    _ => error,
                }
            }
            _ => Error::io(format!("connecting to {shown}"), &err),
        }),
    }
}

/// One error for all the failed addresses of a host. When every one refused, the contract's
/// `connection refused by localhost:9734` with the hint to start the server.
pub fn connect_error(target: &str, failures: &[(SocketAddr, io::Error)]) -> Error {
    let refused = failures
        .iter()
        .all(|(_, err)| err.kind() == ErrorKind::ConnectionRefused);
    let tried = failures
        .iter()
        .map(|(addr, err)| format!("{addr}: {}", describe(err)))
        .collect::<Vec<_>>()
        .join("; ");
    if refused {
        let addrs = failures
            .iter()
            .map(|(addr, _)| addr.to_string())
            .collect::<Vec<_>>()
            .join(" or ");
        Error::new(
            format!("connection refused by {target}"),
            format!("no server is listening on {addrs} (ECONNREFUSED)"),
        )
        .with_hint(START_SERVER_HINT)
    } else {
        Error::new(format!("connecting to {target}"), tried)
    }
}

/// An I/O error in words, with the errno's name where there is one.
fn describe(err: &io::Error) -> String {
    match err.raw_os_error() {
        Some(code) => describe_errno(Errno::from_raw(code)),
        None => err.to_string(),
    }
}

/// Runs `work` on a helper thread; returns its result, or `Err(interrupted)` on Ctrl-C.
fn interruptible<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("connect".into())
        .spawn(move || {
            let _ = tx.send(work());
        })
        .map_err(|err| Error::io("starting a helper thread", &err))?;
    loop {
        signals::check()?;
        match rx.recv_timeout(CHECK_EVERY) {
            Ok(result) => return Ok(result),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                return Err(Error::new("connecting", "the helper thread failed"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    fn refused_addr() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address") // closed when `listener` drops
    }

    #[test]
    fn every_address_is_tried_until_one_accepts() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let good = listener.local_addr().expect("address");
        let (_, used) = connect_first(&[refused_addr(), good], "test", Duration::from_secs(5))
            .expect("connects");
        assert_eq!(used, good);
    }

    #[test]
    fn when_all_refuse_the_error_names_the_target_and_each_address() {
        let (a, b) = (refused_addr(), refused_addr());
        let err = connect_first(&[a, b], "localhost:9", Duration::from_secs(5))
            .expect_err("nobody listens");
        assert_eq!(
            err.to_string(),
            format!("connection refused by localhost:9: no server is listening on {a} or {b} (ECONNREFUSED)")
        );
        assert_eq!(err.hint(), Some(START_SERVER_HINT));
    }

    #[test]
    fn ipv6_hosts_get_brackets() {
        assert_eq!(host_port("::1", 9734), "[::1]:9734");
        assert_eq!(host_port("localhost", 9734), "localhost:9734");
    }
}
