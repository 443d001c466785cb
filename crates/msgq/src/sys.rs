//! The four System V message-queue calls, as safe functions: msgget, msgsnd, msgrcv, msgctl
//! (msgsnd and msgrcv twice: with our [`MsgBuf`] of any size, and with the textbook's
//! [`MyMsgSt`] for the examples);
//! and the two timed POSIX queue calls nix lacks or wraps too narrowly: mq_timedsend,
//! mq_timedreceive.
//!
//! nix wraps POSIX message queues but has **no System V IPC**, so this file calls `nix::libc`
//! directly. It is the only file of the crate with `unsafe`: each function checks the C result
//! with `Errno::result` (`-1` means "look at errno") and each `unsafe` block says which
//! invariant makes the call sound.
//!
//! The message buffer is the one thing to get right. msgsnd(2) and msgrcv(2) take a pointer to
//!
//! ```c
//! struct msgbuf {
//!     long mtype;       /* message type, must be > 0 */
//!     char mtext[];     /* message data: msgsz bytes */
//! };
//! ```
//!
//! and `msgsz` counts only the bytes of `mtext`, not the `long` in front of them. [`MsgBuf`]
//! is that layout in Rust: a `#[repr(C)]` header (`c_long` type + zero-length text) at the start
//! of a buffer of `c_long` words, so the type is aligned as C expects and the text follows it.

use std::fmt;
use std::mem::{offset_of, size_of, MaybeUninit};
use std::os::fd::{AsRawFd, BorrowedFd};

use ipc_common::trace;
use nix::errno::Errno;
use nix::libc::{self, c_int, c_long, key_t};
use nix::sys::time::TimeSpec;

/// A message queue identifier: what msgget returns and every other call takes (C: `int msqid`).
/// `ipcs -q` shows it in the `msqid` column; `ipcrm -q ID` removes the queue by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MsqId(c_int);

impl MsqId {
    /// The number, as `ipcs` shows it.
    pub fn raw(self) -> c_int {
        self.0
    }
}

impl fmt::Display for MsqId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// C: `int msgget(key_t key, int msgflg);` (man 2 msgget).
///
/// Finds the queue with `key`, or creates one when `flags` has `IPC_CREAT` (with `IPC_EXCL`:
/// only creates, `EEXIST` if it exists). The low 9 bits of `flags` are the new queue's mode.
pub fn msgget(key: key_t, flags: c_int) -> Result<MsqId, Errno> {
    // SAFETY: msgget takes two integers by value and touches no memory of this process.
    let id = unsafe { libc::msgget(key, flags) };
    let result = Errno::result(id).map(MsqId);
    trace::call(
        || format!("msgget({}, {})", trace::key(key), trace::ipc_flags(flags)),
        &result,
        MsqId::to_string,
    );
    result
}

/// The start of C's `struct msgbuf`: the type, then the text (a flexible array member,
/// `char mtext[]`, written here as a zero-length array: its bytes follow the struct).
#[repr(C)]
struct MsgBufHeader {
    mtype: c_long,
    mtext: [u8; 0],
}

/// The text starts right after the type, with no padding: checked when the crate compiles.
const TEXT_OFFSET: usize = offset_of!(MsgBufHeader, mtext);
const _: () = assert!(TEXT_OFFSET == size_of::<c_long>());

/// A message buffer for msgsnd/msgrcv: one `c_long` type followed by `capacity` text bytes.
///
/// Stored as `c_long` words so that the type is correctly aligned; not `Clone` (one buffer per
/// queue, reused for every message).
pub struct MsgBuf {
    /// words[0] is `mtype`; the text bytes occupy words[1..].
    words: Vec<c_long>,
    capacity: usize,
}

impl fmt::Debug for MsgBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MsgBuf")
            .field("mtype", &self.mtype())
            .field("capacity", &self.capacity)
            .finish()
    }
}

impl MsgBuf {
    /// A zeroed buffer with room for `capacity` bytes of text (the `msgsz` of msgrcv).
    pub fn with_capacity(capacity: usize) -> Self {
        let words = 1 + capacity.div_ceil(size_of::<c_long>());
        MsgBuf {
            words: vec![0; words],
            capacity,
        }
    }

    /// How many text bytes fit.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The message type (C: `buf.mtype`).
    pub fn mtype(&self) -> c_long {
        self.words[0]
    }

