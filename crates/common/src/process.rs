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

/// True while process `pid` exists and is not a zombie: it can still act (use an object, send,
/// answer). The kernel's `/proc/PID/stat` names the state after the command name in
/// parentheses: `Z` (zombie) and `X` (dead) mean it has exited. When /proc hides the process
/// (another user's, with `hidepid`), [`is_alive`] alone decides.
pub fn is_running(pid: u32) -> bool {
    if !is_alive(pid) {
        return false;
    }
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return true;
    };
    // "PID (COMM) STATE ...": COMM may hold spaces and parentheses, so look after the last ')'.
    let state = stat
        .rfind(')')
        .and_then(|end| stat[end + 1..].split_whitespace().next());
    !matches!(state, Some("Z" | "X"))
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

    #[test]
    fn a_zombie_is_alive_but_not_running() {
        let mut child = std::process::Command::new("true")
            .spawn()
            .expect("true starts");
        let pid = child.id();
        // Until we reap it, the exited child is a zombie: it exists, and it can do nothing.
        while is_running(pid) {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert!(is_alive(pid));
        child.wait().expect("reaped");
        assert!(is_running(std::process::id()));
        assert!(!is_running(0));
    }
}
