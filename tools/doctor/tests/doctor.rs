//! ipc-doctor as a user runs it: real objects made by real (C tutorial) processes, some killed,
//! some alive, some with keys that are not ours; the report and `--clean` checked from outside.
//! Each test names its own objects with --key/--path/--name, so `--clean` never touches what
//! other tests (or other people) are using at the same time.

use std::fs::{self, File};
use std::io::Write;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use ipc_common::sysvipc::{self, Counts, Kind};
use ipc_testkit::{
    assert_gone, assert_no_sysv_objects, run, sysv_key_exists, unique_key, unique_path, Finished,
    Running, WATCHDOG,
};
use nix::fcntl::OFlag;
use nix::sys::signal::Signal;
use nix::sys::stat::Mode;

const READY: Duration = Duration::from_secs(20);

fn doctor(args: &[&str]) -> Finished {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ipc-doctor"));
    cmd.args(args);
    let out = run(cmd, b"");
    out.assert_no_panic();
    out
}

/// The tutorial's C programs (c/), built once per test run.
fn c_program(name: &str) -> Command {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    let c_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../c");
    let built = BUILT.get_or_init(|| {
        let out = Command::new("make")
            .arg("-s")
            .arg("-C")
            .arg(&c_dir)
            .stdin(Stdio::null())
            .output()
            .map_err(|err| format!("cannot run make: {err}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    });
    if let Err(why) = built {
        panic!("make -C c failed:\n{why}");
    }
    Command::new(c_dir.join("build").join(name))
}

fn hex(key: i32) -> String {
    format!("0x{:08x}", key as u32)
}

/// The report's two lines for the object whose line contains `needle`.
#[track_caller]
fn entry(out: &Finished, needle: &str) -> String {
    let lines = out.lines();
    let at = lines
        .iter()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no {needle:?} in the report:\n{}", out.stdout));
    format!("{}\n{}", lines[at], lines.get(at + 1).unwrap_or(&""))
}

/// Messages waiting in the queue with `key` (None: no such queue).
fn queue_messages(key: i32) -> Option<u64> {
    match sysvipc::find(Kind::Queue, key)?.counts {
        Counts::Queue { qnum, .. } => Some(qnum),
        _ => None,
    }
}

/// Polls what the kernel shows until `done` (the state itself, not a guessed delay).
#[track_caller]
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + READY;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Removes a test's System V objects with `ipcrm` if the test fails half-way (keys outside the
/// test range are invisible to scripts/check-leaks.sh, so they must never leak).
struct RemoveOnDrop(Vec<i32>);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        for &key in &self.0 {
            for (kind, flag) in [("msg", "-Q"), ("sem", "-S"), ("shm", "-M")] {
                if sysv_key_exists(kind, key) {
                    let _ = Command::new("ipcrm").args([flag, &hex(key)]).status();
                }
            }
        }
    }
}

/// msgq_sender with `lines` already typed and its input still open: it has sent them and waits
/// for more, alive. Dropping the returned write end types end-of-input.
fn sender_holding_queue(key: i32, lines: &[u8], messages: u64) -> (Running, OwnedFd) {
    // Close-on-exec, so no child (the sender included) inherits the write end and keeps the
    // pipe open after we drop ours.
    let (read_end, write_end) = nix::unistd::pipe2(OFlag::O_CLOEXEC).expect("pipe");
    let mut input = File::from(write_end);
    input.write_all(lines).expect("type the lines");
    let mut cmd = c_program("msgq_sender");
    cmd.args(["-k", &hex(key)]).stdin(Stdio::from(read_end));
    let sender = Running::start(cmd, None);
    wait_until("the sender has sent its messages", || {
        queue_messages(key) == Some(messages)
    });
    (sender, OwnedFd::from(input))
}

#[test]
fn the_limits_are_the_values_in_proc() {
    let out = doctor(&[]);
    out.assert_code(0);
    let value_of = |name: &str| -> String {
        let line = out
            .lines()
            .into_iter()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no {name} line in:\n{}", out.stdout));
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert!(fields.len() > 3, "{name} has no explanation: {line}");
        fields[1].to_string()
    };
    let read = |path: &str| fs::read_to_string(path).expect(path).trim().to_string();
    for name in ["msgmax", "msgmnb", "msgmni", "shmmax", "shmall", "shmmni"] {
        assert_eq!(
            value_of(name),
            read(&format!("/proc/sys/kernel/{name}")),
            "{name}"
        );
    }
    let sem = read("/proc/sys/kernel/sem");
    let sem: Vec<&str> = sem.split_whitespace().collect();
    for (i, name) in ["SEMMSL", "SEMMNS", "SEMOPM", "SEMMNI"]
        .into_iter()
        .enumerate()
    {
        assert_eq!(value_of(name), sem[i], "{name}");
    }
    assert_eq!(value_of("PIPE_BUF"), "4096");
    assert_eq!(
        value_of("pipe-max-size"),
        read("/proc/sys/fs/pipe-max-size")
    );
    for name in ["msg_max", "msgsize_max", "queues_max"] {
        let path = format!("/proc/sys/fs/mqueue/{name}");
        if Path::new(&path).exists() {
            assert_eq!(value_of(name), read(&path), "{name}");
        }
    }
}

#[test]
fn clean_removes_the_orphaned_queue_of_a_killed_sender_and_nothing_else() {
    let dead_key = unique_key();
    let live_key = unique_key();
    // Not one of ours: same low bits, 0x4 instead of 0x5 on top.
    let other_key = (unique_key() & 0x0fff_ffff) | 0x4000_0000;
    let _cleanup = RemoveOnDrop(vec![dead_key, live_key, other_key]);

    let (killed, _input) = sender_holding_queue(dead_key, b"one\ntwo\n", 2);
    killed.signal(Signal::SIGKILL);
    let _ = killed.finish(WATCHDOG); // reaped: its pid is gone
    let (live, live_input) = sender_holding_queue(live_key, b"still typing\n", 1);
    let mut other = c_program("msgq_sender");
    other.args(["-k", &hex(other_key)]);
    run(other, b"x\n").assert_code(0);
    assert_eq!(queue_messages(other_key), Some(2));

    let keys = [
        "--key",
        &hex(dead_key),
        "--key",
        &hex(live_key),
        "--key",
        &hex(other_key),
    ];
    let report = doctor(&keys);
    report.assert_code(0);
    let dead = entry(&report, &hex(dead_key));
    assert!(
        dead.contains("2 message(s)") && dead.contains("(dead)"),
        "{dead}"
    );
    assert!(
        dead.contains("status: orphaned") && dead.contains("--clean removes it"),
        "{dead}"
    );
    let alive = entry(&report, &hex(live_key));
    let live_pid = live.pid().as_raw();
    assert!(
        alive.contains(&format!("last msgsnd pid {live_pid} is alive")),
        "{alive}"
    );
    assert!(alive.contains("--clean keeps it"), "{alive}");
    let foreign = entry(&report, &hex(other_key));
    assert!(foreign.contains("status: orphaned"), "{foreign}");
    assert!(
        foreign.contains("--clean keeps it: key is neither 1234 nor a test key"),
        "{foreign}"
    );
    assert!(
        !report.stdout.contains("== Clean =="),
        "no --clean, no removal"
    );
    assert_eq!(
        queue_messages(dead_key),
        Some(2),
        "the report alone removes nothing"
    );

    let mut args = keys.to_vec();
    args.push("--clean");
    let cleaned = doctor(&args);
    cleaned.assert_code(0);
    let removed: Vec<&str> = cleaned
        .lines()
        .into_iter()
        .filter(|l| l.starts_with("removed "))
        .collect();
    assert_eq!(removed.len(), 1, "{}", cleaned.stdout);
    assert!(removed[0].starts_with(&format!(
        "removed message queue key {dead_key} ({})",
        hex(dead_key)
    )));
    // c/msgq_sender sends msg2.c's whole 512-byte buffer per message.
    assert!(
        removed[0].ends_with("dropped 2 message(s), 1024 bytes"),
        "{}",
        removed[0]
    );
    assert!(cleaned.stdout.contains("clean: removed 1 object(s)"));
    assert!(!sysv_key_exists("msg", dead_key));
    assert_eq!(
        queue_messages(live_key),
        Some(1),
        "the live sender's queue is left alone"
    );
    assert_eq!(
        queue_messages(other_key),
        Some(2),
        "a key that is not ours is left alone"
    );

    // Tidy up as the programs would: the live sender ends (end of input sends `end`), and is
    // then dead, so --clean takes its queue; a receiver drains the other key's queue.
    drop(live_input);
    live.finish(WATCHDOG).assert_code(0);
    let last = doctor(&["--key", &hex(live_key), "--clean"]);
    assert!(
        last.stdout.contains("dropped 2 message(s)"),
        "{}",
        last.stdout
    );
    let mut drain = c_program("msgq_receiver");
    drain.args(["-k", &hex(other_key)]);
    assert_eq!(
        run(drain, b"").assert_code(0).lines(),
        ["You wrote: x", "You wrote: end"]
    );
    assert_no_sysv_objects(dead_key);
    assert_no_sysv_objects(live_key);
    assert!(!sysv_key_exists("msg", other_key));
}

#[test]
fn a_queue_no_process_has_used_is_only_removed_with_unused() {
    let key = unique_key();
    let _cleanup = RemoveOnDrop(vec![key]);
    let mut receiver = c_program("msgq_receiver");
    receiver.args(["-k", &hex(key)]).stdin(Stdio::null());
    let mut receiver = Running::start(receiver, None);
    receiver.wait_for_stderr("waiting for messages", READY);
    receiver.signal(Signal::SIGKILL); // no chance to remove it
    let _ = receiver.finish(WATCHDOG);

    let kept = doctor(&["--key", &hex(key), "--clean"]);
    kept.assert_code(0);
    let line = entry(&kept, &hex(key));
    assert!(
        line.contains("no pid recorded") && line.contains("status: unknown"),
        "{line}"
    );
    assert!(line.contains("--clean --unused removes it"), "{line}");
    assert!(kept.stdout.contains("clean: removed 0 object(s)"));
    assert!(sysv_key_exists("msg", key));

    let removed = doctor(&["--key", &hex(key), "--clean", "--unused"]);
    removed.assert_code(0);
    assert!(
        removed.stdout.contains("dropped 0 message(s), 0 bytes"),
        "{}",
        removed.stdout
    );
    assert_no_sysv_objects(key);
}

#[test]
fn a_segment_and_semaphores_are_kept_while_attached_and_removed_once_their_owner_is_killed() {
    let key = unique_key();
    let _cleanup = RemoveOnDrop(vec![key]);
    // The segment: c/shm_receiver attaches it and polls its flag.
    let mut receiver = c_program("shm_receiver");
    receiver.args(["-k", &hex(key)]).stdin(Stdio::null());
    let mut receiver = Running::start(receiver, None);
    receiver.wait_for_stderr("waiting for text", READY);
    // The semaphore set (same key, another kind): c/sem_mutex -i taking its turns, for longer
    // than the test lasts; its semops record its pid.
    let mut first_copy = c_program("sem_mutex");
    first_copy
        .args(["-i", "-r", "100000", "-k", &hex(key)])
        .stdin(Stdio::null());
    let mut first_copy = Running::start(first_copy, None);
    first_copy.wait_for_stderr("semaphore set created", READY);
    let pid = receiver.pid().as_raw();
    // Its first semop comes just after that line: wait until the kernel records it.
    wait_until("the copy has made its first semop", || {
        let report = doctor(&["--key", &hex(key)]);
        entry(&report, "1 semaphore(s)").contains("status: in use")
    });

    let busy = doctor(&["--key", &hex(key), "--clean"]);
    busy.assert_code(0);
    let segment = entry(&busy, "2052 bytes, 1 attached");
    assert!(
        segment.contains(&format!("creator {pid} (alive)")),
        "{segment}"
    );
    assert!(
        segment.contains("in use (1 process(es) attached)"),
        "{segment}"
    );
    let set = entry(&busy, "1 semaphore(s)");
    assert!(set.contains("status: in use"), "{set}");
    assert!(busy.stdout.contains("clean: removed 0 object(s)"));

    receiver.signal(Signal::SIGKILL);
    first_copy.signal(Signal::SIGKILL);
    let _ = receiver.finish(WATCHDOG);
    let _ = first_copy.finish(WATCHDOG);
    let cleaned = doctor(&["--key", &hex(key), "--clean"]);
    cleaned.assert_code(0);
    assert!(
        cleaned
            .stdout
            .contains(&format!("removed shared memory segment key {key}")),
        "{}",
        cleaned.stdout
    );
    assert!(
        cleaned
            .stdout
            .contains(&format!("removed semaphore set key {key}")),
        "{}",
        cleaned.stdout
    );
    assert_no_sysv_objects(key);
}

#[test]
fn clean_removes_idle_fifos_but_never_other_files_or_fifos_in_use() {
    let idle = unique_path("doc-idle");
    let plain = unique_path("doc-plain");
    let busy = unique_path("doc-busy");
    nix::unistd::mkfifo(&idle, Mode::from_bits_truncate(0o600)).expect("mkfifo");
    nix::unistd::mkfifo(&busy, Mode::from_bits_truncate(0o600)).expect("mkfifo");
    fs::write(&plain, b"not a fifo").expect("write");
    // O_RDWR on a FIFO never blocks on Linux: this test process now has it open.
    let holder = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&busy)
        .expect("open");

    let paths: Vec<String> = [&idle, &plain, &busy]
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let args = [
        "--path", &paths[0], "--path", &paths[1], "--path", &paths[2], "--clean",
    ];
    let out = doctor(&args);
    let plain_left = fs::read(&plain).ok();
    let busy_left = fs::symlink_metadata(&busy).is_ok();
    drop(holder);
    let _ = fs::remove_file(&plain);
    let _ = fs::remove_file(&busy);

    out.assert_code(0);
    assert!(
        out.stdout.contains(&format!("removed FIFO {}", paths[0])),
        "{}",
        out.stdout
    );
    assert!(entry(&out, &paths[1]).contains("not a FIFO or socket: never removed"));
    assert!(entry(&out, &paths[2]).contains(&format!("open in pid {}", std::process::id())));
    assert!(
        out.stdout.contains("clean: removed 1 object(s)"),
        "{}",
        out.stdout
    );
    assert_eq!(plain_left.as_deref(), Some(&b"not a fifo"[..]));
    assert!(busy_left, "a FIFO in use is left alone");
    for path in [&idle, &plain, &busy] {
        assert_gone(path);
    }
}

#[test]
fn clean_removes_our_posix_segments_but_not_other_names() {
    let Ok(meta) = fs::metadata("/dev/shm") else {
        return; // no POSIX shared memory file system on this machine: nothing to test
    };
    assert!(meta.is_dir());
    let ours = unique_path("doc-shm")
        .file_name()
        .map(PathBuf::from)
        .expect("a name");
    let ours = Path::new("/dev/shm").join(ours);
    let theirs = Path::new("/dev/shm").join(format!("ipcdoc-not-ours-{}", std::process::id()));
    fs::write(&ours, vec![0u8; 4096]).expect("create a segment");
    fs::write(&theirs, b"x").expect("create a segment");
    let our_name = format!(
        "/{}",
        ours.file_name().unwrap_or_default().to_string_lossy()
    );
    let their_name = format!(
        "/{}",
        theirs.file_name().unwrap_or_default().to_string_lossy()
    );

    let out = doctor(&["--name", &our_name, "--name", &their_name, "--clean"]);
    let theirs_left = theirs.exists();
    let _ = fs::remove_file(&theirs);
    let _ = fs::remove_file(&ours);
    out.assert_code(0);
    assert!(
        out.stdout.contains(&format!(
            "removed POSIX shared memory {our_name}: 4096 bytes"
        )),
        "{}",
        out.stdout
    );
    assert!(
        entry(&out, &their_name).contains("name is not one of ours"),
        "{}",
        out.stdout
    );
    assert!(theirs_left);
    assert_gone(&ours);
    assert_gone(&theirs);
}

#[test]
fn bad_arguments_are_usage_errors() {
    let out = doctor(&["--unused"]);
    out.assert_code(2);
    assert!(
        out.stderr.starts_with("ipc-doctor: error:"),
        "{}",
        out.stderr
    );
    let out = doctor(&["--key", "0"]);
    out.assert_code(2);
    assert!(out.stderr.contains("IPC_PRIVATE"), "{}", out.stderr);
}
