//! What one round will do, drawn from its seed: mechanism, senders, sizes, fault and timing.
//!
//! A plan is a pure function of the round's seed (and the kernel limits), so printing the seed
//! is enough to replay a round: `SOAK_ROUND=<seed> ipc-soak`.

use std::fmt;
use std::time::Duration;

use nix::sys::signal::Signal;

use crate::limits::Limits;
use crate::mechanism::Mech;
use crate::rng::Rng;

/// Bytes one round moves at most (count x size), so that a round takes about a second.
pub const VOLUME_BUDGET: usize = 24 << 20;

/// Shared-memory layouts a round draws from (`--slots`, `--slot-size`), for the System V
/// segment and the ring alike; 64 bytes is the smallest slot either accepts.
pub const SLOTS: [u32; 4] = [1, 2, 8, 64];
/// See [`SLOTS`].
pub const SLOT_SIZES: [usize; 5] = [64, 100, 1024, 4096, 65536];

/// Which end a fault hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The receiver (for the pipe: pipe-sender's child, found by its pid).
    Receiver,
    /// Sender number i (0-based).
    Sender(usize),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Receiver => write!(f, "receiver"),
            Target::Sender(i) => write!(f, "sender#{i}"),
        }
    }
}

/// The fault injected in a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// None: the round must simply succeed.
    None,
    /// `signal` (SIGINT, SIGTERM or SIGKILL) to `target`, `after` the programs started.
    Signal {
        /// SIGINT, SIGTERM or SIGKILL.
        signal: Signal,
        /// Which end.
        target: Target,
        /// When, counted from the start of the last program.
        after: Duration,
    },
    /// The receiver starts `after` the senders.
    LateReceiver {
        /// How long after the senders.
        after: Duration,
    },
    /// Sender `sender` is stopped (SIGSTOP) `after` the start, for `stalled`, then continued.
    StopCont {
        /// Which sender.
        sender: usize,
        /// When.
        after: Duration,
        /// For how long.
        stalled: Duration,
    },
}

/// The fault kinds, as the report counts them.
pub const FAULT_KINDS: [&str; 7] = [
    "none",
    "SIGINT",
    "SIGTERM",
    "SIGKILL",
    "late receiver",
    "SIGSTOP/SIGCONT",
    "(landed)",
];

impl Fault {
    /// The kind, as the report counts it.
    pub fn kind(&self) -> &'static str {
        match self {
            Fault::None => "none",
            Fault::Signal { signal, .. } => match signal {
                Signal::SIGINT => "SIGINT",
                Signal::SIGTERM => "SIGTERM",
                _ => "SIGKILL",
            },
            Fault::LateReceiver { .. } => "late receiver",
            Fault::StopCont { .. } => "SIGSTOP/SIGCONT",
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::None => write!(f, "no fault"),
            Fault::Signal {
                signal,
                target,
                after,
            } => write!(f, "{signal} to the {target} after {} ms", after.as_millis()),
            Fault::LateReceiver { after } => {
                write!(f, "receiver started {} ms late", after.as_millis())
            }
            Fault::StopCont {
                sender,
                after,
                stalled,
            } => write!(
                f,
                "sender#{sender} stopped after {} ms for {} ms",
                after.as_millis(),
                stalled.as_millis()
            ),
        }
    }
}

/// One round.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The seed it was drawn from (replay with `SOAK_ROUND=seed`).
    pub seed: u64,
    /// The mechanism and its variant.
    pub mech: Mech,
    /// Messages of each sender (`--count`); the length is the number of senders.
    pub counts: Vec<u64>,
    /// Payload bytes of every message (`--size`).
    pub size: usize,
    /// The fault.
    pub fault: Fault,
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} senders={} counts={:?} size={} {}",
            self.mech.describe(),
            self.counts.len(),
            self.counts,
            self.size,
            self.fault
        )
    }
}

