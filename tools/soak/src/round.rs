//! Running one round: start the programs, inject the fault, wait with bounds, then check that
//! nothing is left, nothing hung and nothing was lost.
//!
//! The checks, in the order they run:
//! 1. every process ends within a bound; one that does not is a **hang** (killed, counted);
//! 2. every exit is one the contract allows for what happened to it (0 normally; 130 after
//!    SIGINT/SIGTERM; 1 with `PROGRAM: error:` when its peer died; never a panic);
//! 3. no process of the round is left (pipe-sender's child included);
//! 4. no object or file of the round is left (a **leak**), except a message queue the contract
//!    keeps, which is drained with `msgq-receiver --nowait`, and what a SIGKILLed creator could
//!    not remove (counted apart as SIGKILL residue, then removed: a FIFO, a semaphore set, a
//!    Unix socket file, the shared memory or ring of a receiver killed after its senders had
//!    finished);
//! 5. every summary shows 0 lost, duplicated, reordered and corrupt, and the counts add up:
//!    a receiver that finished normally got every message; for a queue, what the receiver got
//!    plus what was drained is exactly what the senders that finished sent.
//!
//! Here: starting the programs (`run`, `start`). While the round runs: round/supervise.rs
//! (the fault, orphans, hangs); after: round/check.rs (checks 2 to 5); round/ends.rs holds
//! the round's processes, round/outcome.rs what the round found.

mod check;
mod ends;
mod outcome;
mod supervise;

use std::path::Path;
use std::time::{Duration, Instant};

use nix::unistd::Pid;

use crate::child::Proc;
use crate::leftover::leftovers;
use crate::mechanism::Mech;
use crate::names::Names;
use crate::plan::{Fault, Plan};

use self::ends::Ends;
pub use self::outcome::Outcome;

/// How long a receiver may take to print its ready line.
const READY: Duration = Duration::from_secs(10);
/// How long a program has to exit after SIGTERM (the contract says one second).
const STOP_BOUND: Duration = Duration::from_secs(3);

/// The time a round may take before it counts as a hang: generous, for debug builds. 1 ms per
/// 2 KB moved, and 0.1 ms per message: a one-slot handoff costs two context switches per
/// message (a one-slot ring moved about 25,000 messages a second on a busy 2-core machine).
fn bound(plan: &Plan) -> Duration {
    let messages: u64 = plan.counts.iter().sum();
    let bytes = messages * (plan.size as u64 + 32);
    Duration::from_secs(30)
        + Duration::from_millis(bytes / 2_000)
        + Duration::from_micros(messages * 100)
}

/// Runs `plan` with the programs in `bin` on `names`.
pub fn run(plan: &Plan, bin: &Path, names: &Names) -> Outcome {
    let mut out = Outcome::default();
    let mut names = names.clone();
    let names = &mut names;
    if !leftovers(names).is_empty() {
        // Someone else's object: not ours to remove. The caller picks unused names.
        out.failures
            .push("the names of this round are already in use by someone else".into());
        return out;
    }
    let mut ends = Ends::default();
    if let Err(why) = start(plan, bin, names, &mut ends) {
        out.failures.push(why);
        ends.stop(|_| true);
        ends.kill_after(Instant::now() + STOP_BOUND);
    } else {
        supervise::supervise(plan, &mut ends, &mut out);
    }
    check::check(plan, bin, names, ends, &mut out);
    out
}

/// Starts the programs in the order the plan says.
fn start(plan: &Plan, bin: &Path, names: &mut Names, ends: &mut Ends) -> Result<(), String> {
    let mech = plan.mech;
    let start_senders = |ends: &mut Ends, names: &Names| -> Result<(), String> {
        for (i, &count) in plan.counts.iter().enumerate() {
            let (name, cmd) = mech.sender(bin, names, i, count, plan.size);
            ends.senders.push(Proc::start(name, cmd)?);
        }
        Ok(())
    };
    if mech == Mech::Pipe {
        start_senders(ends, names)?;
        let line = ends.senders[0]
            .wait_stderr(mech.ready_line(), READY)
            .ok_or("pipe-sender did not say which pipe-receiver it started")?;
        let pid: String = line
            .split(mech.ready_line())
            .nth(1)
            .unwrap_or("")
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        let pid = pid
            .parse()
            .map_err(|_| format!("no pid in pipe-sender's line {line:?}"))?;
        ends.pipe_child = Some(Pid::from_raw(pid));
        return Ok(());
    }
    let (name, cmd) = mech
        .receiver(bin, names, plan.counts.len() as u64)
        .ok_or("no receiver command")?;
    if let Fault::LateReceiver { after } = plan.fault {
        start_senders(ends, names)?;
        // This times the fault; it does not guess readiness (nothing waits for the senders).
        std::thread::sleep(after);
        ends.receiver = Some(Proc::start(name, cmd)?);
        return Ok(());
    }
    let mut receiver = Proc::start(name.clone(), cmd)?;
    let ready = receiver.wait_stderr(mech.ready_line(), READY);
    ends.receiver = Some(receiver);
    let Some(ready) = ready else {
        return Err(format!(
            "{name} did not print its ready line {:?} within {READY:?}",
            mech.ready_line()
        ));
    };
    if matches!(mech, Mech::Tcp | Mech::Udp) {
        // `server waiting on 127.0.0.1:PORT` (it bound port 0: the kernel chose).
        let port = ready.rsplit(':').next().unwrap_or("").trim();
        let port = port.trim_end_matches(|c: char| !c.is_ascii_digit());
        names.port = Some(
            port.parse()
                .map_err(|_| format!("no port in the server's ready line {ready:?}"))?,
        );
    }
    start_senders(ends, names)
}
