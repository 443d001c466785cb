//! scripts/side-by-side.sh, headless: the script opens msgq-receiver and msgq-sender in two
//! tmux panes of a private tmux server; the test types into the sender's pane (send-keys) and
//! reads the receiver's (capture-pane), as a student would look at them. Skipped, with a note,
//! where tmux is not installed.

use std::process::{Command, Stdio};

use ipc_testkit::tmux::{Tmux, EXITED_0};
use ipc_testkit::{assert_no_sysv_objects, unique_key};

const SENDER_EXE: &str = env!("CARGO_BIN_EXE_msgq-sender");

#[test]
fn the_two_rust_ends_in_two_panes() {
    let Some(tmux) = Tmux::new("sbs-msgq", SENDER_EXE) else {
        return;
    };
    let key = unique_key();
    tmux.side_by_side(&["msgq", "--key", &key.to_string()]);
    tmux.wait_for(1, "Enter some text:");
    tmux.type_line(1, "hello from the right pane");
    tmux.type_line(1, "end");
    let left = tmux.wait_for(0, "summary: ");
    assert!(
        left.contains("You wrote: hello from the right pane"),
        "{left}"
    );
    assert!(
        left.contains("summary: received=1 lost=0 duplicated=0 reordered=0 corrupt=0"),
        "{left}"
    );
    tmux.wait_for(1, "msgq-sender: sent 1 message and End");
    tmux.wait_for(0, EXITED_0);
    tmux.wait_for(1, EXITED_0);
    tmux.wait_until_removed(key);
    drop(tmux);
    assert_no_sysv_objects(key);
}

#[test]
fn the_c_receiver_beside_the_rust_sender() {
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
    let Some(tmux) = Tmux::new("sbs-msgq-c", SENDER_EXE) else {
        return;
    };
    let key = unique_key();
    // The script builds c/ and gives the Rust sender --wire c, the C programs' layout.
    tmux.side_by_side(&["msgq", "--c-receiver", "--key", &key.to_string()]);
    tmux.wait_for(1, "Enter some text:");
    tmux.type_line(1, "from Rust to C");
    tmux.type_line(1, "end");
    let left = tmux.wait_for(0, "You wrote: end");
    assert!(left.contains("You wrote: from Rust to C"), "{left}");
    tmux.wait_for(1, "msgq-sender: sent 1 message and End");
    tmux.wait_for(0, EXITED_0);
    tmux.wait_for(1, EXITED_0);
    tmux.wait_until_removed(key);
    drop(tmux);
    assert_no_sysv_objects(key);
}
