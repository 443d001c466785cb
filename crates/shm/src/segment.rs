//! [`ShmSegment`]: the guard that owns one attachment of a System V shared-memory segment,
//! and (when it is the owner) the segment itself.
//!
//! | step | C | Rust |
//! |---|---|---|
//! | create | `id = shmget(key, size, IPC_CREAT \| IPC_EXCL \| 0600)` | [`ShmSegment::create`] |
//! | find | `id = shmget(key, 0, 0)` | [`ShmSegment::open`] |
//! | attach | `p = shmat(id, NULL, 0)` | done by both, kept in the guard |
//! | use, handed over by semaphores | `memcpy(p + offset, buffer, n)` | `with_bytes` / `with_bytes_mut` (crate-private: a slice lent for the time the semaphores make the slot ours) |
//! | use, unsynchronised | `p->some_text`, `strcpy(p->some_text, buffer)` | [`ShmSegment::read`] / [`ShmSegment::write`] (volatile copies) |
//! | detach | `shmdt(p)` | dropping the guard |
//! | remove | `shmctl(id, IPC_RMID, 0)` | dropping the guard, when it is the owner |
//!
//! The kernel gives a segment whole pages: a segment of 1088 bytes occupies one 4096-byte
//! page, but `IPC_STAT` still reports 1088 (`shm_segsz`) and we use only those bytes.

use std::sync::atomic::AtomicU32;

use nix::errno::Errno;
use nix::libc::{self, c_int};

use ipc_common::cli::{join_if_shared, ForeignObject, Key, Mode};
use ipc_common::error::describe_errno;
use ipc_common::{ownership, program, sysvipc, Error, Result};

use crate::sys::{self, Mapping, ShmId, ShmStat};

/// One attached segment. Dropping it detaches (`shmdt`) and, when it is the owner, removes the
/// segment (`shmctl IPC_RMID`); a failure there is one warning line, never a panic.
#[derive(Debug)]
pub struct ShmSegment {
    id: ShmId,
    key: Key,
    mapping: Option<Mapping>,
    size: usize,
    owner: bool,
}

impl ShmSegment {
    /// C: `shmget(key, size, IPC_CREAT | IPC_EXCL | mode)` then `shmat`. Returns the owning
    /// guard, or `None` when a segment with this key already exists. The kernel fills a new
    /// segment with zeros.
    pub fn create(key: Key, size: usize, mode: Mode) -> Result<Option<ShmSegment>> {
        let flags = libc::IPC_CREAT | libc::IPC_EXCL | mode.0 as c_int;
        let id = match sys::shmget(key.0, size, flags) {
            Ok(id) => {
                ownership::record_sysv(sysvipc::Kind::Segment, key.0, id.raw());
                id
            }
            Err(Errno::EEXIST) => return Ok(None),
            Err(errno) => return Err(shmget_error(key, size, errno)),
        };
        let mut segment = ShmSegment {
            id,
            key,
            mapping: None,
            size,
            owner: true, // removed again if attaching fails
        };
        segment.attach()?;
        Ok(Some(segment))
    }

    /// C: `shmget(key, 0, 0)`, `shmctl(IPC_STAT)` for its size, then `shmat`. The guard does
    /// not own the segment.
    pub fn open(key: Key) -> Result<ShmSegment> {
        let id = sys::shmget(key.0, 0, 0).map_err(|errno| match errno {
            Errno::ENOENT => Error::sys(
                format!("opening the shared memory segment with key {key}"),
                errno,
            ),
            other => shmget_error(key, 0, other),
        })?;
        let size = sys::shmctl_stat(id)
            .map_err(|errno| {
                Error::sys(
                    format!("reading the status of segment key {key} (IPC_STAT)"),
                    errno,
                )
            })?
            .size;
        let mut segment = ShmSegment {
            id,
            key,
            mapping: None,
            size,
            owner: false,
        };
        segment.attach()?;
        Ok(segment)
    }

