//! The System V shared-memory system calls, each wrapped once as a safe function, and the
//! attached memory itself, which can only be read and written by copying.
//!
//! nix wraps no System V IPC, so these call `nix::libc` directly and check every result with
//! `Errno::result` (which also knows `shmat`'s `(void *) -1` failure value). All the `unsafe`
//! of this crate is in this file.
//!
//! | C (man page) | here |
//! |---|---|
//! | `shmget(key, size, flags)` (shmget(2)) | [`shmget`] |
//! | `shmat(id, NULL, 0)` (shmat(2)) | [`shmat`], returning a [`Mapping`] |
//! | `shmdt(addr)` (shmdt(2)) | [`shmdt`], consuming the [`Mapping`] |
//! | `shmctl(id, IPC_STAT, &ds)` (shmctl(2)) | [`shmctl_stat`] |
//! | `shmctl(id, IPC_RMID, NULL)` | [`shmctl_rmid`] |
//!
//! ## Why the mapping is safe to use
//!
//! Another process writes this memory while we run, so Rust must not hold a `&[u8]` or
//! `&mut [u8]` to bytes that the other process may change at the same moment (a slice promises
//! the bytes do not change underneath, and the compiler relies on it). [`Mapping`] therefore
//! gives access in two ways, and the caller picks the one that matches who may touch the bytes:
//!
//! - **Lent slices, for a slot the semaphores have made ours**: [`Mapping::with_bytes`] and
//!   [`Mapping::with_bytes_mut`] lend the bytes to a closure, and only for as long as it runs.
//!   The semaphore handoff (crates/shm/src/reader.rs and writer.rs) calls them only between the `semop`
//!   that gives this process a slot (P) and the `semop` that hands it on (V): in that window no
//!   other process that follows the handoff reads or writes the slot, so the slice is as
//!   sound as one behind a mutex, and the copy is a plain `memcpy` (C: the tutorial's
//!   `strncpy` into `shared_stuff->some_text`). A `semop` is a system call that takes the
//!   kernel's lock of the set, so everything one process wrote before its V is visible to the
//!   process whose P returns after it; the handoff code adds explicit fences on both sides to
//!   say so in the code as well. Both take `&mut self`, so while a slice is lent this process
//!   holds no other slice and no header word of the mapping. (A process that ignores the
//!   handoff and writes a slot anyway breaks the promise, as a thread that ignores a mutex
//!   would; with the default mode 0600 it can only be one of the same user, which could
//!   equally write into this process's private memory through `/proc/PID/mem`.)
//! - **Volatile copies, for bytes another process may be writing right now**:
//!   [`Mapping::read_volatile`] and [`Mapping::write_volatile`] copy with volatile accesses,
//!   which the compiler must perform exactly as written (no caching, no merging, no removal)
//!   and which never create a slice. They serve the deliberately racy `--no-sync` experiment
//!   and the textbook's flag protocol (`--wire c`, crates/shm/src/flag_handoff.rs, and the
//!   examples' `struct shared_use_st`, crates/shm/src/shared_use.rs), where the text is
//!   handed over by a flag that a C program may write without any ordering of its own.
//!
//! The few header words that several processes update, and the textbook's `written_by_you`
//! flag, are `AtomicU32`s ([`Mapping::atomic_u32`]). `Mapping` is neither `Send` nor `Sync`: one thread per process
//! touches it, so our own process never races with itself.

use std::fmt;
use std::ptr::NonNull;
use std::sync::atomic::AtomicU32;

use ipc_common::trace;
use nix::errno::Errno;
use nix::libc::{self, c_int};

/// The id of a shared-memory segment (C: the `int` that `shmget` returns), as `ipcs -m` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShmId(c_int);

impl ShmId {
    /// The number itself, as `ipcs -m` shows it (e.g. for the record of what we created).
    pub fn raw(self) -> c_int {
        self.0
    }
}

