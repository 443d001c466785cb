//! After a round: the exits, the processes, the leftovers (a kept queue drained, SIGKILL
//! residue told apart from a leak) and the counts, checked against what happened to each end.

use std::path::Path;
use std::time::{Duration, Instant};

use ipc_common::sysvipc::Kind;
use nix::sys::signal::Signal;

use super::ends::Ends;
use super::outcome::Outcome;
use crate::child::{alive, reap, Exit, Finished, Proc};
use crate::leftover::{leftovers, remove, Leftover};
use crate::mechanism::Mech;
use crate::names::Names;
use crate::plan::{Fault, Plan, Target};
use crate::summary;

/// How many acknowledgements a UDP client said did not come back (0 if it did not say).
fn unacknowledged(stderr: &str) -> u64 {
    const SAID: &str = " acknowledgement(s) did not come back";
    stderr
        .lines()
        .filter_map(|line| line.split_once(SAID).map(|(head, _)| head))
        .filter_map(|head| head.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

/// The checks after the round (exits, processes, leftovers, drain, counts).
pub(super) fn check(plan: &Plan, bin: &Path, names: &Names, mut ends: Ends, out: &mut Outcome) {
    out.stopped = ends.stopped.len() as u64;
    let receiver = ends.receiver.take().map(Proc::finish);
    let senders: Vec<Finished> = ends.senders.drain(..).map(Proc::finish).collect();
    if let Some(pid) = ends.pipe_child {
        reap(pid);
        if alive(pid) {
            out.failures
                .push(format!("pipe-receiver (pid {pid}) is still running"));
            let _ = nix::sys::signal::kill(pid, Signal::SIGKILL);
        }
    }
    // UDP does not promise delivery: a client says how many acknowledgements did not come
    // back (exit 1), and the server counts what never came as lost. Allowed, never silent.
    let reported: u64 = if plan.mech == Mech::Udp {
        senders.iter().map(|fin| unacknowledged(&fin.stderr)).sum()
    } else {
        0
    };
    for (i, fin) in senders.iter().enumerate() {
        let udp_loss = plan.mech == Mech::Udp
            && (unacknowledged(&fin.stderr) > 0 || fin.stderr.contains("no UDP server answered"));
        check_exit(plan, Target::Sender(i), fin, &ends.stopped, udp_loss, out);
    }
    if let Some(fin) = &receiver {
        check_exit(
            plan,
            Target::Receiver,
            fin,
            &ends.stopped,
            reported > 0,
            out,
        );
    }
    // The receiver's summary: its own stdout, or pipe-sender's (its child shares it).
    let summary_text = match (&receiver, senders.first()) {
        (Some(fin), _) => fin.stdout.clone(),
        (None, Some(fin)) if plan.mech == Mech::Pipe => fin.stdout.clone(),
        _ => String::new(),
    };
    let summaries = summary::all(&summary_text);
    if summaries.len() > 1 {
        out.failures.push(format!(
            "the receiver printed {} summary lines",
            summaries.len()
        ));
    }
    let received = summaries.last().copied();
    if let Some(s) = received {
        out.delivered = s.received;
        // A socket client stopped in the middle of a frame leaves the server half a frame:
        // the server drops it and counts it corrupt, as it would any broken peer.
        let faulted_senders = match plan.fault {
            Fault::Signal {
                target: Target::Sender(_),
                ..
            } if out.landed && plan.mech.is_socket() => 1,
            _ => 0,
        };
        out.udp_lost = s.lost.min(reported);
        out.duplicated += s.duplicated;
        out.half_frames = s.corrupt.min(faulted_senders);
        out.corrupt += s.corrupt - out.half_frames;
        let clean = s.lost <= reported
            && s.duplicated == 0
            && s.corrupt <= faulted_senders
            && (s.reordered == 0 || !plan.mech.keeps_order());
        if !clean {
            out.failures.push(format!("receiver: {s}"));
        }
    }
    let total: u64 = plan.counts.iter().sum();
    out.sent = senders
        .iter()
        .zip(&plan.counts)
        .filter(|(fin, _)| fin.exit == Exit::Code(0))
        .map(|(_, &count)| count)
        .sum();
    let all_sent = senders.iter().all(|fin| fin.exit == Exit::Code(0));
    let receiver_ok = match (&receiver, plan.mech) {
        (Some(fin), _) => fin.exit == Exit::Code(0),
        (None, Mech::Pipe) => all_sent,
        _ => false,
    };
    // Never more than was sent; over a socket, never less than what the server acknowledged
    // to the clients that finished (each acknowledgement says "I got message N").
    if let Some(s) = received {
        if s.received > total || (plan.mech.is_socket() && s.received < out.sent) {
            out.failures.push(format!(
                "the receiver counted {} messages; senders that finished sent {} of {total}",
                s.received, out.sent
            ));
        }
    }
    // A socket server also finishes normally when a client it served was killed (it served
    // the N clients it was told to); the others wait for every sender's End.
    let everyone_done = all_sent || !plan.mech.is_socket();
    if receiver_ok && everyone_done && received.map(|s| s.received) != Some(total) {
        out.failures.push(format!(
            "the receiver finished normally with {:?} of {total} messages",
            received.map(|s| s.received)
        ));
    }
    // Leftovers: a queue the contract keeps is drained; SIGKILL residue is removed apart.
    let mut left = leftovers(names);
    let queue = match plan.mech {
        Mech::MsgqSysv => Some(Leftover::SysV(Kind::Queue)),
        Mech::MsgqPosix => Some(Leftover::Posix),
        _ => None,
    };
    let mut drained = None;
    if queue.as_ref().is_some_and(|q| left.contains(q)) {
        let said_kept = receiver
            .as_ref()
            .is_some_and(|fin| fin.stderr.contains("kept message queue"));
        if receiver_ok && !said_kept {
            out.failures
                .push("the receiver finished normally but left the queue without saying so".into());
        }
        out.kept += 1;
        drained = drain(plan, bin, names, out);
        left = leftovers(names);
    }
    if queue.is_some() {
        let drained = drained.unwrap_or(0);
        let problem = match received {
            // Every message of a sender that finished is in the queue until someone takes it:
            // the receiver and the drain together have at least those, and exactly all of
            // them when every sender finished.
            Some(s) => {
                let got = s.received + drained;
                got > total || got < out.sent || (all_sent && got != total)
            }
            // A SIGKILLed receiver took an unknown number with it: only the bound is left.
            None => drained > total,
        };
        if problem {
            out.failures.push(format!(
                "queue accounting: senders that finished sent {} (of {total} planned; all \
                 finished: {all_sent}), receiver got {:?}, drain got {drained}",
                out.sent,
                received.map(|s| s.received)
            ));
        }
    }
    // Messages lost: the receiver's own count of gaps (beyond the UDP losses its clients
    // reported), or what should have arrived and did not, whichever is more. Should have: in
    // a queue, what the senders that finished left there (the receiver's and the drain's);
    // over a socket, what the server acknowledged; elsewhere, everything, when the receiver
    // and every sender finished normally (a stopped receiver leaves the rest unread, allowed).
    if let Some(s) = received {
        let got = s.received + drained.unwrap_or(0);
        let missing = if queue.is_some() || plan.mech.is_socket() {
            out.sent.saturating_sub(got)
        } else if receiver_ok && everyone_done {
            total.saturating_sub(got)
        } else {
            0
        };
        out.lost = (s.lost - out.udp_lost).max(missing);
    }
    let residue_ok = |item: &Leftover| -> bool {
        let Fault::Signal {
            signal: Signal::SIGKILL,
            target,
            ..
        } = plan.fault
        else {
            return false;
        };
        if !out.landed {
            return false;
        }
        let killed = match target {
            Target::Receiver => receiver.as_ref(),
            Target::Sender(i) => senders.get(i),
        };
        let created = |needle: &str| killed.is_some_and(|fin| fin.stderr.contains(needle));
        // Shared memory after a SIGKILLed receiver: a sender removes the objects when it
        // notices (a full slot it waits on, or, for the ring, at its End). One that had
        // already finished normally left them for the receiver to read: nobody is left to
        // remove them.
        let senders_finished = senders.iter().all(|fin| fin.exit == Exit::Code(0));
        let receiver_left_them = target == Target::Receiver && senders_finished;
        match (plan.mech, item) {
            (Mech::Fifo, Leftover::Path) => created("Fifo Created Successfully"),
            (Mech::Sem, Leftover::SysV(Kind::Semaphores)) => target == Target::Receiver,
            // bind(2) made the socket file; only the server unlinks it, at its exit.
            (Mech::Unix, Leftover::Path) => target == Target::Receiver,
            (Mech::Shm { .. }, Leftover::SysV(Kind::Segment | Kind::Semaphores)) => {
                receiver_left_them
            }
            (Mech::ShmRing { .. }, Leftover::PosixShm) => receiver_left_them,
            _ => false,
        }
    };
    if !out.ok() {
        for fin in receiver.iter().chain(&senders) {
            out.details.push(format!(
                "--- {} (pid {}), {}:\n{}",
                fin.name, fin.pid, fin.exit, fin.stderr
            ));
        }
    }
    let (residue, leaks): (Vec<Leftover>, Vec<Leftover>) =
        left.iter().cloned().partition(|item| residue_ok(item));
    out.residue = residue.iter().map(|item| item.describe(names)).collect();
    out.leaks = leaks.iter().map(|item| item.describe(names)).collect();
    for failed in remove(names, &left) {
        out.failures.push(format!("could not remove {failed}"));
    }
}

/// Drains a kept queue with `msgq-receiver --nowait`; returns how many messages it took.
fn drain(plan: &Plan, bin: &Path, names: &Names, out: &mut Outcome) -> Option<u64> {
    let cmd = plan.mech.drainer(bin, names)?;
    let mut proc = match Proc::start("msgq-receiver --nowait", cmd) {
        Ok(proc) => proc,
        Err(why) => {
            out.failures.push(why);
            return None;
        }
    };
    if !proc.wait_until(Instant::now() + Duration::from_secs(20)) {
        out.hangs.push("msgq-receiver --nowait (drain)".into());
    }
    let fin = proc.finish();
    if fin.stderr.contains("panicked") {
        out.failures
            .push(format!("the drain panicked: {}", fin.stderr));
    }
    let s = summary::all(&fin.stdout).last().copied();
    match s {
        Some(s) => {
            out.duplicated += s.duplicated;
            out.corrupt += s.corrupt;
            if s.duplicated + s.reordered + s.corrupt != 0 {
                out.failures.push(format!("drain: {s}"));
            }
            out.drained = s.received;
            Some(s.received)
        }
        None => {
            out.failures
                .push(format!("the drain printed no summary ({})", fin.exit));
            None
        }
    }
}

/// Checks one process's exit against what happened to it.
fn check_exit(
    plan: &Plan,
    who: Target,
    fin: &Finished,
    stopped: &[String],
    udp_loss: bool,
    out: &mut Outcome,
) {
    let program = fin.name.split('#').next().unwrap_or(&fin.name);
    if fin.stderr.contains("panicked") || fin.stderr.contains("RUST_BACKTRACE") {
        out.failures
            .push(format!("{} panicked: {}", fin.name, fin.stderr));
    }
    let faulted = matches!(plan.fault, Fault::Signal { target, .. } if target == who);
    let peer_faulted = matches!(plan.fault, Fault::Signal { .. }) && out.landed && !faulted;
    let was_stopped = stopped.contains(&fin.name);
    let allowed: &[Exit] = match plan.fault {
        Fault::Signal { signal, .. } if faulted && out.landed => match signal {
            Signal::SIGKILL => &[Exit::Signal(9), Exit::Code(0)],
            // Killed by the signal itself: it came before the program installed its handler
            // (the first thing `run` does), so the program owned nothing yet; the leak check
            // still looks.
            Signal::SIGINT => &[Exit::Code(130), Exit::Code(0), Exit::Signal(2)],
            _ => &[Exit::Code(130), Exit::Code(0), Exit::Signal(15)],
        },
        _ if was_stopped => &[Exit::Code(130), Exit::Code(0), Exit::Code(1)],
        _ if udp_loss => &[Exit::Code(0), Exit::Code(1)],
        // pipe-sender reports its child's fate: 130 when pipe-receiver was interrupted.
        Fault::Signal {
            signal: Signal::SIGINT | Signal::SIGTERM,
            target: Target::Receiver,
            ..
        } if plan.mech == Mech::Pipe && out.landed => {
            &[Exit::Code(0), Exit::Code(1), Exit::Code(130)]
        }
        _ if peer_faulted => &[Exit::Code(0), Exit::Code(1)],
        _ => &[Exit::Code(0)],
    };
    if !allowed.contains(&fin.exit) {
        let last = fin.stderr.lines().last().unwrap_or("");
        out.failures.push(format!(
            "{} (pid {}) ended with {} (allowed: {}); last stderr line: {last}",
            fin.name,
            fin.pid,
            fin.exit,
            allowed
                .iter()
                .map(Exit::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if fin.exit == Exit::Code(1) && !fin.stderr.contains(&format!("{program}: error: ")) {
        out.failures.push(format!(
            "{} exited 1 without a `{program}: error:` line",
            fin.name
        ));
    }
}
