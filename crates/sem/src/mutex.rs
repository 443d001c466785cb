//! The critical section of `sem-mutex`, on the textbook's layout (sem1.c), so that our copies
//! and the textbook's take turns in the same critical section.
//!
//! The set has ONE semaphore, as sem1.c makes it:
//!
//! ```c
//! sem_id = semget((key_t)1234, 1, 0666 | IPC_CREAT);
//! struct sembuf p = {0, -1, SEM_UNDO};   /* enter */
//! struct sembuf v = {0, +1, SEM_UNDO};   /* leave */
//! ```
//!
//! Semaphore 0 is 1 when the critical section is free. Entering is P (`semop {0, -1,
//! SEM_UNDO}`), leaving is V (`{0, +1, SEM_UNDO}`). `SEM_UNDO` makes the kernel keep, per
//! process, the sum of what it did, and reverse it when the process exits, however it dies: a
//! holder killed with `kill -9` gives the lock back instead of blocking everybody for ever.
//!
//! ## Who initialises, who removes
//!
//! As in the textbook, ONE copy initialises the set (`semctl(SETVAL, 1)`) and, at the end,
//! removes it (`semctl(IPC_RMID)`): sem1.c started with an argument, `sem-mutex --init`, or a
//! `sem-mutex` that finds no set. The others only open it, and a P on a set nobody has
//! initialised yet (value 0) simply waits until the initialiser's SETVAL wakes it.
//!
//! sem1.c has no way to say that it is done, so the initialiser cannot count the others. Its
//! rule ([`SharedMutex::finish`]): take the lock itself (so nobody is inside), then hold it
//! while no process waits for it (`semctl(GETNCNT)` stays 0) for a whole linger time, 3 s by
//! default; as soon as somebody waits, give the lock back and start again. sem1.c never stays
//! more than 1 s outside the critical section between two rounds (`sleep(rand() % 2)`), so a
//! copy still running asks for the lock within the linger time, and the set is removed only
//! once nobody has asked for it for 3 s, while we hold it: never in the middle of somebody's
//! critical section. (The textbook's own rule is `sleep(10)` and then remove, whoever is still
//! running.) A copy that has not started yet when the set is removed creates a new set.

use std::time::{Duration, Instant};

use nix::errno::Errno;

use ipc_common::cli::{Key, Mode};
use ipc_common::{program, signals, Error, Result};

use crate::set::{Op, SemSet};

/// The semaphore: 1 = the critical section is free, 0 = somebody is inside.
pub const MUTEX: u16 = 0;
/// The set has one semaphore, as sem1.c makes it.
pub const NSEMS: u16 = 1;
/// How long the initialiser holds the lock with nobody waiting before it removes the set: three
/// times the textbook copy's longest pause outside the critical section (1 s).
pub const DEFAULT_LINGER: Duration = Duration::from_secs(3);

/// How long leaving the critical section may take when the program is stopping (a V never
/// waits; this only bounds the retries after EINTR).
const LEAVE_WAIT: Duration = Duration::from_millis(300);
/// How often the initialiser, lingering with the lock, looks for waiters.
const POLL: Duration = Duration::from_millis(10);

/// One program's use of the shared lock. The initialiser's guard owns the set: dropping it
/// (after an error or Ctrl-C) removes the set.
#[derive(Debug)]
pub struct SharedMutex {
    set: SemSet,
    initialiser: bool,
}

/// How a program finished with the lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finished {
    /// We were the initialiser: nobody asked for the lock during the linger time, and the set
    /// is removed.
    Removed,
    /// We only joined: the set stays for its initialiser to remove.
    Stayed,
}

impl SharedMutex {
    /// The textbook's "started with an argument" (`sem-mutex --init`): creates the set and
    /// initialises it to 1 (C: `semget(key, 1, IPC_CREAT | IPC_EXCL | mode)`,
    /// `semctl(id, 0, SETVAL, 1)`), and owns it.
    ///
    /// A set that exists already is taken over only if nobody has used it yet (`sem_otime` is
    /// 0): it was made by a copy started first that waits for its initialiser, as sem1.c
    /// without an argument does. A set already in use belongs to another initialiser.
    pub fn initialise(key: Key, mode: Mode) -> Result<SharedMutex> {
        for _ in 0..10 {
            if let Some(set) = SemSet::create(key, NSEMS, mode)? {
                set_free(&set)?;
                return Ok(SharedMutex {
                    set,
                    initialiser: true,
                });
            }
            let mut set = match open(key)? {
                Some(set) => set,
                None => continue, // removed between the two calls: create it again
            };
            if set.stat()?.otime != 0 {
                return Err(Error::new(
                    format!("initialising the semaphore set with key {key}"),
                    "it is in use already: another initialising copy is running",
                )
                .with_hint(
                    "start this one without --init to join it (or stop the other copy: sem1 \
                     started with an argument, or sem-mutex --init)",
                ));
            }
            set_free(&set)?;
            set.remove_when_done(true);
            return Ok(SharedMutex {
                set,
                initialiser: true,
            });
        }
        Err(vanishing(key))
    }

