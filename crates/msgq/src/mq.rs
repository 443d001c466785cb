//! The POSIX message-queue calls, each wrapped once so that `--trace` shows it in C notation:
//! `mq_open`, `mq_getattr`, `mq_close`, `mq_unlink` from nix (same signatures as
//! `nix::mqueue`'s), `fchmod` and `fstat` on the queue's descriptor, and `mq_timedsend`, `mq_timedreceive` from [`crate::sys`] (nix has no
//! `mq_timedsend`). [`crate::posix`] imports these instead; no `unsafe` here.
//!
//! On Linux a `mqd_t` is a file descriptor, so the traces show it as a number, like strace.

use std::os::fd::{AsFd, AsRawFd};

use ipc_common::trace;
use nix::errno::Errno;
use nix::libc::c_int;
use nix::mqueue::{self, MQ_OFlag, MqAttr, MqdT};
use nix::sys::stat::Mode;
use nix::sys::time::TimeSpec;

use crate::sys;

fn number(mqd: &MqdT) -> c_int {
    mqd.as_fd().as_raw_fd()
}

fn show_attr(attr: &MqAttr) -> String {
    // mq_flags holds one flag only: O_NONBLOCK.
    let nonblocking = attr.flags() & nix::mqueue::mq_attr_member_t::from(nix::libc::O_NONBLOCK);
    format!(
        "{{mq_flags={}, mq_maxmsg={}, mq_msgsize={}, mq_curmsgs={}}}",
        if nonblocking != 0 { "O_NONBLOCK" } else { "0" },
        attr.maxmsg(),
        attr.msgsize(),
        attr.curmsgs()
    )
}

/// C: `mqd_t mq_open(const char *name, int oflag, mode_t mode, struct mq_attr *attr);`
pub fn mq_open(
    name: &str,
    flags: MQ_OFlag,
    mode: Mode,
    attr: Option<&MqAttr>,
) -> Result<MqdT, Errno> {
    let result = mqueue::mq_open(name, flags, mode, attr);
    trace::call(
        || {
            let flags = trace::open_flags(flags.bits());
            match (flags.contains("O_CREAT"), attr) {
                (false, _) => format!("mq_open(\"{name}\", {flags})"),
                (true, None) => format!(
                    "mq_open(\"{name}\", {flags}, {}, NULL)",
                    trace::mode(mode.bits())
                ),
                (true, Some(attr)) => format!(
                    "mq_open(\"{name}\", {flags}, {}, {})",
                    trace::mode(mode.bits()),
                    show_attr(attr)
                ),
            }
        },
        &result,
        |mqd| number(mqd).to_string(),
    );
    result
}

/// A deadline as strace writes a `struct timespec`: `{tv_sec=0, tv_nsec=0}`.
fn show_deadline(deadline: &TimeSpec) -> String {
    format!(
        "{{tv_sec={}, tv_nsec={}}}",
        deadline.tv_sec(),
        deadline.tv_nsec()
    )
}

/// True for the result of a wait that ran out at a real deadline: not traced (see below).
fn timed_out_waiting(result: Result<(), Errno>, deadline: &TimeSpec) -> bool {
    result == Err(Errno::ETIMEDOUT) && *deadline != TimeSpec::new(0, 0)
}

/// C: `int mq_timedsend(mqd_t mqdes, const char *msg_ptr, size_t msg_len, unsigned int
/// msg_prio, const struct timespec *abs_timeout);` (the call is in [`crate::sys`]).
///
/// A wait that reaches its deadline (`ETIMEDOUT` with a deadline other than `{0, 0}`) is not
/// traced: the caller checks for Ctrl-C and waits again, and ten such lines a second would
/// bury the calls that matter. A try (deadline `{0, 0}`) that finds the queue full is traced.
pub fn mq_timedsend(
    mqd: &MqdT,
    message: &[u8],
    priority: u32,
    deadline: &TimeSpec,
) -> Result<(), Errno> {
    let result = sys::mq_timedsend(mqd.as_fd(), message, priority, deadline);
    if !timed_out_waiting(result, deadline) {
        trace::call_zero(
            || {
                format!(
                    "mq_timedsend({}, {}, {}, {priority}, {})",
                    number(mqd),
                    trace::bytes(message),
                    message.len(),
                    show_deadline(deadline)
                )
            },
            &result,
        );
    }
    result
}

