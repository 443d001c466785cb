//! Ctrl-C while a measurement runs: stop the peer, then unblock the bench.
//!
//! The hot loops do not poll for Ctrl-C (that would cost every message a system call), and
//! ctrlc's `SA_RESTART` handler wakes no blocked `read`. So a small watcher thread does what a
//! user would: once a stop is requested it kills the current peer (SIGKILL; a C reference
//! gets SIGTERM, so that it removes its objects), which ends the
//! bench's blocked read with end-of-file or a dead-peer error, and keeps nudging the main
//! thread with SIGINT so that a System V call (msgrcv, semop) returns EINTR. The guards of the
//! main thread then remove every object as usual, and the exit code is 130.

use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

use nix::sys::pthread::{pthread_kill, pthread_self};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use ipc_common::signals;

/// The pid of the peer running now (0: none); negative for a C program, which owns its
/// objects and must be asked to stop (SIGTERM runs its clean-up), not killed.
static PEER: AtomicI32 = AtomicI32::new(0);

/// Records the Rust peer that is running now (0 when it was reaped).
pub fn set_peer(pid: i32) {
    PEER.store(pid, Ordering::SeqCst);
}

/// Records the C program that is running now (0 when it was reaped).
pub fn set_c_program(pid: i32) {
    PEER.store(-pid, Ordering::SeqCst);
}

/// Starts the watcher; call once from the main thread, after `signals::install`.
pub fn watch() {
    let main = pthread_self();
    std::thread::spawn(move || {
        while !signals::stop_requested() {
            std::thread::sleep(Duration::from_millis(20));
        }
        loop {
            let pid = PEER.load(Ordering::SeqCst);
            if pid > 0 {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            } else if pid < 0 {
                let _ = kill(Pid::from_raw(-pid), Signal::SIGTERM);
            }
            if pthread_kill(main, Signal::SIGINT).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    });
}
