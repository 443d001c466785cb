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

use std::path::Path;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use nix::unistd::Pid;

use crate::child::{alive, reap, Exit, Finished, Proc};
use crate::mechanism::{leftovers, remove, Leftover, Mech, Names};
use crate::plan::{Fault, Plan, Target};
use crate::summary;

/// How long a receiver may take to print its ready line.
const READY: Duration = Duration::from_secs(10);
/// After a fault killed one end, how long a surviving end that must notice has to do so.
const NOTICE: Duration = Duration::from_secs(6);
/// How long an end that legitimately waits for a peer that died gets before we stop it.
const ORPHAN_GRACE: Duration = Duration::from_millis(700);
/// What shm-sender and shm-receiver say when they made the segment (rather than found it).
const CREATED: &str = "created shared memory segment";
/// How long a program has to exit after SIGTERM (the contract says one second).
const STOP_BOUND: Duration = Duration::from_secs(3);

/// What a round did and found.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// The fault was delivered while its target was running.
    pub landed: bool,
    /// Messages of the senders that finished (exit 0): what they reported as sent.
    pub sent: u64,
    /// Messages the receiver reported as received.
    pub delivered: u64,
    /// Messages taken from a kept queue by the drain.
    pub drained: u64,
    /// Queues kept by the contract (and drained).
    pub kept: u64,
    /// Objects or files left that should not have been.
    pub leaks: Vec<String>,
    /// Objects a SIGKILLed creator could not remove (removed by us, not a leak).
    pub residue: Vec<String>,
    /// Processes that did not end within their bound.
    pub hangs: Vec<String>,
    /// Everything else that broke the contract.
    pub failures: Vec<String>,
    /// Ends we stopped with SIGTERM because they waited, as allowed, for a peer that died.
    pub stopped: u64,
    /// What each process printed on stderr, kept when the round failed (for the replay).
    pub details: Vec<String>,
    /// UDP messages the server never got, each reported by its client ("did not come back").
    pub udp_lost: u64,
}

