//! Each mechanism's two ends: the bench process creates the kernel objects and starts its peer
//! (itself, re-executed with the hidden `__peer` command), the peer opens them.
//!
//! Every end is the mechanism's own [`Inbox`] and [`Outbox`], the very types the sender and
//! receiver programs use: crates/common's frame reader and writer on byte streams (pipe, FIFO,
//! Unix stream, TCP), crates/socket's `Datagrams` for UDP, crates/msgq's `QueueInbox` and
//! `QueueOutbox`, crates/shm's `ShmReader` and `ShmWriter`, crates/ring's `RingReceiver` and
//! `RingSender`. The raw path goes through their `send_bytes`/`receive_bytes`, the typed path
//! through `send`/`receive`; the bench has no adapters of its own.
//!
//! The FIFO is made here with `mkfifo` and read and written like a pipe: crates/fifo's
//! `FifoWriter` keeps each message within PIPE_BUF (4 KiB) so that several writers never
//! interleave, which a one-writer 64 KiB stream does not need.

use std::any::Any;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::os::fd::AsFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use ipc_common::receiver::Inbox;
use ipc_common::sender::Outbox;
use ipc_common::stream::{FrameReader, FrameWriter};
use ipc_common::{cli, signals, Context, Error, Result};
use ipc_msgq::posix::Access;
use ipc_msgq::{MsgQueue, PosixQueue, QueueInbox, QueueOutbox};
use ipc_pipe::ChildGuard;
use ipc_ring::{Ring, RingReceiver, RingSender};
use ipc_shm::{Channel, Layout, ShmReader, ShmWriter};
use ipc_socket::datagram::Datagrams;

use crate::codec::PathKind;
pub use crate::mech::{Mech, ENVELOPE};

/// One end of a connection, ready for a codec: the mechanism's own [`Inbox`] and [`Outbox`],
/// the same types the sender and receiver programs use.
pub struct Endpoint {
    pub inbox: Box<dyn Inbox>,
    pub outbox: Box<dyn Outbox>,
}

impl Endpoint {
    /// A byte stream, framed as the programs frame it (and written as-is on the raw path).
    fn stream(r: impl Read + 'static, w: impl Write + 'static) -> Self {
        Endpoint {
            inbox: Box::new(FrameReader::new(r, "reading the stream")),
            outbox: Box::new(FrameWriter::new(
                w,
                "writing the stream",
                "the peer closed the stream",
            )),
        }
    }

    fn of(inbox: impl Inbox + 'static, outbox: impl Outbox + 'static) -> Self {
        Endpoint {
            inbox: Box::new(inbox),
            outbox: Box::new(outbox),
        }
    }
}

/// What the peer is asked to do, passed on its command line.
#[derive(Debug, Clone, clap::Args)]
pub struct PeerSpec {
    #[arg(long, value_enum)]
    pub mech: Mech,
    #[arg(long, value_enum)]
    pub role: Role,
    #[arg(long, value_enum)]
    pub path: PathKind,
    /// Payload bytes per message.
    #[arg(long)]
    pub size: usize,
    /// Measured messages (or round trips).
    #[arg(long)]
    pub count: u64,
    /// Messages (or round trips) before the measurement.
    #[arg(long)]
    pub warmup: u64,
    /// Where to find the bench's objects (path, address, name).
    #[arg(long, default_value = "")]
    pub addr: String,
    /// CPU to run on.
    #[arg(long)]
    pub cpu: Option<usize>,
}

/// The peer's part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Role {
    /// Send every message back (latency).
    Echo,
    /// Send a one-way stream (throughput).
    Send,
}

/// The bench's end, its running peer, and the objects that must live until the end.
pub struct Session {
    pub endpoint: Endpoint,
    pub peer: ChildGuard,
    /// Guards (FIFO, socket path, ...) dropped after the peer is done.
    pub _held: Vec<Box<dyn Any>>,
}

