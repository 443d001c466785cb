//! scripts/side-by-side.sh, headless: the script opens msgq-receiver and msgq-sender in two
//! tmux panes of a private tmux server; the test types into the sender's pane (send-keys) and
//! reads the receiver's (capture-pane), as a student would look at them. Skipped, with a note,
//! where tmux is not installed.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ipc_testkit::{assert_no_sysv_objects, run, unique_key, unique_path, WATCHDOG};

const SENDER_EXE: &str = env!("CARGO_BIN_EXE_msgq-sender");

/// The line the script prints in a pane after its program exited with status 0.
const EXITED_0: &str = "[exited with status 0:";

/// A private tmux server (its own socket under /tmp) for one test: killed, and its socket
/// removed, when dropped, so that nothing of the test outlives it.
struct Tmux {
    socket: PathBuf,
    session: String,
}

impl Tmux {
    /// `None` (and a note on stderr) when tmux is not installed: the test is then skipped.
    fn new(tag: &str) -> Option<Tmux> {
        let installed = Command::new("tmux")
            .arg("-V")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if !installed {
            eprintln!("skipped: tmux is not installed");
            return None;
        }
        let socket = unique_path(tag);
        let session = socket
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .expect("a file name");
        Some(Tmux { socket, session })
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new("tmux");
        cmd.arg("-S").arg(&self.socket).stdin(Stdio::null());
        cmd
    }

    /// Runs `scripts/side-by-side.sh ARGS --session S --socket PATH --detach` with the
    /// binaries of this test build; it returns once the left pane's program is ready.
    fn side_by_side(&self, args: &[&str]) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/side-by-side.sh");
        let bin = Path::new(SENDER_EXE)
            .parent()
            .expect("the binaries' directory");
        let mut cmd = Command::new("bash");
        cmd.arg(script)
            .args(args)
            .arg("--session")
            .arg(&self.session)
            .arg("--socket")
            .arg(&self.socket)
            .arg("--detach")
            .env("IPC_BIN", bin);
        let out = run(cmd, b"");
        out.assert_code(0).assert_no_panic();
        assert!(out.stdout.contains("is ready"), "{}", out.stdout);
    }

    fn target(&self, pane: u32) -> String {
        format!("{}:0.{pane}", self.session)
    }

    /// Types `text` and Enter in `pane`, as a student would (`-l`: literally, so that a word
    /// such as `end` is not taken for the End key).
    fn type_line(&self, pane: u32, text: &str) {
        for keys in [&["-l", text][..], &["Enter"][..]] {
            let status = self
                .command()
                .args(["send-keys", "-t", &self.target(pane)])
                .args(keys)
                .status()
                .expect("tmux send-keys");
            assert!(status.success(), "tmux send-keys {keys:?}");
        }
    }

    /// Everything `pane` shows, wrapped lines joined.
    fn screen(&self, pane: u32) -> String {
        let out = self
            .command()
            .args([
                "capture-pane",
                "-p",
                "-J",
                "-S",
                "-",
                "-t",
                &self.target(pane),
            ])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until `pane` shows `needle`; returns the screen.
    #[track_caller]
    fn wait_for(&self, pane: u32, needle: &str) -> String {
        let deadline = Instant::now() + WATCHDOG;
        loop {
            let screen = self.screen(pane);
            if screen.contains(needle) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "pane {pane} never showed {needle:?}; it shows:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until every System V object of `key` is gone: the receiver removes them as it
    /// exits. (The exit status itself is not read from tmux: a pane's last lines and its
    /// child's exit are reported racily by some tmux versions.)
    #[track_caller]
    fn wait_until_removed(&self, key: i32) {
        let deadline = Instant::now() + WATCHDOG;
        while ["msg", "sem", "shm"]
            .iter()
            .any(|kind| ipc_testkit::sysv_key_exists(kind, key))
        {
            assert!(
                Instant::now() < deadline,
                "the objects of key {key} are still there; the panes show:\n{}\n---\n{}",
                self.screen(0),
                self.screen(1)
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        // SIGHUP to whatever still runs in the panes: each program removes what it owns.
        let _ = self
            .command()
            .arg("kill-server")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_file(&self.socket);
    }
}

#[test]
fn the_two_rust_ends_in_two_panes() {
    let Some(tmux) = Tmux::new("sbs-msgq") else {
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
    let Some(tmux) = Tmux::new("sbs-msgq-c") else {
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
