//! A ring whose receiver was killed with `kill -9` cannot be removed by it. Whoever finds it
//! next does: the sender (when it notices, or when it finds such a ring on start) and a new
//! receiver that wants the name. "Dead" is read from the ring's header: the consumer's pid and
//! state ([`peek`], a `pread` on the object, not through the mapping).

use nix::errno::Errno;
use nix::sys::mman::shm_unlink;

use ipc_common::process::is_running;
use ipc_common::{program, trace, Error, Result};

use crate::layout::state;
use crate::peek::{peek, End, EndSeen};

/// The receiver (consumer) of the ring `name` as its header shows it.
pub(crate) fn receiver_of(name: &str) -> Option<EndSeen> {
    peek(name, End::Consumer)
}

/// The pid of the dead receiver that left the ring `name` behind, if one did: nobody else
/// will remove it.
///
/// A receiver removes its ring *before* it exits. So a receiver that attached and is dead now
/// (killed, or a zombie) while its ring is still there, read again *after* we saw it dead,
/// with the same pid, left it behind. Without that second look, a receiver that finished
/// normally between our first look and our check of its pid would seem to have died.
pub(crate) fn ring_left_behind(name: &str) -> Option<u32> {
    let seen = receiver_of(name)?;
    let attached_once = matches!(seen.state, state::ATTACHED | state::GONE);
    if seen.pid == 0 || !attached_once || is_running(seen.pid) {
        return None;
    }
    let again = receiver_of(name)?;
    (again.pid == seen.pid && again.state == seen.state).then_some(seen.pid)
}

/// Removes the ring `name` that a dead receiver left (C: `shm_unlink(name)`), and says so.
pub(crate) fn remove_orphan(name: &str, pid: u32) -> Result<()> {
    let removed = shm_unlink(name);
    trace::call_zero(|| format!("shm_unlink(\"{name}\")"), &removed);
    match removed {
        Ok(()) => {
            ipc_common::ownership::forget_posix_segment(name);
            eprintln!(
                "{}: removed the ring {name} left by shm-receiver pid {pid}, which died",
                program::name()
            );
            Ok(())
        }
        Err(Errno::ENOENT) => Ok(()), // somebody else removed it first
        Err(errno) => Err(Error::sys(format!("removing the ring {name}"), errno)),
    }
}