/// The System V queue's capacity for messages of `size` payload bytes: as many whole messages
/// of `size` + [`ENVELOPE`] bytes as `max_bytes` (msgmnb) holds, so that the raw, typed and C
/// paths all queue the same number of messages. The default 16 KiB holds four raw 4 KiB
/// messages but only three typed ones (4 KiB + the envelope), and where a wake-up costs 80 us
/// that one message of depth alone made typed 0.69x raw; tools/bench/c/sysvmsg.c applies the
/// same formula.
pub fn equal_depth(max_bytes: u64, size: usize) -> u64 {
    let message = (size + ENVELOPE) as u64;
    (max_bytes / message).max(1) * message
}

/// A unique name for this run's objects: `ipc-pairs-bench-PID-N`.
fn unique(tag: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("ipc-pairs-bench-{}-{n}{tag}", std::process::id())
}

/// Ring geometry for messages of `size` payload bytes: room for the typed envelope, and about
/// 2 MiB of slots (at least 2, at most 256). The C ring uses the same formula.
pub fn ring_geometry(size: usize) -> (usize, usize) {
    let slot = size + 256;
    let slots = ((2 << 20) / slot).clamp(2, 256);
    (slot, slots)
}

/// A System V key for one run's object: 0x49PPPPNN ("I", 16 bits of our pid, a counter).
/// Objects are removed after each run, so the counter may wrap.
fn unique_key() -> cli::Key {
    static NEXT: AtomicU32 = AtomicU32::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed) & 0xff;
    cli::Key((0x4900_0000 | ((std::process::id() & 0xffff) << 8) | n) as i32)
}

/// Starts our peer with `spec` (plus `addr`), `stdin`/`stdout` as given.
fn spawn_peer(spec: &PeerSpec, addr: &str, stdin: Stdio, stdout: Stdio) -> Result<ChildGuard> {
    let exe = std::env::current_exe().context("finding our own executable")?;
    let mut cmd = Command::new(exe);
    cmd.arg("__peer")
        .args(["--mech", spec.mech.name()])
        .args([
            "--role",
            if spec.role == Role::Echo {
                "echo"
            } else {
                "send"
            },
        ])
        .args(["--path", spec.path.name()])
        .args(["--size", &spec.size.to_string()])
        .args(["--count", &spec.count.to_string()])
        .args(["--warmup", &spec.warmup.to_string()])
        .args(["--addr", addr])
        .stdin(stdin)
        .stdout(stdout);
    if let Some(cpu) = spec.cpu {
        cmd.args(["--cpu", &cpu.to_string()]);
    }
    let child = cmd.spawn().context("starting the bench's peer process")?;
    crate::stop::set_peer(child.id() as i32);
    Ok(ChildGuard::new(
        nix::unistd::Pid::from_raw(child.id() as i32),
        "the bench's peer",
    ))
}

/// Removes a path we created (a FIFO, a socket) when dropped: C `unlink(path)`; then its
/// record of ownership goes too (the second field: `ownership::forget_fifo` or `forget_socket`).
struct PathGuard(PathBuf, fn(&Path));

impl Drop for PathGuard {
    fn drop(&mut self) {
        match std::fs::remove_file(&self.0) {
            Ok(()) => (self.1)(&self.0),
            Err(err) => {
                if err.kind() != io::ErrorKind::NotFound {
                    eprintln!(
                        "{}: warning: removing {}: {err}",
                        ipc_common::program::name(),
                        self.0.display()
                    );
                }
            }
        }
    }
}

/// Accepts one connection, giving up if the peer died or after 10 s.
fn accept_from<T>(peer: &ChildGuard, mut try_accept: impl FnMut() -> io::Result<T>) -> Result<T> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        signals::check()?;
        match try_accept() {
            Ok(conn) => return Ok(conn),
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                if !ipc_common::process::is_running(peer.pid().as_raw() as u32)
                    || Instant::now() > deadline
                {
                    return Err(Error::new(
                        "waiting for the peer to connect",
                        "it exited or did not connect within 10 s",
                    ));
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(err) => return Err(Error::io("accepting the peer's connection", &err)),
        }
    }
}

fn stream_of<S: Read + Write + 'static>(
    s: S,
    clone: impl FnOnce(&S) -> io::Result<S>,
) -> Result<Endpoint> {
    let w = clone(&s).context("duplicating the socket")?;
    Ok(Endpoint::stream(s, w))
}

