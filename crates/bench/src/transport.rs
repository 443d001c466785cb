//! Each mechanism's two ends: the bench process creates the kernel objects and starts its peer
//! (itself, re-executed with the hidden `__peer` command), the peer opens them.
//!
//! A byte stream (pipe, FIFO, Unix stream, TCP) becomes an [`Endpoint::Stream`]; a
//! message-oriented mechanism (UDP, the ring, the System V and POSIX queues of crates/msgq, the
//! shared-memory handoff of crates/shm) an [`Endpoint::Msg`] that carries one message per kernel
//! message (datagram, slot, queue message). The crates with an API of their own for `Message`s
//! (queues, shared memory, ring) are measured through it on the typed path
//! ([`MsgLink::send_message`], [`MsgLink::recv_message`]).
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

use ipc_common::{cli, signals, wire, Context, Error, Message, Result};
use ipc_msgq::posix::Access;
use ipc_msgq::{MsgQueue, PosixQueue};
use ipc_pipe::ChildGuard;
use ipc_ring::{Consumer, Producer, Ring};
use ipc_shm::{Channel, Layout, ShmReader, ShmWriter};

use crate::codec::PathKind;

/// The mechanisms the bench knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Mech {
    /// Anonymous pipe (pipe(2)), parent and child
    Pipe,
    /// Named pipe (mkfifo(3))
    Fifo,
    /// The lock-free shared-memory ring (crates/ring)
    Ring,
    /// Unix domain stream socket
    Unix,
    /// TCP over loopback
    Tcp,
    /// UDP over loopback (latency only: UDP may drop a stream)
    Udp,
    /// System V message queue (crates/msgq)
    SysvMsgq,
    /// POSIX message queue (crates/msgq)
    PosixMq,
    /// System V shared memory + semaphore handoff, 1 slot (crates/shm)
    #[value(name = "shm-sem-1")]
    ShmSem1,
    /// System V shared memory + semaphore handoff, 8 slots (crates/shm)
    #[value(name = "shm-sem-8")]
    ShmSem8,
}

impl Mech {
    /// Every mechanism, in table order.
    pub const ALL: [Mech; 10] = [
        Mech::Pipe,
        Mech::Fifo,
        Mech::SysvMsgq,
        Mech::PosixMq,
        Mech::ShmSem1,
        Mech::ShmSem8,
        Mech::Unix,
        Mech::Tcp,
        Mech::Udp,
        Mech::Ring,
    ];

    /// The name on the command line, in the table and of its C program.
    pub fn name(self) -> &'static str {
        match self {
            Mech::Pipe => "pipe",
            Mech::Fifo => "fifo",
            Mech::Ring => "ring",
            Mech::Unix => "unix",
            Mech::Tcp => "tcp",
            Mech::Udp => "udp",
            Mech::SysvMsgq => "sysv-msgq",
            Mech::PosixMq => "posix-mq",
            Mech::ShmSem1 => "shm-sem-1",
            Mech::ShmSem8 => "shm-sem-8",
        }
    }

    /// The name of its C reference program (crates/bench/c/NAME.c).
    pub fn c_name(self) -> &'static str {
        match self {
            Mech::SysvMsgq => "sysvmsg",
            Mech::PosixMq => "posixmq",
            Mech::ShmSem1 | Mech::ShmSem8 => "shmsem",
            other => other.name(),
        }
    }

    /// Slots per direction (the shared-memory handoff; 1 elsewhere).
    pub fn slots(self) -> u32 {
        match self {
            Mech::ShmSem8 => 8,
            _ => 1,
        }
    }

    /// Message sizes of the throughput streams: 4 KiB and 64 KiB, or for queues 4 KiB and
    /// the largest message the system takes (msgmax / msgsize_max, less room for the envelope).
    pub fn stream_sizes(self) -> Vec<usize> {
        let limit = |file: &str| {
            std::fs::read_to_string(file)
                .ok()
                .and_then(|s| s.trim().parse::<usize>().ok())
                .unwrap_or(8192)
        };
        match self {
            Mech::SysvMsgq => vec![4096, limit("/proc/sys/kernel/msgmax") - ENVELOPE],
            Mech::PosixMq => vec![4096, limit("/proc/sys/fs/mqueue/msgsize_max") - ENVELOPE],
            _ => vec![4096, 65536],
        }
    }

    /// False where a one-way stream makes no sense (UDP drops what does not fit).
    pub fn has_throughput(self) -> bool {
        self != Mech::Udp
    }
}

