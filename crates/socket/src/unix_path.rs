//! The file a Unix domain server socket lives at, and the guard that removes it.
//!
//! `bind(fd, "/tmp/sock")` on an `AF_UNIX` socket creates a file of type socket at that path.
//! Closing the socket does **not** remove it: the tutorial's server calls `unlink()` before
//! `bind()` to clear the one a previous run left, which also deletes whatever else was there.
//! We are more careful:
//!
//! - nothing at the path: bind;
//! - a socket that nobody listens on (`connect` is refused): stale, left by a dead server:
//!   remove it, say so, bind;
//! - a socket with a live server behind it: refuse (two servers on one path steal each
//!   other's clients). The check is a `connect`, so that server sees a client that connects
//!   and leaves at once;
//! - anything else (a regular file, a directory, a FIFO): refuse, and leave it as it was.
//!
//! [`SocketPath`] then owns the file and unlinks it in `Drop`, but only if the path still
//! holds the very socket we created (same device and inode).

use std::io::ErrorKind;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};

use nix::sys::stat::{umask, Mode as UmaskMode};

use ipc_common::cli::Mode;
use ipc_common::{program, Context, Error, Result};

/// The bytes of `sun_path` in `struct sockaddr_un`, the trailing NUL included.
pub const SUN_PATH_MAX: usize = 108;

/// Owns the socket file of a Unix domain server: unlinks it when dropped.
#[derive(Debug)]
pub struct SocketPath {
    path: PathBuf,
    dev: u64,
    ino: u64,
}

impl SocketPath {
    /// C: `socket(AF_UNIX, SOCK_STREAM, 0)`, `bind(fd, path)` with the file's permissions set
    /// to `mode` (through `umask`, so the socket is never reachable with wider permissions),
    /// then `listen(fd, 128)`. Clears a stale socket first and refuses anything else.
    pub fn bind(path: &Path, mode: Mode) -> Result<(UnixListener, SocketPath)> {
        check_length(path)?;
        clear_stale(path)?;
        // C: old = umask(~mode & 0777); bind(...); umask(old). The process is still
        // single-threaded where files are concerned (ctrlc's thread creates none).
        let old = umask(UmaskMode::from_bits_truncate(!mode.0 & 0o777));
        let bound = crate::calls::unix_listen(path);
        umask(old);
        let listener = bound.map_err(|err| {
            let error = Error::io(format!("binding the Unix socket {}", path.display()), &err);
            match err.kind() {
                ErrorKind::NotFound => error
                    .with_hint("the directory must exist; create it or choose another --unix path"),
                ErrorKind::PermissionDenied => {
                    error.with_hint("choose a path in a directory you can write, e.g. /tmp")
                }
                _ => error,
            }
        })?;
        let meta = std::fs::symlink_metadata(path).context(format!(
            "checking the socket file {} just created",
            path.display()
        ))?;
        let guard = SocketPath {
            path: path.to_path_buf(),
            dev: meta.dev(),
            ino: meta.ino(),
        };
        ipc_common::ownership::record_socket(path);
        Ok((listener, guard))
    }

    /// The path of the socket file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for SocketPath {
    /// C: `unlink(path)`, if the path still holds our socket.
    fn drop(&mut self) {
        let ours = std::fs::symlink_metadata(&self.path)
            .is_ok_and(|meta| meta.dev() == self.dev && meta.ino() == self.ino);
        if !ours {
            ipc_common::ownership::forget_socket(&self.path); // ours is gone: so is its record
            eprintln!(
                "{}: warning: {} is no longer our socket; leaving it alone",
                program::name(),
                self.path.display()
            );
            return;
        }
        match std::fs::remove_file(&self.path) {
            Ok(()) => {
                ipc_common::ownership::forget_socket(&self.path);
                eprintln!(
                    "{}: removed the socket file {}",
                    program::name(),
                    self.path.display()
                )
            }
            Err(err) => eprintln!(
                "{}: warning: could not remove {}: {}",
                program::name(),
                self.path.display(),
                Error::io("unlink", &err)
            ),
        }
    }
}

/// `sun_path` holds 108 bytes with the terminating NUL: refuse a longer path with a clear error.
pub fn check_length(path: &Path) -> Result<()> {
    let len = path.as_os_str().len();
    if len >= SUN_PATH_MAX {
        return Err(Error::usage(
            format!("the Unix socket path {}", path.display()),
            format!(
                "{len} bytes is too long: sun_path holds {} bytes with its final NUL",
                SUN_PATH_MAX - 1
            ),
        )
        .with_hint("choose a shorter path, e.g. under /tmp"));
    }
    Ok(())
}

/// Makes `path` free for `bind`, or explains why we will not (see the module docs).
fn clear_stale(path: &Path) -> Result<()> {
    let shown = path.display();
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(err) if err.kind() == ErrorKind::NotFound => return Ok(()),
        Err(err) => return Err(Error::io(format!("checking {shown}"), &err)),
    };
    if !meta.file_type().is_socket() {
        return Err(Error::new(
            format!("binding the Unix socket {shown}"),
            format!(
                "{shown} exists and is {}, not a socket; refusing to replace it",
                describe(&meta)
            ),
        )
        .with_hint("remove it yourself if it is not needed, or choose another --unix path"));
    }
    // A socket file: is a server listening behind it? C: connect(fd, path).
    match UnixStream::connect(path) {
        Ok(_) => Err(Error::new(
            format!("binding the Unix socket {shown}"),
            "another server is listening on it",
        )
        .with_hint("stop that server first, or choose another --unix path")),
        Err(err) if err.kind() == ErrorKind::ConnectionRefused => {
            if let Err(err) = std::fs::remove_file(path) {
                let error = Error::io(format!("removing the stale socket {shown}"), &err);
                // In a sticky directory such as /tmp only the file's owner (or root) may
                // unlink it: say whose it is instead of a bare EACCES/EPERM.
                return Err(if meta.uid() != nix::unistd::geteuid().as_raw() {
                    error.with_hint(format!(
                        "{}, or choose another --unix path",
                        ipc_common::cli::not_ours_to_remove(
                            "the socket file",
                            meta.uid(),
                            &format!("rm {shown}")
                        )
                    ))
                } else {
                    error
                });
            }
            eprintln!(
                "{}: removed a stale socket at {shown} (its server is no longer running)",
                program::name()
            );
            Ok(())
        }
        Err(err) => {
            let error = Error::io(
                format!("checking whether a server listens on {shown}"),
                &err,
            );
            Err(if meta.uid() != nix::unistd::geteuid().as_raw() {
                error.with_hint(format!(
                    "{shown} is a socket of {}: choose another --unix path",
                    ipc_common::cli::owner_name(meta.uid())
                ))
            } else {
                error
            })
        }
    }
}

/// What kind of file this is, in words, for the refusal message.
fn describe(meta: &std::fs::Metadata) -> &'static str {
    let kind = meta.file_type();
    if kind.is_file() {
        "a regular file"
    } else if kind.is_dir() {
        "a directory"
    } else if kind.is_symlink() {
        "a symbolic link"
    } else if kind.is_fifo() {
        "a FIFO"
    } else {
        "a device or other special file"
    }
}
