//! The three System V message-queue calls the hostile-input tests need, as safe functions:
//! msgget, msgsnd and msgctl(IPC_RMID). The only `unsafe` of this crate.
//!
//! Why our own: the hostile test must put *raw bytes* (not an encoded `Message`) into a queue,
//! and the ipc-msgq library only sends encoded messages (its `sys` module is private, as it
//! should be). nix has no System V IPC, so these call `nix::libc` and check each result with
//! `Errno::result` (`-1` means "look at errno").

use nix::errno::Errno;
use nix::libc::{self, c_int, c_long, key_t};

/// C: `int msgget(key_t key, int msgflg);` (man 2 msgget). Returns the msqid.
pub fn msgget(key: key_t, flags: c_int) -> Result<c_int, Errno> {
    // SAFETY: msgget takes two integers by value and touches no memory of this process.
    let id = unsafe { libc::msgget(key, flags) };
    Errno::result(id)
}

/// C: `int msgsnd(int msqid, const void *msgp, size_t msgsz, int msgflg);` (man 2 msgsnd).
///
/// Sends `text` as one message of type `mtype`. The C `struct msgbuf { long mtype; char
/// mtext[]; }` is built here as a vector of `c_long` words: word 0 is the type, the text bytes
/// follow it, so the type is aligned as C expects.
pub fn msgsnd(id: c_int, mtype: c_long, text: &[u8], flags: c_int) -> Result<(), Errno> {
    const WORD: usize = std::mem::size_of::<c_long>();
    let mut words: Vec<c_long> = vec![0; 1 + text.len().div_ceil(WORD)];
    words[0] = mtype;
    for (slot, chunk) in words[1..].iter_mut().zip(text.chunks(WORD)) {
        let mut array = [0u8; WORD];
        array[..chunk.len()].copy_from_slice(chunk);
        *slot = c_long::from_ne_bytes(array);
    }
    // SAFETY: `words` is a live, c_long-aligned buffer of one c_long (the type) followed by at
    // least `text.len()` bytes (the text), so the kernel reads only memory inside it; `words`
    // lives until the end of this function, after the call returns.
    let rc = unsafe { libc::msgsnd(id, words.as_ptr().cast(), text.len(), flags) };
    Errno::result(rc).map(drop)
}

/// C: `msgctl(msqid, IPC_RMID, NULL);` (man 2 msgctl): removes the queue and its messages.
pub fn msgctl_rmid(id: c_int) -> Result<(), Errno> {
    // SAFETY: IPC_RMID does not read or write the buffer argument, so a null pointer is valid.
    let rc = unsafe { libc::msgctl(id, libc::IPC_RMID, std::ptr::null_mut()) };
    Errno::result(rc).map(drop)
}
