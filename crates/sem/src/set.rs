//! [`SemSet`]: the guard that owns one System V semaphore set, and the operations on it.
//!
//! Life of a set, with the C beside the Rust:
//!
//! | step | C | Rust |
//! |---|---|---|
//! | create | `id = semget(key, n, IPC_CREAT \| IPC_EXCL \| 0600)` | [`SemSet::create`] |
//! | initialise | `semctl(id, i, SETVAL, arg)` for each, then one `semop` | [`SemSet::initialise`] |
//! | find | `id = semget(key, 0, 0)` | [`SemSet::open`] (waits until initialised) |
//! | P / V | `semop(id, &(struct sembuf){i, -1 / +1, flags}, 1)` | [`SemSet::op`], [`Op::wait`], [`Op::post`] |
//! | remove | `semctl(id, 0, IPC_RMID)` | dropping the owner's guard |
//!
//! ## The initialisation race, and how we close it
//!
//! `semget` creates a set whose values are not yet what the program wants: they are set by
//! separate `semctl(SETVAL)` calls afterwards. A second program that finds the set in between
//! would use semaphores that are not initialised (Stevens, UNP vol. 2, section 11.2). We close
//! the gap with the classic idiom:
//!
//! 1. the creator uses `IPC_CREAT | IPC_EXCL`, so exactly one program creates the set;
//! 2. the creator sets the values (SETVAL) and only then performs one `semop`; the kernel
//!    records the time of the last `semop` in the set's `sem_otime`, which is 0 until then;
//! 3. everybody else opens the set and waits (briefly, with a limit) until `IPC_STAT` shows
//!    `sem_otime != 0` before touching it.
//!
//! A creator that died between steps 1 and 2 leaves a set that is never initialised: [`open`]
//! then fails with a clear error after a few seconds instead of waiting for ever.
//!
//! ## Waiting, signals and the other end
//!
//! `semop` is never restarted after a signal handler, whatever SA_RESTART says (signal(7)).
//! Our Ctrl-C handler nudges the main thread with a signal until it notices, so a blocked
//! `semop` fails with EINTR: we then call `signals::check()` (which stops the program) or retry.
//! When the set is removed while we wait (the other end finished, or `ipcrm`), `semop` fails
//! with EIDRM, and with EINVAL once the id is gone: both are reported as "removed".
//!
//! [`open`]: SemSet::open

use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::libc::{self, c_int};

use ipc_common::cli::{join_if_shared, ForeignObject, Key, Mode};
use ipc_common::creation::{create_or_open, Opened};
use ipc_common::{ownership, program, signals, sysvipc, Error, Result};

use crate::sys::{self, SemBuf, SemId, SemStat};

/// The largest value a System V semaphore can hold on Linux (SEMVMX); a V beyond it fails.
pub const SEMVMX: i32 = 32767;

/// How long [`SemSet::open`] waits for the creator to finish initialising the set.
const INIT_WAIT: Duration = Duration::from_secs(5);

/// One operation of a [`SemSet::op`] call: which semaphore, by how much, with which flags.
#[derive(Debug, Clone, Copy)]
pub struct Op(SemBuf);

impl Op {
    /// P (wait, "proberen"): wait until semaphore `num` is positive, then take one.
    pub fn wait(num: u16) -> Op {
        Op(sys::sembuf(num, -1, 0))
    }

    /// V (post, "verhogen"): add one to semaphore `num`, waking a waiter.
    pub fn post(num: u16) -> Op {
        Op(sys::sembuf(num, 1, 0))
    }

    /// Adds `delta` to semaphore `num` (C: `sem_op = delta`): a negative delta waits until
    /// the value is at least `-delta`; 0 waits until the value is zero.
    pub fn add(num: u16, delta: i16) -> Op {
        Op(sys::sembuf(num, delta, 0))
    }

    /// Wait until semaphore `num` is zero (C: `sem_op = 0`).
    pub fn zero(num: u16) -> Op {
        Op(sys::sembuf(num, 0, 0))
    }

    /// Adds `SEM_UNDO`: the kernel reverses this operation when the process exits, even by
    /// `kill -9`, so a lock held by a dead process is released.
    #[must_use]
    pub fn undo(mut self) -> Op {
        self.0.sem_flg |= libc::SEM_UNDO as libc::c_short;
        self
    }

    /// Adds `IPC_NOWAIT`: fail at once (EAGAIN) instead of waiting.
    #[must_use]
    pub fn nowait(mut self) -> Op {
        self.0.sem_flg |= libc::IPC_NOWAIT as libc::c_short;
        self
    }
}

