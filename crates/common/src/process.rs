//! Whether another process is still alive: how an end notices that its peer died (the ring's
//! producer, a shared-memory receiver, the creator of a leftover object).

use nix::errno::Errno;
use nix::sys::signal::kill;
use nix::unistd::Pid;

/// True while process `pid` exists (C: `kill(pid, 0)`, which sends nothing and only checks).
/// EPERM means it exists but belongs to another user: alive. A zombie (dead, not yet reaped by
/// its parent) still counts as alive here, as it does for the kernel. Pid 0 and pids beyond
/// `pid_t` are never alive.
pub fn is_alive(pid: u32) -> bool {
    match i32::try_from(pid) {
        Ok(raw) if raw > 0 => !matches!(kill(Pid::from_raw(raw), None), Err(Errno::ESRCH)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn we_are_alive_and_pid_zero_is_not() {
        assert!(is_alive(std::process::id()));
        assert!(!is_alive(0));
        assert!(!is_alive(u32::MAX));
    }
}
