//! The one system call of this crate that needs `unsafe`: fork(2).
//!
//! nix marks `fork` unsafe because in a multi-threaded process the child may only make
//! async-signal-safe calls until it execs (another thread may have held the allocator's lock
//! at the moment of the fork). This wrapper makes that invariant checkable: it refuses to fork
//! unless the process has exactly one thread, so the child may run any Rust code.

use nix::unistd::{ForkResult, Pid};

use ipc_common::{trace, Context, Error, Result};

/// Which side of the fork we are on.
#[derive(Debug)]
pub enum Forked {
    /// The original process; `child` is the new one.
    Parent { child: Pid },
    /// The new process.
    Child,
}

/// C: `pid_t pid = fork();` (man 2 fork). Fails unless the calling process is single-threaded.
pub fn fork() -> Result<Forked> {
    let threads = std::fs::read_dir("/proc/self/task")
        .context("counting this process's threads in /proc/self/task")?
        .count();
    if threads != 1 {
        return Err(Error::new(
            "fork",
            format!("the process has {threads} threads; fork is only safe with one"),
        ));
    }
    // SAFETY: the process has exactly one thread (checked just above; nothing between the
    // check and the call starts a thread), so no lock can be held by a thread that does not
    // exist in the child, and the child may run arbitrary code.
    let result = unsafe { nix::unistd::fork() };
    // Both processes return from fork and trace it: the parent sees the child's pid, the
    // child sees 0 (trace lines go straight to stderr, unbuffered, so nothing is printed twice).
    trace::call(
        || "fork()".to_string(),
        &result,
        |forked| match forked {
            ForkResult::Parent { child } => child.to_string(),
            ForkResult::Child => "0".to_string(),
        },
    );
    match result.context("fork")? {
        ForkResult::Parent { child } => Ok(Forked::Parent { child }),
        ForkResult::Child => Ok(Forked::Child),
    }
}