/// One System V semaphore set, owned by this guard. When the guard is the owner, dropping it
/// removes the set (C: `semctl(id, 0, IPC_RMID)`); a failed removal is one warning line.
///
/// Not `Clone`: one guard per set in a program, so the set is removed once.
#[derive(Debug)]
pub struct SemSet {
    id: SemId,
    key: Key,
    nsems: u16,
    owner: bool,
}

impl SemSet {
    /// C: `semget(key, nsems, IPC_CREAT | IPC_EXCL | mode)`. Creates a new set and returns its
    /// (owning) guard, or `None` when a set with this key already exists. The values are not
    /// initialised yet: call [`initialise`](SemSet::initialise) before anyone uses the set.
    pub fn create(key: Key, nsems: u16, mode: Mode) -> Result<Option<SemSet>> {
        let flags = libc::IPC_CREAT | libc::IPC_EXCL | mode.0 as c_int;
        match sys::semget(key.0, c_int::from(nsems), flags) {
            Ok(id) => {
                ownership::record_sysv(sysvipc::Kind::Semaphores, key.0, id.raw());
                Ok(Some(SemSet {
                    id,
                    key,
                    nsems,
                    owner: true,
                }))
            }
            Err(Errno::EEXIST) => Ok(None),
            Err(errno) => Err(semget_error(key, nsems, errno)),
        }
    }

    /// Sets every semaphore to its value (C: `semctl(id, i, SETVAL, arg)` for each), then marks
    /// the set as initialised with one `semop` that leaves the values as they are: the kernel
    /// sets `sem_otime`, which is what [`open`](SemSet::open) waits for.
    pub fn initialise(&self, values: &[u16]) -> Result<()> {
        if values.len() != usize::from(self.nsems) {
            return Err(Error::new(
                "initialising the semaphore set",
                format!("{} values for {} semaphores", values.len(), self.nsems),
            ));
        }
        for (num, &value) in (0u16..).zip(values) {
            sys::semctl_setval(self.id, num, c_int::from(value)).map_err(|errno| {
                self.error(
                    &format!("setting semaphore {num} to {value} (SETVAL)"),
                    errno,
                )
            })?;
        }
        // One semop that changes nothing: -1 then +1 on a positive semaphore, else +1 then -1.
        // Both steps happen atomically in one call, so no other process sees the middle.
        let mark = if values.first().is_some_and(|&v| v > 0) {
            [Op::wait(0).nowait(), Op::post(0)]
        } else {
            [Op::post(0), Op::wait(0).nowait()]
        };
        self.op(mark, "marking the semaphore set as initialised")
    }

    /// C: `semget(key, 0, 0)`: finds an existing set, checks that it has `nsems` semaphores,
    /// and waits (up to 5 seconds) until its creator has initialised it (`sem_otime != 0`).
    /// The guard does not own the set.
    pub fn open(key: Key, nsems: u16) -> Result<SemSet> {
        let set = SemSet::open_as_is(key, nsems)?;
        let stat = set.stat()?;
        set.wait_until_initialised(stat)?;
        Ok(set)
    }

    /// Like [`open`](SemSet::open), without waiting for `sem_otime`: for sets made by programs
    /// that do not follow that protocol, such as c/shm_receiver.c (which `SETALL`s its set
    /// before it creates the segment, so a segment found means an initialised set).
    pub fn open_as_is(key: Key, nsems: u16) -> Result<SemSet> {
        let id = sys::semget(key.0, 0, 0).map_err(|errno| match errno {
            // No set with this key: the caller adds the hint (who creates it).
            Errno::ENOENT => Error::sys(format!("opening the semaphore set with key {key}"), errno),
            other => semget_error(key, nsems, other),
        })?;
        let set = SemSet {
            id,
            key,
            nsems,
            owner: false,
        };
        let stat = set.stat()?;
        if stat.nsems != u64::from(nsems) {
            return Err(Error::new(
                format!("opening the semaphore set with key {key}"),
                format!(
                    "it has {} semaphore(s), and this program needs a set of {nsems}: \
                     the key is used by another program",
                    stat.nsems
                ),
            )
            .with_hint(format!(
                "choose another --key, or remove the set: ipcrm -S {key_num}",
                key_num = key.0
            )));
        }
        Ok(set)
    }

    /// Checks who owns the set we found: ours, or another user's shared with exactly the
    /// `--mode` given (0666, see [`Mode::admits_foreign`]), which is said on stderr. The kernel
    /// would let any user use a 0666 set; we join a stranger's only when asked to share.
    pub fn check_shared(&self, mode: Mode) -> Result<()> {
        let stat = self.stat()?;
        let found = ForeignObject {
            noun: "set",
            id_name: "semid",
            id: self.id.raw(),
            ipcrm: "-s",
            uid: stat.uid,
            mode: stat.mode,
        };
        let what = format!("opening the semaphore set with key {}", self.key);
        join_if_shared(
            what,
            &format!("semaphore set key {}", self.key),
            found,
            mode,
        )
    }

