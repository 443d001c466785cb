//! The tutorial's C programs (c/), built with their Makefile and run as a user runs them: each
//! pair as two real processes, with this test's own key, path or port, checked from outside,
//! and nothing left behind.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use ipc_testkit::{
    assert_gone, assert_no_sysv_objects, run, sysv_key_exists, unique_key, unique_path, Running,
    WATCHDOG,
};
use nix::sys::signal::Signal;

const READY: Duration = Duration::from_secs(20);

/// c/ in this repository.
fn c_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../c")
}

/// Builds every C program once per test run (`make -C c`) and returns the path of `name`.
fn program(name: &str) -> Command {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let out = Command::new("make")
            .arg("-s")
            .arg("-C")
            .arg(c_dir())
            .stdin(Stdio::null())
            .output()
            .map_err(|err| format!("cannot run make: {err}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "make -C c failed:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    });
    if let Err(why) = built {
        panic!("{why}");
    }
    Command::new(c_dir().join("build").join(name))
}

fn key_arg(key: i32) -> String {
    format!("0x{:08x}", key as u32)
}

/// Removes a test's System V objects with `ipcrm` if the test fails half-way; a passing test
/// has already checked that nothing is left.
struct RemoveOnDrop(i32);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        for (kind, flag) in [("msg", "-Q"), ("sem", "-S"), ("shm", "-M")] {
            if sysv_key_exists(kind, self.0) {
                let _ = Command::new("ipcrm")
                    .args([flag, &key_arg(self.0)])
                    .status();
            }
        }
    }
}

/// Starts `cmd` with no input (it must never read a terminal).
fn start(mut cmd: Command) -> Running {
    cmd.stdin(Stdio::null());
    Running::start(cmd, None)
}

