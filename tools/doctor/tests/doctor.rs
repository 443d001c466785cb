//! ipc-doctor as a user runs it: real objects made by real processes, ours (msgq-sender,
//! msgq-receiver: they record what they create) and others' (the C tutorial programs, plain
//! `mkfifo` and files: no record), some killed, some alive; the report, `--clean` and `--remove`
//! checked from outside. Each test names its own objects with --key/--path/--name and keeps its
//! records in its own directory (IPC_PAIRS_RECORDS), so `--clean` never touches what other tests
//! (or other people) are using at the same time.

use std::fs::{self, File};
use std::io::Write;
use std::os::fd::OwnedFd;
use std::os::unix::fs::PermissionsExt;
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

/// One test's record directory (IPC_PAIRS_RECORDS): the programs it starts write there and its
/// ipc-doctor reads there. Removed with its contents at the end.
struct Records(PathBuf);

impl Records {
    fn new(tag: &str) -> Records {
        Records(unique_path(tag))
    }

    /// ipc-doctor with this record directory.
    fn doctor(&self, args: &[&str]) -> Finished {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ipc-doctor"));
        cmd.args(args).env("IPC_PAIRS_RECORDS", &self.0);
        let out = run(cmd, b"");
        out.assert_no_panic();
        out
    }

    /// One of our programs (msgq-sender, ...), with this record directory.
    fn program(&self, name: &str) -> Command {
        let mut cmd = Command::new(our_program(name));
        cmd.env("IPC_PAIRS_RECORDS", &self.0);
        cmd
    }

    /// The record files there now.
    fn files(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(&self.0)
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }
}

impl Drop for Records {
    fn drop(&mut self) {
        match fs::symlink_metadata(&self.0) {
            Ok(meta) if meta.is_dir() => {
                let _ = fs::remove_dir_all(&self.0);
            }
            Ok(_) => {
                let _ = fs::remove_file(&self.0);
            }
            Err(_) => {}
        }
    }
}

