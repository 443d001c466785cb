//! The System V semaphore system calls, each wrapped once as a safe function.
//!
//! nix wraps no System V IPC, so these call `nix::libc` directly and check every result with
//! `Errno::result` (-1 means "look at errno"). All the `unsafe` of this crate is in this file.
//!
//! | C (man page) | here |
//! |---|---|
//! | `semget(key, nsems, flags)` (semget(2)) | [`semget`] |
//! | `semop(id, sops, nsops)` (semop(2)) | [`semop`] |
//! | `semtimedop(id, sops, nsops, &timeout)` (semop(2)) | [`semtimedop`] |
//! | `semctl(id, num, SETVAL, arg)` (semctl(2)) | [`semctl_setval`] |
//! | `semctl(id, num, GETVAL)` | [`semctl_getval`] |
//! | `semctl(id, num, GETNCNT)` | [`semctl_getncnt`] |
//! | `semctl(id, 0, IPC_STAT, arg)` | [`semctl_stat`] |
//! | `semctl(id, 0, IPC_RMID)` | [`semctl_rmid`] |

use std::fmt;
use std::time::Duration;

use ipc_common::trace;
use nix::errno::Errno;
use nix::libc::{self, c_int, c_short, c_ushort};

/// The id of a semaphore set (C: the `int` that `semget` returns), as `ipcs -s` shows it.
///
/// An id is only a number: the [`SemSet`](crate::SemSet) guard is what owns the set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SemId(c_int);

impl SemId {
    /// The number itself, as `ipcs -s` shows it (e.g. for the record of what we created).
    pub fn raw(self) -> c_int {
        self.0
    }
}

impl fmt::Display for SemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// One operation of a `semop` call (C: `struct sembuf { sem_num, sem_op, sem_flg }`).
///
/// `sem_op` > 0 adds to the semaphore (V, post); < 0 waits until it can subtract (P, wait);
/// 0 waits until the value is zero. Flags: `IPC_NOWAIT` (fail with EAGAIN instead of waiting)
/// and `SEM_UNDO` (the kernel reverses the operation when the process exits, however it dies).
pub type SemBuf = libc::sembuf;

/// What `semctl(IPC_STAT)` tells about a set (the fields we use of `struct semid_ds`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SemStat {
    /// Number of semaphores in the set (`sem_nsems`).
    pub nsems: u64,
    /// Time of the last `semop` (`sem_otime`); 0 until someone has called `semop`.
    pub otime: i64,
    /// Permission bits (`sem_perm.mode & 0777`).
    pub mode: u32,
    /// Owner's user id (`sem_perm.uid`).
    pub uid: u32,
}

/// C's `union semun`, the optional fourth argument of `semctl`. glibc does not declare it
/// (semctl(2): "the calling program must define this union"), so we do, with the same layout.
///
/// `semctl` is variadic: it reads this argument only for the commands that need it (SETVAL,
/// IPC_STAT, ...), as the whole union, and the kernel then picks the member it wants. The
/// union is pointer-sized; [`semctl_setval`] therefore initialises all of it before setting
/// `val`, so that no uninitialised bytes travel to the kernel.
#[repr(C)]
union Semun {
    val: c_int,
    buf: *mut libc::semid_ds,
    array: *mut c_ushort,
}

/// Declarations the libc crate lacks.
mod ffi {
    use nix::libc::{c_int, sembuf, size_t, timespec};

    // The libc crate declares semget/semop/semctl but not semtimedop; glibc exports it
    // (since 2.3.3), with this C prototype (semop(2)).
    extern "C" {
        pub fn semtimedop(
            semid: c_int,
            sops: *mut sembuf,
            nsops: size_t,
            timeout: *const timespec,
        ) -> c_int;
    }
}