    /// Sets the message type (C: `buf.mtype = 1;`).
    pub fn set_mtype(&mut self, mtype: c_long) {
        self.words[0] = mtype;
    }

    /// All `capacity` text bytes (C: `buf.mtext`).
    pub fn text(&self) -> &[u8] {
        // SAFETY: `words` holds 1 + ceil(capacity / size_of::<c_long>()) initialized words, so
        // the `capacity` bytes starting TEXT_OFFSET (= one word) bytes in lie inside it; u8 has
        // no alignment or validity requirement; the slice borrows `self`, so the Vec can neither
        // move nor be freed while it lives.
        unsafe {
            std::slice::from_raw_parts(
                self.words.as_ptr().cast::<u8>().add(TEXT_OFFSET),
                self.capacity,
            )
        }
    }

    /// All `capacity` text bytes, to fill in before msgsnd.
    pub fn text_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `text`; the slice borrows `self` mutably, so it is the only access.
        unsafe {
            std::slice::from_raw_parts_mut(
                self.words.as_mut_ptr().cast::<u8>().add(TEXT_OFFSET),
                self.capacity,
            )
        }
    }

    fn header(&self) -> *const MsgBufHeader {
        self.words.as_ptr().cast()
    }

    fn header_mut(&mut self) -> *mut MsgBufHeader {
        self.words.as_mut_ptr().cast()
    }
}

/// C: `int msgsnd(int msqid, const void *msgp, size_t msgsz, int msgflg);` (man 2 msgsnd).
///
/// Appends one message: the type in `buf` and the first `len` text bytes. Blocks while the
/// queue is full, unless `flags` has `IPC_NOWAIT` (then `EAGAIN`). Never restarted after a
/// signal handler: a signal makes it fail with `EINTR`. `len` larger than the buffer is `EINVAL`.
pub fn msgsnd(id: MsqId, buf: &MsgBuf, len: usize, flags: c_int) -> Result<(), Errno> {
    if len > buf.capacity() {
        return Err(Errno::EINVAL);
    }
    // SAFETY: `buf.header()` points to a live, c_long-aligned msgbuf (one c_long, then
    // `capacity` bytes); the kernel reads the type and `len <= capacity` text bytes, all inside
    // the buffer, which `buf` keeps borrowed (alive, unmoved) for the whole call.
    let rc = unsafe { libc::msgsnd(id.0, buf.header().cast(), len, flags) };
    let result = Errno::result(rc).map(drop);
    trace::call_zero(
        || {
            format!(
                "msgsnd({id}, {{mtype={}, {}}}, {len}, {})",
                buf.mtype(),
                trace::bytes(&buf.text()[..len]),
                trace::ipc_flags(flags)
            )
        },
        &result,
    );
    result
}

/// C: `ssize_t msgrcv(int msqid, void *msgp, size_t msgsz, long msgtyp, int msgflg);`
/// (man 2 msgrcv).
///
/// Takes one message into `buf` and returns its text length. `msgtyp` 0 takes the first
/// message, > 0 the first of that type, < 0 the first of the lowest type <= |msgtyp|. A message
/// longer than the buffer stays in the queue (`E2BIG`); an empty queue blocks unless `flags` has
/// `IPC_NOWAIT` (then `ENOMSG`). Never restarted after a signal handler (`EINTR`).
pub fn msgrcv(id: MsqId, buf: &mut MsgBuf, msgtyp: c_long, flags: c_int) -> Result<usize, Errno> {
    let capacity = buf.capacity;
    // SAFETY: `buf.header_mut()` points to a live, c_long-aligned msgbuf with room for one
    // c_long and `capacity` bytes; we pass msgsz = capacity and no MSG_NOERROR, so the kernel
    // writes at most that much. `buf` is borrowed mutably for the call: nothing else aliases it.
    let len = unsafe { libc::msgrcv(id.0, buf.header_mut().cast(), capacity, msgtyp, flags) };
    let result = Errno::result(len).map(|len| len as usize);
    trace::call(
        || {
            // On success the buffer holds what the kernel wrote; on failure it was not touched.
            let message = match result {
                Ok(len) => format!(
                    "{{mtype={}, {}}}",
                    buf.mtype(),
                    trace::bytes(&buf.text()[..len.min(capacity)])
                ),
                Err(_) => trace::pointer(buf.header() as usize),
            };
            format!(
                "msgrcv({id}, {message}, {capacity}, {msgtyp}, {})",
                trace::ipc_flags(flags)
            )
        },
        &result,
        usize::to_string,
    );
    result
}