/// The bench's side: creates the objects, starts the peer, connects.
pub fn open_parent(spec: &PeerSpec) -> Result<Session> {
    let null = Stdio::null;
    match spec.mech {
        Mech::Pipe => {
            // C: pipe(a); pipe(b); the child gets a's read end as stdin, b's write end as stdout.
            let (a_r, a_w) = ipc_pipe::create()?;
            let (b_r, b_w) = ipc_pipe::create()?;
            let peer = spawn_peer(spec, "", Stdio::from(a_r), Stdio::from(b_w))?;
            Ok(Session {
                endpoint: Endpoint::stream(File::from(b_r), File::from(a_w)),
                peer,
                _held: Vec::new(),
            })
        }
        Mech::Fifo => {
            let base = format!("/tmp/{}", unique(""));
            let (a, b) = (format!("{base}-a"), format!("{base}-b"));
            let mode = cli::DEFAULT_MODE;
            let fifo_a = make_fifo(&a, mode)?;
            let fifo_b = make_fifo(&b, mode)?;
            // C: open(a, O_RDWR): never blocks on a FIFO (Linux), so the peer's
            // open(a, O_RDONLY) returns at once; then open(b, O_RDONLY) waits for the peer's
            // open(b, O_WRONLY), and reading b gives end-of-file if the peer dies.
            let w = OpenOptions::new()
                .read(true)
                .write(true)
                .open(&a)
                .context(format!("opening the FIFO {a}"))?;
            let peer = spawn_peer(spec, &base, null(), null())?;
            let r = File::open(&b).context(format!("opening the FIFO {b}"))?;
            Ok(Session {
                endpoint: Endpoint::stream(r, w),
                peer,
                _held: vec![Box::new(fifo_a), Box::new(fifo_b)],
            })
        }
        Mech::Unix => {
            let path = PathBuf::from(format!("/tmp/{}.sock", unique("")));
            let listener = UnixListener::bind(&path)
                .context(format!("binding the Unix socket {}", path.display()))?;
            ipc_common::ownership::record_socket(&path);
            let guard = PathGuard(path.clone(), ipc_common::ownership::forget_socket);
            listener.set_nonblocking(true).context("listening")?;
            let peer = spawn_peer(spec, &path.to_string_lossy(), null(), null())?;
            let (conn, _) = accept_from(&peer, || listener.accept())?;
            conn.set_nonblocking(false)
                .context("configuring the socket")?;
            Ok(Session {
                endpoint: stream_of(conn, UnixStream::try_clone)?,
                peer,
                _held: vec![Box::new(guard)],
            })
        }
        Mech::Tcp => {
            let listener = TcpListener::bind("127.0.0.1:0").context("binding a TCP port")?;
            let addr = listener.local_addr().context("reading the port")?;
            listener.set_nonblocking(true).context("listening")?;
            let peer = spawn_peer(spec, &addr.to_string(), null(), null())?;
            let (conn, _) = accept_from(&peer, || listener.accept())?;
            conn.set_nonblocking(false)
                .context("configuring the socket")?;
            conn.set_nodelay(true).context("setting TCP_NODELAY")?;
            Ok(Session {
                endpoint: stream_of(conn, TcpStream::try_clone)?,
                peer,
                _held: Vec::new(),
            })
        }
        Mech::Udp => {
            let sock = UdpSocket::bind("127.0.0.1:0").context("binding a UDP port")?;
            let addr = sock.local_addr().context("reading the port")?;
            let peer = spawn_peer(spec, &addr.to_string(), null(), null())?;
            sock.set_nonblocking(true)
                .context("configuring the socket")?;
            let mut hello = [0u8; 8];
            let (_, from) = accept_from(&peer, || sock.recv_from(&mut hello))?;
            sock.set_nonblocking(false)
                .context("configuring the socket")?;
            sock.connect(from).context("connecting the UDP socket")?;
            Ok(Session {
                endpoint: udp_endpoint(sock, spec.size)?,
                peer,
                _held: Vec::new(),
            })
        }
        Mech::SysvMsgq => {
            // One queue for both directions: we send type 1 and take type 2 (the tutorial's
            // `msgrcv(..., msg_to_receive, ...)`); two handles on it, the first removes it.
            let key = unique_key();
            let mut queue = MsgQueue::open_or_create(key, cli::DEFAULT_MODE)?;
            let capacity = equal_depth(queue.stat()?.max_bytes, spec.size);
            queue.set_max_bytes(capacity)?;
            let endpoint = Endpoint::of(
                QueueInbox::new(queue, 2, false),
                QueueOutbox::new(open_sysv(key)?, 1, false),
            );
            let peer = spawn_peer(spec, &key.0.to_string(), null(), null())?;
            Ok(Session {
                endpoint,
                peer,
                _held: Vec::new(),
            })
        }
        Mech::PosixMq => {
            let base = format!("/{}", unique(""));
            let mode = cli::DEFAULT_MODE;
            // We create both queues and remove them at the end (the guards in `_held`): an
            // outbox stops owning its queue once it holds data, as msgq-sender must.
            let (a, b) = (format!("{base}-a"), format!("{base}-b"));
            let made_a = PosixQueue::open_or_create(&a, mode, Access::Send)?;
            let rx = PosixQueue::open_or_create(&b, mode, Access::Receive)?;
            let tx = open_posix(&a, Access::Send)?;
            let peer = spawn_peer(spec, &base, null(), null())?;
            Ok(Session {
                endpoint: Endpoint::of(
                    QueueInbox::new(rx, 0, false),
                    QueueOutbox::new(tx, 0, false),
                ),
                peer,
                _held: vec![Box::new(made_a)],
            })
        }
        Mech::ShmSem1 | Mech::ShmSem8 => {
            let (a, b) = (unique_key(), unique_key());
            let layout = shm_layout(spec)?;
            let tx = ShmWriter::new(Channel::attach(a, layout, cli::DEFAULT_MODE)?)?;
            let rx = ShmReader::new(Channel::attach(b, layout, cli::DEFAULT_MODE)?)?;
            let peer = spawn_peer(spec, &format!("{},{}", a.0, b.0), null(), null())?;
            Ok(Session {
                endpoint: Endpoint::of(rx, tx),
                peer,
                _held: Vec::new(),
            })
        }
        Mech::Ring => {
            let base = format!("/{}", unique(""));
            let (slot, slots) = ring_geometry(spec.size);
            let a = Ring::create(&format!("{base}-a"), slot, slots, cli::DEFAULT_MODE)?;
            let b = Ring::create(&format!("{base}-b"), slot, slots, cli::DEFAULT_MODE)?;
            let endpoint = Endpoint::of(RingReceiver::new(b)?, RingSender::new(a)?);
            let peer = spawn_peer(spec, &base, null(), null())?;
            Ok(Session {
                endpoint,
                peer,
                _held: Vec::new(),
            })
        }
    }
}

