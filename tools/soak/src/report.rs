//! The totals over every round, and the table the soak ends with.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use crate::plan::{Plan, FAULT_KINDS};
use crate::round::Outcome;

/// A failed round: its seed (to replay it), what it was and what broke.
#[derive(Debug, Clone)]
pub struct Failed {
    /// The round's number.
    pub round: u64,
    /// The plan, with the seed.
    pub plan: String,
    /// The seed.
    pub seed: u64,
    /// What broke.
    pub problems: Vec<String>,
}

/// Counts over every round.
#[derive(Debug, Default)]
pub struct Totals {
    /// Rounds run.
    pub rounds: u64,
    /// Rounds per mechanism kind.
    pub per_mech: BTreeMap<&'static str, u64>,
    /// Rounds per fault kind, and of those how many landed on a running process.
    pub per_fault: BTreeMap<&'static str, (u64, u64)>,
    /// Messages the senders that finished reported as sent.
    pub sent: u64,
    /// Messages the receivers reported as received.
    pub delivered: u64,
    /// Queues the contract kept, and the messages drained from them.
    pub kept: u64,
    /// Messages drained from kept queues.
    pub drained: u64,
    /// Ends stopped with SIGTERM because they waited for a peer that died (allowed).
    pub stopped: u64,
    /// Objects left by a SIGKILLed creator, removed by the harness (allowed).
    pub residue: u64,
    /// UDP messages lost and reported by their clients (allowed: UDP does not promise delivery).
    pub udp_lost: u64,
    /// Messages lost beyond what the contract allows (see [`Outcome::lost`]): 0 in a good run.
    pub lost: u64,
    /// Messages counted twice: 0 in a good run.
    pub duplicated: u64,
    /// Records that were not messages, beyond a stopped socket client's half frame: 0 in a
    /// good run.
    pub corrupt: u64,
    /// Half frames of socket clients stopped mid-write, counted corrupt by the server (allowed).
    pub half_frames: u64,
    /// Objects or files left behind.
    pub leaks: u64,
    /// Processes that did not end within their bound.
    pub hangs: u64,
    /// Failed rounds.
    pub failed: Vec<Failed>,
}

impl Totals {
    /// Adds one round.
    pub fn add(&mut self, round: u64, plan: &Plan, outcome: &Outcome) {
        self.rounds += 1;
        *self.per_mech.entry(plan.mech.kind()).or_default() += 1;
        let fault = self.per_fault.entry(plan.fault.kind()).or_default();
        fault.0 += 1;
        fault.1 += u64::from(outcome.landed);
        self.sent += outcome.sent;
        self.delivered += outcome.delivered;
        self.kept += outcome.kept;
        self.drained += outcome.drained;
        self.stopped += outcome.stopped;
        self.residue += outcome.residue.len() as u64;
        self.udp_lost += outcome.udp_lost;
        self.lost += outcome.lost;
        self.duplicated += outcome.duplicated;
        self.corrupt += outcome.corrupt;
        self.half_frames += outcome.half_frames;
        self.leaks += outcome.leaks.len() as u64;
        self.hangs += outcome.hangs.len() as u64;
        if !outcome.ok() {
            let problems = outcome
                .leaks
                .iter()
                .map(|l| format!("leak: {l}"))
                .chain(outcome.hangs.iter().map(|h| format!("hang: {h}")))
                .chain(outcome.failures.iter().cloned())
                .collect();
            self.failed.push(Failed {
                round,
                plan: plan.to_string(),
                seed: plan.seed,
                problems,
            });
        }
    }

    /// True when nothing was lost, duplicated or corrupt, nothing leaked or hung, and no
    /// round failed.
    pub fn clean(&self) -> bool {
        self.failed.is_empty()
            && [
                self.lost,
                self.duplicated,
                self.corrupt,
                self.leaks,
                self.hangs,
            ] == [0; 5]
    }

    /// The closing table.
    /// `replay` goes in front of `SOAK_ROUND=` (e.g. the `SOAK_MECHS=` of this run: the
    /// mechanism a seed picks depends on the list it picks from).
    pub fn table(&self, seed: u64, elapsed: Duration, replay: &str) -> String {
        let mut t = String::new();
        let _ = writeln!(t, "soak: seed {seed:#x}, {:.0} s", elapsed.as_secs_f64());
        let _ = writeln!(t, "  rounds                {:>10}", self.rounds);
        for (kind, n) in &self.per_mech {
            let _ = writeln!(t, "    {kind:<20}{n:>10}");
        }
        let _ = writeln!(t, "  faults (rounds / landed on a running process)");
        for kind in FAULT_KINDS.iter().take(6) {
            let (n, landed) = self.per_fault.get(kind).copied().unwrap_or((0, 0));
            let _ = writeln!(t, "    {kind:<20}{n:>10} / {landed}");
        }
        let _ = writeln!(
            t,
            "  messages sent (reported by senders that finished) {:>10}",
            self.sent
        );
        let _ = writeln!(
            t,
            "  messages delivered (receivers' summaries)          {:>10}",
            self.delivered
        );
        let _ = writeln!(
            t,
            "  queues kept and drained / messages drained         {:>10} / {}",
            self.kept, self.drained
        );
        let _ = writeln!(
            t,
            "  ends stopped after their peer died (allowed)       {:>10}",
            self.stopped
        );
        let _ = writeln!(
            t,
            "  SIGKILL residue removed (allowed)                  {:>10}",
            self.residue
        );
        let _ = writeln!(
            t,
            "  UDP messages lost, each reported by its client     {:>10}",
            self.udp_lost
        );
        let _ = writeln!(
            t,
            "  half frames of stopped socket clients (allowed)    {:>10}",
            self.half_frames
        );
        // The headline figures: each is 0 in a good run.
        let _ = writeln!(
            t,
            "  messages lost                                      {:>10}",
            self.lost
        );
        let _ = writeln!(
            t,
            "  messages duplicated                                {:>10}",
            self.duplicated
        );
        let _ = writeln!(
            t,
            "  messages corrupt                                   {:>10}",
            self.corrupt
        );
        let _ = writeln!(
            t,
            "  leaks                                              {:>10}",
            self.leaks
        );
        let _ = writeln!(
            t,
            "  hangs                                              {:>10}",
            self.hangs
        );
        let _ = writeln!(
            t,
            "  failed rounds                                      {:>10}",
            self.failed.len()
        );
        for failed in &self.failed {
            let _ = writeln!(
                t,
                "  FAILED round {} ({}): replay with {replay}SOAK_ROUND={:#x}",
                failed.round, failed.plan, failed.seed
            );
            for problem in &failed.problems {
                let _ = writeln!(t, "      {problem}");
            }
        }
        t
    }
}
