//! The System V control calls ipc-doctor needs, which nix does not wrap: `msgctl`, `semctl`
//! and `shmctl`. All the `unsafe` of this crate is here, one safe function per call.
//!
//! Removal (`IPC_RMID`) takes effect at once for queues and semaphore sets (blocked
//! `msgrcv`/`semop` callers wake with EIDRM); a shared memory segment is only marked for
//! removal and disappears when the last process detaches it.

use nix::errno::Errno;
use nix::libc::{self, c_int};

/// C: `msgctl(msqid, IPC_RMID, NULL)` (man 2 msgctl). Removes the queue and every message in it.
pub fn msgctl_rmid(msqid: i32) -> Result<(), Errno> {
    // SAFETY: IPC_RMID does not read or write the buffer argument, so a null pointer is valid
    // (man 2 msgctl: "the argument buf is ignored").
    let rc = unsafe { libc::msgctl(msqid, libc::IPC_RMID, std::ptr::null_mut()) };
    Errno::result(rc).map(drop)
}

/// C: `semctl(semid, 0, IPC_RMID)` (man 2 semctl). Removes the whole set.
pub fn semctl_rmid(semid: i32) -> Result<(), Errno> {
    // SAFETY: IPC_RMID takes no fourth (union semun) argument, so the variadic call passes
    // exactly the three arguments the kernel reads.
    let rc = unsafe { libc::semctl(semid, 0, libc::IPC_RMID) };
    Errno::result(rc).map(drop)
}

/// C: `shmctl(shmid, IPC_RMID, NULL)` (man 2 shmctl). Marks the segment for removal.
pub fn shmctl_rmid(shmid: i32) -> Result<(), Errno> {
    // SAFETY: IPC_RMID does not read or write the buffer argument, so a null pointer is valid.
    let rc = unsafe { libc::shmctl(shmid, libc::IPC_RMID, std::ptr::null_mut()) };
    Errno::result(rc).map(drop)
}

/// C: `semctl(semid, semnum, cmd)` for the read-only queries GETPID (the pid of the last
/// process that changed semaphore `semnum`), GETNCNT (how many wait for it to increase) and
/// GETZCNT (how many wait for it to be zero).
fn semctl_query(semid: i32, semnum: u32, cmd: c_int) -> Result<i32, Errno> {
    let semnum = c_int::try_from(semnum).map_err(|_| Errno::EINVAL)?;
    // SAFETY: GETPID, GETNCNT and GETZCNT take no fourth argument (man 2 semctl) and only
    // return an int; `cmd` is one of those three (callers below are the only users).
    let rc = unsafe { libc::semctl(semid, semnum, cmd) };
    Errno::result(rc)
}

/// C: `semctl(semid, semnum, GETPID)`: the last process that changed this semaphore (0: none).
pub fn semctl_getpid(semid: i32, semnum: u32) -> Result<i32, Errno> {
    semctl_query(semid, semnum, libc::GETPID)
}

/// C: `semctl(semid, semnum, GETNCNT)`: processes blocked waiting for it to increase.
pub fn semctl_getncnt(semid: i32, semnum: u32) -> Result<i32, Errno> {
    semctl_query(semid, semnum, libc::GETNCNT)
}

/// C: `semctl(semid, semnum, GETZCNT)`: processes blocked waiting for it to become zero.
pub fn semctl_getzcnt(semid: i32, semnum: u32) -> Result<i32, Errno> {
    semctl_query(semid, semnum, libc::GETZCNT)
}
