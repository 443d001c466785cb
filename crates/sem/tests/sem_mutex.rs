//! sem-mutex as real processes: two instances never interleave inside a critical section, a
//! holder killed with kill -9 does not block the other (SEM_UNDO), the initialiser removes the
//! set once nobody waits for it, Ctrl-C stops a waiting instance cleanly, and a set of another
//! size is refused by name.

mod support;

use support::{assert_pairs, finished_lines, mutex, printed, wait_for_output};

use std::path::PathBuf;
use std::time::{Duration, Instant};

use std::process::Command;

use ipc_testkit::{
    assert_gone, assert_no_sysv_objects, run, sysv_key_exists, unique_key, unique_path, Running,
    WATCHDOG,
};
use nix::sys::signal::Signal;

struct Cleanup(PathBuf);
impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn two_instances_take_turns_and_never_interleave() {
    let key = unique_key();
    let out = unique_path("mutex");
    let _cleanup = Cleanup(out.clone());
    let timing = [
        "--rounds",
        "200",
        "--hold-ms",
        "1",
        "--pause-ms",
        "0",
        "--linger-ms",
        "500",
    ];
    let x = mutex(key, &out, &[&["--char", "X"][..], &timing[..]].concat());
    let o = mutex(key, &out, &[&["--char", "O"][..], &timing[..]].concat());
    let (x, o) = (x.finish(WATCHDOG), o.finish(WATCHDOG));
    x.assert_code(0).assert_no_panic();
    o.assert_code(0).assert_no_panic();
    assert_pairs(&printed(&out), 'X', 'O', 200);
    assert_eq!(finished_lines(&out), 2);
    // Every set that was created was removed by its initialiser (normally one set, made by the
    // first to start; two if one finished before the other began).
    let count = |what: &str| [&x, &o].iter().filter(|f| f.stderr.contains(what)).count();
    assert!(
        count("semaphore set removed") >= 1,
        "{}\n{}",
        x.stderr,
        o.stderr
    );
    assert_eq!(
        count("initialised semaphore set"),
        count("semaphore set removed"),
        "{}\n{}",
        x.stderr,
        o.stderr
    );
    assert_no_sysv_objects(key);
    drop(_cleanup);
    assert_gone(&out);
}

#[test]
fn a_holder_killed_with_kill_9_does_not_block_the_others_and_the_initialiser_removes_the_set() {
    let key = unique_key();
    let out = unique_path("mutex");
    let _cleanup = Cleanup(out.clone());
    // The initialiser enters nothing itself: it creates the set and then waits to remove it
    // until nobody has waited for the lock for a second (while it holds it).
    let mut init = mutex(
        key,
        &out,
        &[
            "--init",
            "--char",
            "I",
            "--rounds",
            "0",
            "--linger-ms",
            "1000",
        ],
    );
    init.wait_for_stderr("initialised semaphore set", WATCHDOG);
    let mut holder = mutex(
        key,
        &out,
        &["--char", "X", "--rounds", "1", "--hold-ms", "600000"],
    );
    holder.wait_for_stderr("joined semaphore set", WATCHDOG);
    wait_for_output(&out, "X"); // X is inside the critical section, for ten minutes
    let mut other = mutex(
        key,
        &out,
        &["--char", "O", "--rounds", "3", "--hold-ms", "1"],
    );
    other.wait_for_stderr("joined semaphore set", WATCHDOG);
    holder.signal(Signal::SIGKILL);
    let killed = holder.finish(WATCHDOG);
    assert_eq!(killed.code, None, "killed by a signal");
    // Without SEM_UNDO the semaphore would stay at 0 and O would wait for ever (the watchdog).
    let done = other.finish(WATCHDOG);
    done.assert_code(0).assert_no_panic();
    assert!(
        done.stderr.contains("stays for its initialiser"),
        "{}",
        done.stderr
    );
    let init = init.finish(WATCHDOG);
    init.assert_code(0).assert_no_panic();
    assert!(
        init.stderr.contains("semaphore set removed"),
        "{}",
        init.stderr
    );
    assert_eq!(printed(&out), "XOOOOOO");
    assert_no_sysv_objects(key);
}

