//! The shared-memory object that holds a ring: its name, its mapping, and who owns them.
//!
//! | step | C | Rust |
//! |---|---|---|
//! | create | `fd = shm_open("/name", O_CREAT \| O_EXCL \| O_RDWR, 0600); ftruncate(fd, size)` | [`Ring::create`] |
//! | find | `fd = shm_open("/name", O_RDWR, 0); fstat(fd, &st)` | [`Ring::open`] |
//! | map | `p = mmap(NULL, size, PROT_READ \| PROT_WRITE, MAP_SHARED, fd, 0); close(fd)` | inside both |
//! | unmap | `munmap(p, size)` | dropping the [`Ring`] (or its Producer / Consumer) |
//! | remove | `shm_unlink("/name")` | dropping the creator's [`Ring`] |
//!
//! The name lives in /dev/shm (a tmpfs) until it is unlinked; the memory lives until the last
//! process unmaps it. So the creator can unlink while the other side still works.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::atomic::Ordering;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::mman::{shm_open, shm_unlink};
use nix::sys::stat::{fstat, Mode};

use ipc_common::cli;
use ipc_common::{ownership, trace, Context, Error, Result};

use crate::layout::{state, Geometry, Header, HEADER_BYTES, MAGIC};
use crate::sys::Mapping;

/// A POSIX shared-memory name that this process may have to remove: `shm_unlink` in `Drop`
/// when it is the owner (the creator).
#[derive(Debug)]
struct ShmName {
    name: String,
    owner: bool,
}

impl Drop for ShmName {
    fn drop(&mut self) {
        if self.owner {
            // C: shm_unlink(name): the name disappears from /dev/shm now, the memory when the
            // last mapping goes.
            let removed = shm_unlink(self.name.as_str());
            trace::call_zero(|| format!("shm_unlink(\"{}\")", self.name), &removed);
            match removed {
                Ok(()) | Err(Errno::ENOENT) => ownership::forget_posix_segment(&self.name),
                Err(errno) => eprintln!(
                    "warning: removing the ring {}: {}",
                    self.name,
                    ipc_common::error::describe_errno(errno)
                ),
            }
        }
    }
}

/// A ring in shared memory, mapped into this process, not yet given a role.
///
/// Turn it into the [`Producer`](crate::Producer) or the [`Consumer`](crate::Consumer) end.
#[derive(Debug)]
pub struct Ring {
    // Field order is drop order: unmap, then unlink.
    map: Mapping,
    name: ShmName,
    geometry: Geometry,
    /// Owner and permission bits of the object in /dev/shm (`st_uid`, `st_mode & 0777`).
    owner: (u32, u32),
}