/// Our programs, in target/debug beside ipc-doctor (`make test` builds them all first).
fn our_program(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_BIN_EXE_ipc-doctor")).with_file_name(name);
    assert!(
        path.is_file(),
        "{} is not built: run `cargo build --bins` (make test does)",
        path.display()
    );
    path
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

/// A sender (`cmd`, with its key) with `lines` already typed and its input still open: it has
/// sent them and waits for more, alive. Dropping the returned write end types end-of-input.
fn sender_holding_queue(
    mut cmd: Command,
    key: i32,
    lines: &[u8],
    messages: u64,
) -> (Running, OwnedFd) {
    // Close-on-exec, so no child (the sender included) inherits the write end and keeps the
    // pipe open after we drop ours.
    let (read_end, write_end) = nix::unistd::pipe2(OFlag::O_CLOEXEC).expect("pipe");
    let mut input = File::from(write_end);
    input.write_all(lines).expect("type the lines");
    cmd.stdin(Stdio::from(read_end));
    let sender = Running::start(cmd, None);
    wait_until("the sender has sent its messages", || {
        queue_messages(key) == Some(messages)
    });
    (sender, OwnedFd::from(input))
}

/// The lines of `out` that start with `removed `.
fn removed_lines(out: &Finished) -> Vec<&str> {
    out.lines()
        .into_iter()
        .filter(|l| l.starts_with("removed "))
        .collect()
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
fn clean_removes_our_killed_senders_queue_and_keeps_a_foreign_queue_with_a_test_key() {
    let records = Records::new("doc-rec");
    let dead_key = unique_key();
    let live_key = unique_key();
    // Another program's queue: c/msgq_sender's plain msgget(key, 0666 | IPC_CREAT), with a key
    // in the range our tests use (which --clean used to trust).
    let foreign_key = unique_key();
    let _cleanup = RemoveOnDrop(vec![dead_key, live_key, foreign_key]);

    let mut ours = records.program("msgq-sender");
    ours.args(["--key", &hex(dead_key)]);
    let (killed, _input) = sender_holding_queue(ours, dead_key, b"one\ntwo\n", 2);
    let killed_pid = killed.pid().as_raw();
    killed.signal(Signal::SIGKILL);
    let _ = killed.finish(WATCHDOG); // reaped: its pid is gone
    let mut ours = records.program("msgq-sender");
    ours.args(["--key", &hex(live_key)]);
    let (live, live_input) = sender_holding_queue(ours, live_key, b"still typing\n", 1);
    let mut foreign = c_program("msgq_sender");
    foreign.args(["-k", &hex(foreign_key)]);
    run(foreign, b"x\n").assert_code(0);
    assert_eq!(queue_messages(foreign_key), Some(2));
    assert_eq!(
        records.files().len(),
        2,
        "one record per queue our senders made: {:?}",
        records.files()
    );

    let keys = [
        "--key",
        &hex(dead_key),
        "--key",
        &hex(live_key),
        "--key",
        &hex(foreign_key),
    ];
    let report = records.doctor(&keys);
    report.assert_code(0);
    let dead = entry(&report, &hex(dead_key));
    assert!(
        dead.contains("2 message(s)")
            && dead.contains(&format!("made by msgq-sender pid {killed_pid} (dead)")),
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
    let other = entry(&report, &hex(foreign_key));
    assert!(
        other.contains("status: orphaned") && other.contains("no record"),
        "{other}"
    );
    assert!(other.contains("--clean keeps it: not ours"), "{other}");
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
    let cleaned = records.doctor(&args);
    cleaned.assert_code(0);
    let removed = removed_lines(&cleaned);
    assert_eq!(removed.len(), 1, "{}", cleaned.stdout);
    assert!(
        removed[0].starts_with(&format!(
            "removed message queue key {dead_key} ({})",
            hex(dead_key)
        )) && removed[0].contains("dropped 2 message(s)"),
        "{}",
        removed[0]
    );
    assert!(cleaned.stdout.contains("clean: removed 1 object(s)"));
    assert!(!sysv_key_exists("msg", dead_key));
    assert_eq!(
        records.files().len(),
        1,
        "the removed queue's record went with it"
    );
    assert_eq!(
        queue_messages(live_key),
        Some(1),
        "the live sender's queue is left alone"
    );
    assert_eq!(
        queue_messages(foreign_key),
        Some(2),
        "a queue without a record is left alone, whatever its key"
    );

    // The live sender ends (end of input sends End) and keeps its queue, which holds messages:
    // its creator is dead now, so --clean takes it. A receiver drains the foreign queue.
    drop(live_input);
    live.finish(WATCHDOG).assert_code(0);
    let last = records.doctor(&["--key", &hex(live_key), "--clean"]);
    assert!(
        last.stdout
            .contains(&format!("removed message queue key {live_key}")),
        "{}",
        last.stdout
    );
    let mut drain = c_program("msgq_receiver");
    drain.args(["-k", &hex(foreign_key)]);
    assert_eq!(
        run(drain, b"").assert_code(0).lines(),
        ["You wrote: x", "You wrote: end"]
    );
    assert_eq!(records.files(), Vec::<String>::new(), "no record is left");
    assert_no_sysv_objects(dead_key);
    assert_no_sysv_objects(live_key);
    assert_no_sysv_objects(foreign_key);
}

#[test]
fn the_queue_of_a_receiver_killed_before_any_message_is_ours_to_clean_and_a_c_ones_is_not() {
    let records = Records::new("doc-rec");
    let ours_key = unique_key();
    let c_key = unique_key();
    let _cleanup = RemoveOnDrop(vec![ours_key, c_key]);
    let mut receiver = records.program("msgq-receiver");
    receiver
        .args(["--key", &hex(ours_key)])
        .stdin(Stdio::null());
    let mut receiver = Running::start(receiver, None);
    receiver.wait_for_stderr("waiting for messages", READY);
    let ours_pid = receiver.pid().as_raw();
    receiver.signal(Signal::SIGKILL); // no chance to remove it
    let _ = receiver.finish(WATCHDOG);
    // The same with the tutorial's C receiver, which keeps no record.
    let mut c_receiver = c_program("msgq_receiver");
    c_receiver.args(["-k", &hex(c_key)]).stdin(Stdio::null());
    let mut c_receiver = Running::start(c_receiver, None);
    c_receiver.wait_for_stderr("waiting for messages", READY);
    c_receiver.signal(Signal::SIGKILL);
    let _ = c_receiver.finish(WATCHDOG);

    let keys = ["--key", &hex(ours_key), "--key", &hex(c_key)];
    let mut args = keys.to_vec();
    args.push("--clean");
    let cleaned = records.doctor(&args);
    cleaned.assert_code(0);
    let ours = entry(&cleaned, &hex(ours_key));
    assert!(
        ours.contains("no pid recorded")
            && ours.contains(&format!("made by msgq-receiver pid {ours_pid} (dead)"))
            && ours.contains("--clean removes it"),
        "{ours}"
    );
    let theirs = entry(&cleaned, &hex(c_key));
    assert!(
        theirs.contains("no pid recorded") && theirs.contains("--clean keeps it: not ours"),
        "{theirs}"
    );
    let removed = removed_lines(&cleaned);
    assert_eq!(removed.len(), 1, "{}", cleaned.stdout);
    assert!(
        removed[0].contains(&format!("key {ours_key} "))
            && removed[0].contains("dropped 0 message(s), 0 bytes"),
        "{}",
        removed[0]
    );
    assert_no_sysv_objects(ours_key);
    assert!(sysv_key_exists("msg", c_key), "not ours: kept");
    assert_eq!(records.files(), Vec::<String>::new());

    // Named, it goes, whoever made it.
    let named = records.doctor(&["--remove", &hex(c_key)]);
    named.assert_code(0);
    assert!(
        named
            .stdout
            .contains(&format!("removed message queue key {c_key} (")),
        "{}",
        named.stdout
    );
    assert_no_sysv_objects(c_key);
}

#[test]
fn a_record_whose_id_now_names_another_object_is_not_trusted() {
    let records = Records::new("doc-rec");
    let key = unique_key();
    let _cleanup = RemoveOnDrop(vec![key]);
    // Another program's queue (c/msgq_sender), every process of it dead.
    let mut foreign = c_program("msgq_sender");
    foreign.args(["-k", &hex(key)]);
    run(foreign, b"x\n").assert_code(0);
    let row = sysvipc::find(Kind::Queue, key).expect("the foreign queue");
    // What our record would say had one of our programs made a queue with this id and key
    // earlier, died, and the queue been removed (ipcrm) and the id given to this one: the same
    // id and key, an earlier creation time. And a record of the same id with another key.
    fs::create_dir(&records.0).expect("mkdir");
    fs::set_permissions(&records.0, fs::Permissions::from_mode(0o700)).expect("chmod");
    let record = |name: &str, stamp: i64| {
        format!(
            "kind=msg\nname={name}\nid={}\nstamp={stamp}\npid=0\nstart=0\nprogram=msgq-receiver\n",
            row.id
        )
    };
    let file = records.0.join(format!("msg-{}", row.id));
    fs::write(&file, record(&key.to_string(), row.ctime - 1)).expect("write a record");
    // A record of a semaphore set that exists no more, made by a dead program.
    let gone = records.0.join("sem-2147483646");
    fs::write(
        &gone,
        format!(
            "kind=sem\nname={key}\nid=2147483646\nstamp=1\npid=0\nstart=0\nprogram=sem-receiver\n"
        ),
    )
    .expect("write a record");

    let report = records.doctor(&["--key", &hex(key)]);
    report.assert_code(0);
    let line = entry(&report, &hex(key));
    assert!(
        line.contains("stale record")
            && line.contains("--clean keeps it: not ours: its record is stale"),
        "{line}"
    );
    assert!(
        report.stdout.contains("--clean drops it"),
        "{}",
        report.stdout
    );

    let cleaned = records.doctor(&["--key", &hex(key), "--clean"]);
    cleaned.assert_code(0);
    assert!(removed_lines(&cleaned).is_empty(), "{}", cleaned.stdout);
    assert_eq!(
        queue_messages(key),
        Some(2),
        "the other program's queue is kept"
    );
    assert!(
        cleaned
            .stdout
            .contains(&format!("dropped the record {} (stale", file.display())),
        "{}",
        cleaned.stdout
    );
    assert!(
        cleaned.stdout.contains("semaphore set key"),
        "{}",
        cleaned.stdout
    );
    assert_eq!(
        records.files(),
        Vec::<String>::new(),
        "both records dropped"
    );

    // The same id with another key is no proof either.
    fs::write(&file, record("4242", row.ctime)).expect("write a record");
    let cleaned = records.doctor(&["--key", &hex(key), "--clean"]);
    cleaned.assert_code(0);
    assert!(
        entry(&cleaned, &hex(key)).contains("it was made with key 4242"),
        "{}",
        cleaned.stdout
    );
    assert_eq!(queue_messages(key), Some(2));
    let mut drain = c_program("msgq_receiver");
    drain.args(["-k", &hex(key)]);
    run(drain, b"").assert_code(0);
    assert_no_sysv_objects(key);
}

#[test]
fn a_record_directory_that_is_a_symlink_or_not_ours_is_refused() {
    let target = Records::new("doc-rec-target");
    fs::create_dir(&target.0).expect("mkdir");
    fs::set_permissions(&target.0, fs::Permissions::from_mode(0o700)).expect("chmod");
    let link = Records::new("doc-rec-link");
    std::os::unix::fs::symlink(&target.0, &link.0).expect("symlink");
    let theirs = Records::new("doc-rec-theirs");
    fs::create_dir(&theirs.0).expect("mkdir");
    fs::set_permissions(&theirs.0, fs::Permissions::from_mode(0o700)).expect("chmod");
    std::os::unix::fs::chown(&theirs.0, Some(65534), Some(65534)).expect("chown");
    let open = Records::new("doc-rec-open");
    fs::create_dir(&open.0).expect("mkdir");
    fs::set_permissions(&open.0, fs::Permissions::from_mode(0o755)).expect("chmod");

    for (records, why) in [
        (&link, "is a symbolic link"),
        (&theirs, "belongs to uid 65534"),
        (&open, "has mode 0755"),
    ] {
        let key = unique_key();
        let _cleanup = RemoveOnDrop(vec![key]);
        // A program still works, and says once that it cannot record.
        let mut sender = records.program("msgq-sender");
        sender.args(["--key", &hex(key), "--message", "hi"]);
        let sent = run(sender, b"");
        sent.assert_code(0);
        let warnings: Vec<&str> = sent
            .stderr
            .lines()
            .filter(|l| l.contains("cannot record what we create"))
            .collect();
        assert_eq!(warnings.len(), 1, "{}", sent.stderr);
        assert!(warnings[0].contains(why), "{}", warnings[0]);
        assert_eq!(
            queue_messages(key),
            Some(2),
            "hi and End, kept for a receiver"
        );

        let cleaned = records.doctor(&["--key", &hex(key), "--clean"]);
        cleaned.assert_code(1);
        assert!(cleaned.stdout.contains("refused: "), "{}", cleaned.stdout);
        assert!(cleaned.stdout.contains(why), "{}", cleaned.stdout);
        assert!(
            cleaned
                .stderr
                .starts_with("ipc-doctor: error: reading the records of ownership"),
            "{}",
            cleaned.stderr
        );
        assert!(removed_lines(&cleaned).is_empty(), "{}", cleaned.stdout);
        assert!(sysv_key_exists("msg", key), "nothing is known to be ours");
        let named = records.doctor(&["--remove", &hex(key)]);
        named.assert_code(0);
        assert_no_sysv_objects(key);
    }
    assert_eq!(
        target.files(),
        Vec::<String>::new(),
        "nothing written through the link"
    );
    assert_eq!(theirs.files(), Vec::<String>::new());
    assert_eq!(open.files(), Vec::<String>::new());
}

#[test]
fn a_segment_and_semaphores_are_kept_while_attached_even_when_named_and_without_a_record_only_remove_takes_them(
) {
    let records = Records::new("doc-rec");
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
        let report = records.doctor(&["--key", &hex(key)]);
        entry(&report, "1 semaphore(s)").contains("status: in use")
    });

    let busy = records.doctor(&["--remove", &hex(key)]);
    busy.assert_code(0);
    let segment = entry(&busy, "2052 bytes, 1 attached");
    assert!(
        segment.contains(&format!("creator {pid} (alive)")),
        "{segment}"
    );
    assert!(
        segment.contains("in use (1 process(es) attached)")
            && segment.contains("keeps it: a live process uses it"),
        "{segment}"
    );
    let set = entry(&busy, "1 semaphore(s)");
    assert!(set.contains("status: in use"), "{set}");
    assert!(busy.stdout.contains("clean: removed 0 object(s)"));

    receiver.signal(Signal::SIGKILL);
    first_copy.signal(Signal::SIGKILL);
    let _ = receiver.finish(WATCHDOG);
    let _ = first_copy.finish(WATCHDOG);
    let kept = records.doctor(&["--key", &hex(key), "--clean"]);
    kept.assert_code(0);
    assert!(
        kept.stdout.contains("clean: removed 0 object(s)"),
        "{}",
        kept.stdout
    );
    assert!(
        entry(&kept, "2052 bytes, 0 attached").contains("--clean keeps it: not ours"),
        "{}",
        kept.stdout
    );
    let cleaned = records.doctor(&["--remove", &hex(key)]);
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
fn fifos_without_a_record_are_kept_and_remove_takes_an_idle_one_but_never_other_files_or_fifos_in_use(
) {
    let records = Records::new("doc-rec");
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
    let kept = records.doctor(&[
        "--path", &paths[0], "--path", &paths[1], "--path", &paths[2], "--clean",
    ]);
    let idle_left = fs::symlink_metadata(&idle).is_ok();
    let args = [
        "--remove", &paths[0], "--remove", &paths[1], "--remove", &paths[2],
    ];
    let out = records.doctor(&args);
    let plain_left = fs::read(&plain).ok();
    let busy_left = fs::symlink_metadata(&busy).is_ok();
    drop(holder);
    let _ = fs::remove_file(&idle);
    let _ = fs::remove_file(&plain);
    let _ = fs::remove_file(&busy);

    kept.assert_code(0);
    assert!(
        kept.stdout.contains("clean: removed 0 object(s)"),
        "{}",
        kept.stdout
    );
    assert!(entry(&kept, &paths[0]).contains("--clean keeps it: not ours"));
    assert!(idle_left, "a FIFO without a record is kept by --clean");
    out.assert_code(0);
    assert!(
        out.stdout.contains(&format!("removed FIFO {}", paths[0])),
        "{}",
        out.stdout
    );
    assert!(
        entry(&out, &paths[0]).contains("no record: not made by our programs")
            && entry(&out, &paths[0]).contains("--remove removes it"),
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
fn our_killed_posix_queue_is_cleaned_and_a_segment_without_a_record_only_by_name() {
    let Ok(meta) = fs::metadata("/dev/shm") else {
        return; // no POSIX shared memory file system on this machine: nothing to test
    };
    assert!(meta.is_dir());
    let records = Records::new("doc-rec");
    let name_of = |path: &Path| {
        format!(
            "/{}",
            path.file_name().unwrap_or_default().to_string_lossy()
        )
    };
    // Another program's segments: plain files in /dev/shm (which is what shm_open makes).
    let first = Path::new("/dev/shm").join(
        unique_path("doc-shm")
            .file_name()
            .map(PathBuf::from)
            .expect("a name"),
    );
    let second = Path::new("/dev/shm").join(format!("ipcdoc-not-ours-{}", std::process::id()));
    fs::write(&first, vec![0u8; 4096]).expect("create a segment");
    fs::write(&second, b"x").expect("create a segment");
    let (first_name, second_name) = (name_of(&first), name_of(&second));
    // Our POSIX queue, left by a receiver killed while it waited.
    let queue = name_of(&unique_path("doc-mq"));
    let queue_file = Path::new("/dev/mqueue").join(&queue[1..]);
    let mut receiver = records.program("msgq-receiver");
    receiver
        .args(["--posix", "--name", &queue])
        .stdin(Stdio::null());
    let mut receiver = Running::start(receiver, None);
    receiver.wait_for_stderr("waiting for messages", READY);
    receiver.signal(Signal::SIGKILL);
    let _ = receiver.finish(WATCHDOG);

    let names = [
        "--name",
        &first_name,
        "--name",
        &second_name,
        "--name",
        &queue,
    ];
    let mut args = names.to_vec();
    args.push("--clean");
    let cleaned = records.doctor(&args);
    let named = records.doctor(&["--remove", &first_name]);
    let second_left = second.exists();
    let _ = fs::remove_file(&second);
    let _ = fs::remove_file(&first);
    let _ = fs::remove_file(&queue_file);
    cleaned.assert_code(0);
    let removed = removed_lines(&cleaned);
    assert_eq!(
        removed,
        [format!(
            "removed POSIX message queue {queue}: dropped 0 bytes of messages"
        )],
        "{}",
        cleaned.stdout
    );
    assert!(
        entry(&cleaned, &first_name).contains("--clean keeps it: not ours"),
        "{}",
        cleaned.stdout
    );
    named.assert_code(0);
    assert_eq!(
        removed_lines(&named),
        [format!(
            "removed POSIX shared memory {first_name}: 4096 bytes"
        )],
        "{}",
        named.stdout
    );
    assert!(second_left, "never named, never removed");
    assert_eq!(records.files(), Vec::<String>::new());
    assert_gone(&first);
    assert_gone(&second);
    assert_gone(&queue_file);
}

#[test]
fn another_user_neither_cleans_our_queue_nor_may_remove_it_by_name() {
    let records = Records::new("doc-rec");
    let key = unique_key();
    let _cleanup = RemoveOnDrop(vec![key]);
    let mut receiver = records.program("msgq-receiver");
    receiver.args(["--key", &hex(key)]).stdin(Stdio::null());
    let mut receiver = Running::start(receiver, None);
    receiver.wait_for_stderr("waiting for messages", READY);
    receiver.signal(Signal::SIGKILL);
    let _ = receiver.finish(WATCHDOG);

    // uid 65534 (nobody) has its own records (none of this queue), and IPC_RMID needs the
    // owner, the creator or root.
    let as_nobody = |args: &[&str]| {
        let mut cmd = Command::new("setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_ipc-doctor"))
            .args(args)
            .env_remove("IPC_PAIRS_RECORDS")
            .env_remove("XDG_RUNTIME_DIR");
        let out = run(cmd, b"");
        out.assert_no_panic();
        out
    };
    let theirs = as_nobody(&["--key", &hex(key), "--clean"]);
    theirs.assert_code(0);
    assert!(
        entry(&theirs, &hex(key)).contains("--clean keeps it: not ours"),
        "{}",
        theirs.stdout
    );
    let refused = as_nobody(&["--remove", &hex(key)]);
    refused.assert_code(1);
    assert!(
        refused
            .stdout
            .contains(&format!("NOT removed message queue key {key} (")),
        "{}",
        refused.stdout
    );
    assert!(refused.stdout.contains("EPERM"), "{}", refused.stdout);
    assert!(sysv_key_exists("msg", key));

    // We, its owner, clean it: our record says our receiver made it and is dead.
    let cleaned = records.doctor(&["--key", &hex(key), "--clean"]);
    cleaned.assert_code(0);
    assert_eq!(removed_lines(&cleaned).len(), 1, "{}", cleaned.stdout);
    assert_no_sysv_objects(key);
    assert_eq!(records.files(), Vec::<String>::new());
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