/// The peer's side: opens what the bench created (named by `spec.addr`).
pub fn open_child(spec: &PeerSpec) -> Result<Endpoint> {
    let addr = spec.addr.as_str();
    match spec.mech {
        Mech::Pipe => {
            let r = io::stdin().as_fd().try_clone_to_owned().context("stdin")?;
            let w = io::stdout()
                .as_fd()
                .try_clone_to_owned()
                .context("stdout")?;
            Ok(Endpoint::stream(File::from(r), File::from(w)))
        }
        Mech::Fifo => {
            let r = File::open(format!("{addr}-a")).context("opening FIFO a")?;
            let w = OpenOptions::new()
                .write(true)
                .open(format!("{addr}-b"))
                .context("opening FIFO b")?;
            Ok(Endpoint::stream(r, w))
        }
        Mech::Unix => {
            let conn = UnixStream::connect(addr).context(format!("connecting to {addr}"))?;
            stream_of(conn, UnixStream::try_clone)
        }
        Mech::Tcp => {
            let conn = TcpStream::connect(addr).context(format!("connecting to {addr}"))?;
            conn.set_nodelay(true).context("setting TCP_NODELAY")?;
            stream_of(conn, TcpStream::try_clone)
        }
        Mech::Udp => {
            let sock = UdpSocket::bind("127.0.0.1:0").context("binding a UDP port")?;
            sock.connect(addr)
                .context(format!("connecting to {addr}"))?;
            sock.send(b"hello").context("greeting the bench")?;
            udp_endpoint(sock, spec.size)
        }
        Mech::SysvMsgq => {
            let key: cli::Key = addr
                .parse()
                .map_err(|e: String| Error::usage("--addr", e))?;
            Ok(Endpoint::of(
                QueueInbox::new(open_sysv(key)?, 1, false),
                QueueOutbox::new(open_sysv(key)?, 2, false),
            ))
        }
        Mech::PosixMq => {
            let rx = open_posix(&format!("{addr}-a"), Access::Receive)?;
            let tx = open_posix(&format!("{addr}-b"), Access::Send)?;
            Ok(Endpoint::of(
                QueueInbox::new(rx, 0, false),
                QueueOutbox::new(tx, 0, false),
            ))
        }
        Mech::ShmSem1 | Mech::ShmSem8 => {
            let keys: Vec<cli::Key> = addr.split(',').filter_map(|k| k.parse().ok()).collect();
            let [a, b] = keys[..] else {
                return Err(Error::usage("--addr", "expected two keys"));
            };
            let layout = shm_layout(spec)?;
            let rx = ShmReader::new(Channel::attach(a, layout, cli::DEFAULT_MODE)?)?;
            let tx = ShmWriter::new(Channel::attach(b, layout, cli::DEFAULT_MODE)?)?;
            Ok(Endpoint::of(rx, tx))
        }
        Mech::Ring => {
            let rx = RingReceiver::new(Ring::open(&format!("{addr}-a"))?)?;
            let tx = RingSender::new(Ring::open(&format!("{addr}-b"))?)?;
            Ok(Endpoint::of(rx, tx))
        }
    }
}