impl Ring {
    /// Creates the ring `name` (`/something`) with `slots` slots of `slot_size` bytes and
    /// permission bits `mode`, failing if the name exists. This process owns it: dropping the
    /// ring (or the end made from it) removes the name.
    pub fn create(name: &str, slot_size: usize, slots: usize, mode: cli::Mode) -> Result<Ring> {
        check_name(name)?;
        let geometry = Geometry::new(slot_size, slots)?;
        let total = geometry
            .total_bytes()
            .ok_or_else(|| Error::usage("sizing the ring", "the size overflows"))?;
        let what = format!("creating the shared-memory ring {name}");
        // C: shm_open(name, O_CREAT | O_EXCL | O_RDWR, mode)
        let flags = OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_RDWR | OFlag::O_CLOEXEC;
        let opened = shm_open(name, flags, Mode::from_bits_truncate(mode.0));
        trace_open(name, flags, Some(mode.0), &opened);
        let fd = opened.map_err(|errno| {
            let err = Error::sys(what.clone(), errno);
            if errno == Errno::EEXIST {
                err.with_hint(format!(
                    "another ring uses the name {name}: stop its programs, or remove it with \
                     rm /dev/shm{name} (or make clean-ipc)"
                ))
            } else {
                err
            }
        })?;
        // From here on the name is ours: the guard removes it if anything below fails.
        ownership::record_posix_segment(name);
        let name_guard = ShmName {
            name: name.to_string(),
            owner: true,
        };
        // C: fchmod(fd, mode): shm_open applied the umask (0022 turns 0666 into 0644, which no
        // other user could write): set the exact mode, so --mode 0666 shares the ring.
        let chmod = nix::sys::stat::fchmod(fd.as_fd(), Mode::from_bits_truncate(mode.0));
        trace::call_zero(
            || format!("fchmod({}, {:04o})", fd.as_raw_fd(), mode.0),
            &chmod,
        );
        chmod.context(what.clone())?;
        // C: ftruncate(fd, size): a new object has length 0; the pages read as zeroes.
        let sized = nix::unistd::ftruncate(fd.as_fd(), total as i64);
        trace::call_zero(|| format!("ftruncate({}, {total})", fd.as_raw_fd()), &sized);
        sized.context(format!("{what}: setting its size to {total} bytes"))?;
        let map = Mapping::map_shared(fd.as_fd(), total).map_err(|errno| {
            Error::sys(format!("{what}: mapping {total} bytes"), errno).with_hint(
                "the ring may be larger than /dev/shm allows: use fewer or smaller slots",
            )
        })?;
        let fixed = &map.header().fixed.0;
        fixed.slot_size.store(slot_size as u64, Ordering::Relaxed);
        fixed.slots.store(slots as u64, Ordering::Relaxed);
        // Last, with Release: whoever reads the magic with Acquire sees the geometry too.
        fixed.magic.store(MAGIC, Ordering::Release);
        Ok(Ring {
            map,
            name: name_guard,
            geometry,
            owner: (nix::unistd::geteuid().as_raw(), mode.0),
        })
    }

    /// Opens the existing ring `name`, checking that it is one and that its size matches.
    pub fn open(name: &str) -> Result<Ring> {
        check_name(name)?;
        let what = format!("opening the shared-memory ring {name}");
        // C: shm_open(name, O_RDWR, 0)
        let flags = OFlag::O_RDWR | OFlag::O_CLOEXEC;
        let opened = shm_open(name, flags, Mode::empty());
        trace_open(name, flags, None, &opened);
        let fd = opened.map_err(|errno| {
            let err = Error::sys(what.clone(), errno);
            match errno {
                Errno::ENOENT => err.with_hint(
                    "start the side that creates the ring first, and use the same name on both",
                ),
                Errno::EACCES => err.with_hint("the ring belongs to another user"),
                _ => err,
            }
        })?;
        // C: fstat(fd, &st): how big is the object?
        let stat = fstat(fd.as_fd());
        trace::call(
            || format!("fstat({}, ...)", fd.as_raw_fd()),
            &stat,
            |st| format!("0 (st_size={})", st.st_size),
        );
        let stat = stat.context(what.clone())?;
        let owner = (stat.st_uid, stat.st_mode & 0o777);
        let size = stat.st_size;
        let size = usize::try_from(size).unwrap_or(0);
        if size < HEADER_BYTES {
            return Err(not_a_ring(&what, format!("it holds only {size} bytes")));
        }
        let map = Mapping::map_shared(fd.as_fd(), size).context(what.clone())?;
        let fixed = &map.header().fixed.0;
        if fixed.magic.load(Ordering::Acquire) != MAGIC {
            return Err(not_a_ring(&what, "its header has no ring magic".into()));
        }
        let slot_size = usize::try_from(fixed.slot_size.load(Ordering::Relaxed)).unwrap_or(0);
        let slots = usize::try_from(fixed.slots.load(Ordering::Relaxed)).unwrap_or(0);
        let geometry = Geometry::new(slot_size, slots)
            .map_err(|err| not_a_ring(&what, format!("its header is invalid ({err})")))?;
        if geometry.total_bytes() != Some(size) {
            return Err(not_a_ring(
                &what,
                format!("{slots} slots of {slot_size} bytes do not match its size of {size} bytes"),
            ));
        }
        Ok(Ring {
            map,
            name: ShmName {
                name: name.to_string(),
                owner: false,
            },
            geometry,
            owner,
        })
    }

