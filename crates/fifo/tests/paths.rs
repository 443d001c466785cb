//! What the programs do with whatever is already at the FIFO's path: a regular file, a
//! directory, a symbolic link, a FIFO that is too open or belongs to another user. Each is
//! refused with an error naming what was found, and left exactly as it was.

use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use ipc_testkit::{assert_gone, unique_path, Finished, Running, WATCHDOG};

const PROGRAMS: [&str; 2] = [
    env!("CARGO_BIN_EXE_fifo-receiver"),
    env!("CARGO_BIN_EXE_fifo-sender"),
];

fn run(program: &str, path: &Path, extra: &[&str]) -> Finished {
    let mut cmd = Command::new(program);
    cmd.arg("--path").arg(path).args(extra).stdin(Stdio::null());
    // A sender that wrongly got past the check would wait for a receiver: bound it.
    if program.ends_with("fifo-sender") {
        cmd.args(["--timeout", "5", "--message", "x"]);
    }
    Running::start(cmd, None).finish(WATCHDOG)
}

/// Removes a test path (file, FIFO, link or empty directory) when the test ends, even if it fails.
struct Cleanup(Vec<PathBuf>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for path in &self.0 {
            let _ = std::fs::remove_file(path).or_else(|_| std::fs::remove_dir(path));
        }
    }
}

/// C: mkfifo(path, mode) with the exact mode (the test's umask does not matter).
fn make_fifo(path: &Path, mode: u32) {
    nix::unistd::mkfifo(
        path,
        nix::sys::stat::Mode::S_IRUSR | nix::sys::stat::Mode::S_IWUSR,
    )
    .expect("mkfifo");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

#[track_caller]
fn assert_refused(done: &Finished, program: &str, path: &Path, found: &str) {
    done.assert_code(1).assert_no_panic();
    let name = Path::new(program)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(program);
    let expected = format!("{name}: error: checking {}: {found}", path.display());
    assert!(
        done.stderr.contains(&expected),
        "expected {expected:?} in:\n{}",
        done.stderr
    );
    assert!(
        done.stderr.contains("hint: "),
        "no hint in:\n{}",
        done.stderr
    );
    assert!(!done.stderr.contains("Fifo Created") && !done.stderr.contains("Permissions Are OK"));
}

#[test]
fn a_regular_file_is_refused_and_left_as_it_was() {
    let path = unique_path("fifo-file");
    let _cleanup = Cleanup(vec![path.clone()]);
    std::fs::write(&path, b"precious data\n").expect("write a file");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    let before = std::fs::metadata(&path).expect("stat");
    for program in PROGRAMS {
        let done = run(program, &path, &[]);
        assert_refused(
            &done,
            program,
            &path,
            "it is a regular file, not a FIFO; left it untouched",
        );
    }
    let after = std::fs::metadata(&path).expect("the file is still there");
    assert_eq!(std::fs::read(&path).expect("read"), b"precious data\n");
    assert_eq!(
        (after.ino(), after.mode(), after.len()),
        (before.ino(), before.mode(), before.len())
    );
}

#[test]
fn a_directory_is_refused_and_left_as_it_was() {
    let path = unique_path("fifo-dir");
    let _cleanup = Cleanup(vec![path.clone()]);
    std::fs::create_dir(&path).expect("mkdir");
    for program in PROGRAMS {
        let done = run(program, &path, &[]);
        assert_refused(&done, program, &path, "it is a directory, not a FIFO");
    }
    assert!(std::fs::metadata(&path).expect("still there").is_dir());
    assert_eq!(
        std::fs::read_dir(&path).expect("read_dir").count(),
        0,
        "nothing was created inside"
    );
}

#[test]
fn a_symlink_is_refused_even_to_a_good_fifo_and_is_not_followed() {
    let target = unique_path("fifo-target");
    let dangling = unique_path("fifo-nowhere");
    let link = unique_path("fifo-link");
    let link2 = unique_path("fifo-link2");
    let _cleanup = Cleanup(vec![
        link.clone(),
        link2.clone(),
        target.clone(),
        dangling.clone(),
    ]);
    make_fifo(&target, 0o600);
    std::os::unix::fs::symlink(&target, &link).expect("symlink to a FIFO");
    std::os::unix::fs::symlink(&dangling, &link2).expect("dangling symlink");
    for program in PROGRAMS {
        let done = run(program, &link, &[]);
        let found = format!("it is a symbolic link to {}, not a FIFO", target.display());
        assert_refused(&done, program, &link, &found);
        let done = run(program, &link2, &[]);
        assert_refused(&done, program, &link2, "it is a symbolic link to");
    }
    assert_eq!(std::fs::read_link(&link).expect("still a link"), target);
    assert_eq!(std::fs::read_link(&link2).expect("still a link"), dangling);
    assert!(std::fs::symlink_metadata(&target)
        .expect("target kept")
        .file_type()
        .is_fifo());
    assert_gone(&dangling); // the link was not followed to create its target
}

#[test]
fn a_world_writable_fifo_is_refused_unless_mode_0666_asks_for_it() {
    let path = unique_path("fifo-0666");
    let _cleanup = Cleanup(vec![path.clone()]);
    make_fifo(&path, 0o666);
    for program in PROGRAMS {
        let done = run(program, &path, &[]);
        assert_refused(
            &done,
            program,
            &path,
            "its mode 0666 lets other users write into it",
        );
        assert!(done.stderr.contains("--mode 0666"), "{}", done.stderr);
    }
    // A FIFO that others may only read is refused too: they could take our messages.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let done = run(PROGRAMS[0], &path, &[]);
    assert_refused(
        &done,
        PROGRAMS[0],
        &path,
        "its mode 0644 lets other users read from it",
    );
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).expect("chmod");
    exchange_through(&path, &["--mode", "0666"]);
    // Neither program created it, so neither removed it, nor changed its mode.
    let meta = std::fs::symlink_metadata(&path).expect("still there");
    assert!(meta.file_type().is_fifo());
    assert_eq!(meta.mode() & 0o777, 0o666);
}

