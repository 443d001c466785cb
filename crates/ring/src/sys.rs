//! Every `unsafe` of the ring, one safe function per system call, plus the accesses to the
//! mapped memory.
//!
//! - [`Mapping::map_shared`]: C `mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)`
//!   (man 2 mmap); [`Mapping`]'s `Drop` is C `munmap(addr, len)` (man 2 munmap).
//! - [`futex_wait`] / [`futex_wake`]: C `syscall(SYS_futex, addr, FUTEX_WAIT, ...)` and
//!   `FUTEX_WAKE` (man 2 futex). Not the `_PRIVATE` variants: the word is shared between
//!   processes, so the kernel must find waiters by the physical page, not by our address space.
//! - [`Mapping::header`], [`Mapping::slot_word`], [`Mapping::slice_mut`], [`Mapping::slice`]:
//!   typed views, and a slot's bytes in place (to fill, to read);
//!   [`Mapping::prefetch`]: C `__builtin_prefetch`, a hint to fetch a slot's lines early;
//!   [`Mapping::demote`]: C `_cldemote`, a hint to push a slot's lines to the shared cache.
//!
//! Why the accesses are sound: the mapping is page-aligned and at least as long as every offset
//! we touch (checked here, on every call), it stays mapped as long as the [`Mapping`] lives
//! (every view borrows it), and every field that both processes write is an atomic. The slot
//! bytes themselves are plain memory: the slot protocol (see `lib.rs`) gives each slot to one
//! side at a time; the producer writes the slot in place (a copy, or an encoder) while it owns
//! it, and so does the consumer when it reads it. A peer that breaks the protocol can only garble bytes
//! (which the receiver's checksums catch), never make us reach outside the mapping.

use std::os::fd::{AsRawFd, BorrowedFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicU64};
use std::time::Duration;

use ipc_common::trace;
use nix::errno::Errno;
use nix::libc;
use nix::sys::mman::{MapFlags, ProtFlags};

use crate::layout::Header;

/// A shared mapping of a whole shared-memory object; unmapped when dropped.
#[derive(Debug)]
pub(crate) struct Mapping {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is plain shared memory reached only through atomics and bounds-checked
// copies (see the module doc); nothing in it is tied to the thread that mapped it.
unsafe impl Send for Mapping {}

impl Mapping {
    /// C: `mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0)`
    /// (man 2 mmap). MAP_POPULATE faults every page in now, so the first messages do not pay
    /// for page faults inside the measured loop.
    pub(crate) fn map_shared(fd: BorrowedFd<'_>, len: usize) -> Result<Mapping, Errno> {
        let Some(length) = std::num::NonZeroUsize::new(len) else {
            return Err(Errno::EINVAL);
        };
        if len < std::mem::size_of::<Header>() {
            return Err(Errno::EINVAL);
        }
        // SAFETY: we ask for a fresh mapping (addr NULL), so no existing memory of ours is
        // replaced; `fd` is a valid open descriptor borrowed for the duration of the call.
        let mapped = unsafe {
            nix::sys::mman::mmap(
                None,
                length,
                ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
                MapFlags::MAP_SHARED | MapFlags::MAP_POPULATE,
                fd,
                0,
            )
        };
        trace::call(
            || {
                format!(
                    "mmap(NULL, {len}, PROT_READ|PROT_WRITE, MAP_SHARED|MAP_POPULATE, {}, 0)",
                    fd.as_raw_fd()
                )
            },
            &mapped,
            |addr| trace::pointer(addr.as_ptr() as usize),
        );
        let addr = mapped?;
        Ok(Mapping {
            ptr: addr.cast(),
            len,
        })
    }

    /// Where the mapping starts in this process (what mmap returned, as C prints it).
    pub(crate) fn addr(&self) -> usize {
        self.ptr.as_ptr() as usize
    }

    /// True when `offset..offset + len` lies inside the mapping.
    fn contains(&self, offset: usize, len: usize) -> bool {
        matches!(offset.checked_add(len), Some(end) if end <= self.len)
    }

    /// The ring's header at the start of the mapping.
    pub(crate) fn header(&self) -> &Header {
        // SAFETY: the mapping is page-aligned (mmap) and at least size_of::<Header>() long
        // (checked in map_shared); Header is repr(C) and made only of atomics and padding, for
        // which every bit pattern (including the zeroes of a fresh object) is valid, and
        // atomics may be shared between threads and processes. The reference lives no longer
        // than &self, so the memory stays mapped.
        unsafe { &*self.ptr.as_ptr().cast::<Header>() }
    }