/// Builds one `struct sembuf`.
pub fn sembuf(num: u16, op: i16, flags: c_int) -> SemBuf {
    SemBuf {
        sem_num: num as c_ushort,
        sem_op: op as c_short,
        // The flags (IPC_NOWAIT 0o4000, SEM_UNDO 0x1000) fit in a short, as in C.
        sem_flg: flags as c_short,
    }
}

/// C: `semget(key, nsems, flags)` (semget(2)): creates (with `IPC_CREAT`, `IPC_EXCL`) or finds
/// the set of `nsems` semaphores named by `key`. `flags` carries the permission bits.
pub fn semget(key: i32, nsems: c_int, flags: c_int) -> Result<SemId, Errno> {
    // SAFETY: semget takes only integers and touches no memory of ours.
    let id = unsafe { libc::semget(key, nsems, flags) };
    let result = Errno::result(id).map(SemId);
    trace::call(
        || {
            format!(
                "semget({}, {nsems}, {})",
                trace::key(key),
                trace::ipc_flags(flags)
            )
        },
        &result,
        SemId::to_string,
    );
    result
}

/// An array of `struct sembuf` as strace shows it: `[{sem_num=0, sem_op=-1, sem_flg=SEM_UNDO}]`.
fn show_sembufs(ops: &[SemBuf]) -> String {
    let shown: Vec<String> = ops
        .iter()
        .map(|op| {
            let flags = trace::bits(
                i64::from(op.sem_flg),
                &[
                    (i64::from(libc::SEM_UNDO), "SEM_UNDO"),
                    (i64::from(libc::IPC_NOWAIT), "IPC_NOWAIT"),
                ],
            );
            format!(
                "{{sem_num={}, sem_op={}, sem_flg={flags}}}",
                op.sem_num, op.sem_op
            )
        })
        .collect();
    format!("[{}]", shown.join(", "))
}

/// C: `semop(id, sops, nsops)` (semop(2)): performs every operation of `ops` atomically, all
/// or none, blocking until that is possible (unless an operation has `IPC_NOWAIT`).
/// Never restarted after a signal handler: a signal makes it fail with EINTR.
pub fn semop(id: SemId, ops: &mut [SemBuf]) -> Result<(), Errno> {
    // SAFETY: `ops` is a valid, initialised array of `ops.len()` sembufs for the whole call;
    // the kernel only reads it (copy_from_user).
    let rc = unsafe { libc::semop(id.0, ops.as_mut_ptr(), ops.len()) };
    let result = Errno::result(rc).map(drop);
    trace::call_zero(
        || format!("semop({id}, {}, {})", show_sembufs(ops), ops.len()),
        &result,
    );
    result
}

/// C: `semtimedop(id, sops, nsops, &timeout)` (semop(2)): like [`semop`], but gives up after
/// `timeout` with EAGAIN. We use it to look at the peer now and then while waiting.
pub fn semtimedop(id: SemId, ops: &mut [SemBuf], timeout: Duration) -> Result<(), Errno> {
    let timeout = libc::timespec {
        tv_sec: timeout.as_secs().min(i32::MAX as u64) as libc::time_t,
        tv_nsec: timeout.subsec_nanos() as _,
    };
    // SAFETY: `ops` is a valid array of `ops.len()` sembufs and `timeout` a valid timespec,
    // both alive for the whole call; the kernel only reads them.
    let rc = unsafe { ffi::semtimedop(id.0, ops.as_mut_ptr(), ops.len(), &timeout) };
    let result = Errno::result(rc).map(drop);
    trace::call_zero(
        || {
            format!(
                "semtimedop({id}, {}, {}, {{tv_sec={}, tv_nsec={}}})",
                show_sembufs(ops),
                ops.len(),
                timeout.tv_sec,
                timeout.tv_nsec
            )
        },
        &result,
    );
    result
}

