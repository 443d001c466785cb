//! Named pipes (FIFOs): a pipe with a name in the file system, so that two unrelated processes
//! can find it.
//!
//! An anonymous pipe (crates/pipe) only reaches processes that inherit its descriptors. A FIFO
//! is the same kernel pipe, reached through a path: `mkfifo` puts a special file there, and
//! every `open` of that path joins the same pipe, as reader or as writer. The file holds no
//! data; bytes live in the kernel's pipe buffer (64 KiB by default) while both ends are open.
//!
//! The kernel object's life, with the C calls beside the Rust:
//!
//! | step | C (the tutorial) | Rust (this crate) |
//! |---|---|---|
//! | check | (none) | `lstat(path)` + [`check::check`]: a FIFO, yours, mode as `--mode` allows |
//! | create | `mkfifo("/tmp/my_fifo", 0666)` | [`Fifo::open_or_create`]: `nix::unistd::mkfifo`, mode 0600 |
//! | open (reader) | `open(path, O_RDONLY)`, blocks until a writer comes | [`Fifo::open_reader`]: `O_RDONLY \| O_NONBLOCK \| O_NOFOLLOW`, then `fstat` |
//! | open (writer) | `open(path, O_WRONLY)`, blocks until a reader comes | [`Fifo::open_writer`]: `O_WRONLY \| O_NONBLOCK` retried on `ENXIO` |
//! | use | `write(fd, buf, n)` / `read(fd, buf, n)` | [`FifoWriter`] (one `write` per message, at most `PIPE_BUF`) / [`FifoReader`] (frames or C texts, `--wire`) |
//! | close | `close(fd)` | dropping the `OwnedFd`; the reader sees end-of-file after the last writer closes |
//! | remove | `unlink(path)` (often forgotten) | `Drop` of [`Fifo`], only by the process that created it |
//!
//! What the tutorial lists as the drawbacks of FIFOs, and what these programs do about them:
//! - *an `open` blocks until the other end comes*: both ends open with `O_NONBLOCK`, so Ctrl-C
//!   always works, and `fifo-sender --timeout SECS` gives up instead of waiting for ever;
//! - *anybody may open the path*: the path is checked (type, owner, mode) before and after the
//!   `open`, and created with mode 0600;
//! - *several writers may mix their data*: each message is one atomic write of at most
//!   PIPE_BUF bytes ([`writer`]);
//! - *end-of-file comes when the last writer leaves*: the receiver reopens ([`reader`]).
//!
//! There is no `unsafe` here and so no `sys.rs`: nix wraps every call we need (`mkfifo`,
//! `open`, `fstat`, `lstat`, `unlink`, `umask`, `write`, `poll`, `geteuid`).

#![forbid(unsafe_code)]

pub mod args;
mod calls;
pub mod check;
pub mod fifo;
pub mod reader;
pub mod writer;

pub use args::{FifoArgs, WriterArgs};
pub use fifo::{Fifo, WriterOpen, CREATED, PERMISSIONS_OK};
pub use reader::FifoReader;
pub use writer::{check_fits, check_source, FifoWriter, PIPE_BUF};
