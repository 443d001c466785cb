//! scripts/side-by-side.sh, headless: the script opens shm-receiver and shm-sender in two
//! tmux panes of a private tmux server; the test types into the sender's pane (send-keys) and
//! reads the receiver's (capture-pane). Skipped, with a note, where tmux is not installed.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ipc_testkit::tmux::{Tmux, EXITED_0};
use ipc_testkit::{assert_no_sysv_objects, unique_key, WATCHDOG};

const SENDER_EXE: &str = env!("CARGO_BIN_EXE_shm-sender");

#[test]
fn the_two_rust_ends_in_two_panes() {
    let Some(tmux) = Tmux::new("sbs-shm", SENDER_EXE) else {
        return;
    };
    let key = unique_key();
    tmux.side_by_side(&["shm", "--key", &key.to_string()]);
    tmux.wait_for(1, "Enter some text:");
    tmux.type_line(1, "one slot at a time");
    tmux.type_line(1, "end");
    let left = tmux.wait_for(0, "summary: ");
    assert!(left.contains("Memory attached at 0x"), "{left}");
    assert!(left.contains("You wrote: one slot at a time"), "{left}");
    assert!(
        left.contains("summary: received=1 lost=0 duplicated=0 reordered=0 corrupt=0"),
        "{left}"
    );
    tmux.wait_for(1, "shm-sender: sent 1 message(s) and the End");
    tmux.wait_for(0, EXITED_0);
    tmux.wait_for(1, EXITED_0);
    tmux.wait_until_removed(key);
    drop(tmux);
    assert_no_sysv_objects(key);
}

#[test]
fn closing_the_session_stops_both_ends_and_nothing_is_left() {
    let Some(tmux) = Tmux::new("sbs-shm-kill", SENDER_EXE) else {
        return;
    };
    let key = unique_key();
    tmux.side_by_side(&["shm", "--key", &key.to_string()]);
    tmux.wait_for(1, "Enter some text:");
    // Both ends are waiting (the receiver in semtimedop, the sender on the terminal): closing
    // the session hangs them up, and the receiver removes the segment and the semaphores.
    drop(tmux);
    let deadline = Instant::now() + WATCHDOG;
    while ipc_testkit::sysv_key_exists("shm", key) || ipc_testkit::sysv_key_exists("sem", key) {
        assert!(
            Instant::now() < deadline,
            "the objects of key {key} were left behind"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_no_sysv_objects(key);
}

#[test]
fn the_c_sender_beside_the_rust_receiver() {
    let has_cc = Command::new("cc")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !has_cc {
        eprintln!("skipped: no C compiler (cc) to build c/");
        return;
    }
    let Some(tmux) = Tmux::new("sbs-shm-c", SENDER_EXE) else {
        return;
    };
    let key = unique_key();
    // The script builds c/ and gives the Rust receiver --wire c, the C programs' layout.
    tmux.side_by_side(&["shm", "--c-sender", "--key", &key.to_string()]);
    tmux.wait_for(1, "Enter some text:");
    tmux.type_line(1, "from C to Rust");
    tmux.type_line(1, "end");
    let left = tmux.wait_for(0, "summary: ");
    assert!(left.contains("You wrote: from C to Rust"), "{left}");
    assert!(
        left.contains("summary: received=1 lost=0 duplicated=0 reordered=0 corrupt=0"),
        "{left}"
    );
    tmux.wait_for(0, EXITED_0);
    tmux.wait_for(1, EXITED_0);
    tmux.wait_until_removed(key);
    drop(tmux);
    assert_no_sysv_objects(key);
}