    /// The slot word at `offset` (the first 8 bytes of a slot: the record's stamp and
    /// length, see `layout::slot_word`), as an atomic.
    ///
    /// Panics never: an offset that is misaligned or out of bounds is a bug in the layout and
    /// gives `None`.
    #[inline]
    pub(crate) fn slot_word(&self, offset: usize) -> Option<&AtomicU64> {
        let end = offset.checked_add(8)?;
        if end > self.len || offset % std::mem::align_of::<AtomicU64>() != 0 {
            return None;
        }
        // SAFETY: offset..offset+8 lies inside the mapping (checked above) and is 8-byte
        // aligned (the mapping is page-aligned and the offset a multiple of 8); AtomicU64 is
        // valid for any bits; the reference borrows self, so the memory stays mapped.
        Some(unsafe { &*self.ptr.as_ptr().add(offset).cast::<AtomicU64>() })
    }

    /// The `len` bytes at `offset`, writable in place (the producer filling its slot).
    /// `None` when the range is outside the mapping.
    pub(crate) fn slice_mut(&mut self, offset: usize, len: usize) -> Option<&mut [u8]> {
        if !self.contains(offset, len) {
            return None;
        }
        // SAFETY: offset..offset+len lies inside the mapping (checked above), which stays
        // mapped while the returned slice borrows `self` (mutably, so no other view of this
        // process's mapping exists meanwhile); u8 is valid for any bits. Nobody else writes
        // or reads these bytes while the slice lives: the slot protocol (module doc) gives
        // the slot to the producer alone until its `Release` store of `head` publishes it,
        // which happens only after the slice's last use. A peer that broke the protocol could
        // read half-written bytes; it cannot make us write outside the mapping.
        Some(unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr().add(offset), len) })
    }

    /// Asks the CPU to start fetching the cache lines of `offset..offset + len` now (C:
    /// `__builtin_prefetch(p)` for each 64-byte line; x86 `prefetcht0`). A hint only: it
    /// reads nothing we use and changes nothing, and ranges outside the mapping are skipped.
    #[inline]
    pub(crate) fn prefetch(&self, offset: usize, len: usize) {
        if !self.contains(offset, len) {
            return;
        }
        #[cfg(target_arch = "x86_64")]
        for line in (offset..offset + len).step_by(64) {
            // SAFETY: `line` lies inside the mapping (checked above), which stays mapped while
            // &self lives. A prefetch never faults and never changes memory: it only loads
            // the line into this core's cache, which is harmless even for bytes the peer is
            // writing (coherence keeps every cached copy up to date).
            unsafe {
                std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                    self.ptr.as_ptr().add(line).cast::<i8>(),
                );
            }
        }
    }

    /// Asks the CPU to move the cache lines of `offset..offset + len` from this core's
    /// private caches to the cache all cores share (x86 `cldemote`; C: `_cldemote(p)` for
    /// each 64-byte line). A hint only: it changes no byte, and ranges outside the mapping
    /// are skipped.
    ///
    /// Why the producer uses it: a record it just wrote sits modified in its own core's cache,
    /// and the consumer's read would have to fetch it from there (a snoop across the chip).
    /// Demoted, the lines wait in the shared L3, a shorter trip: about 0.04 microsecond per
    /// message each way on the bench's Xeon. The CPU keeps `cldemote` after our earlier
    /// stores to the same line, so it may follow the publishing store at once. CPUs without
    /// the instruction (before Intel's Sapphire Rapids, and AMD) execute it as a NOP.
    #[inline]
    pub(crate) fn demote(&self, offset: usize, len: usize) {
        if !self.contains(offset, len) {
            return;
        }
        #[cfg(target_arch = "x86_64")]
        for line in (offset..offset + len).step_by(64) {
            // SAFETY: `line` lies inside the mapping (checked above), which stays mapped while
            // &self lives. `cldemote` changes no architectural state: it only moves the line
            // between caches, which coherence makes invisible to every reader, and its only
            // exception (#UD) needs a LOCK prefix, which this has not. It uses no stack and
            // leaves the flags alone, as the options say.
            unsafe {
                std::arch::asm!(
                    "cldemote [{line}]",
                    line = in(reg) self.ptr.as_ptr().add(line),
                    options(nostack, preserves_flags, readonly),
                );
            }
        }
    }

    /// The `len` bytes at `offset`, in place (the consumer reading its slot without a copy).
    /// `None` when the range is outside the mapping.
    pub(crate) fn slice(&self, offset: usize, len: usize) -> Option<&[u8]> {
        if !self.contains(offset, len) {
            return None;
        }
        // SAFETY: offset..offset+len lies inside the mapping (checked above), which stays
        // mapped while the returned slice borrows &self; u8 is valid for any bits. Nobody
        // writes these bytes while the slice lives: the slot protocol gives the slot to the
        // consumer from its `Acquire` load of `head` until its `Release` store of `tail`, and
        // `Consumer::recv_with` releases the slot only after the slice's last use (the
        // closure cannot keep it). A peer that broke the protocol could change the bytes
        // under us; it cannot make us read outside the mapping.
        Some(unsafe { std::slice::from_raw_parts(self.ptr.as_ptr().add(offset), len) })
    }
}

