//! What is at the FIFO's path, and whether we may use it: the "File Permissions Are OK" check.
//!
//! A FIFO lives in the file system, so anyone who can create files in /tmp can put something
//! at its path before we do: a regular file (we would append messages to it), a symbolic link
//! (we would follow it somewhere else), a FIFO of another user (who could read our messages or
//! inject their own). The tutorial only checks that `mkfifo` succeeded; we look first and use
//! the path only when it holds a FIFO that is safe to use:
//!
//! 1. it is a FIFO (`S_ISFIFO(st.st_mode)`), not a regular file, directory, socket, device or
//!    symbolic link: `lstat(2)` describes a link itself instead of following it;
//! 2. it is owned by us (`st.st_uid == geteuid()`), unless `--mode` opts into sharing and
//!    is exactly the FIFO's mode (0666: the tutorial's FIFO shared by two users);
//! 3. it grants other users no access beyond what `--mode` asks for (0600 by default: none).
//!
//! The same check runs twice: on `lstat(path)` before we open, so that we never open a device
//! or a stranger's file at all, and on `fstat(fd)` after `open(path, ... | O_NOFOLLOW)`, so that
//! a path swapped between the two calls is caught too (the descriptor is what we will use).

use std::fmt;
use std::path::Path;

use ipc_common::cli::Mode;
use ipc_common::{Error, Result};
use nix::sys::stat::{FileStat, SFlag};
use nix::unistd::geteuid;

/// Which inode a path named when we checked it: (device, inode number), as `ls -i` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    dev: u64,
    ino: u64,
}

impl Identity {
    /// The identity recorded in a `stat` result.
    pub fn of(stat: &FileStat) -> Self {
        Identity {
            dev: stat.st_dev,
            ino: stat.st_ino,
        }
    }
}

/// The file type bits of `st_mode`, in the words `ls -l` and `stat(1)` use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `S_IFIFO`: a named pipe, the only thing we use.
    Fifo,
    /// `S_IFREG`.
    RegularFile,
    /// `S_IFDIR`.
    Directory,
    /// `S_IFLNK` (only `lstat` reports it; `stat` would follow the link).
    Symlink,
    /// `S_IFSOCK`: a Unix domain socket.
    Socket,
    /// `S_IFCHR`.
    CharDevice,
    /// `S_IFBLK`.
    BlockDevice,
    /// Anything else.
    Other,
}

impl Kind {
    /// C: the `S_ISFIFO(m)`, `S_ISREG(m)`, ... macros.
    pub fn of(stat: &FileStat) -> Self {
        let bits = SFlag::from_bits_truncate(stat.st_mode & SFlag::S_IFMT.bits());
        match bits {
            SFlag::S_IFIFO => Kind::Fifo,
            SFlag::S_IFREG => Kind::RegularFile,
            SFlag::S_IFDIR => Kind::Directory,
            SFlag::S_IFLNK => Kind::Symlink,
            SFlag::S_IFSOCK => Kind::Socket,
            SFlag::S_IFCHR => Kind::CharDevice,
            SFlag::S_IFBLK => Kind::BlockDevice,
            _ => Kind::Other,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Fifo => "a FIFO",
            Kind::RegularFile => "a regular file",
            Kind::Directory => "a directory",
            Kind::Symlink => "a symbolic link",
            Kind::Socket => "a socket",
            Kind::CharDevice => "a character device",
            Kind::BlockDevice => "a block device",
            Kind::Other => "a file of an unknown type",
        })
    }
}

/// Checks what `stat` (from `lstat(path)` or `fstat(fd)`) says about `path` against the three
/// rules above; `allowed` is the `--mode` the user gave. Returns the identity of the FIFO.
///
/// Nothing here touches the path: a refusal leaves whatever is there exactly as it was.
pub fn check(path: &Path, stat: &FileStat, allowed: Mode) -> Result<Identity> {
    let what = format!("checking {}", path.display());
    let kind = Kind::of(stat);
    if kind != Kind::Fifo {
        let found = match (kind, std::fs::read_link(path)) {
            (Kind::Symlink, Ok(target)) => format!("{kind} to {}", target.display()),
            _ => kind.to_string(),
        };
        return Err(Error::new(
            what,
            format!("it is {found}, not a FIFO; left it untouched"),
        )
        .with_hint(format!(
            "choose another --path, or remove {} yourself if you do not need it \
             (symbolic links are never followed)",
            path.display()
        )));
    }
    let me = geteuid().as_raw();
    let found_mode = stat.st_mode & 0o777;
    if stat.st_uid != me && allowed.is_open_to_others() && !allowed.admits_foreign(found_mode) {
        // Sharing asked for, but not the mode its owner gave it: the kernel might refuse the
        // open, or the FIFO is open wider than --mode says.
        return Err(Error::new(
            what,
            format!(
                "the FIFO is owned by uid {}, not by you (uid {me}), and its mode {found_mode:04o} \
                 is not the --mode {allowed} asked for",
                stat.st_uid
            ),
        )
        .with_hint(format!(
            "a FIFO of another user is shared only when its mode is the --mode you pass: \
             ask its owner to make it with --mode {allowed}, or choose another --path"
        )));
    }
    if stat.st_uid != me && !allowed.is_open_to_others() {
        return Err(Error::new(
            what,
            format!(
                "the FIFO is owned by uid {}, not by you (uid {me}): its owner can read \
                 or replace what goes through it",
                stat.st_uid
            ),
        )
        .with_hint(format!(
            "choose another --path (a FIFO of your own), or pass --mode 0666 to share {}, \
             the tutorial's world-open FIFO",
            path.display()
        )));
    }
    // Access bits for group and others that the FIFO grants and --mode did not ask for.
    let granted = stat.st_mode & 0o077;
    let extra = granted & !allowed.0;
    if extra != 0 {
        let (verb, risk) = if extra & 0o022 != 0 {
            ("write into it", "inject messages")
        } else {
            ("read from it", "take messages meant for the receiver")
        };
        return Err(Error::new(
            what,
            format!(
                "its mode {:04o} lets other users {verb} ({risk}), which --mode {allowed} does not allow",
                stat.st_mode & 0o777
            ),
        )
        .with_hint(format!(
            "chmod 600 {} to make it private, or pass --mode {:04o} to accept it",
            path.display(),
            allowed.0 | granted
        )));
    }
    Ok(Identity::of(stat))
}