#[test]
fn ctrl_c_while_waiting_for_the_lock_stops_within_a_second_and_cleans_up() {
    let key = unique_key();
    let out = unique_path("mutex");
    let _cleanup = Cleanup(out.clone());
    let mut holder = mutex(
        key,
        &out,
        &["--char", "X", "--rounds", "1", "--hold-ms", "600000"],
    );
    holder.wait_for_stderr("ready", WATCHDOG);
    wait_for_output(&out, "X");
    let mut waiter = mutex(key, &out, &["--char", "O", "--rounds", "1"]);
    waiter.wait_for_stderr("ready", WATCHDOG);
    let start = Instant::now();
    waiter.signal(Signal::SIGINT);
    let done = waiter.finish(WATCHDOG);
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
    done.assert_code(130).assert_no_panic();
    // The holder, stopped while inside the critical section, gives the lock back and, as the
    // last one out, removes the set.
    let start = Instant::now();
    holder.signal(Signal::SIGTERM);
    let done = holder.finish(WATCHDOG);
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
    done.assert_code(130).assert_no_panic();
    assert_eq!(printed(&out), "X");
    assert_no_sysv_objects(key);
}

#[test]
fn a_second_initialiser_is_refused_while_the_set_is_in_use() {
    let key = unique_key();
    let out = unique_path("mutex");
    let _cleanup = Cleanup(out.clone());
    let mut first = mutex(
        key,
        &out,
        &["--init", "--rounds", "1", "--hold-ms", "600000"],
    );
    first.wait_for_stderr("ready", WATCHDOG);
    wait_for_output(&out, "X");
    let mut second = Command::new(env!("CARGO_BIN_EXE_sem-mutex"));
    second.args(["--init", "--key", &key.to_string()]);
    let done = run(second, b"");
    done.assert_code(1).assert_no_panic();
    assert!(
        done.stderr.contains("another initialising copy is running"),
        "{}",
        done.stderr
    );
    first.signal(Signal::SIGINT);
    first.finish(WATCHDOG).assert_code(130).assert_no_panic();
    assert_no_sysv_objects(key);
}

#[test]
fn a_set_of_another_size_is_refused_by_name() {
    // sem-receiver's set has four semaphores; sem-mutex needs sem1.c's one.
    let key = unique_key();
    let mut receiver = Command::new(env!("CARGO_BIN_EXE_sem-receiver"));
    receiver.args(["--key", &key.to_string()]);
    let mut receiver = Running::start(receiver, None);
    receiver.wait_for_stderr("waiting for signals", WATCHDOG);
    assert!(sysv_key_exists("sem", key));
    for init in [false, true] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sem-mutex"));
        cmd.args(["--key", &key.to_string()]);
        if init {
            cmd.arg("--init");
        }
        let done = run(cmd, b"");
        done.assert_code(1).assert_no_panic();
        assert!(
            done.stderr
                .contains("semaphore(s), and this program needs a set of 1"),
            "{}",
            done.stderr
        );
        assert_eq!(done.stdout, "");
    }
    receiver.signal(Signal::SIGINT);
    receiver.finish(WATCHDOG);
    assert_no_sysv_objects(key);
}

#[test]
fn the_initialiser_waits_for_a_copy_that_pauses_outside_and_then_removes_the_set() {
    let key = unique_key();
    let out = unique_path("mutex");
    let _cleanup = Cleanup(out.clone());
    // The initialiser has nothing to do itself: it goes straight to its removal rule, holding
    // the lock, with a linger time of 1.5 s.
    let mut init = mutex(
        key,
        &out,
        &["--init", "--rounds", "0", "--linger-ms", "1500"],
    );
    init.wait_for_stderr("initialised semaphore set", WATCHDOG);
    // O pauses 0.8 s outside between rounds, as sem1 pauses up to 1 s: each pause is shorter
    // than the linger time, so the set must outlive all five rounds.
    let o = mutex(
        key,
        &out,
        &["--rounds", "5", "--hold-ms", "1", "--pause-ms", "800"],
    );
    let o = o.finish(WATCHDOG);
    o.assert_code(0).assert_no_panic();
    assert_eq!(printed(&out), "OOOOOOOOOO", "{}", o.stderr);
    let init = init.finish(WATCHDOG);
    init.assert_code(0).assert_no_panic();
    assert!(
        init.stderr.contains("semaphore set removed"),
        "{}",
        init.stderr
    );
    assert_no_sysv_objects(key);
}

#[test]
fn ctrl_c_on_the_lingering_initialiser_removes_its_set() {
    let key = unique_key();
    let out = unique_path("mutex");
    let _cleanup = Cleanup(out.clone());
    let mut init = mutex(
        key,
        &out,
        &[
            "--init",
            "--rounds",
            "1",
            "--hold-ms",
            "1",
            "--linger-ms",
            "600000",
        ],
    );
    init.wait_for_stderr("removing the semaphore set once", WATCHDOG);
    assert!(sysv_key_exists("sem", key));
    init.signal(Signal::SIGINT);
    init.finish(Duration::from_secs(5))
        .assert_code(130)
        .assert_no_panic();
    assert_eq!(printed(&out), "XX");
    assert_no_sysv_objects(key);
}