/// C: `mkfifo(path, mode)`; the guard unlinks it.
fn make_fifo(path: &str, mode: cli::Mode) -> Result<PathGuard> {
    nix::unistd::mkfifo(
        Path::new(path),
        nix::sys::stat::Mode::from_bits_truncate(mode.0),
    )
    .context(format!("creating the FIFO {path} (mkfifo)"))?;
    ipc_common::ownership::record_fifo(Path::new(path));
    Ok(PathGuard(
        PathBuf::from(path),
        ipc_common::ownership::forget_fifo,
    ))
}

/// A connected UDP socket, one datagram per message, through crates/socket's `Datagrams`
/// (two handles on the one socket: one receives, one sends). A lost datagram fails the run
/// after 2 s rather than hanging it.
fn udp_endpoint(sock: UdpSocket, size: usize) -> Result<Endpoint> {
    let max = size + 256;
    let timeout = Duration::from_secs(2);
    let send = sock.try_clone().context("duplicating the UDP socket")?;
    Ok(Endpoint::of(
        Datagrams::new(sock, max, timeout)?,
        Datagrams::new(send, max, timeout)?,
    ))
}

/// A second handle on the bench's System V queue, which does not remove it.
fn open_sysv(key: cli::Key) -> Result<MsgQueue> {
    let mut queue = MsgQueue::open_existing(key, cli::DEFAULT_MODE)?
        .ok_or_else(|| Error::new("opening the bench's queue", "it does not exist"))?;
    queue.remove_when_done(false);
    Ok(queue)
}

/// Another handle on one of the bench's POSIX queues, which does not remove it.
fn open_posix(name: &str, access: Access) -> Result<PosixQueue> {
    let mut queue = PosixQueue::open_existing(name, cli::DEFAULT_MODE, access)?
        .ok_or_else(|| Error::new(format!("opening {name}"), "it does not exist"))?;
    queue.remove_when_done(false);
    Ok(queue)
}

/// Slots big enough for one typed message of `spec.size` payload bytes.
fn shm_layout(spec: &PeerSpec) -> Result<Layout> {
    Layout::new(spec.size + ENVELOPE + 4, spec.mech.slots())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_gets_the_same_queue_depth() {
        // 16 KiB holds 4 raw 4 KiB messages but 3 typed ones: 3 for all.
        assert_eq!(equal_depth(16384, 4096), 3 * (4096 + ENVELOPE as u64));
        assert_eq!(equal_depth(16384, 8128), 16384);
        assert_eq!(equal_depth(16384, 64), 16384);
    }
}