/// C: `struct my_msg_st { long int my_msg_type; char some_text[N]; }`, the textbook's message
/// (msg2.c: `N = MAX_TEXT`, 512; msg1.c: `N = BUFSIZ`, 8192): a `struct msgbuf` whose text has
/// a fixed size. `#[repr(C)]` lays it out as C does: the `long`, then the N text bytes right
/// after it (a byte array needs no padding). The examples send and receive it with
/// `textbook::msgsnd` and `textbook::msgrcv`, as msg1.c and msg2.c pass `(void *)&some_data`.
#[repr(C)]
#[derive(Debug, Clone)]
pub struct MyMsgSt<const N: usize> {
    /// The message type, > 0 to send (C: `some_data.my_msg_type = 1;`).
    pub my_msg_type: c_long,
    /// The text bytes; a C string ends at the first NUL.
    pub some_text: [u8; N],
}

const _: () = assert!(offset_of!(MyMsgSt<512>, some_text) == TEXT_OFFSET);

/// C: `msgsnd(msqid, (void *)&some_data, msgsz, msgflg)` with the textbook's struct: the type
/// and the first `msgsz` bytes of `some_text`. `msgsz` past the array is `EINVAL`, before the
/// call (C would send the bytes after the struct).
pub fn msgsnd_st<const N: usize>(
    id: MsqId,
    msg: &MyMsgSt<N>,
    msgsz: usize,
    flags: c_int,
) -> Result<(), Errno> {
    if msgsz > N {
        return Err(Errno::EINVAL);
    }
    // SAFETY: `msg` is a live #[repr(C)] struct laid out as struct msgbuf (a c_long, then N
    // text bytes at offset size_of::<c_long>(), checked above); the kernel reads the type and
    // `msgsz <= N` text bytes, all inside it, while `msg` stays borrowed for the call.
    let rc = unsafe { libc::msgsnd(id.0, (msg as *const MyMsgSt<N>).cast(), msgsz, flags) };
    let result = Errno::result(rc).map(drop);
    trace::call_zero(
        || {
            format!(
                "msgsnd({id}, {{mtype={}, {}}}, {msgsz}, {})",
                msg.my_msg_type,
                trace::bytes(&msg.some_text[..msgsz]),
                trace::ipc_flags(flags)
            )
        },
        &result,
    );
    result
}

/// C: `msgrcv(msqid, (void *)&some_data, msgsz, msgtyp, msgflg)` with the textbook's struct:
/// returns the text's length. `msgsz` past the array is `EINVAL`, before the call (C would let
/// the kernel write past the struct); a longer message stays in the queue (`E2BIG`).
pub fn msgrcv_st<const N: usize>(
    id: MsqId,
    msg: &mut MyMsgSt<N>,
    msgsz: usize,
    msgtyp: c_long,
    flags: c_int,
) -> Result<usize, Errno> {
    if msgsz > N {
        return Err(Errno::EINVAL);
    }
    // SAFETY: `msg` is a live, writable #[repr(C)] msgbuf (a c_long, then N text bytes),
    // borrowed mutably for the call; the kernel writes the type and at most `msgsz <= N` text
    // bytes (with MSG_NOERROR it truncates to msgsz; without, a longer message is E2BIG).
    let len = unsafe { libc::msgrcv(id.0, (msg as *mut MyMsgSt<N>).cast(), msgsz, msgtyp, flags) };
    let result = Errno::result(len).map(|len| len as usize);
    trace::call(
        || {
            let text = match result {
                Ok(len) => trace::bytes(&msg.some_text[..len.min(N)]),
                Err(_) => "...".to_string(),
            };
            format!(
                "msgrcv({id}, {{mtype={}, {text}}}, {msgsz}, {msgtyp}, {})",
                msg.my_msg_type,
                trace::ipc_flags(flags)
            )
        },
        &result,
        usize::to_string,
    );
    result
}