/// Bytes a typed Message adds around its payload, rounded up (pid, seq, tag, length, checksum).
pub const ENVELOPE: usize = 64;

/// One end of a connection, ready for a codec.
pub enum Endpoint {
    /// A byte stream: no message boundaries.
    Stream { r: Box<dyn Read>, w: Box<dyn Write> },
    /// One message per kernel message.
    Msg(Box<dyn MsgLink>),
}

/// A message-oriented link: each `send` arrives as one `recv`.
///
/// `send`/`recv` are the raw path (bytes as they are); `send_message`/`recv_message` the typed
/// one, by default `wire::encode` + `send` and `recv` + `wire::decode`. A crate with its own API
/// for `Message`s (queues, shared memory, the ring) overrides them with it: that API is what
/// the programs use, and it may encode and decode in place, without the scratch copy.
pub trait MsgLink {
    fn send(&mut self, bytes: &[u8]) -> Result<()>;
    /// Replaces `buf` with the next message.
    fn recv(&mut self, buf: &mut Vec<u8>) -> Result<()>;
    /// Encodes and sends one `Message` (`scratch` is space for the encoding).
    fn send_message(&mut self, msg: &Message, scratch: &mut Vec<u8>) -> Result<()> {
        wire::encode(msg, scratch).map_err(|err| err.context("encoding a message"))?;
        self.send(scratch)
    }
    /// Receives and decodes the next `Message` (`buf` is scratch space).
    fn recv_message(&mut self, buf: &mut Vec<u8>) -> Result<Message> {
        self.recv(buf)?;
        wire::decode(buf).map_err(|err| err.context("decoding a message"))
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

/// Removes a path we created (a FIFO, a socket) when dropped: C `unlink(path)`.
struct PathGuard(PathBuf);

impl Drop for PathGuard {
    fn drop(&mut self) {
        if let Err(err) = std::fs::remove_file(&self.0) {
            if err.kind() != io::ErrorKind::NotFound {
                eprintln!("ipc-bench: warning: removing {}: {err}", self.0.display());
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
                if !ipc_ring::process_alive(peer.pid().as_raw() as u32) || Instant::now() > deadline
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
    Ok(Endpoint::Stream {
        r: Box::new(s),
        w: Box::new(w),
    })
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
                endpoint: Endpoint::Stream {
                    r: Box::new(File::from(b_r)),
                    w: Box::new(File::from(a_w)),
                },
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
                endpoint: Endpoint::Stream {
                    r: Box::new(r),
                    w: Box::new(w),
                },
                peer,
                _held: vec![Box::new(fifo_a), Box::new(fifo_b)],
            })
        }
        Mech::Unix => {
            let path = PathBuf::from(format!("/tmp/{}.sock", unique("")));
            let listener = UnixListener::bind(&path)
                .context(format!("binding the Unix socket {}", path.display()))?;
            let guard = PathGuard(path.clone());
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
                endpoint: Endpoint::Msg(Box::new(UdpLink::new(sock, spec.size)?)),
                peer,
                _held: Vec::new(),
            })
        }
        Mech::SysvMsgq => {
            let key = unique_key();
            let queue = MsgQueue::open_or_create(key, cli::DEFAULT_MODE, "ipc-bench")?;
            let peer = spawn_peer(spec, &key.0.to_string(), null(), null())?;
            Ok(Session {
                endpoint: Endpoint::Msg(Box::new(SysvLink {
                    queue,
                    send_type: 1,
                })),
                peer,
                _held: Vec::new(),
            })
        }
        Mech::PosixMq => {
            let base = format!("/{}", unique(""));
            let mode = cli::DEFAULT_MODE;
            let tx =
                PosixQueue::open_or_create(&format!("{base}-a"), mode, Access::Send, "ipc-bench")?;
            let rx = PosixQueue::open_or_create(
                &format!("{base}-b"),
                mode,
                Access::Receive,
                "ipc-bench",
            )?;
            let peer = spawn_peer(spec, &base, null(), null())?;
            Ok(Session {
                endpoint: Endpoint::Msg(Box::new(PosixLink { tx, rx })),
                peer,
                _held: Vec::new(),
            })
        }
        Mech::ShmSem1 | Mech::ShmSem8 => {
            let (a, b) = (unique_key(), unique_key());
            let layout = shm_layout(spec)?;
            let tx = ShmWriter::new(Channel::attach("ipc-bench", a, layout, cli::DEFAULT_MODE)?)?;
            let rx = ShmReader::new(Channel::attach("ipc-bench", b, layout, cli::DEFAULT_MODE)?)?;
            let peer = spawn_peer(spec, &format!("{},{}", a.0, b.0), null(), null())?;
            Ok(Session {
                endpoint: Endpoint::Msg(Box::new(ShmLink { tx, rx })),
                peer,
                _held: Vec::new(),
            })
        }
        Mech::Ring => {
            let base = format!("/{}", unique(""));
            let (slot, slots) = ring_geometry(spec.size);
            let a = Ring::create(&format!("{base}-a"), slot, slots, cli::DEFAULT_MODE)?;
            let b = Ring::create(&format!("{base}-b"), slot, slots, cli::DEFAULT_MODE)?;
            let link = RingLink {
                tx: Producer::new(a)?,
                rx: Consumer::new(b)?,
            };
            let peer = spawn_peer(spec, &base, null(), null())?;
            Ok(Session {
                endpoint: Endpoint::Msg(Box::new(link)),
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
            Ok(Endpoint::Stream {
                r: Box::new(File::from(r)),
                w: Box::new(File::from(w)),
            })
        }
        Mech::Fifo => {
            let r = File::open(format!("{addr}-a")).context("opening FIFO a")?;
            let w = OpenOptions::new()
                .write(true)
                .open(format!("{addr}-b"))
                .context("opening FIFO b")?;
            Ok(Endpoint::Stream {
                r: Box::new(r),
                w: Box::new(w),
            })
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
            Ok(Endpoint::Msg(Box::new(UdpLink::new(sock, spec.size)?)))
        }
        Mech::SysvMsgq => {
            let key: cli::Key = addr
                .parse()
                .map_err(|e: String| Error::usage("--addr", e))?;
            let mut queue = MsgQueue::open_existing(key, cli::DEFAULT_MODE, "ipc-bench")?
                .ok_or_else(|| Error::new("opening the bench's queue", "it does not exist"))?;
            queue.remove_when_done(false);
            Ok(Endpoint::Msg(Box::new(SysvLink {
                queue,
                send_type: 2,
            })))
        }
        Mech::PosixMq => {
            let mode = cli::DEFAULT_MODE;
            let open = |name: String, access| {
                PosixQueue::open_existing(&name, mode, access, "ipc-bench")?
                    .ok_or_else(|| Error::new(format!("opening {name}"), "it does not exist"))
            };
            let rx = open(format!("{addr}-a"), Access::Receive)?;
            let tx = open(format!("{addr}-b"), Access::Send)?;
            Ok(Endpoint::Msg(Box::new(PosixLink { tx, rx })))
        }
        Mech::ShmSem1 | Mech::ShmSem8 => {
            let keys: Vec<cli::Key> = addr.split(',').filter_map(|k| k.parse().ok()).collect();
            let [a, b] = keys[..] else {
                return Err(Error::usage("--addr", "expected two keys"));
            };
            let layout = shm_layout(spec)?;
            let rx = ShmReader::new(Channel::attach("ipc-bench", a, layout, cli::DEFAULT_MODE)?)?;
            let tx = ShmWriter::new(Channel::attach("ipc-bench", b, layout, cli::DEFAULT_MODE)?)?;
            Ok(Endpoint::Msg(Box::new(ShmLink { tx, rx })))
        }
        Mech::Ring => {
            let rx = Consumer::new(Ring::open(&format!("{addr}-a"))?)?;
            let tx = Producer::new(Ring::open(&format!("{addr}-b"))?)?;
            Ok(Endpoint::Msg(Box::new(RingLink { tx, rx })))
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
    Ok(PathGuard(PathBuf::from(path)))
}

/// A connected UDP socket: one datagram per message.
struct UdpLink {
    sock: UdpSocket,
    max: usize,
}

impl UdpLink {
    fn new(sock: UdpSocket, size: usize) -> Result<Self> {
        // A lost datagram must fail the run, not hang it.
        sock.set_read_timeout(Some(Duration::from_secs(2)))
            .context("setting a receive timeout")?;
        Ok(UdpLink {
            sock,
            max: size + 256,
        })
    }
}

impl MsgLink for UdpLink {
    fn send(&mut self, bytes: &[u8]) -> Result<()> {
        let sent = self.sock.send(bytes).context("sending a datagram")?;
        if sent != bytes.len() {
            return Err(Error::new("sending a datagram", "it was truncated"));
        }
        Ok(())
    }

    fn recv(&mut self, buf: &mut Vec<u8>) -> Result<()> {
        buf.resize(self.max, 0);
        let got = self
            .sock
            .recv(buf)
            .context("receiving a datagram (lost?)")?;
        buf.truncate(got);
        Ok(())
    }
}

/// Two rings, one per direction.
struct RingLink {
    tx: Producer,
    rx: Consumer,
}

impl MsgLink for RingLink {
    fn send(&mut self, bytes: &[u8]) -> Result<()> {
        self.tx.send(bytes)
    }

    fn recv(&mut self, buf: &mut Vec<u8>) -> Result<()> {
        if self.rx.recv(buf)? {
            Ok(())
        } else {
            Err(Error::new("reading the ring", "the peer closed it early"))
        }
    }

    /// Encodes with `Producer::send_with`, as the programs do: a large message straight into
    /// its slot, a small one (up to `ipc_ring::STAGE_BYTES`) into the producer's buffer and
    /// then into the slot in one copy. The consumer decodes straight out of the slot.
    fn send_message(&mut self, msg: &Message, _scratch: &mut Vec<u8>) -> Result<()> {
        let max = self.tx.ring().slot_size();
        self.tx
            .send_with(max, |slot| {
                wire::encode_into_slice(msg, slot).map_err(|err| err.context("encoding a message"))
            })
            .map(drop)
    }

    fn recv_message(&mut self, _buf: &mut Vec<u8>) -> Result<Message> {
        match self.rx.recv_with(wire::decode)? {
            Some(decoded) => decoded.map_err(|err| err.context("decoding a message")),
            None => Err(Error::new("reading the ring", "the peer closed it early")),
        }
    }
}

/// One System V queue for both directions: the bench sends type 1 and takes type 2, the peer
/// the other way round (the tutorial's `msgrcv(..., msg_to_receive, ...)`).
struct SysvLink {
    queue: MsgQueue,
    send_type: std::ffi::c_long,
}

impl SysvLink {
    fn receive_type(&self) -> std::ffi::c_long {
        3 - self.send_type
    }
}

impl MsgLink for SysvLink {
    fn send(&mut self, bytes: &[u8]) -> Result<()> {
        self.queue.send_bytes(bytes, self.send_type, false)
    }

    fn recv(&mut self, buf: &mut Vec<u8>) -> Result<()> {
        self.queue.receive_bytes(self.receive_type(), false, buf)?;
        Ok(())
    }

    fn send_message(&mut self, msg: &Message, _scratch: &mut Vec<u8>) -> Result<()> {
        self.queue.send(msg, self.send_type, false)
    }

    fn recv_message(&mut self, _buf: &mut Vec<u8>) -> Result<Message> {
        self.queue
            .receive(self.receive_type(), false)?
            .ok_or_else(|| Error::new("receiving from the queue", "no message"))
    }
}

/// Two POSIX queues, one per direction.
struct PosixLink {
    tx: PosixQueue,
    rx: PosixQueue,
}

impl MsgLink for PosixLink {
    fn send(&mut self, bytes: &[u8]) -> Result<()> {
        self.tx.send_bytes(bytes, 0, false)
    }

    fn recv(&mut self, buf: &mut Vec<u8>) -> Result<()> {
        self.rx.receive_bytes(false, buf)?;
        Ok(())
    }

    fn send_message(&mut self, msg: &Message, _scratch: &mut Vec<u8>) -> Result<()> {
        self.tx.send(msg, 0, false)
    }

    fn recv_message(&mut self, _buf: &mut Vec<u8>) -> Result<Message> {
        self.rx
            .receive(false)?
            .ok_or_else(|| Error::new("receiving from the queue", "no message"))
    }
}

/// Slots big enough for one typed message of `spec.size` payload bytes.
fn shm_layout(spec: &PeerSpec) -> Result<Layout> {
    Layout::new(spec.size + ENVELOPE + 4, spec.mech.slots())
}

/// Two shared-memory channels (segment + semaphore set each), one per direction.
struct ShmLink {
    tx: ShmWriter,
    rx: ShmReader,
}

impl MsgLink for ShmLink {
    fn send(&mut self, bytes: &[u8]) -> Result<()> {
        self.tx.send_bytes(bytes)
    }

    fn recv(&mut self, buf: &mut Vec<u8>) -> Result<()> {
        self.rx.receive_bytes(buf)
    }

    fn send_message(&mut self, msg: &Message, _scratch: &mut Vec<u8>) -> Result<()> {
        ipc_common::sender::Outbox::send(&mut self.tx, msg)
    }

    fn recv_message(&mut self, _buf: &mut Vec<u8>) -> Result<Message> {
        self.rx.next_message()
    }
}
