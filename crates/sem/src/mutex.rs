//! The critical section of `sem-mutex`: a lock shared by unrelated processes, which a process
//! killed with `kill -9` still gives back, and which the last user out removes.
//!
//! The set has two semaphores:
//!
//! - `MUTEX` starts at 1. Entering is P (`semop {MUTEX, -1, SEM_UNDO}`), leaving is V
//!   (`{MUTEX, +1, SEM_UNDO}`). `SEM_UNDO` makes the kernel keep, per process, the sum of what
//!   it did, and reverse it when the process exits, however it dies: a holder killed with
//!   `kill -9` gives the lock back instead of blocking everybody for ever.
//! - `USERS` counts the programs using the set, also with `SEM_UNDO`, so a killed user is no
//!   longer counted.
//!
//! Whoever finds no set creates and initialises it ([`SemSet::open_or_create`]). Leaving takes
//! the lock, then decrements `USERS` *and* checks it reached zero in one atomic `semop`; the
//! one who sees zero removes the set while still holding the lock. A newcomer that opened the
//! set just before it was removed finds out on its first wait (EIDRM) and starts again; after
//! one successful wait it is counted, so nobody removes the set under it ([`SharedMutex::confirm`]).

use std::time::{Duration, Instant};

use ipc_common::cli::{Key, Mode};
use ipc_common::{signals, Result};

use crate::set::{Op, SemSet};

/// The lock semaphore.
pub const MUTEX: u16 = 0;
/// The count of programs using the set.
pub const USERS: u16 = 1;

/// How long leaving waits for the lock when the program is stopping (Ctrl-C must stop us
/// within a second, even while another instance holds the lock).
const LEAVE_WAIT: Duration = Duration::from_millis(300);

/// One program's membership of the shared lock. Dropping it leaves (see [`SharedMutex::leave`]).
#[derive(Debug)]
pub struct SharedMutex {
    set: SemSet,
    created: bool,
    left: bool,
}

/// How a program left the lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Left {
    /// We were the last user: the set is removed.
    Removed,
    /// Others still use the set: it stays.
    Stayed,
}

impl SharedMutex {
    /// Opens the set, creating and initialising it (`MUTEX` = 1, `USERS` = 0) if there is none,
    /// and counts us as a user (`{USERS, +1, SEM_UNDO}`). Call [`confirm`](SharedMutex::confirm)
    /// next.
    pub fn join(key: Key, mode: Mode) -> Result<SharedMutex> {
        let opened = SemSet::open_or_create(key, &[1, 0], mode)?;
        let created = opened.created();
        // Not the owner even if we created it: only the last one out removes the set.
        let mut set = opened.into_inner();
        set.remove_when_done(false);
        set.op([Op::post(USERS).undo()], "joining the users of the lock")?;
        Ok(SharedMutex {
            set,
            created,
            left: false,
        })
    }

    /// Waits until the lock is free once (`{MUTEX, -1}` then `{MUTEX, +1}`, atomically).
    /// `Ok(false)` means the set was removed by the last user out just as we joined: drop this
    /// one and [`join`](SharedMutex::join) again, which creates a new set.
    pub fn confirm(&self) -> Result<bool> {
        match self
            .set
            .op([Op::wait(MUTEX), Op::post(MUTEX)], "waiting for the lock")
        {
            Ok(()) => Ok(true),
            Err(err) if SemSet::is_removed(&err) => Ok(false),
            Err(err) => Err(err),
        }
    }

    /// True if this program created (and initialised) the set.
    pub fn created(&self) -> bool {
        self.created
    }

    /// The set (id, key).
    pub fn set(&self) -> &SemSet {
        &self.set
    }

    /// Enters the critical section: P on `MUTEX` with `SEM_UNDO`, waiting as long as needed.
    /// The returned guard leaves it (V) when dropped.
    pub fn lock(&self) -> Result<Held<'_>> {
        self.set.op(
            [Op::wait(MUTEX).undo()],
            "entering the critical section (P)",
        )?;
        Ok(Held { mutex: self })
    }

    /// Leaves for good: takes the lock, stops being counted, and removes the set if nobody
    /// else uses it.
    pub fn leave(mut self) -> Result<Left> {
        self.left = true;
        self.set
            .op([Op::wait(MUTEX).undo()], "taking the lock to leave")?;
        self.leave_holding_lock()
    }

    /// The second half of leaving, with the lock held.
    fn leave_holding_lock(&mut self) -> Result<Left> {
        // Atomically: USERS -1, and USERS is now 0. With IPC_NOWAIT the whole call fails
        // (changing nothing) when others are still counted.
        let last = [Op::wait(USERS).undo(), Op::zero(USERS).nowait()];
        if self
            .set
            .op_timeout(last, Duration::ZERO, "leaving the users of the lock")?
        {
            self.set.remove_when_done(true); // the guard removes it (IPC_RMID), lock and all
            return Ok(Left::Removed);
        }
        self.set
            .op([Op::wait(USERS).undo()], "leaving the users of the lock")?;
        self.set
            .op([Op::post(MUTEX).undo()], "giving the lock back")?;
        Ok(Left::Stayed)
    }
}

impl Drop for SharedMutex {
    /// Leaving after a failure or Ctrl-C: like [`SharedMutex::leave`], but a stop does not cut
    /// it short and it waits at most 0.3 s for the lock (then it only stops being counted; the
    /// kernel's SEM_UNDO would do that at exit anyway).
    fn drop(&mut self) {
        if self.left {
            return;
        }
        self.left = true;
        match self.set.op_cleanup([Op::wait(MUTEX).undo()], LEAVE_WAIT) {
            Ok(true) => {
                let last = [Op::wait(USERS).undo(), Op::zero(USERS).nowait()];
                if let Ok(true) = self.set.op_cleanup(last, Duration::ZERO) {
                    self.set.remove_when_done(true);
                    return;
                }
                let _ = self.set.op_cleanup([Op::wait(USERS).undo()], LEAVE_WAIT);
                let _ = self.set.op_cleanup([Op::post(MUTEX).undo()], LEAVE_WAIT);
            }
            Ok(false) => {
                let _ = self.set.op_cleanup([Op::wait(USERS).undo()], LEAVE_WAIT);
            }
            // The set is gone already (removed by the last one out, or ipcrm): nothing to do.
            Err(_) => {}
        }
    }
}

/// The critical section, held: dropping it is V (`{MUTEX, +1, SEM_UNDO}`).
#[derive(Debug)]
pub struct Held<'a> {
    mutex: &'a SharedMutex,
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        // A V never waits, so this cannot block; EINTR is retried by op_cleanup.
        if let Err(errno) = self
            .mutex
            .set
            .op_cleanup([Op::post(MUTEX).undo()], LEAVE_WAIT)
        {
            let err = self
                .mutex
                .set
                .error("leaving the critical section (V)", errno);
            eprintln!("warning: {err}");
        }
    }
}

/// Sleeps for `duration`, waking within 10 ms when Ctrl-C is pressed (std's sleep would
/// finish the whole nap: nanosleep is resumed after the handler).
pub fn pause(duration: Duration) -> Result<()> {
    let deadline = Instant::now() + duration;
    loop {
        signals::check()?;
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(());
        }
        std::thread::sleep(left.min(Duration::from_millis(10)));
    }
}