    fn attach(&mut self) -> Result<()> {
        let mapping = sys::shmat(self.id, self.size).map_err(|errno| {
            let err = Error::sys(format!("attaching segment key {} (shmat)", self.key), errno);
            match errno {
                Errno::EACCES => err.with_hint("the segment belongs to another user or has a stricter mode; choose another --key"),
                Errno::EMFILE => err.with_hint("this process has attached too many segments (/proc/sys/kernel/shmseg)"),
                _ => err,
            }
        })?;
        self.mapping = Some(mapping);
        Ok(())
    }

    /// The segment's metadata (C: `shmctl(id, IPC_STAT, &ds)`).
    pub fn stat(&self) -> Result<ShmStat> {
        sys::shmctl_stat(self.id).map_err(|errno| {
            Error::sys(
                format!("reading the status of segment key {} (IPC_STAT)", self.key),
                errno,
            )
        })
    }

    /// Checks who owns the segment we found: ours, or another user's shared with exactly the
    /// `--mode` given (0666, see [`Mode::admits_foreign`]), which is said on stderr.
    pub fn check_shared(&self, mode: Mode) -> Result<()> {
        let stat = self.stat()?;
        let found = ForeignObject {
            noun: "segment",
            id_name: "shmid",
            id: self.id.raw(),
            ipcrm: "-m",
            uid: stat.uid,
            mode: stat.mode,
        };
        let what = format!("opening the shared memory segment with key {}", self.key);
        join_if_shared(
            what,
            &format!("shared memory segment key {}", self.key),
            found,
            mode,
        )
    }

    /// The segment's size in bytes, as created (`shm_segsz`).
    pub fn size(&self) -> usize {
        self.size
    }

    /// The segment's id, as `ipcs -m` shows it.
    pub fn id(&self) -> ShmId {
        self.id
    }

    /// The key the segment was found or created with.
    pub fn key(&self) -> Key {
        self.key
    }

    /// Where the segment is attached in this process (the `shmat` result), for
    /// `Memory attached at 0x...`.
    pub fn addr(&self) -> usize {
        self.mapping.as_ref().map_or(0, Mapping::addr)
    }

    /// Whether dropping the guard removes the segment.
    pub fn is_owner(&self) -> bool {
        self.owner
    }

    /// Decides whether dropping the guard removes the segment.
    pub fn remove_when_done(&mut self, owner: bool) {
        self.owner = owner;
    }

    fn mapping(&self) -> Result<&Mapping> {
        self.mapping.as_ref().ok_or_else(|| not_attached(self.key))
    }

    /// Lends the `len` bytes at `offset` to `f` (C: reading `p + offset` in place), for a
    /// slot that the semaphores have given this process: see [`crate::ShmReader`], the only
    /// caller, which calls it between its P and its V.
    pub(crate) fn with_bytes<R>(
        &mut self,
        offset: usize,
        len: usize,
        f: impl FnOnce(&[u8]) -> R,
    ) -> Result<R> {
        let (key, size) = (self.key, self.size);
        self.mapping_mut()?
            .with_bytes(offset, len, f)
            .ok_or_else(|| out_of_range(key, size, offset, len))
    }

    /// Lends the `len` bytes at `offset` to `f` for writing (C: `memcpy(p + offset, ...)`),
    /// for a slot that the semaphores have given this process: see [`crate::ShmWriter`], the
    /// only caller, which calls it between its P and its V.
    pub(crate) fn with_bytes_mut<R>(
        &mut self,
        offset: usize,
        len: usize,
        f: impl FnOnce(&mut [u8]) -> R,
    ) -> Result<R> {
        let (key, size) = (self.key, self.size);
        self.mapping_mut()?
            .with_bytes_mut(offset, len, f)
            .ok_or_else(|| out_of_range(key, size, offset, len))
    }

    /// Copies `out.len()` bytes at `offset` out of the segment (volatile reads: for bytes
    /// another process may be writing at the same time).
    pub fn read(&self, offset: usize, out: &mut [u8]) -> Result<()> {
        if self.mapping()?.read_volatile(offset, out) {
            Ok(())
        } else {
            Err(self.out_of_range(offset, out.len()))
        }
    }

