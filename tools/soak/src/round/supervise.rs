//! While a round runs: inject its fault on time, notice when the target died, stop the ends
//! that rightly wait for a peer that will not come, and kill what outlives its bound.

use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use super::ends::Ends;
use super::outcome::Outcome;
use super::{bound, STOP_BOUND};
use crate::child::alive;
use crate::mechanism::Mech;
use crate::plan::{Fault, Plan, Target};

/// After a fault killed one end, how long a surviving end that must notice has to do so.
const NOTICE: Duration = Duration::from_secs(6);
/// How long an end that legitimately waits for a peer that died gets before we stop it.
const ORPHAN_GRACE: Duration = Duration::from_millis(700);
/// What shm-sender and shm-receiver say when they made the segment (rather than found it).
const CREATED: &str = "created shared memory segment";
/// What an end that joined an existing segment says.
const FOUND: &str = "found shared memory segment";

/// The id of the segment an end created or found (`... segment key K (0x...) (id N, ...`), from
/// the first line of `said` that starts with `prefix`'s message.
fn segment_id<'a>(said: &'a str, prefix: &str) -> Option<&'a str> {
    let line = said.lines().find(|line| line.contains(prefix))?;
    let after = &line[line.find("(id ")? + 4..];
    Some(&after[..after.find([',', ')'])?])
}

