//! The semaphore calls by their C names, for the line-by-line port of the textbook's sem1.c
//! (`examples/sem1.rs`): `semget`, `semctl` and `semop`, with C's flags and `struct sembuf`.
//!
//! Each is the safe wrapper of one system call from the private `sys` module, which holds the
//! `unsafe`; errors come back as the `errno` the C would find (`Err(Errno)` instead of `-1`).
//! The full programs use the [`SemSet`](crate::SemSet) guard instead, which adds ownership
//! (the set is removed when its owner's guard is dropped) and the checks of a tool.
//!
//! | C | here |
//! |---|---|
//! | `semget((key_t)1234, 1, 0666 \| IPC_CREAT)` | `semget(1234, 1, 0o666 \| IPC_CREAT)` |
//! | `sem_union.val = 1; semctl(id, 0, SETVAL, sem_union)` | `semctl(id, 0, Cmd::SetVal(1))` |
//! | `semctl(id, 0, IPC_RMID, sem_union)` | `semctl(id, 0, Cmd::IpcRmid)` |
//! | `struct sembuf b = {0, -1, SEM_UNDO}; semop(id, &b, 1)` | `semop(id, &mut [SemBuf { sem_num: 0, sem_op: -1, sem_flg: SEM_UNDO as i16 }])` |

use nix::libc::c_int;

pub use crate::sys::{semget, semop, SemBuf, SemId};
pub use nix::errno::Errno;
pub use nix::libc::{IPC_CREAT, IPC_EXCL, SEM_UNDO};

/// The `semctl` commands the textbook's sem1.c uses (C: the third argument, with the value
/// of `union semun` where the command needs one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmd {
    /// `SETVAL` with `arg.val`: sets the semaphore to this value.
    SetVal(c_int),
    /// `IPC_RMID`: removes the whole set; processes blocked in `semop` wake with EIDRM.
    IpcRmid,
}

/// C: `semctl(sem_id, num, cmd, sem_union)` (semctl(2)), for [`Cmd::SetVal`] and
/// [`Cmd::IpcRmid`].
pub fn semctl(sem_id: SemId, num: u16, cmd: Cmd) -> Result<(), Errno> {
    match cmd {
        Cmd::SetVal(value) => crate::sys::semctl_setval(sem_id, num, value),
        // IPC_RMID acts on the whole set: the semaphore number is ignored, as in C.
        Cmd::IpcRmid => crate::sys::semctl_rmid(sem_id),
    }
}
