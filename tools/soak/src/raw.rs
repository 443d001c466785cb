//! Raw bytes into a System V message queue: what a hostile or broken peer could put there.
//!
//! The programs only ever send encoded `Message`s; to test that msgq-receiver refuses anything
//! else we need `msgsnd` with bytes of our choosing. [`RawQueue`] owns the queue it creates
//! and removes it when dropped (unless a receiver removed it first).

use nix::errno::Errno;
use nix::libc;

use crate::sys;

/// A System V message queue we created, to fill with raw bytes.
#[derive(Debug)]
pub struct RawQueue {
    key: i32,
    id: libc::c_int,
}

impl RawQueue {
    /// Creates a new queue with `key` and `mode` (C: `msgget(key, IPC_CREAT | IPC_EXCL | mode)`).
    pub fn create(key: i32, mode: u32) -> Result<RawQueue, Errno> {
        let id = sys::msgget(key, libc::IPC_CREAT | libc::IPC_EXCL | mode as libc::c_int)?;
        Ok(RawQueue { key, id })
    }

    /// Puts `bytes` into the queue as one message of type `mtype`, without waiting for room
    /// (C: `msgsnd(id, &buf, len, IPC_NOWAIT)`).
    pub fn send(&self, mtype: libc::c_long, bytes: &[u8]) -> Result<(), Errno> {
        sys::msgsnd(self.id, mtype, bytes, libc::IPC_NOWAIT)
    }
}

impl Drop for RawQueue {
    fn drop(&mut self) {
        // Only if the key still names *our* queue: a receiver may have removed it, and the
        // kernel may since have given its id to another queue.
        if sys::msgget(self.key, 0) != Ok(self.id) {
            return;
        }
        // C: msgctl(id, IPC_RMID, NULL). EINVAL/EIDRM: removed in between.
        match sys::msgctl_rmid(self.id) {
            Ok(()) | Err(Errno::EINVAL) | Err(Errno::EIDRM) => {}
            Err(errno) => eprintln!(
                "ipc-soak: warning: could not remove message queue id {}: {errno}",
                self.id
            ),
        }
    }
}
