//! Soak rounds of `shm-sender --ring` / `shm-receiver --ring`, one per fault, through the
//! harness itself (`round::run`): the verdicts the soak gives the ring must be exact, with no
//! false "lost", "hang" or "leak".
//!
//! The random soak (`ipc-soak --only shm-ring`) draws these at random moments; here each fault
//! is named, so that a change to the programs or to the harness that breaks one is seen in
//! `make test`. A fault may come after its target finished (the round is then simply a clean
//! round): these tests check the verdict, not the timing.
//!
//! The last test builds by hand the one case nobody can clean up after: the receiver killed
//! with SIGKILL after its sender had finished normally. The ring stays in /dev/shm; the
//! harness must find it (the `PosixShm` leftover) and remove it with `shm_unlink`.

mod support;

use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use ipc_soak::child::{Exit, Proc};
use ipc_soak::leftover::{leftovers, posix_shm_exists, remove, Leftover};
use ipc_soak::limits::Limits;
use ipc_soak::mechanism::Mech;
use ipc_soak::names::Names;
use ipc_soak::plan::{Fault, Plan, Target};
use ipc_soak::round;

/// The round's names: the soak's own scheme (`/ipt-soak-PID-N`), skipping any in use.
fn names(round: u64) -> Names {
    let mut names = Names::new(std::process::id(), round);
    let mut skip = 0;
    while !leftovers(&names).is_empty() {
        skip += 1000;
        names = Names::new(std::process::id(), round + skip);
    }
    names
}

fn bin() -> std::path::PathBuf {
    for program in ["shm-sender", "shm-receiver"] {
        support::program_path(program);
    }
    ipc_soak::bin_dir()
}

/// Runs one ring round with `fault` and asserts the harness found nothing wrong.
fn clean_round(round: u64, slots: u32, slot_size: usize, count: u64, size: usize, fault: Fault) {
    let mech = Mech::ShmRing { slots, slot_size };
    let limits = Limits::read();
    assert!(
        size <= mech.max_size(&limits),
        "the test's own plan is too big"
    );
    let plan = Plan {
        seed: round,
        mech,
        counts: vec![count],
        size,
        fault,
    };
    let names = names(round);
    let outcome = round::run(&plan, &bin(), &names);
    eprintln!(
        "{plan}: landed {}, delivered {}, stopped {}",
        outcome.landed, outcome.delivered, outcome.stopped
    );
    assert!(
        outcome.ok(),
        "{plan}: leaks {:?}, hangs {:?}, failures {:?}\n{}",
        outcome.leaks,
        outcome.hangs,
        outcome.failures,
        outcome.details.join("\n")
    );
    assert!(
        leftovers(&names).is_empty(),
        "{plan}: the round left {:?}",
        leftovers(&names)
    );
}

fn signal(signal: Signal, target: Target) -> Fault {
    Fault::Signal {
        signal,
        target,
        after: Duration::from_millis(20),
    }
}

#[test]
fn a_ring_round_without_a_fault_delivers_everything() {
    clean_round(1, 8, 1024, 2000, 1000, Fault::None);
}

#[test]
fn a_ring_sender_started_first_waits_for_the_receiver() {
    let late = Fault::LateReceiver {
        after: Duration::from_millis(150),
    };
    clean_round(2, 2, 64, 500, 20, late);
}

#[test]
fn a_ring_receiver_stopped_with_sigint_or_sigterm_is_a_clean_round() {
    clean_round(
        3,
        1,
        65536,
        300,
        60_000,
        signal(Signal::SIGINT, Target::Receiver),
    );
    clean_round(
        4,
        64,
        4096,
        2000,
        4000,
        signal(Signal::SIGTERM, Target::Receiver),
    );
}

#[test]
fn a_ring_sender_stopped_with_sigint_or_sigterm_is_a_clean_round() {
    let sender = Target::Sender(0);
    clean_round(5, 1, 65536, 300, 60_000, signal(Signal::SIGINT, sender));
    clean_round(6, 2, 100, 20_000, 60, signal(Signal::SIGTERM, sender));
}

#[test]
fn a_ring_end_killed_with_sigkill_is_noticed_and_its_ring_removed() {
    clean_round(
        7,
        1,
        65536,
        300,
        60_000,
        signal(Signal::SIGKILL, Target::Receiver),
    );
    clean_round(
        8,
        8,
        4096,
        3000,
        4000,
        signal(Signal::SIGKILL, Target::Sender(0)),
    );
}

#[test]
fn a_ring_sender_stopped_and_continued_loses_nothing() {
    let stop = Fault::StopCont {
        sender: 0,
        after: Duration::from_millis(10),
        stalled: Duration::from_millis(300),
    };
    clean_round(9, 8, 1024, 5000, 900, stop);
}

/// Removes the ring `name` if a failed assertion left it (C: `shm_unlink(name)`).
struct Unlink(String);

impl Drop for Unlink {
    fn drop(&mut self) {
        if posix_shm_exists(&self.0) {
            let _ = nix::sys::mman::shm_unlink(self.0.as_str());
        }
    }
}

#[test]
fn a_ring_left_by_a_receiver_killed_after_its_sender_finished_is_found_and_removed() {
    let mech = Mech::ShmRing {
        slots: 8,
        slot_size: 1024,
    };
    let names = names(10);
    let _unlink = Unlink(names.posix.clone());
    let bin = bin();
    let (name, cmd) = mech.receiver(&bin, &names, 1).expect("a receiver command");
    let mut receiver = Proc::start(name, cmd).expect("shm-receiver starts");
    receiver
        .wait_stderr(mech.ready_line(), Duration::from_secs(10))
        .expect("the receiver's ready line");
    assert!(posix_shm_exists(&names.posix), "the ring is in /dev/shm");
    // A stopped receiver reads nothing: 3 messages and the End fit in 8 slots, so the sender
    // finishes normally, leaving them for the receiver (alive, only stopped).
    assert!(receiver.signal(Signal::SIGSTOP));
    let (name, cmd) = mech.sender(&bin, &names, 0, 3, 100);
    let mut sender = Proc::start(name, cmd).expect("shm-sender starts");
    assert!(sender.wait_until(Instant::now() + Duration::from_secs(20)));
    let sent = sender.finish();
    assert_eq!(sent.exit, Exit::Code(0), "{}", sent.stderr);
    // Now kill -9 the receiver: nobody is left to remove the ring.
    assert!(receiver.signal(Signal::SIGKILL));
    assert!(receiver.wait_until(Instant::now() + Duration::from_secs(10)));
    let _ = receiver.finish();
    assert_eq!(leftovers(&names), vec![Leftover::PosixShm]);
    assert_eq!(
        Leftover::PosixShm.describe(&names),
        format!("POSIX shared memory {}", names.posix)
    );
    assert!(remove(&names, &[Leftover::PosixShm]).is_empty());
    assert!(leftovers(&names).is_empty());
    assert!(!posix_shm_exists(&names.posix));
}