/// C: `semctl(id, num, SETVAL, arg)` with `arg.val = value` (semctl(2)): sets one semaphore.
pub fn semctl_setval(id: SemId, num: u16, value: c_int) -> Result<(), Errno> {
    // Initialise the whole pointer-sized union first, then the int member: every byte defined.
    let mut arg = Semun {
        array: std::ptr::null_mut(),
    };
    arg.val = value;
    // SAFETY: SETVAL reads the fourth, variadic argument as a `union semun` and uses its `val`
    // member, which is initialised; `Semun` has C's layout.
    let rc = unsafe { libc::semctl(id.0, c_int::from(num), libc::SETVAL, arg) };
    let result = Errno::result(rc).map(drop);
    trace::call_zero(|| format!("semctl({id}, {num}, SETVAL, {value})"), &result);
    result
}

/// C: `semctl(id, num, GETVAL)` (semctl(2)): the current value of one semaphore.
pub fn semctl_getval(id: SemId, num: u16) -> Result<c_int, Errno> {
    // SAFETY: GETVAL takes no fourth argument (semctl(2)) and touches no memory of ours.
    let value = unsafe { libc::semctl(id.0, c_int::from(num), libc::GETVAL) };
    let result = Errno::result(value);
    trace::call(
        || format!("semctl({id}, {num}, GETVAL)"),
        &result,
        c_int::to_string,
    );
    result
}

/// C: `semctl(id, num, GETNCNT)` (semctl(2)): how many processes are blocked in `semop`
/// waiting for semaphore `num` to grow (waiting in a P).
pub fn semctl_getncnt(id: SemId, num: u16) -> Result<c_int, Errno> {
    // SAFETY: GETNCNT takes no fourth argument (semctl(2)) and touches no memory of ours.
    let count = unsafe { libc::semctl(id.0, c_int::from(num), libc::GETNCNT) };
    let result = Errno::result(count);
    trace::call(
        || format!("semctl({id}, {num}, GETNCNT)"),
        &result,
        c_int::to_string,
    );
    result
}

/// C: `semctl(id, 0, IPC_STAT, arg)` with `arg.buf = &ds` (semctl(2)): the set's metadata.
pub fn semctl_stat(id: SemId) -> Result<SemStat, Errno> {
    // SAFETY: semid_ds is a plain C struct of integers, for which all-zero bytes are valid.
    let mut ds: libc::semid_ds = unsafe { std::mem::zeroed() };
    let arg = Semun { buf: &mut ds };
    // SAFETY: IPC_STAT reads the fourth argument as a `union semun` and writes one semid_ds
    // through its `buf` member, which points to `ds`, alive and writable for the whole call.
    let rc = unsafe { libc::semctl(id.0, 0, libc::IPC_STAT, arg) };
    let result = Errno::result(rc).map(|_| SemStat {
        nsems: ds.sem_nsems as u64,
        otime: ds.sem_otime as i64,
        mode: u32::from(ds.sem_perm.mode) & 0o777,
        uid: ds.sem_perm.uid,
    });
    trace::call(
        || {
            let ds = match &result {
                Ok(stat) => format!(
                    "{{sem_perm={{uid={}, mode={}}}, sem_nsems={}, sem_otime={}}}",
                    stat.uid,
                    trace::mode(stat.mode),
                    stat.nsems,
                    stat.otime
                ),
                Err(_) => "...".to_string(),
            };
            format!("semctl({id}, 0, IPC_STAT, {ds})")
        },
        &result,
        |_| "0".to_string(),
    );
    result
}

/// C: `semctl(id, 0, IPC_RMID)` (semctl(2)): removes the set at once; every process blocked
/// in `semop` on it wakes up with EIDRM.
pub fn semctl_rmid(id: SemId) -> Result<(), Errno> {
    // SAFETY: IPC_RMID takes no fourth argument and touches no memory of ours.
    let rc = unsafe { libc::semctl(id.0, 0, libc::IPC_RMID) };
    let result = Errno::result(rc).map(drop);
    trace::call_zero(|| format!("semctl({id}, 0, IPC_RMID)"), &result);
    result
}