/// How many acknowledgements a UDP client said did not come back (0 if it did not say).
fn unacknowledged(stderr: &str) -> u64 {
    const SAID: &str = " acknowledgement(s) did not come back";
    stderr
        .lines()
        .filter_map(|line| line.split_once(SAID).map(|(head, _)| head))
        .filter_map(|head| head.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

impl Outcome {
    /// True when the round broke nothing.
    pub fn ok(&self) -> bool {
        self.leaks.is_empty() && self.hangs.is_empty() && self.failures.is_empty()
    }
}

/// Who ended how, and why we expect what we expect.
struct Ends {
    receiver: Option<Proc>,
    senders: Vec<Proc>,
    /// pipe-receiver, started by pipe-sender.
    pipe_child: Option<Pid>,
    /// Processes the harness stopped (by name).
    stopped: Vec<String>,
    /// Processes killed after their bound (by name).
    hung: Vec<String>,
}

impl Ends {
    fn all(&mut self) -> impl Iterator<Item = &mut Proc> {
        self.receiver.iter_mut().chain(self.senders.iter_mut())
    }

    fn running(&mut self) -> bool {
        let mut any = false;
        for proc in self.all() {
            any |= proc.exited().is_none();
        }
        if let Some(pid) = self.pipe_child {
            reap(pid);
            any |= alive(pid);
        }
        any
    }

    /// Whether `target` has ended, and not with exit 0.
    fn target_died(&mut self, target: Target) -> bool {
        let proc = match target {
            Target::Receiver => match (&mut self.receiver, self.pipe_child) {
                (Some(proc), _) => proc,
                (None, Some(pid)) => {
                    reap(pid);
                    return !alive(pid);
                }
                (None, None) => return false,
            },
            Target::Sender(i) => &mut self.senders[i],
        };
        matches!(proc.exited(), Some(exit) if exit != Exit::Code(0))
    }

    /// What `target` printed on stderr so far.
    fn stderr_of(&mut self, target: Target) -> String {
        match target {
            Target::Receiver => self.receiver.as_mut().map(Proc::stderr_so_far),
            Target::Sender(i) => self.senders.get_mut(i).map(Proc::stderr_so_far),
        }
        .unwrap_or_default()
    }

    /// SIGTERM to every running process that `pick` selects; remembers them as stopped.
    fn stop(&mut self, pick: impl Fn(&str) -> bool) {
        let mut names = Vec::new();
        for proc in self.all() {
            if pick(proc.name()) && proc.signal(Signal::SIGTERM) {
                names.push(proc.name().to_string());
            }
        }
        self.stopped.extend(names);
    }

    /// SIGTERM to the receiver, if it still runs.
    fn stop_receiver(&mut self) {
        if let Some(proc) = self.receiver.as_mut() {
            if proc.signal(Signal::SIGTERM) {
                self.stopped.push(proc.name().to_string());
            }
        }
    }

    /// SIGTERM to every sender that still runs.
    fn stop_senders(&mut self) {
        for proc in &mut self.senders {
            if proc.signal(Signal::SIGTERM) {
                self.stopped.push(proc.name().to_string());
            }
        }
    }

    /// Kills whatever still runs after `deadline`, recording each as a hang.
    fn kill_after(&mut self, deadline: Instant) {
        let mut hung = Vec::new();
        for proc in self.all() {
            if !proc.wait_until(deadline) {
                hung.push(proc.name().to_string());
                proc.kill_and_reap();
            }
        }
        if let Some(pid) = self.pipe_child {
            while alive(pid) && Instant::now() < deadline {
                reap(pid);
                std::thread::sleep(Duration::from_millis(5));
            }
            if alive(pid) {
                hung.push(format!("pipe-receiver (pid {pid})"));
                let _ = nix::sys::signal::kill(pid, Signal::SIGKILL);
                std::thread::sleep(Duration::from_millis(50));
                reap(pid);
            }
        }
        self.hung.extend(hung);
    }
}

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
    let mut ends = Ends {
        receiver: None,
        senders: Vec::new(),
        pipe_child: None,
        stopped: Vec::new(),
        hung: Vec::new(),
    };
    if let Err(why) = start(plan, bin, names, &mut ends) {
        out.failures.push(why);
        ends.stop(|_| true);
        ends.kill_after(Instant::now() + STOP_BOUND);
    } else {
        supervise(plan, &mut ends, &mut out);
    }
    check(plan, bin, names, ends, &mut out);
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

/// Injects the fault and waits for every process, stopping orphans and killing hangs.
fn supervise(plan: &Plan, ends: &mut Ends, out: &mut Outcome) {
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
        // (before attaching or connecting), or when the survivor made its own objects after
        // the dead end had removed its, or (a ring sender) when it never got to the dead
        // receiver's ring and waits for a new one: it rightly waits for a peer, as if it came
        // first.
        let dead_said = ends.stderr_of(target);
        let dead_created = dead_said.contains(CREATED);
        let dead_never_met = plan
            .mech
            .met_line()
            .is_some_and(|line| !dead_said.contains(line));
        let mut never_met = Vec::new();
        for proc in ends.all() {
            let said = proc.stderr_so_far();
            let made_its_own = dead_created && said.contains(CREATED);
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

/// The checks after the round (exits, processes, leftovers, drain, counts).
fn check(plan: &Plan, bin: &Path, names: &Names, mut ends: Ends, out: &mut Outcome) {
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
        Mech::MsgqSysv => Some(Leftover::SysV("msg")),
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
            (Mech::Sem, Leftover::SysV("sem")) => target == Target::Receiver,
            // bind(2) made the socket file; only the server unlinks it, at its exit.
            (Mech::Unix, Leftover::Path) => target == Target::Receiver,
            (Mech::Shm { .. }, Leftover::SysV("shm" | "sem")) => receiver_left_them,
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
