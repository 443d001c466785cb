//! A private tmux server for a test of `scripts/side-by-side.sh`: start the script headless,
//! type into a pane (send-keys), read a pane (capture-pane). Killed, with its socket removed,
//! when dropped, so that nothing of the test outlives it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{run, sysv_key_exists, unique_path, WATCHDOG};

/// The line the script prints in a pane after its program exited with status 0.
pub const EXITED_0: &str = "[exited with status 0:";

/// A private tmux server (its own socket under /tmp) for one test: killed, and its socket
/// removed, when dropped, so that nothing of the test outlives it.
#[derive(Debug)]
pub struct Tmux {
    socket: PathBuf,
    session: String,
    bin_dir: PathBuf,
}

impl Tmux {
    /// `None` (and a note on stderr) when tmux is not installed: the test is then skipped.
    /// The script runs the programs found beside `any_binary` (e.g. the test's
    /// `env!("CARGO_BIN_EXE_msgq-sender")`).
    pub fn new(tag: &str, any_binary: &str) -> Option<Tmux> {
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
        let bin_dir = Path::new(any_binary)
            .parent()
            .expect("the binaries' directory")
            .to_path_buf();
        Some(Tmux {
            socket,
            session,
            bin_dir,
        })
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new("tmux");
        cmd.arg("-S").arg(&self.socket).stdin(Stdio::null());
        cmd
    }

    /// Runs `scripts/side-by-side.sh ARGS --session S --socket PATH --detach` with the
    /// binaries of this test build; it returns once the left pane's program is ready.
    pub fn side_by_side(&self, args: &[&str]) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/side-by-side.sh");
        let mut cmd = Command::new("bash");
        cmd.arg(script)
            .args(args)
            .arg("--session")
            .arg(&self.session)
            .arg("--socket")
            .arg(&self.socket)
            .arg("--detach")
            .env("IPC_BIN", &self.bin_dir);
        let out = run(cmd, b"");
        out.assert_code(0).assert_no_panic();
        assert!(out.stdout.contains("is ready"), "{}", out.stdout);
    }

    fn target(&self, pane: u32) -> String {
        format!("{}:0.{pane}", self.session)
    }

    /// Types `text` and Enter in `pane`, as a student would (`-l`: literally, so that a word
    /// such as `end` is not taken for the End key).
    pub fn type_line(&self, pane: u32, text: &str) {
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
    pub fn screen(&self, pane: u32) -> String {
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
    pub fn wait_for(&self, pane: u32, needle: &str) -> String {
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
    pub fn wait_until_removed(&self, key: i32) {
        let deadline = Instant::now() + WATCHDOG;
        while ["msg", "sem", "shm"]
            .iter()
            .any(|kind| sysv_key_exists(kind, key))
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
