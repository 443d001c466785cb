//! `--trace`: each system call a program makes, in C notation with its result, on stderr.
//!
//! ```text
//! msgget(0x000004d2, 0600|IPC_CREAT|IPC_EXCL) = 32769
//! msgsnd(32769, {mtype=1, "\xfc\x39\x30\x00\x00\x01\x00\x02hi"}, 10, IPC_NOWAIT) = 0
//! msgrcv(32769, 0x5581d2a0c2b0, 8192, 0, IPC_NOWAIT) = -1 ENOMSG (No message of desired type)
//! ```
//!
//! The lines look like `strace`'s on purpose: a C programmer can put the Rust program's calls
//! beside the C program's and see the same kernel conversation. They are printed by the
//! wrappers that make the calls (each crate's `sys.rs`, and the few library functions that call
//! nix directly), never by the binaries: one place per system call.
//!
//! What is *not* shown: the `poll` on the wake-up pipe that every blocking wait does
//! (crates/common/src/signals.rs), the reads of standard input, and the calls std makes for
//! its own reasons (the loader, the allocator, writing these very lines).
//!
//! Cost when off: [`enabled`] is one relaxed atomic load, and the helpers below take closures
//! that are called only when tracing is on, so nothing is formatted or allocated.

use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd};
use std::sync::atomic::{AtomicBool, Ordering};

use nix::errno::Errno;
use nix::libc;

use crate::signals::{self, Interruptible};

/// The switch, set once from `--trace` (see `program::main`).
static ON: AtomicBool = AtomicBool::new(false);

/// How many bytes of a buffer a trace line shows before `...` (strace shows 32 by default).
pub const PREVIEW: usize = 32;

/// Turns tracing on or off for the whole process.
pub fn set_enabled(on: bool) {
    ON.store(on, Ordering::Relaxed);
}

/// True when `--trace` was given. One relaxed atomic load: free enough to call per `read`.
#[inline]
pub fn enabled() -> bool {
    ON.load(Ordering::Relaxed)
}

/// Prints one trace line, `CALL = RESULT`, on stderr (ignoring a failure to print: tracing
/// must never change what the program does).
///
/// The line goes out in one `write`, so that the lines of two processes sharing a stderr pipe
/// (a parent and the child it forked) never mix: a write of at most PIPE_BUF bytes to a pipe
/// is atomic, and stderr is unbuffered, where `writeln!` would write each piece separately.
pub fn emit(call: &str, result: &str) {
    let line = format!("{call} = {result}\n");
    let _ = io::stderr().lock().write_all(line.as_bytes());
}

/// How a failed call ends its line, as strace writes it: `-1 ENOMSG (No message of desired type)`.
pub fn failure(errno: Errno) -> String {
    format!("-1 {errno:?} ({})", errno.desc())
}

/// Traces one call that returned `result`: `call()` renders the call, `ok` the success value.
/// Neither closure runs unless tracing is on.
#[inline]
pub fn call<T>(
    call: impl FnOnce() -> String,
    result: &Result<T, Errno>,
    ok: impl FnOnce(&T) -> String,
) {
    if enabled() {
        let shown = match result {
            Ok(value) => ok(value),
            Err(errno) => failure(*errno),
        };
        emit(&call(), &shown);
    }
}

/// Like [`call`] for calls that return 0 on success (`msgsnd`, `semop`, `shmdt`, `unlink`...).
#[inline]
pub fn call_zero(call: impl FnOnce() -> String, result: &Result<(), Errno>) {
    self::call(call, result, |()| "0".to_string())
}

/// A System V key as `ipcs` shows it: `0x000004d2`.
pub fn key(key: i32) -> String {
    format!("0x{:08x}", key as u32)
}

/// Flags as C writes them: the named bits joined by `|`, then any bits left over in hex;
/// `0` when nothing is set.
pub fn bits(value: i64, names: &[(i64, &str)]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut rest = value;
    for &(bit, name) in names {
        if bit != 0 && rest & bit == bit {
            parts.push(name.to_string());
            rest &= !bit;
        }
    }
    if rest != 0 {
        parts.push(format!("{rest:#x}"));
    }
    if parts.is_empty() {
        "0".to_string()
    } else {
        parts.join("|")
    }
}