/// C: `ssize_t mq_timedreceive(mqd_t mqdes, char *msg_ptr, size_t msg_len, unsigned int
/// *msg_prio, const struct timespec *abs_timeout);` (the call is in [`crate::sys`]).
///
/// Receives into `buf` (emptied, then exactly the message), with room for `capacity` bytes.
/// Traced as [`mq_timedsend`]: a wait that reaches its deadline is not shown.
pub fn mq_timedreceive(
    mqd: &MqdT,
    buf: &mut Vec<u8>,
    capacity: usize,
    priority: &mut u32,
    deadline: &TimeSpec,
) -> Result<usize, Errno> {
    let result = sys::mq_timedreceive(mqd.as_fd(), buf, capacity, priority, deadline);
    if !timed_out_waiting(result.map(drop), deadline) {
        trace::call(
            || {
                let (data, prio) = match result {
                    Ok(_) => (trace::bytes(buf), format!("[{priority}]")),
                    Err(_) => (
                        trace::pointer(buf.as_ptr() as usize),
                        trace::pointer(std::ptr::from_ref(priority) as usize),
                    ),
                };
                format!(
                    "mq_timedreceive({}, {data}, {capacity}, {prio}, {})",
                    number(mqd),
                    show_deadline(deadline)
                )
            },
            &result,
            usize::to_string,
        );
    }
    result
}

/// C: `int mq_getattr(mqd_t mqdes, struct mq_attr *attr);`
pub fn mq_getattr(mqd: &MqdT) -> Result<MqAttr, Errno> {
    let result = mqueue::mq_getattr(mqd);
    trace::call(
        || {
            let attr = match &result {
                Ok(attr) => show_attr(attr),
                Err(_) => "...".to_string(),
            };
            format!("mq_getattr({}, {attr})", number(mqd))
        },
        &result,
        |_| "0".to_string(),
    );
    result
}

/// C: `int fchmod(int fd, mode_t mode);` on the queue's descriptor (a `mqd_t` is one): sets
/// the exact mode after `mq_open`, which applied the umask.
pub fn fchmod(mqd: &MqdT, mode: nix::sys::stat::Mode) -> Result<(), Errno> {
    let result = nix::sys::stat::fchmod(mqd.as_fd(), mode);
    trace::call_zero(
        || format!("fchmod({}, {:04o})", number(mqd), mode.bits()),
        &result,
    );
    result
}

/// C: `int fstat(int fd, struct stat *st);` on the queue's descriptor: its owner and mode.
/// glibc makes it the system call `newfstatat(fd, "", &st, AT_EMPTY_PATH)`, as strace shows.
pub fn fstat(mqd: &MqdT) -> Result<nix::sys::stat::FileStat, Errno> {
    let result = nix::sys::stat::fstat(mqd.as_fd());
    trace::call(
        || {
            let st = match &result {
                Ok(st) => format!(
                    "{{st_mode=S_IFREG|{:04o}, st_size={}, ...}}",
                    st.st_mode & 0o7777,
                    st.st_size
                ),
                Err(_) => "0x...".to_string(),
            };
            format!("newfstatat({}, \"\", {st}, AT_EMPTY_PATH)", number(mqd))
        },
        &result,
        |_| "0".to_string(),
    );
    result
}

/// C: `int mq_close(mqd_t mqdes);`
pub fn mq_close(mqd: MqdT) -> Result<(), Errno> {
    let fd = number(&mqd);
    let result = mqueue::mq_close(mqd);
    trace::call_zero(|| format!("mq_close({fd})"), &result);
    result
}

/// C: `int mq_unlink(const char *name);`
pub fn mq_unlink(name: &str) -> Result<(), Errno> {
    let result = mqueue::mq_unlink(name);
    trace::call_zero(|| format!("mq_unlink(\"{name}\")"), &result);
    result
}
