//! The processes of one round, and what the harness did to them: which ended how, which it
//! stopped (an end waiting for a peer that died) and which it had to kill (a hang).

use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use nix::unistd::Pid;

use crate::child::{alive, reap, Exit, Proc};
use crate::plan::Target;

/// Who ended how, and why we expect what we expect.
#[derive(Debug, Default)]
pub(super) struct Ends {
    pub(super) receiver: Option<Proc>,
    pub(super) senders: Vec<Proc>,
    /// pipe-receiver, started by pipe-sender.
    pub(super) pipe_child: Option<Pid>,
    /// Processes the harness stopped (by name).
    pub(super) stopped: Vec<String>,
    /// Processes killed after their bound (by name).
    pub(super) hung: Vec<String>,
}

impl Ends {
    pub(super) fn all(&mut self) -> impl Iterator<Item = &mut Proc> {
        self.receiver.iter_mut().chain(self.senders.iter_mut())
    }

    pub(super) fn running(&mut self) -> bool {
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
    pub(super) fn target_died(&mut self, target: Target) -> bool {
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
    pub(super) fn stderr_of(&mut self, target: Target) -> String {
        match target {
            Target::Receiver => self.receiver.as_mut().map(Proc::stderr_so_far),
            Target::Sender(i) => self.senders.get_mut(i).map(Proc::stderr_so_far),
        }
        .unwrap_or_default()
    }

    /// SIGTERM to every running process that `pick` selects; remembers them as stopped.
    pub(super) fn stop(&mut self, pick: impl Fn(&str) -> bool) {
        let mut names = Vec::new();
        for proc in self.all() {
            if pick(proc.name()) && proc.signal(Signal::SIGTERM) {
                names.push(proc.name().to_string());
            }
        }
        self.stopped.extend(names);
    }

    /// SIGTERM to the receiver, if it still runs.
    pub(super) fn stop_receiver(&mut self) {
        if let Some(proc) = self.receiver.as_mut() {
            if proc.signal(Signal::SIGTERM) {
                self.stopped.push(proc.name().to_string());
            }
        }
    }

    /// SIGTERM to every sender that still runs.
    pub(super) fn stop_senders(&mut self) {
        for proc in &mut self.senders {
            if proc.signal(Signal::SIGTERM) {
                self.stopped.push(proc.name().to_string());
            }
        }
    }

    /// Kills whatever still runs after `deadline`, recording each as a hang.
    pub(super) fn kill_after(&mut self, deadline: Instant) {
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
