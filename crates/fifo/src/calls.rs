//! The system calls of this crate, each wrapped once so that `--trace` shows it in C notation:
//! `lstat`, `fstat`, `mkfifo`, `umask`, `open`, `unlink`. Same signatures as nix's, so the
//! other modules import these instead. No `unsafe` here: nix makes the calls.
//!
//! The `read`s and `write`s of both ends are traced by `ipc_common::trace::TracedFd`.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::Path;

use ipc_common::trace;
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::{FileStat, Mode};

/// `{st_mode=S_IFIFO|0600, st_uid=1000, ...}`: the fields the FIFO check looks at.
fn show_stat(result: &Result<FileStat, Errno>) -> String {
    match result {
        Ok(stat) => {
            let kind = match stat.st_mode & nix::libc::S_IFMT {
                nix::libc::S_IFIFO => "S_IFIFO",
                nix::libc::S_IFREG => "S_IFREG",
                nix::libc::S_IFDIR => "S_IFDIR",
                nix::libc::S_IFLNK => "S_IFLNK",
                nix::libc::S_IFSOCK => "S_IFSOCK",
                nix::libc::S_IFCHR => "S_IFCHR",
                _ => "S_IF?",
            };
            format!(
                "{{st_mode={kind}|{}, st_uid={}, st_ino={}}}",
                trace::mode(stat.st_mode),
                stat.st_uid,
                stat.st_ino
            )
        }
        Err(_) => "...".to_string(),
    }
}

/// C: `int lstat(const char *path, struct stat *st);` (man 2 lstat)
pub fn lstat(path: &Path) -> Result<FileStat, Errno> {
    let result = nix::sys::stat::lstat(path);
    trace::call(
        || format!("lstat({:?}, {})", path, show_stat(&result)),
        &result,
        |_| "0".to_string(),
    );
    result
}

/// C: `int fstat(int fd, struct stat *st);` (man 2 fstat)
pub fn fstat(fd: &OwnedFd) -> Result<FileStat, Errno> {
    let result = nix::sys::stat::fstat(fd.as_fd());
    trace::call(
        || format!("fstat({}, {})", fd.as_raw_fd(), show_stat(&result)),
        &result,
        |_| "0".to_string(),
    );
    result
}

/// C: `int mkfifo(const char *path, mode_t mode);` (man 3 mkfifo)
pub fn mkfifo(path: &Path, mode: Mode) -> Result<(), Errno> {
    let result = nix::unistd::mkfifo(path, mode);
    trace::call_zero(
        || format!("mkfifo({:?}, {})", path, trace::mode(mode.bits())),
        &result,
    );
    result
}

/// C: `mode_t umask(mode_t mask);` (man 2 umask): never fails, returns the previous mask.
pub fn umask(mask: Mode) -> Mode {
    let previous = nix::sys::stat::umask(mask);
    if trace::enabled() {
        trace::emit(
            &format!("umask({})", trace::mode(mask.bits())),
            &trace::mode(previous.bits()),
        );
    }
    previous
}

/// C: `int open(const char *path, int flags, mode_t mode);` (man 2 open)
pub fn open(path: &Path, flags: OFlag, mode: Mode) -> Result<OwnedFd, Errno> {
    let result = nix::fcntl::open(path, flags, mode);
    trace::call(
        || format!("open({:?}, {})", path, trace::open_flags(flags.bits())),
        &result,
        |fd| fd.as_raw_fd().to_string(),
    );
    result
}

/// C: `int unlink(const char *path);` (man 2 unlink)
pub fn unlink(path: &Path) -> Result<(), Errno> {
    let result = nix::unistd::unlink(path);
    trace::call_zero(|| format!("unlink({path:?})"), &result);
    result
}
