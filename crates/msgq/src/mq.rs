//! The POSIX message-queue calls of nix, each wrapped once so that `--trace` shows it in C
//! notation: `mq_open`, `mq_send`, `mq_receive`, `mq_getattr`, `mq_close`, `mq_unlink`
//! (man 3 mq_open and its neighbours). Same signatures as `nix::mqueue`'s, so [`crate::posix`]
//! imports these instead; no `unsafe` here (nix does it).
//!
//! On Linux a `mqd_t` is a file descriptor, so the traces show it as a number, like strace.

use std::os::fd::{AsFd, AsRawFd};

use ipc_common::trace;
use nix::errno::Errno;
use nix::libc::c_int;
use nix::mqueue::{self, MQ_OFlag, MqAttr, MqdT};
use nix::sys::stat::Mode;

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

/// C: `int mq_send(mqd_t mqdes, const char *msg_ptr, size_t msg_len, unsigned int msg_prio);`
pub fn mq_send(mqd: &MqdT, message: &[u8], priority: u32) -> Result<(), Errno> {
    let result = mqueue::mq_send(mqd, message, priority);
    trace::call_zero(
        || {
            format!(
                "mq_send({}, {}, {}, {priority})",
                number(mqd),
                trace::bytes(message),
                message.len()
            )
        },
        &result,
    );
    result
}

/// C: `ssize_t mq_receive(mqd_t mqdes, char *msg_ptr, size_t msg_len, unsigned int *msg_prio);`
pub fn mq_receive(mqd: &MqdT, message: &mut [u8], priority: &mut u32) -> Result<usize, Errno> {
    let result = mqueue::mq_receive(mqd, message, priority);
    trace::call(
        || {
            let (data, prio) = match result {
                Ok(len) => (trace::bytes(&message[..len]), format!("[{priority}]")),
                Err(_) => (
                    trace::pointer(message.as_ptr() as usize),
                    trace::pointer(std::ptr::from_ref(priority) as usize),
                ),
            };
            format!(
                "mq_receive({}, {data}, {}, {prio})",
                number(mqd),
                message.len()
            )
        },
        &result,
        usize::to_string,
    );
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
