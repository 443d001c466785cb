//! Paths in /tmp: the FIFO path swapped *between the check and the open* is refused.
//!
//! crates/fifo/tests/paths.rs shows each check on a path that is already wrong (a symlink, a
//! regular file, a world-writable FIFO, another user's FIFO). Here the path is good when the
//! program checks it and is swapped afterwards, which is the real attack on a shared /tmp.
//! The race is made deterministic: fifo-sender checks the FIFO it made, finds no receiver and
//! says `waiting for a receiver to open PATH`; it then retries `open` every few milliseconds.
//! We swap the path at that moment (rename over it, atomically), and when the thing swapped in
//! is a FIFO we hold its read end open, so the sender's next `open` succeeds and only the
//! checks on the descriptor (O_NOFOLLOW, then fstat) stand in the way.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use ipc_testkit::{assert_gone, unique_path, Finished, Running, WATCHDOG};

fn sender(path: &Path) -> Running {
    let bin = ipc_soak::bin_dir().join("fifo-sender");
    assert!(
        bin.is_file(),
        "{} is missing: cargo build --workspace --bins",
        bin.display()
    );
    let mut cmd = Command::new(bin);
    cmd.arg("--path")
        .arg(path)
        .args(["--message", "for the receiver only"])
        .stdin(Stdio::null());
    Running::start(cmd, None)
}

/// Removes every path it holds when dropped (the test's own files).
struct Cleanup(Vec<PathBuf>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for path in &self.0 {
            let _ = std::fs::remove_file(path);
        }
    }
}

fn mkfifo(path: &Path, mode: u32) {
    nix::unistd::mkfifo(path, nix::sys::stat::Mode::from_bits_truncate(mode)).expect("mkfifo");
    // mkfifo applies the umask: set the exact mode.
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// Holds a FIFO's read end open, so that a writer's non-blocking open succeeds.
fn reader(path: &Path) -> File {
    OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK)
        .open(path)
        .expect("open the swapped-in FIFO for reading")
}

/// Starts fifo-sender on a fresh path, waits until it has checked its FIFO and waits for a
/// receiver, then renames `swap_in` over the path.
fn swap_while_waiting(path: &Path, swap_in: &Path) -> Running {
    let mut tx = sender(path);
    tx.wait_for_stderr("waiting for a receiver to open", WATCHDOG);
    std::fs::rename(swap_in, path).expect("rename over the sender's FIFO");
    tx
}

#[track_caller]
fn assert_refused(done: &Finished, why: &str) {
    done.assert_code(1).assert_no_panic();
    assert!(
        done.stderr.contains("fifo-sender: error: ") && done.stderr.contains(why),
        "expected an error containing {why:?}:\n{}",
        done.stderr
    );
}

#[test]
fn a_symlink_swapped_in_after_the_check_is_not_followed() {
    let path = unique_path("swap-link");
    let target = unique_path("swap-link-target");
    let link = unique_path("swap-link-new");
    let _cleanup = Cleanup(vec![path.clone(), target.clone(), link.clone()]);
    mkfifo(&target, 0o600); // a perfectly good FIFO of ours, but reached through a link
    let _held = reader(&target);
    std::os::unix::fs::symlink(&target, &link).expect("symlink");
    let tx = swap_while_waiting(&path, &link);
    assert_refused(&tx.finish(WATCHDOG), "symbolic link");
    assert!(std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()));
}

#[test]
fn a_regular_file_swapped_in_after_the_check_is_not_written() {
    let path = unique_path("swap-file");
    let file = unique_path("swap-file-new");
    let _cleanup = Cleanup(vec![path.clone(), file.clone()]);
    std::fs::write(&file, b"precious\n").expect("write the file");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let tx = swap_while_waiting(&path, &file);
    assert_refused(&tx.finish(WATCHDOG), "regular file");
    assert_eq!(
        std::fs::read(&path).expect("read it back"),
        b"precious\n",
        "left untouched"
    );
}

#[test]
fn a_world_writable_fifo_swapped_in_after_the_check_is_refused() {
    let path = unique_path("swap-open");
    let other = unique_path("swap-open-new");
    let _cleanup = Cleanup(vec![path.clone(), other.clone()]);
    mkfifo(&other, 0o666);
    let held = reader(&other);
    let tx = swap_while_waiting(&path, &other);
    assert_refused(&tx.finish(WATCHDOG), "0666");
    drop(held);
}

#[test]
fn another_users_fifo_swapped_in_after_the_check_is_refused() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("note: another_users_fifo_swapped_in_after_the_check_is_refused skipped: not root (cannot chown)");
        return;
    }
    let path = unique_path("swap-user");
    let other = unique_path("swap-user-new");
    let _cleanup = Cleanup(vec![path.clone(), other.clone()]);
    mkfifo(&other, 0o600);
    let nobody = Some(nix::unistd::Uid::from_raw(65534));
    nix::unistd::chown(&other, nobody, None).expect("chown to nobody");
    let held = reader(&other);
    let tx = swap_while_waiting(&path, &other);
    assert_refused(&tx.finish(WATCHDOG), "65534");
    drop(held);
    std::fs::remove_file(&path).expect("remove the swapped-in FIFO");
    assert_gone(&path);
}

#[test]
fn socket_server_refuses_a_symlink_at_its_path_and_leaves_the_target_alone() {
    // bind(2) never follows a symbolic link: the server must refuse, not remove, the link,
    // and the file it points to must be left as it was.
    let path = unique_path("sock-link");
    let target = unique_path("sock-link-target");
    let _cleanup = Cleanup(vec![path.clone(), target.clone()]);
    std::fs::write(&target, b"precious\n").expect("write the target");
    std::os::unix::fs::symlink(&target, &path).expect("symlink");
    let bin = ipc_soak::bin_dir().join("socket-server");
    assert!(
        bin.is_file(),
        "{} is missing: cargo build --workspace --bins",
        bin.display()
    );
    let mut cmd = Command::new(bin);
    cmd.arg("--unix").arg(&path).stdin(Stdio::null());
    let done = Running::start(cmd, None).finish(WATCHDOG);
    done.assert_no_panic();
    assert_ne!(done.code, Some(0), "{}", done.stderr);
    assert!(
        done.stderr.contains("socket-server: error: "),
        "{}",
        done.stderr
    );
    assert!(std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()));
    assert_eq!(std::fs::read(&target).expect("read it back"), b"precious\n");
}