/// Injects the fault and waits for every process, stopping orphans and killing hangs.
pub(super) fn supervise(plan: &Plan, ends: &mut Ends, out: &mut Outcome) {
    let began = Instant::now();
    let deadline = began + bound(plan);
    let (fault_at, cont_at) = match plan.fault {
        Fault::Signal { after, .. } => (Some(began + after), None),
        Fault::StopCont { after, stalled, .. } => (Some(began + after), Some(after + stalled)),
        _ => (None, None),
    };
    let mut fault_done = fault_at.is_none();
    // A late receiver is a fault that always lands: the senders ran without it.
    out.landed = matches!(plan.fault, Fault::LateReceiver { .. });
    let mut cont_due: Option<Instant> = None;
    let mut target_dead_at: Option<Instant> = None;
    let mut orphans_stopped = false;
    let mut stop_deadline: Option<Instant> = None;
    let mut senders_done_at: Option<Instant> = None;
    while ends.running() {
        let now = Instant::now();
        if !fault_done && fault_at.is_some_and(|at| now >= at) {
            fault_done = true;
            out.landed = inject(plan.fault, ends);
            cont_due = cont_at.map(|after| began + after);
        }
        if let (Some(at), Fault::StopCont { sender, .. }) = (cont_due, plan.fault) {
            if now >= at {
                ends.senders[sender].signal(Signal::SIGCONT);
                cont_due = None;
            }
        }
        if let (Fault::Signal { target, .. }, true) = (plan.fault, out.landed) {
            if target_dead_at.is_none() && ends.target_died(target) {
                target_dead_at = Some(now);
            }
            if let (Some(dead_at), false) = (target_dead_at, orphans_stopped) {
                if stop_orphans(plan, target, dead_at, now, ends, out) {
                    orphans_stopped = true;
                    stop_deadline = Some(now + STOP_BOUND);
                }
            }
        }
        // UDP has no connection: a server cannot know that a client is gone, or that one it
        // never heard from (its first datagram lost) gave up. Once every client has ended,
        // it is stopped like any end waiting for a peer that will not come.
        if plan.mech == Mech::Udp && !orphans_stopped {
            let senders_done = ends.senders.iter_mut().all(|proc| proc.exited().is_some());
            match (senders_done, senders_done_at) {
                (true, None) => senders_done_at = Some(now),
                (true, Some(at)) if now >= at + ORPHAN_GRACE => {
                    ends.stop_receiver();
                    orphans_stopped = true;
                    stop_deadline = Some(now + STOP_BOUND);
                }
                _ => {}
            }
        }
        if let Some(limit) = stop_deadline {
            if now >= limit {
                ends.kill_after(now);
                break;
            }
        }
        if now >= deadline {
            ends.stop(|_| true);
            ends.kill_after(now + STOP_BOUND);
            let names = std::mem::take(&mut ends.stopped);
            ends.hung.extend(names);
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    if let (Some(_), Fault::StopCont { sender, .. }) = (cont_due, plan.fault) {
        ends.senders[sender].signal(Signal::SIGCONT);
    }
    out.hangs.append(&mut ends.hung);
}

/// Sends the fault's signal; true when its target was running.
fn inject(fault: Fault, ends: &mut Ends) -> bool {
    match fault {
        Fault::Signal { signal, target, .. } => match target {
            Target::Sender(i) => ends.senders[i].signal(signal),
            Target::Receiver => match (&mut ends.receiver, ends.pipe_child) {
                (Some(proc), _) => proc.signal(signal),
                (None, Some(pid)) => alive(pid) && nix::sys::signal::kill(pid, signal).is_ok(),
                (None, None) => false,
            },
        },
        Fault::StopCont { sender, .. } => ends.senders[sender].signal(Signal::SIGSTOP),
        Fault::None | Fault::LateReceiver { .. } => false,
    }
}

/// Once the fault's target has died: ends that wait for a peer that died are stopped with
/// SIGTERM (as a user would press Ctrl-C). Where the mechanism promises that the survivor
/// notices by itself (pipes, shared memory), having to stop it is a failure. True once done.
fn stop_orphans(
    plan: &Plan,
    target: Target,
    dead_at: Instant,
    now: Instant,
    ends: &mut Ends,
    out: &mut Outcome,
) -> bool {
    if plan.mech.detects_dead_peer() {
        if now < dead_at + NOTICE {
            return false;
        }
        // A survivor never met the dead end when the dead end died before meeting anyone
        // (before attaching or connecting), or when the survivor made its own objects (or
        // joined those another survivor made) after the dead end had removed its, or (a ring
        // sender) when it never got to the dead
        // receiver's ring and waits for a new one: it rightly waits for a peer, as if it came
        // first.
        let dead_said = ends.stderr_of(target);
        let dead_created = dead_said.contains(CREATED);
        let dead_never_met = plan
            .mech
            .met_line()
            .is_some_and(|line| !dead_said.contains(line));
        let dead_segment = segment_id(&dead_said, CREATED);
        let mut never_met = Vec::new();
        for proc in ends.all() {
            let said = proc.stderr_so_far();
            // It made its own segment, or joined one another survivor made, after the dead end
            // had removed its own: another segment id than the dead end's.
            let joined = segment_id(&said, CREATED).or_else(|| segment_id(&said, FOUND));
            let made_its_own = dead_created
                && (said.contains(CREATED) || (joined.is_some() && joined != dead_segment));
            let waits_anew = plan.mech.waits_for_new_object(&said);
            if proc.exited().is_none() && (dead_never_met || made_its_own || waits_anew) {
                never_met.push(proc.name().to_string());
            }
        }
        let before = ends.stopped.len();
        ends.stop(|_| true);
        for name in &ends.stopped[before..] {
            if !never_met.contains(name) {
                out.failures.push(format!(
                    "{name} did not notice within {NOTICE:?} that the {target} died"
                ));
            }
        }
        return true;
    }
    match target {
        Target::Sender(dead) => {
            let others_done = ends
                .senders
                .iter_mut()
                .enumerate()
                .all(|(i, proc)| i == dead || proc.exited().is_some());
            if !others_done || now < dead_at + ORPHAN_GRACE {
                return false;
            }
            ends.stop_receiver();
        }
        Target::Receiver => {
            if now < dead_at + ORPHAN_GRACE * 3 {
                return false;
            }
            ends.stop_senders();
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_segment_id_is_read_from_the_created_or_found_line() {
        let said = "shm-sender: found shared memory segment key 1 (0x00000001) (id 1409026, 65600 bytes: ...)\n";
        assert_eq!(segment_id(said, FOUND), Some("1409026"));
        assert_eq!(segment_id(said, CREATED), None);
        let made = "shm-receiver: created shared memory segment key 1 (0x00000001) (id 7) and semaphore set id 9\n";
        assert_eq!(segment_id(made, CREATED), Some("7"));
    }
}
