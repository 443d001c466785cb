//! Waiting for the other side: spin briefly, then sleep on a futex; wake the other side only
//! when it sleeps.
//!
//! A wake-up through the kernel (FUTEX_WAKE, the scheduler, FUTEX_WAIT returning on another
//! CPU) costs several microseconds. A peer on another CPU usually answers well within that, so
//! a waiting side first **spins** ([`Waiter::spin_until`]): it re-reads what the peer publishes
//! (the consumer: the slot word of the record it waits for; the producer: `tail`), and
//! nothing else, in a loop with `std::hint::spin_loop()` (the x86 `pause` instruction) for at
//! most [`DEFAULT_SPIN`]. Only then does it **sleep** ([`Waiter::sleep_until`]), and only the
//! sleeping phase checks whether the peer closed, went away or died, and Ctrl-C:
//!
//! ```text
//! waiter                                   waker (after publishing a slot word or tail)
//! sleeping.store(1); fence(SeqCst)         word.store(w, Release); fence(SeqCst)
//! if ready() { sleeping = 0; return }      if sleeping.load() == 1 && sleeping.swap(0) == 1
//! futex_wait(&sleeping, 1, 100 ms)             futex_wake(&sleeping, 1)
//! ```
//!
//! The two fences make this Dekker's handshake: either the waiter sees the new word and does
//! not sleep, or the waker sees `sleeping == 1` and wakes it. If the waker clears the flag
//! between the waiter's check and its FUTEX_WAIT, the kernel sees the word is no longer 1 and
//! returns at once (EAGAIN): no wake-up is ever lost. A side that never sleeps costs its peer
//! one fence and one read of a cache line that does not change: no system call at all.
//!
//! The sleep has a timeout (100 ms): each time it passes, the waiter checks that the peer's
//! process still exists (`kill(pid, 0)`, and not a zombie), so a peer killed with `kill -9`
//! is noticed within about 0.1 s, and Ctrl-C (which may not interrupt FUTEX_WAIT, restarted
//! under ctrlc's `SA_RESTART`) is noticed too.

use std::sync::atomic::{fence, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use ipc_common::process::is_running;
use ipc_common::{signals, Error, Result};

use crate::sys::{self, Wakeup};

/// How long a waiting side spins before it sleeps, unless told otherwise.
pub const DEFAULT_SPIN: Duration = Duration::from_micros(50);

/// Spin rounds between two clock reads while spinning (a round is one `pause`, about 15 ns
/// on a recent x86 server, and one load).
const SPINS_PER_CLOCK_READ: u32 = 64;

/// How often a sleeping side wakes up to check on its peer (and on Ctrl-C).
pub const PEER_CHECK: Duration = Duration::from_millis(100);

/// How one side waits: its spin budget and what it counts.
#[derive(Debug, Clone)]
pub(crate) struct Waiter {
    pub spin: Duration,
    /// Times this side went to sleep in FUTEX_WAIT.
    pub sleeps: u64,
    /// Times this side called FUTEX_WAKE for its peer.
    pub wakes: u64,
}

impl Waiter {
    pub(crate) fn new() -> Self {
        Waiter {
            spin: DEFAULT_SPIN,
            sleeps: 0,
            wakes: 0,
        }
    }

    /// Spins until `arrived()` says true, for at most the spin budget; false when the budget
    /// ran out (then call [`Waiter::sleep_until`]).
    ///
    /// This is the hot loop of a side that keeps up, so it does as little as possible: one
    /// `pause` and one call of `arrived` (which should only load what the peer publishes) per
    /// round, and a clock read only every [`SPINS_PER_CLOCK_READ`] rounds (a clock read costs
    /// about as much as two rounds). No Ctrl-C or peer check here: the budget is short, and
    /// [`Waiter::sleep_until`] checks both.
    #[inline]
    pub(crate) fn spin_until(&self, mut arrived: impl FnMut() -> bool) -> bool {
        if self.spin.is_zero() {
            return arrived();
        }
        let mut start: Option<Instant> = None;
        let mut spins: u32 = 0;
        loop {
            if arrived() {
                return true;
            }
            // C: _mm_pause() (x86 `pause`): lets the core idle a few cycles and tells it
            // that this loop waits for another core's store.
            std::hint::spin_loop();
            spins = spins.wrapping_add(1);
            if spins % SPINS_PER_CLOCK_READ == 0 {
                // The clock starts at the first check, not before the first round: a record
                // that arrives within the first rounds costs no clock read at all.
                let started = *start.get_or_insert_with(Instant::now);
                if started.elapsed() >= self.spin {
                    return false;
                }
            }
        }
    }

    /// Sleeps until `ready()` says true (or fails). `sleeping` is our own futex word;
    /// `peer` names the other side for the dead-peer check. `ready` checks everything: the
    /// peer's slot word or counter, and whether the peer closed or went away.
    pub(crate) fn sleep_until(
        &mut self,
        sleeping: &AtomicU32,
        peer: &dyn Fn() -> Peer,
        mut ready: impl FnMut() -> Result<bool>,
    ) -> Result<()> {
        if ready()? {
            return Ok(());
        }
        // Sleep on the futex, waking every PEER_CHECK to look at the peer and at Ctrl-C.
        let mut last_check = Instant::now();
        loop {
            sleeping.store(1, Ordering::SeqCst);
            fence(Ordering::SeqCst);
            let now_ready = ready();
            if !matches!(now_ready, Ok(false)) {
                sleeping.store(0, Ordering::SeqCst);
                return now_ready.map(drop);
            }
            self.sleeps += 1;
            let woken = sys::futex_wait(sleeping, 1, PEER_CHECK);
            sleeping.store(0, Ordering::SeqCst);
            match woken {
                Ok(Wakeup::Woken | Wakeup::Changed | Wakeup::Interrupted | Wakeup::TimedOut) => {}
                Err(errno) => return Err(Error::sys("waiting on the ring's futex", errno)),
            }
            signals::check()?;
            if ready()? {
                return Ok(());
            }
            if last_check.elapsed() >= PEER_CHECK {
                peer().check_alive()?;
                last_check = Instant::now();
            }
        }
    }

    /// After publishing: wakes the peer if (and only if) it sleeps on `peer_sleeping`.
    #[inline]
    pub(crate) fn wake(&mut self, peer_sleeping: &AtomicU32) {
        fence(Ordering::SeqCst);
        if peer_sleeping.load(Ordering::Relaxed) != 0
            && peer_sleeping.swap(0, Ordering::SeqCst) != 0
        {
            self.wakes += 1;
            // A failed wake-up can only mean a bad address, which cannot happen for a word of
            // our own mapping; the sleeper's timeout would cover it anyway.
            let _ = sys::futex_wake(peer_sleeping, 1);
        }
    }
}

/// The other side, as the header describes it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Peer {
    /// "producer" or "consumer".
    pub role: &'static str,
    /// Its pid, 0 while it has not attached.
    pub pid: u32,
}

impl Peer {
    /// Fails when the peer attached once and its process no longer runs.
    pub(crate) fn check_alive(&self) -> Result<()> {
        if self.pid == 0 || is_running(self.pid) {
            return Ok(());
        }
        Err(Error::new(
            format!("waiting for the ring's {}", self.role),
            format!(
                "the {} (pid {}) died without closing the ring",
                self.role, self.pid
            ),
        )
        .with_hint(format!(
            "look at the {}'s error output; start both ends again",
            self.role
        )))
    }
}