    /// Copies `data` into the segment at `offset` (volatile writes: for bytes another process
    /// may be reading at the same time).
    pub fn write(&self, offset: usize, data: &[u8]) -> Result<()> {
        if self.mapping()?.write_volatile(offset, data) {
            Ok(())
        } else {
            Err(self.out_of_range(offset, data.len()))
        }
    }

    /// The header word at `offset` (a multiple of 4), shared atomically with the other process.
    pub fn word(&self, offset: usize) -> Result<&AtomicU32> {
        self.mapping()?
            .atomic_u32(offset)
            .ok_or_else(|| self.out_of_range(offset, 4))
    }

    fn mapping_mut(&mut self) -> Result<&mut Mapping> {
        let key = self.key;
        self.mapping.as_mut().ok_or_else(|| not_attached(key))
    }

    fn out_of_range(&self, offset: usize, len: usize) -> Error {
        out_of_range(self.key, self.size, offset, len)
    }
}

/// The error for a guard whose segment is not attached.
fn not_attached(key: Key) -> Error {
    Error::new(format!("using segment key {key}"), "it is not attached")
}

/// The error for bytes `offset..offset + len` outside a segment of `size` bytes.
fn out_of_range(key: Key, size: usize, offset: usize, len: usize) -> Error {
    Error::new(
        format!("using segment key {key}"),
        format!(
            "bytes {offset}..{} lie outside its {size} bytes",
            offset.saturating_add(len),
        ),
    )
}

impl Drop for ShmSegment {
    fn drop(&mut self) {
        if let Some(mapping) = self.mapping.take() {
            if let Err((_, errno)) = sys::shmdt(mapping) {
                eprintln!(
                    "{}: warning: could not detach segment key {} (shmdt): {}",
                    program::name(),
                    self.key,
                    describe_errno(errno)
                );
            }
        }
        if !self.owner {
            return;
        }
        match sys::shmctl_rmid(self.id) {
            // EINVAL/EIDRM: already removed (by the other end or ipcrm): only its record is left.
            Ok(()) | Err(Errno::EINVAL | Errno::EIDRM) => {
                ownership::forget_sysv(sysvipc::Kind::Segment, self.id.raw())
            }
            // IPC_RMID needs the owner, the creator or root: another user's segment we shared
            // (--mode 0666) stays, and we say who can remove it.
            Err(Errno::EPERM)
                if self
                    .stat()
                    .is_ok_and(|stat| stat.uid != nix::unistd::geteuid().as_raw()) =>
            {
                let uid = self.stat().map_or(0, |stat| stat.uid);
                eprintln!(
                    "{}: shared memory segment key {} was not removed: {}",
                    program::name(),
                    self.key,
                    ipc_common::cli::not_ours_to_remove(
                        "the segment",
                        uid,
                        &format!("ipcrm -m {}", self.id)
                    )
                )
            }
            Err(errno) => eprintln!(
                "{}: warning: could not remove segment key {} id {}: {} (remove it with ipcrm -m {})",
                program::name(),
                self.key,
                self.id,
                describe_errno(errno),
                self.id
            ),
        }
    }
}

/// The error of a failed `shmget`, with the hint a user can act on.
fn shmget_error(key: Key, size: usize, errno: Errno) -> Error {
    let what = format!("shmget for the shared memory segment with key {key}");
    match errno {
        Errno::EINVAL => Error::new(
            what,
            format!(
                "the kernel refuses a segment of {size} bytes (EINVAL): more than \
                 /proc/sys/kernel/shmmax, or the key holds a smaller segment"
            ),
        )
        .with_hint("use a smaller --slot-size or fewer --slots, or remove the old segment: make clean-ipc"),
        Errno::ENOMEM => Error::sys(what, errno).with_hint(format!(
            "the system cannot find memory for a segment of {size} bytes: use a smaller --slot-size or fewer --slots"
        )),
        Errno::ENOSPC => Error::sys(what, errno).with_hint(
            "the system's limit of shared memory is reached (/proc/sys/kernel/shmall, shmmni); make clean-ipc removes ours",
        ),
        Errno::EACCES => Error::sys(what, errno)
            .with_hint("the segment belongs to another user or has a stricter mode; choose another --key"),
        other => Error::sys(what, other),
    }
}