/// C: `msgctl(msqid, IPC_STAT, &ds); ds.msg_qbytes = bytes; msgctl(msqid, IPC_SET, &ds)`: how
/// many bytes of text the queue may hold from now on. The owner may lower it; raising it over
/// /proc/sys/kernel/msgmnb needs CAP_SYS_RESOURCE (EPERM).
pub fn msgctl_set_qbytes(id: MsqId, bytes: u64) -> Result<(), Errno> {
    let mut ds = MaybeUninit::<libc::msqid_ds>::uninit();
    // SAFETY: `ds` is a writable msqid_ds-sized, -aligned buffer that lives across the call;
    // IPC_STAT only writes into it.
    let rc = unsafe { libc::msgctl(id.0, libc::IPC_STAT, ds.as_mut_ptr()) };
    let result = Errno::result(rc).and_then(|_| {
        // SAFETY: msgctl(IPC_STAT) returned 0, so the kernel filled in the whole struct.
        let mut ds = unsafe { ds.assume_init() };
        ds.msg_qbytes = bytes;
        // SAFETY: `ds` is an initialised msqid_ds that lives across the call; IPC_SET only
        // reads its msg_perm.uid, .gid, .mode and msg_qbytes.
        let rc = unsafe { libc::msgctl(id.0, libc::IPC_SET, &mut ds) };
        Errno::result(rc).map(drop)
    });
    trace::call_zero(
        || format!("msgctl({id}, IPC_SET, {{msg_qbytes={bytes}}})"),
        &result,
    );
    result
}

/// What `msgctl(IPC_STAT)` says about a queue (the fields of `struct msqid_ds` we use).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MsqStat {
    /// Owner's user id (`msg_perm.uid`).
    pub uid: u32,
    /// Creator's user id (`msg_perm.cuid`).
    pub cuid: u32,
    /// Permission bits (`msg_perm.mode & 0777`).
    pub mode: u32,
    /// Messages in the queue now (`msg_qnum`).
    pub messages: u64,
    /// Bytes of text in the queue now (`msg_cbytes`).
    pub bytes: u64,
    /// The most bytes the queue may hold (`msg_qbytes`, msgmnb when it was created).
    pub max_bytes: u64,
}

/// C: `msgctl(msqid, IPC_STAT, &ds)` (man 2 msgctl): the queue's owner, mode and contents.
pub fn msgctl_stat(id: MsqId) -> Result<MsqStat, Errno> {
    let mut ds = MaybeUninit::<libc::msqid_ds>::uninit();
    // SAFETY: `ds` is a writable msqid_ds-sized, -aligned buffer that lives across the call;
    // IPC_STAT only writes into it.
    let rc = unsafe { libc::msgctl(id.0, libc::IPC_STAT, ds.as_mut_ptr()) };
    let result = Errno::result(rc).map(|_| {
        // SAFETY: msgctl(IPC_STAT) returned 0, so the kernel filled in the whole struct.
        let ds = unsafe { ds.assume_init() };
        MsqStat {
            uid: ds.msg_perm.uid,
            cuid: ds.msg_perm.cuid,
            mode: u32::from(ds.msg_perm.mode) & 0o777,
            messages: ds.msg_qnum,
            bytes: ds.__msg_cbytes,
            max_bytes: ds.msg_qbytes,
        }
    });
    trace::call(
        || {
            let ds = match &result {
                Ok(stat) => format!(
                    "{{msg_perm={{uid={}, mode={}}}, msg_qnum={}, msg_cbytes={}, msg_qbytes={}}}",
                    stat.uid,
                    trace::mode(stat.mode),
                    stat.messages,
                    stat.bytes,
                    stat.max_bytes
                ),
                Err(_) => trace::pointer(ds.as_ptr() as usize),
            };
            format!("msgctl({id}, IPC_STAT, {ds})")
        },
        &result,
        |_| "0".to_string(),
    );
    result
}

/// C: `msgctl(msqid, IPC_RMID, NULL)` (man 2 msgctl): removes the queue at once, with every
/// message still in it; processes blocked in msgsnd/msgrcv on it fail with `EIDRM`.
pub fn msgctl_rmid(id: MsqId) -> Result<(), Errno> {
    // SAFETY: IPC_RMID ignores the buffer argument, so a null pointer is allowed (msgctl(2)).
    let rc = unsafe { libc::msgctl(id.0, libc::IPC_RMID, std::ptr::null_mut()) };
    let result = Errno::result(rc).map(drop);
    trace::call_zero(|| format!("msgctl({id}, IPC_RMID, NULL)"), &result);
    result
}