#[test]
fn a_fifo_of_another_user_is_refused_unless_mode_0666_asks_for_it() {
    if !nix::unistd::geteuid().is_root() {
        // Only root can give a file to another user; the mode rule is tested above.
        eprintln!("skipped: needs root to chown a FIFO to another user");
        return;
    }
    let path = unique_path("fifo-other");
    let _cleanup = Cleanup(vec![path.clone()]);
    make_fifo(&path, 0o666);
    std::os::unix::fs::chown(&path, Some(65534), Some(65534)).expect("chown to nobody");
    for program in PROGRAMS {
        let done = run(program, &path, &[]);
        assert_refused(
            &done,
            program,
            &path,
            "the FIFO is owned by uid 65534, not by you (uid 0)",
        );
    }
    // --mode 0666 opts into sharing the tutorial's world-open FIFO, whoever made it.
    exchange_through(&path, &["--mode", "0666"]);
    assert_eq!(
        std::fs::symlink_metadata(&path).expect("still there").uid(),
        65534
    );
}

/// One message through the FIFO at `path` (made by the test), both programs given `extra`.
fn exchange_through(path: &Path, extra: &[&str]) {
    let mut cmd = Command::new(PROGRAMS[0]);
    cmd.arg("--path").arg(path).args(extra).stdin(Stdio::null());
    let mut rx = Running::start(cmd, None);
    rx.wait_for_stderr("waiting for a sender", WATCHDOG);
    let mut cmd = Command::new(PROGRAMS[1]);
    cmd.arg("--path")
        .arg(path)
        .args(extra)
        .args(["--message", "shared"])
        .stdin(Stdio::null());
    let tx = Running::start(cmd, None).finish(WATCHDOG);
    tx.assert_code(0);
    assert!(
        tx.stderr.contains("File Permissions Are OK"),
        "{}",
        tx.stderr
    );
    assert!(tx.stderr.contains("warning: mode 0666"), "{}", tx.stderr);
    let rx = rx.finish(WATCHDOG);
    rx.assert_code(0);
    assert!(
        rx.stderr.contains("File Permissions Are OK"),
        "{}",
        rx.stderr
    );
    assert_eq!(
        rx.lines(),
        [
            "Data From Named Pipe Is: shared",
            "summary: received=1 lost=0 duplicated=0 reordered=0 corrupt=0"
        ]
    );
}

#[test]
fn a_fifo_made_with_mode_0666_gets_exactly_that_mode() {
    let path = unique_path("fifo-mk0666");
    let mut cmd = Command::new(PROGRAMS[0]);
    cmd.arg("--path")
        .arg(&path)
        .args(["--mode", "0666"])
        .stdin(Stdio::null());
    let mut rx = Running::start(cmd, None);
    rx.wait_for_stderr("waiting for a sender", WATCHDOG);
    let meta = std::fs::symlink_metadata(&path).expect("created");
    assert_eq!(
        meta.mode() & 0o777,
        0o666,
        "mkfifo's mode is not cut down by the umask"
    );
    rx.signal(nix::sys::signal::Signal::SIGINT);
    rx.finish(WATCHDOG).assert_code(130);
    assert_gone(&path);
    // The default is private.
    let mut cmd = Command::new(PROGRAMS[0]);
    cmd.arg("--path").arg(&path).stdin(Stdio::null());
    let mut rx = Running::start(cmd, None);
    rx.wait_for_stderr("waiting for a sender", WATCHDOG);
    assert_eq!(
        std::fs::symlink_metadata(&path).expect("created").mode() & 0o777,
        0o600
    );
    rx.signal(nix::sys::signal::Signal::SIGINT);
    rx.finish(WATCHDOG).assert_code(130);
    assert_gone(&path);
}
