//! scripts/side-by-side.sh socket with a C end, headless: the script opens the C server beside
//! socket-client (`--c-receiver`), or socket-server beside the C client (`--c-sender`), in two
//! tmux panes of a private tmux server, giving the Rust end `--wire c`; the test types into the
//! right pane (send-keys) and reads the left one (capture-pane). Skipped, with a note, where
//! tmux or a C compiler is missing.

mod support;

use std::process::{Command, Stdio};

use ipc_testkit::tmux::{Tmux, EXITED_0};
use support::free_tcp_port;

const CLIENT_EXE: &str = env!("CARGO_BIN_EXE_socket-client");

fn has_cc() -> bool {
    let found = Command::new("cc")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !found {
        eprintln!("skipped: no C compiler (cc) to build c/");
    }
    found
}

#[test]
fn the_c_server_beside_the_rust_client() {
    if !has_cc() {
        return;
    }
    let Some(tmux) = Tmux::new("sbs-sock-c", CLIENT_EXE) else {
        return;
    };
    let port = free_tcp_port().to_string();
    tmux.side_by_side(&["socket", "--c-receiver", "--port", &port]);
    tmux.wait_for(1, "Enter some text:");
    tmux.type_line(1, "from Rust to C");
    tmux.type_line(1, "end");
    let left = tmux.wait_for(0, "You wrote: end");
    assert!(left.contains("You wrote: from Rust to C"), "{left}");
    tmux.wait_for(1, "socket-client: sent 1 line(s) and end");
    tmux.wait_for(0, EXITED_0);
    tmux.wait_for(1, EXITED_0);
}

#[test]
fn the_rust_server_beside_the_c_client() {
    if !has_cc() {
        return;
    }
    let Some(tmux) = Tmux::new("sbs-sock-cs", CLIENT_EXE) else {
        return;
    };
    let port = free_tcp_port().to_string();
    tmux.side_by_side(&["socket", "--c-sender", "--port", &port]);
    tmux.wait_for(1, "Enter some text:");
    tmux.type_line(1, "from C to Rust");
    tmux.type_line(1, "end");
    let left = tmux.wait_for(0, "summary: received=1 lost=0");
    assert!(left.contains("] You wrote: from C to Rust"), "{left}");
    // Like c/server.c, the Rust server stops after its client.
    tmux.wait_for(0, EXITED_0);
    tmux.wait_for(1, EXITED_0);
}