/// The flags of `msgget`/`semget`/`shmget`/`msgsnd`/`msgrcv`: the permission bits in octal
/// first (as the tutorial writes `0666 | IPC_CREAT`), then the IPC_* names:
/// `0600|IPC_CREAT|IPC_EXCL`, `IPC_NOWAIT`, `0`.
pub fn ipc_flags(flags: i32) -> String {
    let mode = flags & 0o777;
    let named = bits(
        i64::from(flags & !0o777),
        &[
            (i64::from(libc::IPC_CREAT), "IPC_CREAT"),
            (i64::from(libc::IPC_EXCL), "IPC_EXCL"),
            (i64::from(libc::IPC_NOWAIT), "IPC_NOWAIT"),
            (i64::from(libc::MSG_NOERROR), "MSG_NOERROR"),
            (i64::from(libc::SHM_RDONLY), "SHM_RDONLY"),
        ],
    );
    match (mode, named.as_str()) {
        (0, _) => named,
        (_, "0") => format!("{mode:04o}"),
        (_, _) => format!("{mode:04o}|{named}"),
    }
}

/// The flags of `open`/`pipe2`/`mq_open`: the access mode first, then the O_* names.
pub fn open_flags(flags: i32) -> String {
    let access = match flags & libc::O_ACCMODE {
        libc::O_RDONLY => "O_RDONLY",
        libc::O_WRONLY => "O_WRONLY",
        _ => "O_RDWR",
    };
    let rest = bits(
        i64::from(flags & !libc::O_ACCMODE),
        &[
            (i64::from(libc::O_CREAT), "O_CREAT"),
            (i64::from(libc::O_EXCL), "O_EXCL"),
            (i64::from(libc::O_NONBLOCK), "O_NONBLOCK"),
            (i64::from(libc::O_NOFOLLOW), "O_NOFOLLOW"),
            (i64::from(libc::O_CLOEXEC), "O_CLOEXEC"),
        ],
    );
    if rest == "0" {
        access.to_string()
    } else {
        format!("{access}|{rest}")
    }
}

/// A mode in octal, as C writes it: `0600`.
pub fn mode(mode: u32) -> String {
    format!("{:04o}", mode & 0o7777)
}

/// The first [`PREVIEW`] bytes of a buffer as a C string literal, `...` after it when there is
/// more: printable ASCII as itself, `\n \t \" \\` escaped, every other byte as `\xNN`. A hex
/// digit right after a `\xNN` is written `\xNN` too, because C would read it as part of the
/// escape.
pub fn bytes(data: &[u8]) -> String {
    let mut out = String::with_capacity(PREVIEW * 2 + 5);
    out.push('"');
    let mut after_hex = false;
    for &byte in data.iter().take(PREVIEW) {
        let escaped = match byte {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            b'\n' => Some("\\n"),
            b'\t' => Some("\\t"),
            _ => None,
        };
        let printable = (b' '..=b'~').contains(&byte) && !(after_hex && byte.is_ascii_hexdigit());
        after_hex = false;
        match escaped {
            Some(text) => out.push_str(text),
            None if printable => out.push(byte as char),
            None => {
                let _ = write!(out, "\\x{byte:02x}");
                after_hex = true;
            }
        }
    }
    out.push('"');
    if data.len() > PREVIEW {
        out.push_str("...");
    }
    out
}

/// A pointer as C's `%p` prints it (`NULL` for 0).
pub fn pointer(addr: usize) -> String {
    if addr == 0 {
        "NULL".to_string()
    } else {
        format!("{addr:#x}")
    }
}

/// A descriptor that blocks interruptibly ([`Interruptible`]) and traces each `read` and
/// `write` it makes: `read(3, "\x0b\x00\x00\x00..."..., 65536) = 15`.
///
/// Put it under a buffer (as `stream::FrameReader`/`FrameWriter` do): the
/// lines then show the real system calls, one per buffer refill or flush, not one per frame.
#[derive(Debug)]
pub struct TracedFd<F> {
    inner: Interruptible<F>,
    fd: i32,
}

