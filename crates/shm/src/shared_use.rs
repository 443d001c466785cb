//! The textbook's segment, `struct shared_use_st` (c/textbook/shm_com.h), and the four calls
//! shm1.c and shm2.c make on it, by their C names, for the line-by-line ports in
//! crates/shm/examples/ (`shm1.rs`, `shm2.rs`).
//!
//! ```c
//! #define TEXT_SZ 2048
//! struct shared_use_st {
//!     int written_by_you;         /* offset 0: 1 = a text waits, 0 = the consumer took it */
//!     char some_text[TEXT_SZ];    /* offset 4: the text, NUL-terminated */
//! };                              /* sizeof = 2052 */
//! ```
//!
//! | C | Rust |
//! |---|---|
//! | `shmid = shmget((key_t)1234, sizeof(struct shared_use_st), 0666 \| IPC_CREAT)` | [`shmget`]`(1234, SharedUseSt::SIZE, 0o666 \| IPC_CREAT)` |
//! | `shared_stuff = (struct shared_use_st *)shmat(shmid, (void *)0, 0)` | [`shmat`]`(shmid)` |
//! | `shared_stuff->written_by_you = 1` | `shared_stuff.written_by_you().store(1, Release)` |
//! | `printf("You wrote: %s", shared_stuff->some_text)` | `print!("You wrote: {}", shared_stuff.some_text())` |
//! | `strncpy(shared_stuff->some_text, buffer, TEXT_SZ)` | `shared_stuff.set_some_text(buffer)` |
//! | `shmdt(shared_memory)` | [`shmdt`]`(shared_stuff)` |
//! | `shmctl(shmid, IPC_RMID, 0)` | [`shmctl`]`(shmid, IPC_RMID)` |
//!
//! The flag is the only thing that orders the two processes, so it is an atomic: a `Release`
//! store of 1 after writing the text makes the text visible to whoever sees the 1 with an
//! `Acquire` load (the textbook's plain `int` promises nothing of the kind; on x86 it happens
//! to work, on ARM the consumer may print an old text). The text itself is copied with
//! volatile accesses, because the other process may be writing it at the same moment (see
//! crates/shm/src/sys.rs).
//!
//! These calls are the bare ones, for the examples: no ownership, no cleanup on Ctrl-C. The
//! full programs (`shm-receiver --wire c`, `shm-sender --wire c`) use the same layout through
//! the [`crate::ShmSegment`] guard: crates/shm/src/flag_handoff.rs.

use std::sync::atomic::AtomicU32;

use nix::errno::Errno;
use nix::libc::c_int;

use crate::sys::{self, Mapping, ShmId};

pub use nix::libc::{IPC_CREAT, IPC_RMID};

/// `#define TEXT_SZ 2048`: the size of `some_text`.
pub const TEXT_SZ: usize = 2048;
/// The offset of `int written_by_you`.
pub const WRITTEN_BY_YOU: usize = 0;
/// The offset of `char some_text[TEXT_SZ]` (after the 4-byte `int`).
pub const SOME_TEXT: usize = 4;

/// `struct shared_use_st *shared_stuff`: the attached segment, seen as the textbook's struct.
/// Only [`shmdt`] ends the attachment.
#[derive(Debug)]
pub struct SharedUseSt {
    mapping: Mapping,
}

impl SharedUseSt {
    /// `sizeof(struct shared_use_st)`: 2052 bytes.
    pub const SIZE: usize = SOME_TEXT + TEXT_SZ;

    /// Where the kernel attached the segment (the pointer `shmat` returned).
    pub fn addr(&self) -> usize {
        self.mapping.addr()
    }

    /// `shared_stuff->written_by_you`, as an atomic (C's `int`, 0 or 1; same size and bytes).
    pub fn written_by_you(&self) -> &AtomicU32 {
        self.mapping
            .atomic_u32(WRITTEN_BY_YOU)
            .expect("shmat checked the size, and a mapping starts page-aligned")
    }

    /// `shared_stuff->some_text`, as C's `%s` reads it: the bytes up to the first NUL (all
    /// 2048 if there is none), invalid UTF-8 shown with replacement characters.
    pub fn some_text(&self) -> String {
        let mut text = [0u8; TEXT_SZ];
        self.mapping.read_volatile(SOME_TEXT, &mut text);
        let end = text.iter().position(|&b| b == 0).unwrap_or(TEXT_SZ);
        String::from_utf8_lossy(&text[..end]).into_owned()
    }

    /// `strncpy(shared_stuff->some_text, buffer, TEXT_SZ)`: at most `TEXT_SZ` bytes, the rest
    /// filled with NULs (like strncpy, a text of `TEXT_SZ` bytes or more gets no NUL).
    pub fn set_some_text(&self, buffer: &str) {
        let mut text = [0u8; TEXT_SZ];
        let n = buffer.len().min(TEXT_SZ);
        text[..n].copy_from_slice(&buffer.as_bytes()[..n]);
        self.mapping.write_volatile(SOME_TEXT, &text);
    }
}

/// C: `shmget(key, size, flags)` (shmget(2)): the id of the segment with `key`, created if
/// `flags` has `IPC_CREAT` and none exists (the low 9 bits of `flags` are its mode).
pub fn shmget(key: i32, size: usize, flags: c_int) -> Result<ShmId, Errno> {
    sys::shmget(key, size, flags)
}

/// C: `shmat(shmid, (void *)0, 0)` (shmat(2)), the result seen as `struct shared_use_st *`.
/// Fails with `EINVAL` if the segment is smaller than the struct (C would read past its end).
pub fn shmat(shmid: ShmId) -> Result<SharedUseSt, Errno> {
    let size = sys::shmctl_stat(shmid)?.size;
    if size < SharedUseSt::SIZE {
        return Err(Errno::EINVAL);
    }
    let mapping = sys::shmat(shmid, SharedUseSt::SIZE)?;
    Ok(SharedUseSt { mapping })
}

/// C: `shmdt(shared_memory)` (shmdt(2)): detaches the segment; `shared_stuff` is gone after.
pub fn shmdt(shared_stuff: SharedUseSt) -> Result<(), Errno> {
    sys::shmdt(shared_stuff.mapping).map_err(|(_, errno)| errno)
}

/// C: `shmctl(shmid, IPC_RMID, 0)` (shmctl(2)): marks the segment for removal; the kernel
/// frees it at the last detach. Only `IPC_RMID` is offered (`EINVAL` for other commands:
/// they need a `struct shmid_ds`, see [`crate::ShmSegment::stat`]).
pub fn shmctl(shmid: ShmId, cmd: c_int) -> Result<(), Errno> {
    if cmd != IPC_RMID {
        return Err(Errno::EINVAL);
    }
    sys::shmctl_rmid(shmid)
}