    /// Who owns the ring in /dev/shm and its permission bits: `(st_uid, st_mode & 0777)`.
    pub fn owner_and_mode(&self) -> (u32, u32) {
        self.owner
    }

    /// The ring's name (`/something`).
    pub fn name(&self) -> &str {
        &self.name.name
    }

    /// Where the ring is mapped in this process (C: the pointer `mmap` returned); each process
    /// maps it at its own address.
    pub fn addr(&self) -> usize {
        self.map.addr()
    }

    /// The largest record one slot holds, in bytes.
    pub fn slot_size(&self) -> usize {
        self.geometry.slot_size
    }

    /// How many records fit before the producer has to wait.
    pub fn slots(&self) -> usize {
        self.geometry.slots
    }

    /// What the ring takes in /dev/shm: its 4 KiB header and every slot, rounded up to 64 bytes.
    pub fn bytes(&self) -> usize {
        self.geometry.total_bytes().unwrap_or(0)
    }

    /// True when dropping this ring removes its name.
    pub fn is_owner(&self) -> bool {
        self.name.owner
    }

    pub(crate) fn header(&self) -> &Header {
        self.map.header()
    }

    pub(crate) fn map(&self) -> &crate::sys::Mapping {
        &self.map
    }

    pub(crate) fn map_mut(&mut self) -> &mut crate::sys::Mapping {
        &mut self.map
    }

    pub(crate) fn geometry(&self) -> Geometry {
        self.geometry
    }

    /// Records published and not yet released (0 ..= slots).
    pub fn pending(&self) -> u64 {
        let header = self.header();
        let head = header.head.0.load(Ordering::Acquire);
        let tail = header.tail.0.load(Ordering::Acquire);
        head.wrapping_sub(tail)
    }

    /// Claims one side of the ring for this process: records our pid, refuses a second one.
    pub(crate) fn claim(&self, role: &'static str) -> Result<()> {
        let fixed = &self.header().fixed.0;
        let (pid_word, state_word) = match role {
            "producer" => (&fixed.producer_pid, &fixed.producer_state),
            _ => (&fixed.consumer_pid, &fixed.consumer_state),
        };
        match state_word.compare_exchange(
            state::FREE,
            state::ATTACHED,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => {
                pid_word.store(std::process::id(), Ordering::Release);
                Ok(())
            }
            Err(_) => Err(Error::new(
                format!("attaching to the ring {} as its {role}", self.name()),
                format!(
                    "it already has (or had) a {role}, pid {}; a ring has exactly one of each",
                    pid_word.load(Ordering::Acquire)
                ),
            )
            .with_hint("create a new ring for each producer/consumer pair")),
        }
    }
}

/// Our POSIX names are `/NAME`: one leading slash, no other ([`cli::check_posix_name`]).
fn check_name(name: &str) -> Result<()> {
    cli::check_posix_name(name).map_err(|why| {
        Error::usage(
            "naming the ring",
            format!("'{name}' is not a POSIX shared-memory name"),
        )
        .with_hint(why)
    })
}

fn not_a_ring(what: &str, why: String) -> Error {
    Error::new(what, format!("it is not an ipc-pairs ring: {why}"))
        .with_hint("another program uses this name: choose another name")
}

/// `--trace`: shows a `shm_open` in C notation, with the descriptor it returned.
fn trace_open(
    name: &str,
    flags: OFlag,
    mode: Option<u32>,
    result: &std::result::Result<OwnedFd, Errno>,
) {
    trace::call(
        || {
            let flags = trace::open_flags(flags.bits());
            match mode {
                Some(mode) => format!("shm_open(\"{name}\", {flags}, {})", trace::mode(mode)),
                None => format!("shm_open(\"{name}\", {flags}, 0)"),
            }
        },
        result,
        |fd| fd.as_raw_fd().to_string(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_need_one_leading_slash() {
        assert!(check_name("/ipt-ok").is_ok());
        for bad in ["", "/", "noslash", "/a/b"] {
            assert!(check_name(bad).is_err(), "{bad:?} accepted");
        }
    }
}