#[test]
fn make_builds_every_program_without_warnings() {
    // -Werror in c/Makefile turns any warning into a failure; compile one afresh to see it.
    let out = Command::new("make")
        .args(["-s", "-B", "-C"])
        .arg(c_dir())
        .arg("build/pipe")
        .stdin(Stdio::null())
        .output()
        .expect("make runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "make failed:\n{stderr}");
    assert!(!stderr.contains("warning"), "warnings:\n{stderr}");
    for name in [
        "pipe",
        "fifo_writer",
        "fifo_reader",
        "msgq_sender",
        "msgq_receiver",
        "sem_mutex",
        "shm_sender",
        "shm_receiver",
        "server",
        "client",
    ] {
        let _ = program(name);
        assert!(
            c_dir().join("build").join(name).is_file(),
            "{name} was not built"
        );
    }
}

#[test]
fn pipe_parent_writes_the_whole_line_and_the_child_reads_it() {
    let out = run(program("pipe"), b"Hello Linux, with spaces\n");
    out.assert_code(0);
    assert_eq!(out.lines(), ["Hello Linux, with spaces"]);
    for milestone in [
        "Pipe Created Successfully...",
        "Descriptors are: ",
        "Parent Process....",
        "Enter Data To Be Written To Pipe",
        "Pipe Written Successfully..",
        "Child Process",
        "Pipe Read Successfully",
    ] {
        assert!(
            out.stderr.contains(milestone),
            "no {milestone:?} in:\n{}",
            out.stderr
        );
    }
}

#[test]
fn fifo_reader_prints_each_line_until_end_and_removes_the_fifo() {
    let path = unique_path("cfifo");
    let mut reader = program("fifo_reader");
    reader.arg("-p").arg(&path);
    let mut reader = start(reader);
    reader.wait_for_stderr("Fifo Created Successfully...", READY);

    let mut writer = program("fifo_writer");
    writer.arg("-p").arg(&path);
    let wrote = run(writer, b"hello world\n\nsecond\nend\nnever sent\n");
    wrote.assert_code(0);
    assert!(
        wrote.stderr.contains("File Permissions Are OK"),
        "{}",
        wrote.stderr
    );
    assert_eq!(wrote.stderr.matches("Written Successfully...").count(), 4);

    let read = reader.finish(WATCHDOG);
    read.assert_code(0);
    assert_eq!(
        read.lines(),
        [
            "Data From Named Pipe Is: hello world",
            "Data From Named Pipe Is: ",
            "Data From Named Pipe Is: second",
            "Data From Named Pipe Is: end",
        ]
    );
    assert_gone(&path);
}

#[test]
fn fifo_writer_without_a_reader_says_to_start_it() {
    let path = unique_path("cfifo-none");
    let mut writer = program("fifo_writer");
    writer.arg("-p").arg(&path);
    let out = run(writer, b"hello\n");
    out.assert_code(1);
    assert!(
        out.stderr.contains("No such file or directory"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("hint: start fifo_reader first"),
        "{}",
        out.stderr
    );
    assert_gone(&path);
}

#[test]
fn fifo_reader_refuses_a_path_that_is_not_a_fifo_and_leaves_it() {
    let path = unique_path("cfifo-file");
    std::fs::write(&path, b"a plain file").expect("write a plain file");
    let mut reader = program("fifo_reader");
    reader.arg("-p").arg(&path);
    let out = run(reader, b"");
    let left = std::fs::read(&path);
    let _ = std::fs::remove_file(&path);
    out.assert_code(1);
    assert!(out.stderr.contains("is not a FIFO"), "{}", out.stderr);
    assert_eq!(left.ok().as_deref(), Some(&b"a plain file"[..]));
}

#[test]
fn msgq_queue_keeps_messages_for_a_receiver_started_later() {
    let key = unique_key();
    let _cleanup = RemoveOnDrop(key);
    let mut sender = program("msgq_sender");
    sender.args(["-k", &key_arg(key)]);
    // The textbook's end rule, strncmp(text, "end", 3): "endless" is the last line sent and
    // the last one printed.
    run(sender, b"hello there\nendless\nnever sent\n").assert_code(0);
    assert!(sysv_key_exists("msg", key), "the queue outlives the sender");
    // msgq_sender.c sends msg2.c's whole 512-byte buffer: two messages, 1024 bytes
    // (/proc/sysvipc/msg: key msqid perms cbytes qnum ...).
    let table = std::fs::read_to_string("/proc/sysvipc/msg").expect("/proc/sysvipc/msg");
    let row: Vec<&str> = table
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>())
        .find(|cols| cols[0].parse::<i64>().ok() == Some(i64::from(key)))
        .expect("the queue's row");
    assert_eq!((row[3], row[4]), ("1024", "2"), "cbytes and qnum: {row:?}");

    let mut receiver = program("msgq_receiver");
    receiver.args(["-k", &key_arg(key)]);
    let out = run(receiver, b"");
    out.assert_code(0);
    assert_eq!(
        out.lines(),
        ["You wrote: hello there", "You wrote: endless"]
    );
    assert_no_sysv_objects(key);
}

#[test]
fn msgq_end_of_input_ends_the_conversation_too() {
    let key = unique_key();
    let _cleanup = RemoveOnDrop(key);
    let mut receiver = program("msgq_receiver");
    receiver.args(["-k", &key_arg(key)]);
    let mut receiver = start(receiver);
    receiver.wait_for_stderr("waiting for messages", READY);
    let mut sender = program("msgq_sender");
    sender.args(["-k", &key_arg(key)]);
    run(sender, b"only line").assert_code(0);
    let out = receiver.finish(WATCHDOG);
    out.assert_code(0);
    assert_eq!(out.lines(), ["You wrote: only line", "You wrote: end"]);
    assert_no_sysv_objects(key);
}

#[test]
fn msgq_receiver_interrupted_while_waiting_removes_its_queue() {
    let key = unique_key();
    let _cleanup = RemoveOnDrop(key);
    let mut receiver = program("msgq_receiver");
    receiver.args(["-k", &key_arg(key)]);
    let mut receiver = start(receiver);
    receiver.wait_for_stderr("waiting for messages", READY);
    assert!(sysv_key_exists("msg", key));
    receiver.signal(Signal::SIGINT);
    let out = receiver.finish(Duration::from_secs(5));
    out.assert_code(130);
    assert_no_sysv_objects(key);
}

#[test]
fn msgq_rejects_a_bad_key() {
    let mut sender = program("msgq_sender");
    sender.args(["-k", "twelve"]);
    let out = run(sender, b"");
    out.assert_code(2);
    assert!(out.stderr.contains("usage:"), "{}", out.stderr);
}

#[test]
fn shm_pair_hands_each_line_over_with_the_flag_and_removes_everything() {
    let key = unique_key();
    let _cleanup = RemoveOnDrop(key);
    let mut receiver = program("shm_receiver");
    receiver.args(["-k", &key_arg(key)]);
    let mut receiver = start(receiver);
    receiver.wait_for_stderr("waiting for text", READY);
    assert!(sysv_key_exists("shm", key) && !sysv_key_exists("sem", key));

    let lines: Vec<String> = (1..=50).map(|i| format!("line {i} of fifty")).collect();
    let input = format!("{}\nend\nnever sent\n", lines.join("\n"));
    let mut sender = program("shm_sender");
    sender.args(["-k", &key_arg(key)]);
    let sent = run(sender, input.as_bytes());
    sent.assert_code(0);
    assert!(
        sent.stderr.contains("Memory attached at"),
        "{}",
        sent.stderr
    );

    let out = receiver.finish(WATCHDOG);
    out.assert_code(0);
    let mut expected: Vec<String> = lines.iter().map(|l| format!("You wrote: {l}")).collect();
    expected.push("You wrote: end".into());
    assert_eq!(
        out.lines(),
        expected,
        "every line once, in order, none torn or repeated"
    );
    assert_no_sysv_objects(key);
}

#[test]
fn shm_sender_started_first_leaves_its_texts_for_the_receiver() {
    let key = unique_key();
    let _cleanup = RemoveOnDrop(key);
    let mut sender = program("shm_sender");
    sender.args(["-k", &key_arg(key)]);
    let mut sender = Running::start(sender, Some(b"first\nend\n".to_vec()));
    sender.wait_for_stderr("Memory attached at", READY);
    let mut receiver = program("shm_receiver");
    receiver.args(["-k", &key_arg(key)]);
    let receiver = start(receiver);
    sender.finish(WATCHDOG).assert_code(0);
    let out = receiver.finish(WATCHDOG);
    out.assert_code(0);
    assert_eq!(out.lines(), ["You wrote: first", "You wrote: end"]);
    assert_no_sysv_objects(key);
}

#[test]
fn shm_sender_interrupted_before_any_receiver_removes_the_segment_it_made() {
    let key = unique_key();
    let _cleanup = RemoveOnDrop(key);
    let mut sender = program("shm_sender");
    sender.args(["-k", &key_arg(key)]).stdin(Stdio::piped()); // open and silent
    let mut sender = Running::start(sender, None);
    sender.wait_for_stderr("Memory attached at", READY);
    assert!(sysv_key_exists("shm", key));
    sender.signal(Signal::SIGINT);
    let out = sender.finish(Duration::from_secs(5));
    out.assert_code(130);
    assert!(out.stderr.contains("segment removed"), "{}", out.stderr);
    assert_no_sysv_objects(key);
}

/// shm_nattch of the segment with `key` (/proc/sysvipc/shm: key shmid perms size cpid lpid
/// nattch ...), 0 if there is none.
fn shm_nattch(key: i32) -> u64 {
    let table = std::fs::read_to_string("/proc/sysvipc/shm").expect("/proc/sysvipc/shm");
    table
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>())
        .find(|cols| cols[0].parse::<i64>().ok() == Some(i64::from(key)))
        .and_then(|cols| cols[6].parse().ok())
        .unwrap_or(0)
}

