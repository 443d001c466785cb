//! The textbook's calls, one to one: what examples/msg1.rs and examples/msg2.rs (the ports of
//! *Beginning Linux Programming*'s msg1.c and msg2.c) call, under the C names.
//!
//! | C (msg1.c / msg2.c) | Rust (`use ipc_msgq::textbook::*;`) |
//! |---|---|
//! | `struct my_msg_st some_data;` | `let mut some_data = MyMsgSt::<MAX_TEXT>::new();` |
//! | `msgget((key_t)1234, 0666 \| IPC_CREAT)` | `msgget(1234, 0o666 \| IPC_CREAT)` |
//! | `strcpy(some_data.some_text, buffer)` | `some_data.strcpy(&buffer)` (refuses what does not fit) |
//! | `msgsnd(msgid, (void *)&some_data, MAX_TEXT, 0)` | `msgsnd(msgid, &some_data, MAX_TEXT, 0)` |
//! | `msgrcv(msgid, (void *)&some_data, BUFSIZ, msg_to_receive, 0)` | `msgrcv(msgid, &mut some_data, BUFSIZ, msg_to_receive, 0)` |
//! | `printf("You wrote: %s", some_data.some_text)` | `print!("You wrote: {}", some_data.text())` |
//! | `msgctl(msgid, IPC_RMID, 0)` | `msgctl(msgid, IPC_RMID)` |
//!
//! Each call returns `Result<_, Errno>` instead of C's `-1` plus `errno`; `errno as i32` is the
//! number the C programs print. The full programs (msgq-sender, msgq-receiver) use the same
//! calls through the [`MsgQueue`](crate::MsgQueue) guard, which also checks owners, modes and
//! sizes and removes the queue when done.

use std::borrow::Cow;

use nix::libc::{self, c_int, c_long};

use crate::sys::{msgctl_rmid, msgrcv_st, msgsnd_st};
pub use crate::sys::{msgget, MsqId, MyMsgSt};
pub use nix::errno::Errno;
pub use nix::libc::{IPC_CREAT, IPC_EXCL, IPC_NOWAIT, IPC_RMID};

/// msg2.c's `#define MAX_TEXT 512`: the text buffer it sends whole.
pub const MAX_TEXT: usize = 512;

/// C's `BUFSIZ` (glibc: 8192): msg1.c's text buffer, and the size it asks msgrcv for.
pub const BUFSIZ: usize = libc::BUFSIZ as usize;

impl<const N: usize> MyMsgSt<N> {
    /// A zeroed message (C's `struct my_msg_st some_data;`, which C leaves uninitialized).
    pub fn new() -> Self {
        MyMsgSt {
            my_msg_type: 0,
            some_text: [0; N],
        }
    }

    /// C: `strcpy(some_data.some_text, text)`: the text and its NUL. C copies past the end of
    /// the array when the text is too long; this refuses instead and says why.
    pub fn strcpy(&mut self, text: &str) -> Result<(), String> {
        let bytes = text.as_bytes();
        if bytes.len() >= N {
            return Err(format!(
                "{} bytes and a NUL do not fit in some_text[{N}]",
                bytes.len()
            ));
        }
        self.some_text[..bytes.len()].copy_from_slice(bytes);
        self.some_text[bytes.len()] = 0;
        Ok(())
    }

    /// The text as C's `%s` prints it: the bytes up to the first NUL (all N if there is none),
    /// newline included; invalid UTF-8 shown with replacement characters.
    pub fn text(&self) -> Cow<'_, str> {
        let end = self.some_text.iter().position(|&b| b == 0).unwrap_or(N);
        String::from_utf8_lossy(&self.some_text[..end])
    }
}

impl<const N: usize> Default for MyMsgSt<N> {
    fn default() -> Self {
        Self::new()
    }
}

/// C: `msgsnd(msqid, (void *)&some_data, msgsz, msgflg)`: appends the type and the first
/// `msgsz` bytes of `some_text` (msg2.c sends all MAX_TEXT, whatever the text's length).
/// Blocks while the queue is full unless `msgflg` has `IPC_NOWAIT`.
pub fn msgsnd<const N: usize>(
    msqid: MsqId,
    msgp: &MyMsgSt<N>,
    msgsz: usize,
    msgflg: c_int,
) -> Result<(), Errno> {
    msgsnd_st(msqid, msgp, msgsz, msgflg)
}

/// C: `msgrcv(msqid, (void *)&some_data, msgsz, msgtyp, msgflg)`: takes the first message
/// (`msgtyp` 0) or the first of type `msgtyp`, at most `msgsz` text bytes, and returns its
/// length. Blocks on an empty queue unless `msgflg` has `IPC_NOWAIT`.
pub fn msgrcv<const N: usize>(
    msqid: MsqId,
    msgp: &mut MyMsgSt<N>,
    msgsz: usize,
    msgtyp: c_long,
    msgflg: c_int,
) -> Result<usize, Errno> {
    msgrcv_st(msqid, msgp, msgsz, msgtyp, msgflg)
}

/// C: `msgctl(msqid, IPC_RMID, 0)`: removes the queue and every message still in it. Only
/// `IPC_RMID` is offered here (it takes no buffer, so there is no third argument); the other
/// commands are `EINVAL`. [`MsgQueue::stat`](crate::MsgQueue::stat) is `IPC_STAT`.
pub fn msgctl(msqid: MsqId, cmd: c_int) -> Result<(), Errno> {
    if cmd != IPC_RMID {
        return Err(Errno::EINVAL);
    }
    msgctl_rmid(msqid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strcpy_keeps_the_nul_inside_the_array_and_text_stops_at_it() {
        let mut msg = MyMsgSt::<8>::new();
        msg.strcpy("hello\n").expect("fits");
        assert_eq!(msg.text(), "hello\n");
        assert!(msg.strcpy("1234567").is_ok(), "7 bytes and the NUL fill 8");
        assert!(msg.strcpy("12345678").is_err());
        assert_eq!(
            msg.text(),
            "1234567",
            "a refused copy leaves the text alone"
        );
    }
}
