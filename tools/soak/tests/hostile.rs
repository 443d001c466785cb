//! Hostile input against the receivers: 10000 random byte strings, truncated frames, absurd
//! length prefixes, flipped bytes and lying inner lengths (see `ipc_soak::hostile`). Each
//! receiver must refuse what the shared decoder refuses, with its `PROGRAM: error:` line and
//! exit 1, and accept what it accepts; never panic, never hang (10 s per input), never use
//! more memory than a bound: every receiver runs under `prlimit --as=256MiB`, so an attempt to
//! allocate what a 4 GiB prefix or a 2^64-byte inner length claims would make it fail.
//!
//! How the 10000 inputs are shared out: a receiver stops at the first bad frame, so there each
//! input costs one process start (a few ms for a debug build); socket-server takes many
//! clients, so there each input is one connection to the same server. Inputs 0..2000 go to
//! pipe-receiver (on stdin), 2000..3500 to fifo-receiver (one FIFO, reused), 3500..5500 to
//! msgq-receiver on a System V queue (raw msgsnd), 5500..7000 to msgq-receiver --posix (raw
//! mq_send) and 7000..10000 to one socket-server (a Unix socket connection each, the server's
//! peak memory read from /proc at the end); each range holds the five families in equal
//! parts. The five tests run in parallel.

mod support;