    /// Waits (up to 5 seconds) until the creator has initialised the set (`sem_otime != 0`).
    fn wait_until_initialised(&self, stat: SemStat) -> Result<()> {
        let (set, key) = (self, self.key);
        let deadline = Instant::now() + INIT_WAIT;
        let mut stat = stat;
        while stat.otime == 0 {
            signals::check()?;
            if Instant::now() >= deadline {
                return Err(Error::new(
                    format!("opening the semaphore set with key {key}"),
                    format!(
                        "it was created but not initialised within {} s (its creator died?)",
                        INIT_WAIT.as_secs()
                    ),
                )
                .with_hint(format!(
                    "remove it and start again: ipcrm -S {} (or make clean-ipc)",
                    key.0
                )));
            }
            // A short, bounded wait for the creator's few SETVAL calls: this happens only in the
            // instants after creation, never while messages flow.
            std::thread::sleep(Duration::from_millis(1));
            stat = set.stat()?;
        }
        Ok(())
    }

    /// Creates and initialises the set with `values` if there is none (an owning guard,
    /// [`Opened::Created`]), else opens the existing one and waits until it is initialised (not
    /// owning, [`Opened::Found`]). A set removed between the two calls is asked for again.
    pub fn open_or_create(key: Key, values: &[u16], mode: Mode) -> Result<Opened<SemSet>> {
        let nsems = u16::try_from(values.len())
            .map_err(|_| Error::new("creating a semaphore set", "too many semaphores"))?;
        let create = || {
            let set = SemSet::create(key, nsems, mode)?;
            if let Some(set) = &set {
                set.initialise(values)?;
            }
            Ok(set)
        };
        let open = || match SemSet::open(key, nsems) {
            Err(err) if err.errno() == Some(Errno::ENOENT) => Ok(None),
            opened => opened.map(Some),
        };
        create_or_open(&format!("the semaphore set with key {key}"), create, open)
    }

    /// Performs every operation of `ops` atomically (C: `semop`), waiting as long as needed.
    /// EINTR (a signal) means: stop if Ctrl-C was pressed, else try again.
    pub fn op<const N: usize>(&self, ops: [Op; N], what: &str) -> Result<()> {
        let mut bufs = ops.map(|op| op.0);
        loop {
            match sys::semop(self.id, &mut bufs) {
                Ok(()) => return Ok(()),
                Err(Errno::EINTR) => signals::check()?,
                Err(errno) => return Err(self.error(what, errno)),
            }
        }
    }

    /// Like [`op`](SemSet::op), but returns `Ok(false)` if it could not be done within
    /// `timeout` (C: `semtimedop`), or at once when an operation has `IPC_NOWAIT`.
    pub fn op_timeout<const N: usize>(
        &self,
        ops: [Op; N],
        timeout: Duration,
        what: &str,
    ) -> Result<bool> {
        let mut bufs = ops.map(|op| op.0);
        loop {
            match sys::semtimedop(self.id, &mut bufs, timeout) {
                Ok(()) => return Ok(true),
                Err(Errno::EAGAIN) => return Ok(false),
                Err(Errno::EINTR) => signals::check()?,
                Err(errno) => return Err(self.error(what, errno)),
            }
        }
    }