    /// Joins the set another copy initialised (C: `semget(key, 1, 0)`); when there is none,
    /// creates and initialises it, as [`initialise`](SharedMutex::initialise) does, and owns
    /// it (the first to start). Nothing waits for the initialiser: a P on a set not yet
    /// initialised (value 0) waits until the SETVAL.
    pub fn join(key: Key, mode: Mode) -> Result<SharedMutex> {
        for _ in 0..10 {
            if let Some(set) = SemSet::create(key, NSEMS, mode)? {
                set_free(&set)?;
                return Ok(SharedMutex {
                    set,
                    initialiser: true,
                });
            }
            if let Some(set) = open(key)? {
                set.check_shared(mode)?;
                return Ok(SharedMutex {
                    set,
                    initialiser: false,
                });
            }
        }
        Err(vanishing(key))
    }

    /// True if this program initialised the set (and so removes it at the end).
    pub fn initialiser(&self) -> bool {
        self.initialiser
    }

    /// The set (id, key).
    pub fn set(&self) -> &SemSet {
        &self.set
    }

    /// Enters the critical section: P (`semop {0, -1, SEM_UNDO}`), waiting as long as needed.
    /// The returned guard leaves it (V) when dropped.
    pub fn lock(&self) -> Result<Held<'_>> {
        self.set.op(
            [Op::wait(MUTEX).undo()],
            "entering the critical section (P)",
        )?;
        Ok(Held { mutex: self })
    }

    /// Done with the lock. A copy that joined just goes. The initialiser removes the set once
    /// nobody wants it any more: it takes the lock, and holds it while no process waits for it
    /// (GETNCNT 0) for `linger`; when somebody waits, it gives the lock back and tries again.
    /// The set is removed while we hold the lock, so never in the middle of a critical section.
    pub fn finish(self, linger: Duration) -> Result<Finished> {
        if !self.initialiser {
            return Ok(Finished::Stayed);
        }
        let take = [Op::wait(MUTEX).undo()];
        let give = [Op::post(MUTEX).undo()];
        loop {
            self.set.op(take, "taking the lock to remove the set (P)")?;
            let quiet_since = Instant::now();
            while self.set.waiting(MUTEX)? == 0 {
                if quiet_since.elapsed() >= linger {
                    // Still holding the lock, so nobody is inside: remove the set (C:
                    // semctl(id, 0, IPC_RMID)). SEM_UNDO's record of our P goes with it.
                    let SharedMutex { set, .. } = self;
                    set.remove()?;
                    return Ok(Finished::Removed);
                }
                // Ctrl-C here stops us holding the lock: the owning guard removes the set.
                pause(POLL)?;
            }
            // Somebody waits: V, let them in, and start again.
            self.set.op(give, "giving the lock back (V)")?;
        }
    }
}

/// Initialises the set: the critical section is free (C: `semctl(id, 0, SETVAL, 1)`), then
/// one `semop` that changes nothing (+1 then -1, atomically), so the kernel records a
/// `sem_otime`: a second initialiser sees the set is in use. (+1 first: a copy waiting in its
/// P may take the 1 the moment SETVAL gives it, and -1 first would then fail.)
fn set_free(set: &SemSet) -> Result<()> {
    set.set_value(MUTEX, 1)?;
    set.op(
        [Op::post(MUTEX), Op::wait(MUTEX).nowait()],
        "marking the semaphore set as initialised",
    )
}

/// Opens the set at `key` if there is one, checking it has exactly one semaphore (an older
/// sem-mutex made sets of two, sem-receiver four: those are refused by name). Warns once when
/// the set is open to every user (sem1.c makes it 0666).
fn open(key: Key) -> Result<Option<SemSet>> {
    let set = match SemSet::open_as_is(key, NSEMS) {
        Ok(set) => set,
        Err(err) if err.errno() == Some(Errno::ENOENT) => return Ok(None),
        Err(err) => return Err(err),
    };
    let stat = set.stat()?;
    if stat.mode & 0o077 != 0 {
        eprintln!(
            "{}: warning: semaphore set key {key} has mode {:04o}: every user on this machine \
             can take or free the lock (sem1.c creates it 0666)",
            program::name(),
            stat.mode
        );
    }
    Ok(Some(set))
}

/// The error when the set keeps vanishing between our `semget` calls.
fn vanishing(key: Key) -> Error {
    Error::new(
        format!("joining the semaphore set with key {key}"),
        "it was removed under us 10 times in a row",
    )
    .with_hint("another program keeps removing the set: choose another --key")
}

/// The critical section, held: dropping it is V (`{0, +1, SEM_UNDO}`).
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
            eprintln!("{}: warning: {err}", program::name());
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