#[test]
fn shm_sender_pairs_with_the_textbook_shm1() {
    let Some(shm1) = ipc_testkit::textbook_program("shm1") else {
        return;
    };
    let key = unique_key();
    let _cleanup = RemoveOnDrop(key);
    let consumer = start(ipc_testkit::remapped(&shm1, key, None));
    // shm1 prints nothing we can wait for (its stdout is a pipe, fully buffered): it is
    // ready once it has attached its segment.
    let deadline = std::time::Instant::now() + READY;
    while shm_nattch(key) == 0 {
        assert!(std::time::Instant::now() < deadline, "shm1 never attached");
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut sender = program("shm_sender");
    sender.args(["-k", &key_arg(key)]);
    run(sender, b"from fixed C\nend\n").assert_code(0);
    let out = consumer.finish(WATCHDOG);
    out.assert_code(0);
    assert_eq!(
        out.lines()[1..],
        ["You wrote: from fixed C", "You wrote: end"],
        "{}",
        out.stdout
    );
    assert_no_sysv_objects(key);
}

#[test]
fn shm_receiver_pairs_with_the_textbook_shm2() {
    let Some(shm2) = ipc_testkit::textbook_program("shm2") else {
        return;
    };
    let key = unique_key();
    let _cleanup = RemoveOnDrop(key);
    let mut receiver = program("shm_receiver");
    receiver.args(["-k", &key_arg(key)]);
    let mut receiver = start(receiver);
    receiver.wait_for_stderr("waiting for text", READY);
    run(ipc_testkit::remapped(&shm2, key, None), b"hello\nend\n").assert_code(0);
    let out = receiver.finish(WATCHDOG);
    out.assert_code(0);
    assert_eq!(out.lines(), ["You wrote: hello", "You wrote: end"]);
    assert_no_sysv_objects(key);
}

#[test]
fn sem_mutex_copies_never_interleave_inside_the_critical_section() {
    let key = unique_key();
    let _cleanup = RemoveOnDrop(key);
    let log = unique_path("csem-log");
    std::fs::write(&log, b"").expect("create the shared log");
    // Both copies append to one file, as both would print to one terminal in the tutorial.
    let copy = |extra: &[&str]| {
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg("exec \"$0\" \"$@\" >> \"$SEM_LOG\"")
            .arg(c_dir().join("build/sem_mutex"))
            .args(["-k", &key_arg(key), "-r", "8", "-d", "20"])
            .args(extra)
            .env("SEM_LOG", &log);
        let _ = program("sem_mutex"); // built
        start(cmd)
    };
    let mut first = copy(&["-i", "-w", "1"]);
    first.wait_for_stderr("semaphore set created", READY);
    let mut second = copy(&[]);
    second.wait_for_stderr("joined the semaphore set", READY);
    let first = first.finish(WATCHDOG);
    let second = second.finish(WATCHDOG);
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    first.assert_code(0);
    second.assert_code(0);

    let marks: Vec<char> = text.chars().filter(|c| *c == 'X' || *c == 'O').collect();
    assert_eq!(marks.iter().filter(|c| **c == 'X').count(), 16, "{text}");
    assert_eq!(marks.iter().filter(|c| **c == 'O').count(), 16, "{text}");
    for pair in marks.chunks(2) {
        assert_eq!(
            pair[0], pair[1],
            "a copy entered while the other was inside:\n{text}"
        );
    }
    assert_eq!(text.matches(" - finished").count(), 2, "{text}");
    assert_no_sysv_objects(key);
    assert_gone(&log);
}

#[test]
fn sem_mutex_without_the_first_copy_says_to_start_it() {
    let key = unique_key();
    let _cleanup = RemoveOnDrop(key);
    let mut copy = program("sem_mutex");
    copy.args(["-k", &key_arg(key), "-r", "1"]);
    let out = run(copy, b"");
    out.assert_code(1);
    assert!(
        out.stderr.contains("hint: start the first copy with -i"),
        "{}",
        out.stderr
    );
    assert_no_sysv_objects(key);
}

/// c/sem_mutex (ours) and c/textbook/build/sem1 (the textbook's, as printed, moved to `key`
/// by the shim) side by side on one shared stdout (a file both append to, as both would
/// print to one terminal). `ours_first`: sem_mutex -i initialises and sem1 (no argument)
/// joins; else sem1 with an argument initialises and sem_mutex joins. Checks the pairs never
/// interleave, 10 of each, both exit 0, and nothing is left.
fn sem_mutex_beside_textbook_sem1(ours_first: bool) {
    let Some(sem1) = ipc_testkit::textbook_program("sem1") else {
        return;
    };
    let key = unique_key();
    let _cleanup = RemoveOnDrop(key);
    let log = unique_path("csem1-log");
    std::fs::write(&log, b"").expect("create the shared log");
    let appending = |program: &Path, args: &[&str], shim: bool| {
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg("exec \"$0\" \"$@\" >> \"$SEM_LOG\"")
            .arg(program)
            .args(args)
            .env("SEM_LOG", &log);
        if shim {
            let from = ipc_testkit::remapped(program, key, None);
            for (name, value) in from.get_envs() {
                if let Some(value) = value {
                    cmd.env(name, value);
                }
            }
        }
        start(cmd)
    };
    let _ = program("sem_mutex"); // built
    let ours = c_dir().join("build/sem_mutex");
    let (first, second) = if ours_first {
        let mut first = appending(&ours, &["-i", "-k", &key_arg(key), "-d", "400"], false);
        first.wait_for_stderr("semaphore set created", READY);
        (first, appending(&sem1, &[], true))
    } else {
        let first = appending(&sem1, &["1"], true);
        let deadline = std::time::Instant::now() + READY;
        while !sysv_key_exists("sem", key) {
            assert!(std::time::Instant::now() < deadline, "sem1 made no set");
            std::thread::sleep(Duration::from_millis(5));
        }
        (
            first,
            appending(&ours, &["-k", &key_arg(key), "-d", "400"], false),
        )
    };
    // sem1 sleeps as printed: 2 s, up to 3 s a round, 10 s before removing.
    let second = second.finish(Duration::from_secs(150));
    let first = first.finish(Duration::from_secs(150));
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    first.assert_code(0);
    second.assert_code(0);
    let marks: Vec<char> = text.chars().filter(|c| *c == 'X' || *c == 'O').collect();
    assert_eq!(marks.iter().filter(|c| **c == 'X').count(), 20, "{text}");
    assert_eq!(marks.iter().filter(|c| **c == 'O').count(), 20, "{text}");
    for pair in marks.chunks(2) {
        assert_eq!(
            pair[0], pair[1],
            "a copy entered while the other was inside:\n{text}"
        );
    }
    assert_eq!(text.matches(" - finished").count(), 2, "{text}");
    for stderr in [&first.stderr, &second.stderr] {
        assert!(!stderr.contains("failed"), "{stderr}");
        assert!(!stderr.contains("Failed"), "{stderr}");
    }
    assert_no_sysv_objects(key);
    assert_gone(&log);
}

#[test]
fn sem_mutex_initialises_and_the_textbook_sem1_joins() {
    sem_mutex_beside_textbook_sem1(true);
}

#[test]
fn the_textbook_sem1_initialises_and_sem_mutex_joins() {
    sem_mutex_beside_textbook_sem1(false);
}

/// Starts the server on a port the kernel chooses and returns it with that port.
fn start_server() -> (Running, String) {
    let mut server = program("server");
    server.args(["-P", "0"]);
    let mut server = start(server);
    let line = server.wait_for_stderr("server waiting", READY);
    let port = line.rsplit(' ').next().unwrap_or_default().to_string();
    assert!(
        port.parse::<u16>().is_ok_and(|p| p > 0),
        "no port in {line:?}"
    );
    (server, port)
}

#[test]
fn socket_client_lines_reach_the_server_until_end() {
    let (server, port) = start_server();
    let mut client = program("client");
    client.args(["-P", &port, "localhost"]);
    run(client, b"hello server\n\nend\nnever sent\n").assert_code(0);
    let out = server.finish(WATCHDOG);
    out.assert_code(0);
    assert_eq!(
        out.lines(),
        ["You wrote: hello server", "You wrote: ", "You wrote: end"]
    );
}

#[test]
fn socket_server_keeps_serving_after_a_client_breaks_off() {
    let (server, port) = start_server();
    // A client that breaks off mid-line, without `end`: the server prints what arrived and
    // waits for the next client.
    {
        use std::io::Write;
        let mut rude =
            std::net::TcpStream::connect(("127.0.0.1", port.parse::<u16>().unwrap_or(0)))
                .expect("connect to the C server");
        rude.write_all(b"half a li").expect("write");
    }
    let mut second = program("client");
    second.args(["-P", &port]);
    let sent = run(second, b"still here\n");
    let out = server.finish(WATCHDOG);
    sent.assert_code(0);
    out.assert_code(0);
    assert_eq!(
        out.lines(),
        [
            "You wrote: half a li",
            "You wrote: still here",
            "You wrote: end"
        ]
    );
    assert_eq!(
        out.stderr.matches("server waiting").count(),
        2,
        "{}",
        out.stderr
    );
}

#[test]
fn socket_one_char_client_gets_char_plus_one_and_the_server_stops() {
    // The textbook's exchange (client.c -c CHAR): one char out, char + 1 back, connection
    // closed; a one-char client's whole conversation, so the server stops as after `end`.
    let (server, port) = start_server();
    let mut client = program("client");
    client.args(["-P", &port, "-c", "A", "localhost"]);
    let answered = run(client, b"");
    answered.assert_code(0);
    assert_eq!(answered.lines(), ["char from server = B"]);
    let out = server.finish(WATCHDOG);
    out.assert_code(0);
    assert_eq!(out.lines(), ["char from client = A, sent back B"]);
}

#[test]
fn socket_server_takes_crlf_lines_and_ends_on_end_crlf() {
    use std::io::{Read, Write};
    // As telnet or `nc -C` send them: the \r is not part of the text, and `end\r\n` ends.
    let (server, port) = start_server();
    let mut telnet = std::net::TcpStream::connect(("127.0.0.1", port.parse::<u16>().unwrap_or(0)))
        .expect("connect to the C server");
    telnet.write_all(b"hi there\r\nend\r\n").expect("write");
    let mut rest = Vec::new();
    telnet
        .read_to_end(&mut rest)
        .expect("the server closes after end");
    assert!(rest.is_empty(), "{rest:?}");
    let out = server.finish(WATCHDOG);
    out.assert_code(0);
    assert_eq!(out.lines(), ["You wrote: hi there", "You wrote: end"]);
}

#[test]
fn socket_one_char_client_without_an_answer_says_so() {
    // A server that reads the char and closes without answering.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a listener");
    let port = listener
        .local_addr()
        .expect("its address")
        .port()
        .to_string();
    let closer = std::thread::spawn(move || {
        use std::io::Read;
        let (mut conn, _) = listener.accept().expect("accept");
        let mut ch = [0u8; 1];
        conn.read_exact(&mut ch).expect("the client's char");
        drop(conn);
    });
    let mut client = program("client");
    client.args(["-P", &port, "-c", "A", "localhost"]);
    let out = run(client, b"");
    closer.join().expect("the closer thread");
    out.assert_code(1);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    assert!(
        out.stderr
            .contains("the server closed the connection without answering"),
        "{}",
        out.stderr
    );
}

#[test]
fn socket_client_without_a_server_says_to_start_it() {
    // Bind then drop a listener to find a port that nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let mut client = program("client");
    client.args(["-P", &port.to_string(), "localhost"]);
    let out = run(client, b"hello\n");
    out.assert_code(1);
    assert!(out.stderr.contains("Connection refused"), "{}", out.stderr);
    assert!(
        out.stderr.contains("hint: start ./build/server first"),
        "{}",
        out.stderr
    );
}

#[test]
fn fifo_reader_interrupted_in_open_removes_its_fifo() {
    let path = unique_path("cfifo-int");
    let mut reader = program("fifo_reader");
    reader.arg("-p").arg(&path);
    let mut reader = start(reader);
    reader.wait_for_stderr("waiting for a writer", READY);
    reader.signal(Signal::SIGINT);
    let out = reader.finish(Duration::from_secs(5));
    out.assert_code(130);
    assert_gone(&path);
}

#[test]
fn shm_receiver_terminated_while_waiting_removes_its_segment() {
    let key = unique_key();
    let _cleanup = RemoveOnDrop(key);
    let mut receiver = program("shm_receiver");
    receiver.args(["-k", &key_arg(key)]);
    let mut receiver = start(receiver);
    receiver.wait_for_stderr("waiting for text", READY);
    receiver.signal(Signal::SIGTERM);
    let out = receiver.finish(Duration::from_secs(5));
    out.assert_code(130);
    assert!(out.stderr.contains("segment removed"), "{}", out.stderr);
    assert_no_sysv_objects(key);
}

#[test]
fn sem_mutex_first_copy_interrupted_while_waiting_removes_the_set() {
    let key = unique_key();
    let _cleanup = RemoveOnDrop(key);
    let mut first = program("sem_mutex");
    first.args(["-i", "-w", "1", "-k", &key_arg(key)]);
    let mut first = start(first);
    first.wait_for_stderr("waiting for 1 other copy", READY);
    first.signal(Signal::SIGINT);
    first.finish(Duration::from_secs(5)).assert_code(130);
    assert_no_sysv_objects(key);
}