impl Drop for Mapping {
    /// C: `munmap(addr, len)` (man 2 munmap).
    fn drop(&mut self) {
        // SAFETY: ptr/len are exactly what mmap returned, and no view into the mapping can
        // outlive it (every view borrows &self), so nothing uses the memory after this.
        let unmapped = unsafe { nix::sys::mman::munmap(self.ptr.cast(), self.len) };
        trace::call_zero(
            || format!("munmap({}, {})", trace::pointer(self.addr()), self.len),
            &unmapped,
        );
        if let Err(errno) = unmapped {
            eprintln!(
                "warning: unmapping the ring: {}",
                ipc_common::error::describe_errno(errno)
            );
        }
    }
}

/// Why a [`futex_wait`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wakeup {
    /// FUTEX_WAKE woke us (or a spurious wake-up): look again.
    Woken,
    /// The word no longer held `expected` when we called (EAGAIN): look again.
    Changed,
    /// The timeout passed (ETIMEDOUT): time to check that the peer is still alive.
    TimedOut,
    /// A signal handler ran (EINTR): check for Ctrl-C.
    Interrupted,
}

/// C: `syscall(SYS_futex, word, FUTEX_WAIT, expected, &timeout, NULL, 0)` (man 2 futex).
///
/// Sleeps while `*word == expected`, for at most `timeout`. The kernel compares and sleeps
/// atomically with respect to [`futex_wake`] on the same word, which is what makes "set my
/// sleeping flag, check, sleep" race-free.
pub(crate) fn futex_wait(
    word: &AtomicU32,
    expected: u32,
    timeout: Duration,
) -> Result<Wakeup, Errno> {
    let timeout = libc::timespec {
        tv_sec: timeout.as_secs().min(i64::MAX as u64) as libc::time_t,
        tv_nsec: libc::c_long::from(timeout.subsec_nanos() as i32),
    };
    // SAFETY: `word` is a valid, 4-byte aligned u32 for the duration of the call (it is
    // borrowed); the timeout points to a live timespec; the unused uaddr2/val3 are NULL/0 as
    // FUTEX_WAIT requires. FUTEX_WAIT never writes to user memory.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT,
            expected,
            &timeout as *const libc::timespec,
            std::ptr::null::<u32>(),
            0u32,
        )
    };
    let result = Errno::result(ret);
    // A wait that runs out is the periodic peer check, not news: not traced, or --trace would
    // print ten lines a second while a ring is idle.
    if result == Err(Errno::ETIMEDOUT) {
        return Ok(Wakeup::TimedOut);
    }
    trace::call(
        || {
            format!(
                "futex({}, FUTEX_WAIT, {expected}, {{tv_sec={}, tv_nsec={}}}, NULL, 0)",
                trace::pointer(word.as_ptr() as usize),
                timeout.tv_sec,
                timeout.tv_nsec
            )
        },
        &result,
        i64::to_string,
    );
    match result {
        Ok(_) => Ok(Wakeup::Woken),
        Err(Errno::EAGAIN) => Ok(Wakeup::Changed),
        Err(Errno::ETIMEDOUT) => Ok(Wakeup::TimedOut),
        Err(Errno::EINTR) => Ok(Wakeup::Interrupted),
        Err(errno) => Err(errno),
    }
}

/// C: `syscall(SYS_futex, word, FUTEX_WAKE, count, NULL, NULL, 0)` (man 2 futex): wakes up
/// to `count` processes sleeping in [`futex_wait`] on `word`; returns how many woke.
pub(crate) fn futex_wake(word: &AtomicU32, count: u32) -> Result<i64, Errno> {
    // SAFETY: `word` is a valid, aligned u32 for the duration of the call; FUTEX_WAKE only
    // uses its address to find sleepers and never dereferences the other arguments.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE,
            count,
            std::ptr::null::<libc::timespec>(),
            std::ptr::null::<u32>(),
            0u32,
        )
    };
    let result = Errno::result(ret);
    trace::call(
        || {
            format!(
                "futex({}, FUTEX_WAKE, {count}, NULL, NULL, 0)",
                trace::pointer(word.as_ptr() as usize)
            )
        },
        &result,
        i64::to_string,
    );
    result
}