impl fmt::Display for ShmId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What `shmctl(IPC_STAT)` tells about a segment (the fields we use of `struct shmid_ds`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShmStat {
    /// The size asked for at creation, in bytes (`shm_segsz`; the kernel maps whole pages).
    pub size: usize,
    /// How many attachments exist right now (`shm_nattch`); the kernel detaches a process
    /// that dies, so this also counts the live users.
    pub nattch: u64,
    /// Pid of the creator (`shm_cpid`).
    pub cpid: i32,
    /// Permission bits (`shm_perm.mode & 0777`).
    pub mode: u32,
    /// Owner's user id (`shm_perm.uid`).
    pub uid: u32,
}

/// C: `shmget(key, size, flags)` (shmget(2)): creates (with `IPC_CREAT`, `IPC_EXCL`) or finds
/// the segment named by `key`. `flags` carries the permission bits.
pub fn shmget(key: i32, size: usize, flags: c_int) -> Result<ShmId, Errno> {
    // SAFETY: shmget takes only integers and touches no memory of ours.
    let id = unsafe { libc::shmget(key, size, flags) };
    let result = Errno::result(id).map(ShmId);
    trace::call(
        || {
            format!(
                "shmget({}, {size}, {})",
                trace::key(key),
                trace::ipc_flags(flags)
            )
        },
        &result,
        ShmId::to_string,
    );
    result
}

/// Memory of a segment attached to this process (C: the pointer `shmat` returns), `len`
/// bytes long. Only [`shmdt`] ends the attachment, and it takes the `Mapping` by value, so the
/// memory cannot be detached while anything borrows it.
#[derive(Debug)]
pub struct Mapping {
    addr: NonNull<u8>,
    len: usize,
}

/// C: `shmat(id, NULL, 0)` (shmat(2)): attaches the segment where the kernel chooses, read and
/// write. `len` must be the segment's size (from [`shmctl_stat`]).
pub fn shmat(id: ShmId, len: usize) -> Result<Mapping, Errno> {
    // SAFETY: with a null address the kernel picks a free range and maps the segment there;
    // nothing of ours is overwritten. The result is (void *) -1 on failure.
    let addr = unsafe { libc::shmat(id.0, std::ptr::null(), 0) };
    let addr = Errno::result(addr);
    trace::call(
        || format!("shmat({id}, NULL, 0)"),
        &addr,
        |addr| trace::pointer(*addr as usize),
    );
    let addr = NonNull::new(addr?.cast::<u8>()).ok_or(Errno::EFAULT)?;
    Ok(Mapping { addr, len })
}

/// C: `shmdt(addr)` (shmdt(2)): detaches the segment from this process. On failure the
/// mapping is given back with the errno.
pub fn shmdt(mapping: Mapping) -> Result<(), (Mapping, Errno)> {
    // SAFETY: `addr` is the address shmat returned and has not been detached (a Mapping is
    // created only by shmat and consumed here). No reference into it can outlive this call:
    // the slices of `with_bytes`/`with_bytes_mut` and the `&AtomicU32`s all borrow the
    // Mapping, which we own here.
    let rc = unsafe { libc::shmdt(mapping.addr.as_ptr().cast()) };
    trace::call(
        || format!("shmdt({})", trace::pointer(mapping.addr()),),
        &Errno::result(rc),
        c_int::to_string,
    );
    match Errno::result(rc) {
        Ok(_) => Ok(()),
        Err(errno) => Err((mapping, errno)),
    }
}

/// C: `shmctl(id, IPC_STAT, &ds)` (shmctl(2)): the segment's metadata.
pub fn shmctl_stat(id: ShmId) -> Result<ShmStat, Errno> {
    // SAFETY: shmid_ds is a plain C struct of integers, for which all-zero bytes are valid.
    let mut ds: libc::shmid_ds = unsafe { std::mem::zeroed() };
    // SAFETY: `ds` is a valid, writable shmid_ds for the whole call; IPC_STAT fills it.
    let rc = unsafe { libc::shmctl(id.0, libc::IPC_STAT, &mut ds) };
    let result = Errno::result(rc).map(|_| ShmStat {
        size: ds.shm_segsz,
        nattch: ds.shm_nattch as u64,
        cpid: ds.shm_cpid,
        mode: u32::from(ds.shm_perm.mode) & 0o777,
        uid: ds.shm_perm.uid,
    });
    trace::call(
        || {
            let ds = match &result {
                Ok(stat) => format!(
                    "{{shm_perm={{mode={}}}, shm_segsz={}, shm_cpid={}, shm_nattch={}}}",
                    trace::mode(stat.mode),
                    stat.size,
                    stat.cpid,
                    stat.nattch
                ),
                Err(_) => "...".to_string(),
            };
            format!("shmctl({id}, IPC_STAT, {ds})")
        },
        &result,
        |_| "0".to_string(),
    );
    result
}

/// C: `shmctl(id, IPC_RMID, NULL)` (shmctl(2)): marks the segment for removal. The kernel
/// frees it once the last process has detached; until then the key no longer finds it.
pub fn shmctl_rmid(id: ShmId) -> Result<(), Errno> {
    // SAFETY: IPC_RMID does not use the buffer argument; null is what C programs pass.
    let rc = unsafe { libc::shmctl(id.0, libc::IPC_RMID, std::ptr::null_mut()) };
    let result = Errno::result(rc).map(drop);
    trace::call_zero(|| format!("shmctl({id}, IPC_RMID, NULL)"), &result);
    result
}

impl Mapping {
    /// Where the kernel attached the segment in our address space.
    pub fn addr(&self) -> usize {
        self.addr.as_ptr() as usize
    }

    /// `Some(pointer to offset)` when `count` bytes from `offset` lie inside the mapping.
    fn span(&self, offset: usize, count: usize) -> Option<*mut u8> {
        let end = offset.checked_add(count)?;
        if end > self.len {
            return None;
        }
        // SAFETY: offset <= len, so the result stays inside (or one past) the mapping.
        Some(unsafe { self.addr.as_ptr().add(offset) })
    }

    /// The 32-bit word at `offset` as an atomic, for header fields that both processes update.
    /// `None` unless the word is inside the mapping and 4-byte aligned.
    pub fn atomic_u32(&self, offset: usize) -> Option<&AtomicU32> {
        let ptr = self.span(offset, 4)?;
        if ptr as usize % std::mem::align_of::<AtomicU32>() != 0 {
            return None;
        }
        // SAFETY: the word is inside the mapping, which stays attached for as long as `self`
        // is borrowed (only shmdt ends it, and it takes the Mapping by value); it is aligned
        // (checked above); and every process of ours accesses header words only atomically,
        // through this function, so there are no non-atomic accesses to race with.
        Some(unsafe { AtomicU32::from_ptr(ptr.cast::<u32>()) })
    }

    /// Lends the `len` bytes at `offset` to `f` as a slice (C: using `shared_memory + offset`
    /// directly). `None` (without calling `f`) when the range is outside the mapping.
    ///
    /// Only for bytes that no other process touches until `f` returns: a slot that the
    /// semaphore handoff has given this process (see the module's doc).
    pub fn with_bytes<R>(
        &mut self,
        offset: usize,
        len: usize,
        f: impl FnOnce(&[u8]) -> R,
    ) -> Option<R> {
        let ptr = self.span(offset, len)?;
        // SAFETY: the range is inside the mapping (checked by span), which stays attached while
        // `self` is borrowed (only shmdt ends it, and it takes the Mapping by value). It is
        // initialised: the kernel fills a new segment with zeros. Nothing else aliases it while
        // `f` runs: in this process, `&mut self` means no other slice and no header word of
        // the mapping is alive (they all borrow the Mapping); in the other processes, the
        // caller lends only a slot that the semaphores have made ours (P returned, V not yet
        // done), which every program of this workspace leaves alone in that window. The
        // slice does not outlive `f`.
        let bytes = unsafe { std::slice::from_raw_parts(ptr.cast_const(), len) };
        Some(f(bytes))
    }

    /// Lends the `len` bytes at `offset` to `f` as a mutable slice, so that a message can be
    /// encoded or copied straight into a slot (C: `memcpy(shared_memory + offset, ...)`).
    /// `None` (without calling `f`) when the range is outside the mapping.
    ///
    /// Only for bytes that no other process touches until `f` returns: a slot that the
    /// semaphore handoff has given this process (see the module's doc).
    pub fn with_bytes_mut<R>(
        &mut self,
        offset: usize,
        len: usize,
        f: impl FnOnce(&mut [u8]) -> R,
    ) -> Option<R> {
        let ptr = self.span(offset, len)?;
        // SAFETY: as in `with_bytes`: inside the mapping, attached and initialised, and
        // nobody else reads or writes these bytes while `f` runs (`&mut self` within this
        // process; the semaphores, which give the slot to this process alone, across
        // processes). The mapping is read-write (shmat without SHM_RDONLY). The slice does not
        // outlive `f`.
        let bytes = unsafe { std::slice::from_raw_parts_mut(ptr, len) };
        Some(f(bytes))
    }

    /// Copies `out.len()` bytes starting at `offset` out of the segment, with volatile reads.
    /// Returns false (copying nothing) when the range is outside the mapping.
    pub fn read_volatile(&self, offset: usize, out: &mut [u8]) -> bool {
        let Some(src) = self.span(offset, out.len()) else {
            return false;
        };
        let mut words = out.chunks_exact_mut(8);
        let mut at = 0;
        for word in &mut words {
            // SAFETY: `src + at .. src + at + 8` is inside the range checked by span; [u8; 8]
            // has alignment 1, so any address is aligned for it; volatile because another
            // process owns this memory too (see the module's doc).
            let bytes = unsafe { src.add(at).cast::<[u8; 8]>().read_volatile() };
            word.copy_from_slice(&bytes);
            at += 8;
        }
        for byte in words.into_remainder() {
            // SAFETY: `src + at` is inside the range checked by span.
            *byte = unsafe { src.add(at).read_volatile() };
            at += 1;
        }
        true
    }

    /// Copies `data` into the segment at `offset`, with volatile writes. Returns false
    /// (copying nothing) when the range is outside the mapping.
    pub fn write_volatile(&self, offset: usize, data: &[u8]) -> bool {
        let Some(dst) = self.span(offset, data.len()) else {
            return false;
        };
        let mut words = data.chunks_exact(8);
        let mut at = 0;
        for word in &mut words {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(word);
            // SAFETY: `dst + at .. dst + at + 8` is inside the range checked by span, which is
            // mapped read-write (shmat without SHM_RDONLY); [u8; 8] has alignment 1. No Rust
            // slice of these bytes exists (Mapping lends slices only to a closure while it is
            // borrowed mutably, which it is not while we hold `&self`), so writing through a
            // shared `&self` breaks no aliasing promise; Mapping is not Sync, so no other
            // thread of ours writes at the same time.
            unsafe { dst.add(at).cast::<[u8; 8]>().write_volatile(bytes) };
            at += 8;
        }
        for &byte in words.remainder() {
            // SAFETY: as above, one byte inside the checked range.
            unsafe { dst.add(at).write_volatile(byte) };
            at += 1;
        }
        true
    }
}