use std::fs::OpenOptions;
use std::io::{ErrorKind, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ipc_soak::hostile::{self, Verdict};
use ipc_soak::raw::RawQueue;
use ipc_testkit::{sysv_key_exists, unique_key, unique_path, Finished, Running};
use nix::sys::signal::Signal;

use support::program_path as program;

/// The seed of the inputs: fixed, so a failure names an input that can be looked at again.
const SEED: u64 = 0x5eed_0bad;
/// Address-space limit of each receiver (prlimit --as).
const MEMORY: &str = "--as=268435456";
/// How long one input may take.
const BOUND: Duration = Duration::from_secs(10);

/// `prlimit --as=256MiB PROGRAM ARGS...` with stdin from /dev/null.
fn limited(name: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new("prlimit");
    cmd.arg(MEMORY)
        .arg(program(name))
        .args(args)
        .stdin(Stdio::null());
    cmd
}

/// The same command under `timeout 10`: a hang ends with exit 124 (timeout's code) instead of
/// hanging the test. Only for commands we do not signal ourselves (timeout would be the
/// process we signal, and a `Running` watchdog would kill timeout, not the program).
fn timed(cmd: &Command) -> Command {
    let mut timed = Command::new("timeout");
    timed
        .args(["--kill-after=2", &BOUND.as_secs().to_string()])
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .stdin(Stdio::null());
    timed
}

/// Runs `cmd` to the end with `input` on its stdin. Cheaper than `Running` (no threads, no
/// polling): 10000 runs must take well under a minute. Inputs are a few KiB, less than a pipe
/// holds, so writing all of it before reading the output cannot deadlock.
fn run_quick(cmd: Command, input: &[u8]) -> Finished {
    let mut cmd = timed(&cmd);
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("start the receiver");
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(input); // EPIPE: it refused the input and exited early
    }
    let out = child.wait_with_output().expect("wait for the receiver");
    Finished {
        code: out.status.code(),
        status: out.status,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Checks one finished receiver against the decoder's verdict; returns what was wrong.
fn judge(
    name: &str,
    index: u64,
    verdict: Verdict,
    allowed: &[i32],
    fin: &Finished,
) -> Option<String> {
    let problem = if fin.stderr.contains("panicked") || fin.stderr.contains("RUST_BACKTRACE") {
        Some("it panicked".to_string())
    } else if !allowed.contains(&fin.code.unwrap_or(-1)) {
        Some(format!("{:?} (expected {allowed:?})", fin.status))
    } else if fin.code == Some(1) && !fin.stderr.contains(&format!("{name}: error: ")) {
        Some(format!("exit 1 without a `{name}: error:` line"))
    } else if !fin.last_line().starts_with("summary: ") {
        Some("no summary line last on stdout".to_string())
    } else {
        None
    };
    problem.map(|why| {
        format!(
            "input {index} ({verdict:?}) to {name}: {why}\n{}",
            fin.stderr
        )
    })
}

/// Fails the test with the first problems found, if any.
fn assert_none(problems: &[String], total: u64) {
    assert!(
        problems.is_empty(),
        "{} of {total} inputs went wrong; the first:\n{}",
        problems.len(),
        problems
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn pipe_receiver_refuses_2000_hostile_streams() {
    let range = 0..2000u64;
    let mut problems = Vec::new();
    let mut rejected = 0;
    for index in range.clone() {
        let bytes = hostile::input(SEED, index, 1 << 16);
        let verdict = hostile::stream_verdict(&bytes);
        let allowed: &[i32] = match verdict {
            Verdict::Accepted => &[0],
            Verdict::EndedWithoutEnd | Verdict::Rejected => &[1],
        };
        rejected += u64::from(verdict == Verdict::Rejected);
        let fin = run_quick(limited("pipe-receiver", &[]), &bytes);
        problems.extend(judge("pipe-receiver", index, verdict, allowed, &fin));
    }
    assert_none(&problems, range.end - range.start);
    assert!(
        rejected > 1400,
        "the inputs are hostile: {rejected} rejected"
    );
}

/// Opens the FIFO for writing once the receiver has it open (C: open(O_WRONLY | O_NONBLOCK),
/// which fails with ENXIO until then).
fn open_writer(path: &Path) -> std::fs::File {
    let deadline = Instant::now() + BOUND;
    loop {
        match OpenOptions::new()
            .write(true)
            .custom_flags(nix::libc::O_NONBLOCK)
            .open(path)
        {
            Ok(file) => return file,
            Err(err)
                if err.raw_os_error() == Some(nix::libc::ENXIO) && Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(err) => panic!("opening {} for writing: {err}", path.display()),
        }
    }
}

/// Writes what the receiver takes; it may close early (EPIPE) after refusing a frame.
fn write_some(file: &mut std::fs::File, mut bytes: &[u8]) {
    let deadline = Instant::now() + BOUND;
    while !bytes.is_empty() && Instant::now() < deadline {
        match file.write(bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(err) if err.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(_) => return, // EPIPE: the receiver refused the stream and closed
        }
    }
}

/// Removes the test's FIFO, whatever happens.
struct FifoGuard(PathBuf);

impl Drop for FifoGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn fifo_receiver_refuses_1500_hostile_streams() {
    let range = 2000..3500u64;
    let path = unique_path("hostile-fifo");
    let guard = FifoGuard(path.clone());
    nix::unistd::mkfifo(&path, nix::sys::stat::Mode::from_bits_truncate(0o600)).expect("mkfifo");
    let shown = path.display().to_string();
    let mut problems = Vec::new();
    for index in range.clone() {
        let bytes = hostile::input(SEED, index, 1 << 16);
        let verdict = hostile::stream_verdict(&bytes);
        let cmd = limited("fifo-receiver", &["--path", &shown]);
        let (allowed, fin): (&[i32], Finished) = if verdict == Verdict::EndedWithoutEnd {
            // A FIFO receiver waits for the next writer: stop it as a user would (Ctrl-C),
            // once it says that every writer closed the FIFO.
            let mut rx = Running::start(cmd, None);
            let mut file = open_writer(&path);
            write_some(&mut file, &bytes);
            drop(file);
            rx.wait_for_stderr("every writer closed it", BOUND);
            rx.signal(Signal::SIGINT);
            (&[130], rx.finish(BOUND))
        } else {
            let mut cmd = timed(&cmd);
            cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
            let child = cmd.spawn().expect("start fifo-receiver");
            let mut file = open_writer(&path);
            write_some(&mut file, &bytes);
            drop(file);
            let out = child.wait_with_output().expect("wait for fifo-receiver");
            let fin = Finished {
                code: out.status.code(),
                status: out.status,
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            };
            let allowed: &[i32] = if verdict == Verdict::Accepted {
                &[0]
            } else {
                &[1]
            };
            (allowed, fin)
        };
        problems.extend(judge("fifo-receiver", index, verdict, allowed, &fin));
        if !path.exists() {
            problems.push(format!(
                "input {index}: the receiver removed a FIFO it did not create"
            ));
            break;
        }
    }
    drop(guard);
    ipc_testkit::assert_gone(&path);
    assert_none(&problems, range.end - range.start);
}

#[test]
fn msgq_receiver_refuses_2000_hostile_system_v_messages() {
    let range = 3500..5500u64;
    let key = unique_key();
    let key_arg = format!("{:#x}", key as u32);
    let msgmax: usize = std::fs::read_to_string("/proc/sys/kernel/msgmax")
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(8192);
    let mut problems = Vec::new();
    for index in range.clone() {
        let bytes = hostile::as_message(SEED, index, msgmax);
        let verdict = hostile::message_verdict(&bytes);
        let queue = RawQueue::create(key, 0o600).expect("msgget(IPC_CREAT | IPC_EXCL)");
        queue.send(1, &bytes).expect("msgsnd");
        let cmd = limited("msgq-receiver", &["--key", &key_arg, "--nowait"]);
        let fin = run_quick(cmd, b"");
        let allowed: &[i32] = match verdict {
            Verdict::Accepted => &[0],
            Verdict::Rejected => &[1],
            Verdict::EndedWithoutEnd => &[0, 1],
        };
        problems.extend(judge("msgq-receiver", index, verdict, allowed, &fin));
        drop(queue);
    }
    assert!(!sysv_key_exists("msg", key), "the queue was left behind");
    assert_none(&problems, range.end - range.start);
}

#[test]
fn msgq_receiver_refuses_1500_hostile_posix_messages() {
    use nix::mqueue::{mq_close, mq_open, mq_send, mq_unlink, MQ_OFlag, MqAttr};
    let range = 5500..7000u64;
    let name = format!("/ipt-hostile-{}", std::process::id());
    let read = |path: &str, default: i64| {
        std::fs::read_to_string(path)
            .ok()
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(default)
    };
    let msg_max = read("/proc/sys/fs/mqueue/msg_max", 10);
    let msgsize = read("/proc/sys/fs/mqueue/msgsize_max", 8192);
    let attr = MqAttr::new(0, msg_max, msgsize, 0);
    let mut problems = Vec::new();
    for index in range.clone() {
        let bytes = hostile::as_message(SEED, index, msgsize as usize);
        let verdict = hostile::message_verdict(&bytes);
        let flags = MQ_OFlag::O_CREAT | MQ_OFlag::O_EXCL | MQ_OFlag::O_WRONLY;
        let mode = nix::sys::stat::Mode::from_bits_truncate(0o600);
        let mqd = mq_open(name.as_str(), flags, mode, Some(&attr)).expect("mq_open");
        mq_send(&mqd, &bytes, 0).expect("mq_send");
        mq_close(mqd).expect("mq_close");
        let cmd = limited("msgq-receiver", &["--posix", "--name", &name, "--nowait"]);
        let fin = run_quick(cmd, b"");
        let allowed: &[i32] = match verdict {
            Verdict::Accepted => &[0],
            Verdict::Rejected => &[1],
            Verdict::EndedWithoutEnd => &[0, 1],
        };
        problems.extend(judge("msgq-receiver", index, verdict, allowed, &fin));
        let _ = mq_unlink(name.as_str()); // the receiver keeps a queue it could not empty
    }
    assert!(
        !ipc_soak::leftover::posix_queue_exists(&name),
        "the queue {name} was left behind"
    );
    assert_none(&problems, range.end - range.start);
}

/// The peak resident memory (VmHWM) of a running process, in KiB.
fn peak_kib(pid: nix::unistd::Pid) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read /proc status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a VmHWM line")
}

#[test]
fn socket_server_drops_3000_hostile_clients_and_keeps_serving() {
    use std::io::Read;
    use std::net::Shutdown;
    use std::os::unix::net::UnixStream;
    let range = 7000..10000u64;
    let path = unique_path("hostile-sock");
    let _guard = FifoGuard(path.clone()); // removes the socket file if the test fails
    let shown = path.display().to_string();
    // No prlimit here: a server runs a thread per client (each with its own malloc arena of
    // address space); its peak resident memory is read from /proc instead.
    let mut cmd = Command::new(program("socket-server"));
    cmd.args(["--unix", &shown]).stdin(Stdio::null());
    let mut server = Running::start(cmd, None);
    server.wait_for_stderr("server waiting on", BOUND);
    let (mut bad, mut without_end, mut ended) = (0u64, 0u64, 0u64);
    let mut problems = Vec::new();
    for index in range.clone() {
        let bytes = hostile::input(SEED, index, 1 << 16);
        match hostile::stream_end(&bytes) {
            hostile::StreamEnd::BadFrame => bad += 1,
            hostile::StreamEnd::ClosedWithoutEnd => without_end += 1,
            hostile::StreamEnd::End => ended += 1,
        }
        let mut stream = UnixStream::connect(&path).expect("connect to socket-server");
        stream
            .set_read_timeout(Some(BOUND))
            .expect("set a read timeout");
        let _ = stream.write_all(&bytes); // the server may drop us before we are done
        let _ = stream.shutdown(Shutdown::Write);
        // The server closes the connection once it has dropped us or seen our end.
        let mut replies = Vec::new();
        if let Err(err) = stream.read_to_end(&mut replies) {
            if err.kind() == ErrorKind::WouldBlock || err.kind() == ErrorKind::TimedOut {
                problems.push(format!(
                    "input {index}: the server kept the connection open"
                ));
            }
        }
    }
    // Still serving: a well-behaved client gets through after all that.
    let client = Command::new(program("socket-client"))
        .args(["--unix", &shown, "--message", "still there?"])
        .stdin(Stdio::null())
        .output()
        .expect("run socket-client");
    assert!(
        client.status.success(),
        "{}",
        String::from_utf8_lossy(&client.stderr)
    );
    let peak = peak_kib(server.pid());
    server.signal(Signal::SIGINT);
    let fin = server.finish(BOUND);
    fin.assert_code(130).assert_no_panic();
    let count = |pred: &dyn Fn(&str) -> bool| fin.stderr.lines().filter(|l| pred(l)).count() as u64;
    let dropped = count(&|l| l.starts_with("socket-server: dropped "));
    let left = count(&|l| l.ends_with(" left without its End message"));
    let finished = count(&|l| l.starts_with("socket-server: unix#") && l.ends_with(" finished"));
    let lost = count(&|l| l.starts_with("socket-server: lost "));
    assert_eq!(
        (dropped, left, finished, lost),
        (bad, without_end, ended + 1, 0),
        "(dropped, left without End, finished, lost): the server's log against the decoder"
    );
    // The bound: read_frame grows its buffer only as bytes arrive (a claim of 16 MiB costs
    // nothing until the bytes come), in whichever malloc arena the client's thread uses (glibc
    // keeps up to 8 per core, each keeping its freed memory). The test below holds 64 claims
    // open at once.
    assert!(peak < 320 * 1024, "the server's peak memory was {peak} KiB");
    assert_none(&problems, range.end - range.start);
    ipc_testkit::assert_gone(&path);
}

#[test]
fn socket_server_memory_stays_bounded_when_64_clients_claim_16_mib_frames() {
    use std::os::unix::net::UnixStream;
    let path = unique_path("hostile-claim");
    let _guard = FifoGuard(path.clone());
    let shown = path.display().to_string();
    let mut cmd = Command::new(program("socket-server"));
    cmd.args(["--unix", &shown]).stdin(Stdio::null());
    let mut server = Running::start(cmd, None);
    server.wait_for_stderr("server waiting on", BOUND);
    let mut claim = (ipc_common::wire::MAX_FRAME as u32).to_le_bytes().to_vec();
    claim.extend_from_slice(b"abc"); // and then nothing: the rest never comes
    let clients: Vec<UnixStream> = (0..64)
        .map(|_| {
            let mut stream = UnixStream::connect(&path).expect("connect");
            stream.write_all(&claim).expect("send the claim");
            stream
        })
        .collect();
    // Give the server's threads time to read the claims (this times the measurement).
    std::thread::sleep(Duration::from_secs(1));
    let peak = peak_kib(server.pid());
    drop(clients);
    server.signal(Signal::SIGINT);
    server.finish(BOUND).assert_no_panic();
    assert!(
        peak < 256 * 1024,
        "64 clients that each sent 7 bytes cost the server {peak} KiB"
    );
}
