//! sem-mutex as real processes: two instances never interleave inside a critical section, a
//! holder killed with kill -9 does not block the other (SEM_UNDO), the last one out removes
//! the set, and Ctrl-C stops a waiting instance cleanly.

mod support;

use support::{mutex, printed, wait_for_output};

use std::path::PathBuf;
use std::time::{Duration, Instant};

use ipc_testkit::{assert_gone, assert_no_sysv_objects, unique_key, unique_path, WATCHDOG};
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
    let timing = ["--rounds", "200", "--hold-ms", "1", "--pause-ms", "0"];
    let x = mutex(key, &out, &[&["--char", "X"][..], &timing[..]].concat());
    let o = mutex(key, &out, &[&["--char", "O"][..], &timing[..]].concat());
    let (x, o) = (x.finish(WATCHDOG), o.finish(WATCHDOG));
    x.assert_code(0).assert_no_panic();
    o.assert_code(0).assert_no_panic();
    let text = printed(&out);
    assert_eq!(text.matches('X').count(), 400, "{text}");
    assert_eq!(text.matches('O').count(), 400, "{text}");
    let chars: Vec<char> = text.chars().collect();
    for (i, pair) in chars.chunks(2).enumerate() {
        assert_eq!(pair[0], pair[1], "pair {i} interleaves: {text}");
    }
    // Every set that was created was removed by its last user (normally one set, made by the
    // first to start and removed by the last out; two if one finished before the other began).
    let count = |what: &str| [&x, &o].iter().filter(|f| f.stderr.contains(what)).count();
    assert!(
        count("semaphore set removed") >= 1,
        "{}\n{}",
        x.stderr,
        o.stderr
    );
    assert_eq!(
        count("created semaphore set"),
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
fn a_holder_killed_with_kill_9_does_not_block_the_other() {
    let key = unique_key();
    let out = unique_path("mutex");
    let _cleanup = Cleanup(out.clone());
    let mut holder = mutex(
        key,
        &out,
        &["--char", "X", "--rounds", "1", "--hold-ms", "600000"],
    );
    holder.wait_for_stderr("ready", WATCHDOG);
    wait_for_output(&out, "X"); // X is inside the critical section, for ten minutes
    let mut other = mutex(
        key,
        &out,
        &["--char", "O", "--rounds", "3", "--hold-ms", "1"],
    );
    other.wait_for_stderr("ready", WATCHDOG);
    holder.signal(Signal::SIGKILL);
    let killed = holder.finish(WATCHDOG);
    assert_eq!(killed.code, None, "killed by a signal");
    // Without SEM_UNDO the semaphore would stay at 0 and O would wait for ever (the watchdog).
    let done = other.finish(WATCHDOG);
    done.assert_code(0).assert_no_panic();
    assert!(
        done.stderr.contains("semaphore set removed"),
        "{}",
        done.stderr
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