    /// For cleanup code (`Drop`) that runs while the program stops: like
    /// [`op_timeout`](SemSet::op_timeout), but a pending Ctrl-C does not cut it short (EINTR
    /// just retries), so a lock can still be released. `Ok(false)` after `timeout`.
    pub fn op_cleanup<const N: usize>(
        &self,
        ops: [Op; N],
        timeout: Duration,
    ) -> Result<bool, Errno> {
        let mut bufs = ops.map(|op| op.0);
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match sys::semtimedop(self.id, &mut bufs, left) {
                Ok(()) => return Ok(true),
                Err(Errno::EAGAIN) => return Ok(false),
                Err(Errno::EINTR) if !left.is_zero() => {}
                Err(errno) => return Err(errno),
            }
        }
    }

    /// The value of semaphore `num` (C: `semctl(id, num, GETVAL)`).
    pub fn value(&self, num: u16) -> Result<i32> {
        sys::semctl_getval(self.id, num)
            .map_err(|errno| self.error(&format!("reading semaphore {num} (GETVAL)"), errno))
    }

    /// How many processes are blocked in a P on semaphore `num`, waiting for it to grow
    /// (C: `semctl(id, num, GETNCNT)`).
    pub fn waiting(&self, num: u16) -> Result<i32> {
        sys::semctl_getncnt(self.id, num).map_err(|errno| {
            self.error(
                &format!("counting the waiters of semaphore {num} (GETNCNT)"),
                errno,
            )
        })
    }

    /// Sets semaphore `num` to `value` (C: `semctl(id, num, SETVAL, arg)`).
    pub fn set_value(&self, num: u16, value: u16) -> Result<()> {
        sys::semctl_setval(self.id, num, c_int::from(value))
            .map_err(|errno| self.error(&format!("setting semaphore {num} (SETVAL)"), errno))
    }

    /// The set's metadata (C: `semctl(id, 0, IPC_STAT, arg)`).
    pub fn stat(&self) -> Result<SemStat> {
        sys::semctl_stat(self.id)
            .map_err(|errno| self.error("reading the semaphore set's status (IPC_STAT)", errno))
    }

    /// The set's id, as `ipcs -s` shows it.
    pub fn id(&self) -> SemId {
        self.id
    }

    /// The key the set was found or created with.
    pub fn key(&self) -> Key {
        self.key
    }

    /// Whether dropping this guard removes the set.
    pub fn is_owner(&self) -> bool {
        self.owner
    }

    /// Decides whether dropping this guard removes the set (e.g. an initialiser that took over
    /// a set made by another copy).
    pub fn remove_when_done(&mut self, owner: bool) {
        self.owner = owner;
    }

    /// Removes the set now (C: `semctl(id, 0, IPC_RMID)`), whoever owns it.
    pub fn remove(mut self) -> Result<()> {
        self.owner = false;
        sys::semctl_rmid(self.id)
            .map_err(|errno| self.error("removing the semaphore set (IPC_RMID)", errno))?;
        ownership::forget_sysv(sysvipc::Kind::Semaphores, self.id.raw());
        Ok(())
    }

    /// An error about this set. EIDRM (removed while we waited) and EINVAL (the id is gone)
    /// get a hint saying who removes sets: the other end, or someone running ipcrm.
    pub fn error(&self, what: &str, errno: Errno) -> Error {
        let what = format!("{what} (semaphore set key {}, id {})", self.key, self.id);
        match errno {
            Errno::EIDRM | Errno::EINVAL => Error::sys(what, errno).with_hint(
                "the semaphore set was removed while in use: the program at the other end \
                 finished or was stopped, or someone ran ipcrm",
            ),
            Errno::ERANGE => Error::new(
                what,
                format!("a semaphore would pass its limit of {SEMVMX} (SEMVMX, ERANGE)"),
            ),
            other => Error::sys(what, other),
        }
    }

    /// True when `err` says the set was removed under us (EIDRM, or EINVAL once the id is gone).
    pub fn is_removed(err: &Error) -> bool {
        matches!(err.errno(), Some(Errno::EIDRM | Errno::EINVAL))
    }
}

impl Drop for SemSet {
    fn drop(&mut self) {
        if !self.owner {
            return;
        }
        match sys::semctl_rmid(self.id) {
            // Removed now, or already gone (by the other end or ipcrm): so is its record.
            Ok(()) | Err(Errno::EINVAL | Errno::EIDRM) => {
                ownership::forget_sysv(sysvipc::Kind::Semaphores, self.id.raw())
            }
            // IPC_RMID needs the owner, the creator or root: another user's set we shared
            // (--mode 0666) stays, and we say who can remove it.
            Err(Errno::EPERM) if self.stat().is_ok_and(|stat| stat.uid != nix::unistd::geteuid().as_raw()) => {
                let uid = self.stat().map_or(0, |stat| stat.uid);
                eprintln!(
                    "{}: semaphore set key {} was not removed: {}",
                    program::name(),
                    self.key,
                    ipc_common::cli::not_ours_to_remove("the set", uid, &format!("ipcrm -s {}", self.id))
                )
            }
            Err(errno) => eprintln!(
                "{}: warning: could not remove semaphore set key {} id {}: {} (remove it with ipcrm -s {})",
                program::name(),
                self.key,
                self.id,
                ipc_common::error::describe_errno(errno),
                self.id
            ),
        }
    }
}

/// The error of a failed `semget`, with the hint a user can act on.
fn semget_error(key: Key, nsems: u16, errno: Errno) -> Error {
    let what = format!("semget for the semaphore set with key {key}");
    match errno {
        Errno::EACCES => Error::sys(what, errno)
            .with_hint("the set belongs to another user or has a stricter mode; choose another --key"),
        Errno::EINVAL => Error::new(
            what,
            format!("the key holds a set with fewer than the {nsems} semaphores this program needs (EINVAL)"),
        )
        .with_hint(format!("choose another --key, or remove the set: ipcrm -S {}", key.0)),
        Errno::ENOSPC => Error::sys(what, errno)
            .with_hint("the system's limit of semaphore sets is reached (/proc/sys/kernel/sem); make clean-ipc removes ours"),
        other => Error::sys(what, other),
    }
}