/// Draws the plan of the round with `seed`, choosing among `mechs` (kinds, see
/// `mechanism::KINDS`).
pub fn draw(seed: u64, mechs: &[&str], limits: &Limits) -> Plan {
    let mut rng = Rng::new(seed);
    let mech = match *rng.pick(mechs) {
        "pipe" => Mech::Pipe,
        "fifo" => Mech::Fifo,
        "msgq-sysv" => Mech::MsgqSysv,
        "msgq-posix" => Mech::MsgqPosix,
        "sem" => Mech::Sem,
        "socket-tcp" => Mech::Tcp,
        "socket-unix" => Mech::Unix,
        "socket-udp" => Mech::Udp,
        // The ring takes the same layouts: 64 bytes is its smallest slot too (an End and a
        // little text), here the largest encoded message rather than length + message.
        "shm-ring" => {
            let slot_size = *rng.pick(&SLOT_SIZES);
            Mech::ShmRing {
                slots: *rng.pick(&SLOTS),
                slot_size,
            }
        }
        _ => {
            let slot_size = *rng.pick(&SLOT_SIZES);
            Mech::Shm {
                slots: *rng.pick(&SLOTS),
                slot_size,
            }
        }
    };
    let senders = rng.range(1, mech.max_senders()) as usize;
    let size = rng.size(mech.max_size(limits));
    let fault = loop {
        // Half the faults hit the start (opening, creating, the first messages), half later.
        let after = Duration::from_millis(if rng.chance(50) {
            rng.range(0, 30)
        } else {
            rng.range(0, 300)
        });
        let fault = match rng.range(0, 99) {
            0..=14 => Fault::None,
            15..=64 => Fault::Signal {
                signal: *rng.pick(&[Signal::SIGINT, Signal::SIGTERM, Signal::SIGKILL]),
                target: if rng.chance(50) {
                    Target::Receiver
                } else {
                    Target::Sender(rng.range(0, senders as u64 - 1) as usize)
                },
                after,
            },
            65..=79 => Fault::LateReceiver { after },
            _ => Fault::StopCont {
                sender: rng.range(0, senders as u64 - 1) as usize,
                after,
                stalled: Duration::from_millis(rng.range(50, 1500)),
            },
        };
        if matches!(fault, Fault::LateReceiver { .. }) && !mech.receiver_may_start_late() {
            continue;
        }
        break fault;
    };
    // A fault should find the programs busy: those rounds send more (up to the volume budget).
    let cap = ((VOLUME_BUDGET / senders / (size + 32)) as u64).clamp(1, mech.max_count());
    let busy = matches!(fault, Fault::Signal { .. } | Fault::StopCont { .. });
    let counts = (0..senders)
        .map(|_| {
            if busy {
                rng.range((cap / 8).max(1), cap)
            } else {
                rng.size(cap as usize) as u64
            }
        })
        .collect();
    Plan {
        seed,
        mech,
        counts,
        size,
        fault,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mechanism::KINDS;

    fn limits() -> Limits {
        Limits {
            msgmax: 8192,
            msgmnb: 16384,
            mq_msgsize: 8192,
        }
    }

    #[test]
    fn a_seed_replays_the_same_plan() {
        let a = draw(42, &KINDS, &limits());
        let b = draw(42, &KINDS, &limits());
        assert_eq!(a.to_string(), b.to_string());
    }

    #[test]
    fn plans_respect_each_mechanisms_limits_and_cover_every_kind_and_fault() {
        let mut kinds = std::collections::BTreeSet::new();
        let mut faults = std::collections::BTreeSet::new();
        for seed in 0..2000 {
            let plan = draw(seed, &KINDS, &limits());
            kinds.insert(plan.mech.kind());
            faults.insert(plan.fault.kind());
            assert!(plan.size >= 1 && plan.size <= plan.mech.max_size(&limits()));
            assert!(!plan.counts.is_empty() && plan.counts.len() as u64 <= plan.mech.max_senders());
            assert!(plan
                .counts
                .iter()
                .all(|&c| (1..=plan.mech.max_count()).contains(&c)));
            if let Fault::LateReceiver { .. } = plan.fault {
                assert!(plan.mech.receiver_may_start_late());
            }
        }
        assert_eq!(kinds.len(), KINDS.len(), "{kinds:?}");
        assert_eq!(faults.len(), 6, "{faults:?}");
    }
}