/// C: `int mq_timedsend(mqd_t mqdes, const char *msg_ptr, size_t msg_len, unsigned int
/// msg_prio, const struct timespec *abs_timeout);` (man 3 mq_timedsend).
///
/// `mq_send` with a limit: on a full queue (descriptor opened without `O_NONBLOCK`) it sleeps
/// until there is room or the clock (`CLOCK_REALTIME`) reaches `deadline`, then fails with
/// `ETIMEDOUT`. A deadline already past (the epoch, `{0, 0}`) makes it a try that never sleeps.
/// A message longer than the queue's `mq_msgsize` is `EMSGSIZE`. nix has no wrapper for it.
/// Not traced here: crate::mq traces it.
pub fn mq_timedsend(
    mqd: BorrowedFd<'_>,
    message: &[u8],
    priority: u32,
    deadline: &TimeSpec,
) -> Result<(), Errno> {
    // SAFETY: `message` is a live slice, and the kernel reads exactly its `len()` bytes; the
    // deadline is a valid timespec borrowed for the call; `mqd` is an open descriptor borrowed
    // for the call (the kernel checks that it is a queue: EBADF otherwise).
    let rc = unsafe {
        libc::mq_timedsend(
            mqd.as_raw_fd(),
            message.as_ptr().cast(),
            message.len(),
            priority,
            deadline.as_ref(),
        )
    };
    Errno::result(rc).map(drop)
}

/// C: `ssize_t mq_timedreceive(mqd_t mqdes, char *msg_ptr, size_t msg_len, unsigned int
/// *msg_prio, const struct timespec *abs_timeout);` (man 3 mq_timedreceive).
///
/// `mq_receive` with a limit, as [`mq_timedsend`]: sleeps on an empty queue until a message
/// comes or the clock reaches `deadline` (`ETIMEDOUT`). The message lands in the spare capacity
/// of `buf`, which is first emptied and made room for `capacity` bytes (the queue's
/// `mq_msgsize`; a smaller `capacity` is `EMSGSIZE`), and `buf` ends up exactly the message's
/// length: no zero-filling of bytes the kernel is about to overwrite (nix's `mq_receive`
/// needs an initialized `&mut [u8]`, so a reused buffer would be cleared on every call).
/// Returns the message's length; on an error `buf` is left empty.
pub fn mq_timedreceive(
    mqd: BorrowedFd<'_>,
    buf: &mut Vec<u8>,
    capacity: usize,
    priority: &mut u32,
    deadline: &TimeSpec,
) -> Result<usize, Errno> {
    buf.clear();
    buf.reserve(capacity);
    let spare = buf.spare_capacity_mut();
    // SAFETY: `spare` is writable memory of at least `capacity` bytes owned by `buf`, which
    // is borrowed mutably for the call; we pass msg_len = capacity, and the kernel writes at
    // most that many bytes (one message of at most mq_msgsize <= msg_len bytes). `priority`
    // and `deadline` are valid for the call; `mqd` is an open descriptor borrowed for it.
    let len = unsafe {
        libc::mq_timedreceive(
            mqd.as_raw_fd(),
            spare.as_mut_ptr().cast(),
            capacity,
            priority,
            deadline.as_ref(),
        )
    };
    let len = Errno::result(len)? as usize;
    // SAFETY: mq_timedreceive returned `len` (<= capacity <= the buffer's capacity): the
    // kernel wrote the message's `len` bytes at the start of the spare capacity, so the
    // first `len` bytes of `buf` are initialized.
    unsafe { buf.set_len(len) };
    Ok(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_follows_the_type_and_keeps_its_bytes() {
        let mut buf = MsgBuf::with_capacity(13);
        buf.set_mtype(7);
        buf.text_mut().copy_from_slice(b"hello, queue!");
        assert_eq!(buf.mtype(), 7);
        assert_eq!(buf.text(), b"hello, queue!");
        assert_eq!(buf.capacity(), 13);
    }

    #[test]
    fn a_length_past_the_buffer_is_refused_before_the_call() {
        let buf = MsgBuf::with_capacity(4);
        assert_eq!(msgsnd(MsqId(-1), &buf, 5, 0), Err(Errno::EINVAL));
        let mut msg = MyMsgSt::<4> {
            my_msg_type: 1,
            some_text: [0; 4],
        };
        assert_eq!(msgsnd_st(MsqId(-1), &msg, 5, 0), Err(Errno::EINVAL));
        assert_eq!(msgrcv_st(MsqId(-1), &mut msg, 5, 0, 0), Err(Errno::EINVAL));
    }
}