impl<F: AsFd> TracedFd<F> {
    /// Wraps `fd` (a pipe end, a FIFO, stdin...).
    pub fn new(fd: F) -> Self {
        let number = fd.as_fd().as_raw_fd();
        TracedFd {
            inner: Interruptible::new(fd),
            fd: number,
        }
    }

    /// The wrapped descriptor.
    pub fn get_ref(&self) -> &F {
        self.inner.get_ref()
    }

    /// Gives the wrapped descriptor back.
    pub fn into_inner(self) -> F {
        self.inner.into_inner()
    }

    /// Traces one `read`/`write` of `len` requested bytes. A stop (Ctrl-C) is not a result of
    /// the call and is not shown.
    fn show(&self, name: &str, data: &[u8], len: usize, result: &io::Result<usize>) {
        if !enabled() {
            return;
        }
        let shown = match result {
            Ok(n) => n.to_string(),
            Err(err) if signals::is_stop(err) => return,
            Err(err) => match err.raw_os_error() {
                Some(code) => failure(Errno::from_raw(code)),
                None => format!("-1 ({err})"),
            },
        };
        emit(
            &format!("{name}({}, {}, {len})", self.fd, bytes(data)),
            &shown,
        );
    }
}

impl<F: AsFd> Read for TracedFd<F> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let result = self.inner.read(buf);
        if enabled() {
            let got = *result.as_ref().unwrap_or(&0);
            self.show("read", &buf[..got], buf.len(), &result);
        }
        result
    }
}

impl<F: AsFd> Write for TracedFd<F> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let result = self.inner.write(buf);
        self.show("write", buf, buf.len(), &result);
        result
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipc_flags_read_like_the_tutorial() {
        let creat = libc::IPC_CREAT;
        assert_eq!(ipc_flags(0o600 | creat), "0600|IPC_CREAT");
        assert_eq!(
            ipc_flags(0o666 | creat | libc::IPC_EXCL),
            "0666|IPC_CREAT|IPC_EXCL"
        );
        assert_eq!(ipc_flags(libc::IPC_NOWAIT), "IPC_NOWAIT");
        assert_eq!(ipc_flags(0o600), "0600");
        assert_eq!(ipc_flags(0), "0");
    }

    #[test]
    fn open_flags_start_with_the_access_mode() {
        assert_eq!(
            open_flags(libc::O_WRONLY | libc::O_NONBLOCK),
            "O_WRONLY|O_NONBLOCK"
        );
        assert_eq!(open_flags(libc::O_RDONLY), "O_RDONLY");
        assert_eq!(open_flags(libc::O_CLOEXEC), "O_RDONLY|O_CLOEXEC");
    }

    #[test]
    fn unknown_bits_are_shown_in_hex() {
        assert_eq!(bits(0x1 | 0x40, &[(0x1, "A")]), "A|0x40");
        assert_eq!(bits(0, &[(0x1, "A")]), "0");
    }

    #[test]
    fn buffers_are_quoted_escaped_and_cut() {
        assert_eq!(bytes(b"hello"), "\"hello\"");
        assert_eq!(bytes(b"a\"b\\c\n\x00\xff"), r#""a\"b\\c\n\x00\xff""#);
        let long = [b'x'; PREVIEW + 1];
        assert_eq!(bytes(&long), format!("\"{}\"...", "x".repeat(PREVIEW)));
        assert_eq!(bytes(b"\xfbab\x01m"), r#""\xfb\x61\x62\x01m""#);
    }

    #[test]
    fn failures_name_the_errno_like_strace() {
        assert_eq!(
            failure(Errno::ENOMSG),
            "-1 ENOMSG (No message of desired type)"
        );
        assert_eq!(key(1234), "0x000004d2");
        assert_eq!(pointer(0), "NULL");
        assert_eq!(mode(0o600), "0600");
    }
}
