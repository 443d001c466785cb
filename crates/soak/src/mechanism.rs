//! The mechanisms a round can pick, how to start each end, and what each one leaves behind.
//!
//! Everything mechanism-specific of the soak lives here: the command lines, the ready line a
//! receiver prints once its object exists, the largest payload the mechanism carries, whether a
//! surviving end must notice a dead peer on its own, and where its kernel objects and files are.

use std::path::{Path, PathBuf};
use std::process::Command;

use ipc_common::message::Body;
use ipc_common::wire;
use ipc_common::Message;

use crate::plan::MAX_COUNT;

/// Messages one ring sender sends at most. The ring moves a small message in about a
/// microsecond, so [`MAX_COUNT`] of them are gone in a few milliseconds, before most faults
/// come: ten times more give a fault something to hit.
pub const RING_MAX_COUNT: u64 = 200_000;

/// A mechanism and its variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mech {
    /// pipe-sender starting pipe-receiver as its child.
    Pipe,
    /// fifo-sender(s) and fifo-receiver on a FIFO in /tmp.
    Fifo,
    /// msgq-sender(s) and msgq-receiver on a System V queue.
    MsgqSysv,
    /// msgq-sender(s) and msgq-receiver on a POSIX queue (`--posix`).
    MsgqPosix,
    /// sem-sender(s) posting to sem-receiver's semaphore set.
    Sem,
    /// socket-client(s) and socket-server over TCP on 127.0.0.1 (port chosen by the kernel).
    Tcp,
    /// socket-client(s) and socket-server over a Unix domain stream socket in /tmp.
    Unix,
    /// socket-client(s) and socket-server over UDP on 127.0.0.1 (port chosen by the kernel).
    Udp,
    /// shm-sender(s) and shm-receiver on shared memory with `slots` slots of `slot_size` bytes.
    Shm {
        /// `--slots`.
        slots: u32,
        /// `--slot-size`.
        slot_size: usize,
    },
    /// shm-sender --ring and shm-receiver --ring on the lock-free ring of crates/ring in POSIX
    /// shared memory (/dev/shm/NAME): `slots` slots that each hold an encoded message of up to
    /// `slot_size` bytes. One sender (a ring has one producer).
    ShmRing {
        /// `--slots`.
        slots: u32,
        /// `--slot-size`: the largest *encoded* message a slot holds.
        slot_size: usize,
    },
}

/// Every kind, for the report's table (the shared-memory layouts are chosen per round).
pub const KINDS: [&str; 10] = [
    "pipe",
    "fifo",
    "msgq-sysv",
    "msgq-posix",
    "sem",
    "shm",
    "shm-ring",
    "socket-tcp",
    "socket-unix",
    "socket-udp",
];

/// The names a round uses: its own key, path and POSIX name, so rounds never meet.
#[derive(Debug, Clone)]
pub struct Names {
    /// System V key, in 0x5xxxxxxx (the range scripts/check-leaks.sh watches).
    pub key: i32,
    /// FIFO path, /tmp/ipt-soak-*.
    pub path: PathBuf,
    /// POSIX name, /ipt-soak-*: of the queue (/dev/mqueue) or of the ring (/dev/shm).
    pub posix: String,
    /// The port the server announced in its ready line (TCP and UDP: it binds port 0).
    pub port: Option<u16>,
}

impl Names {
    /// The names of round `round` of the harness with pid `pid`.
    pub fn new(pid: u32, round: u64) -> Names {
        let key = 0x5000_0000 | ((pid & 0xff) << 20) as i32 | (round & 0xf_ffff) as i32;
        Names {
            key,
            path: PathBuf::from(format!("/tmp/ipt-soak-{pid}-{round}")),
            posix: format!("/ipt-soak-{pid}-{round}"),
            port: None,
        }
    }

    /// The key as the programs take it (`0x5...`).
    pub fn key_arg(&self) -> String {
        format!("{:#x}", self.key as u32)
    }
}

/// The kernel limits that bound message sizes, read once from /proc.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// /proc/sys/kernel/msgmax (bytes per System V message).
    pub msgmax: usize,
    /// /proc/sys/kernel/msgmnb (bytes per System V queue).
    pub msgmnb: usize,
    /// /proc/sys/fs/mqueue/msgsize_max (bytes per POSIX message).
    pub mq_msgsize: usize,
}

impl Limits {
    /// Reads the limits; the Linux defaults where a file cannot be read.
    pub fn read() -> Limits {
        let read = |path: &str, default: usize| {
            std::fs::read_to_string(path)
                .ok()
                .and_then(|text| text.trim().parse().ok())
                .unwrap_or(default)
        };
        Limits {
            msgmax: read("/proc/sys/kernel/msgmax", 8192),
            msgmnb: read("/proc/sys/kernel/msgmnb", 16384),
            mq_msgsize: read("/proc/sys/fs/mqueue/msgsize_max", 8192),
        }
    }
}

/// The largest `--size` whose encoded message fits in `limit` bytes, for any pid and sequence
/// number (the encoding's integers are variable-length, so we assume the longest).
pub fn largest_payload(limit: usize) -> usize {
    largest_encoding_within(limit, u64::from(u32::MAX))
}

/// The largest `--size` that `shm-sender --ring --count N` (N up to [`RING_MAX_COUNT`]) accepts
/// for a ring of `slot_size`: the sender checks the encoding of its largest message before
/// it attaches (crates/shm `ring_mode::check_source`: the last sequence number and a
/// checksum that takes all 9 bytes of its variable-length integer), for any pid.
pub fn largest_ring_payload(slot_size: usize) -> usize {
    largest_encoding_within(slot_size, RING_MAX_COUNT)
}

/// The largest payload whose Message, with sequence number `seq` and the longest pid and
/// checksum, encodes to at most `limit` bytes (a binary search over the size).
fn largest_encoding_within(limit: usize, seq: u64) -> usize {
    let fits = |size: usize| {
        let msg = Message {
            sender: u32::MAX,
            seq,
            body: Body::Payload {
                bytes: vec![0; size],
                checksum: u64::MAX,
            },
        };
        wire::encoded_len(&msg) <= limit
    };
    let (mut low, mut high) = (0, limit);
    while low < high {
        let mid = (low + high).div_ceil(2);
        if fits(mid) {
            low = mid;
        } else {
            high = mid - 1;
        }
    }
    low
}

impl Mech {
    /// The kind, as the report names it.
    pub fn kind(&self) -> &'static str {
        match self {
            Mech::Pipe => "pipe",
            Mech::Fifo => "fifo",
            Mech::MsgqSysv => "msgq-sysv",
            Mech::MsgqPosix => "msgq-posix",
            Mech::Sem => "sem",
            Mech::Shm { .. } => "shm",
            Mech::ShmRing { .. } => "shm-ring",
            Mech::Tcp => "socket-tcp",
            Mech::Unix => "socket-unix",
            Mech::Udp => "socket-udp",
        }
    }

    /// The kind with its variant, e.g. `shm(4x2048)`.
    pub fn describe(&self) -> String {
        match self {
            Mech::Shm { slots, slot_size } => format!("shm({slots}x{slot_size})"),
            Mech::ShmRing { slots, slot_size } => format!("shm-ring({slots}x{slot_size})"),
            other => other.kind().to_string(),
        }
    }

    /// How many messages one sender sends at most.
    pub fn max_count(&self) -> u64 {
        match self {
            Mech::ShmRing { .. } => RING_MAX_COUNT,
            _ => MAX_COUNT,
        }
    }

    /// How many senders may share one receiver (pipe-sender owns its receiver, a ring has
    /// one producer: one).
    pub fn max_senders(&self) -> u64 {
        match self {
            Mech::Pipe | Mech::ShmRing { .. } => 1,
            _ => 4,
        }
    }

    /// The largest payload (`--size`) one message may carry.
    pub fn max_size(&self, limits: &Limits) -> usize {
        match self {
            Mech::Pipe | Mech::Tcp | Mech::Unix => wire::MAX_PAYLOAD,
            // The largest UDP datagram over IPv4: 65,507 bytes.
            Mech::Udp => largest_payload(65_507),
            // One frame (4-byte length + message) per atomic write of at most PIPE_BUF.
            Mech::Fifo => largest_payload(4096 - wire::FRAME_HEADER),
            Mech::MsgqSysv => largest_payload(limits.msgmax.min(limits.msgmnb)),
            Mech::MsgqPosix => largest_payload(limits.mq_msgsize),
            // A semaphore carries no data: the size only changes what the sender generates.
            Mech::Sem => 4096,
            Mech::Shm { slot_size, .. } => largest_payload(slot_size - 4),
            // `--slot-size` is the largest encoded message (the ring keeps the length apart).
            Mech::ShmRing { slot_size, .. } => largest_ring_payload(*slot_size),
        }
    }

    /// May the receiver start after the senders? Not for the pipe (the sender starts it), for
    /// semaphores (sem-sender refuses to run before sem-receiver created the set) nor sockets
    /// (a client without a server is refused at once, as the tutorial's client is).
    pub fn receiver_may_start_late(&self) -> bool {
        !matches!(
            self,
            Mech::Pipe | Mech::Sem | Mech::Tcp | Mech::Unix | Mech::Udp
        )
    }

    /// True for the socket variants (server and clients).
    pub fn is_socket(&self) -> bool {
        matches!(self, Mech::Tcp | Mech::Unix | Mech::Udp)
    }

    /// Does the receiver promise order? Not over UDP.
    pub fn keeps_order(&self) -> bool {
        *self != Mech::Udp
    }

    /// Must a surviving end notice on its own that its peer died? Pipes do (end-of-file,
    /// EPIPE), shared memory does (the peer's pid in the header, the ring's too). A FIFO,
    /// queue or semaphore set legitimately waits for a next peer, so the harness stops such
    /// an end itself.
    pub fn detects_dead_peer(&self) -> bool {
        matches!(
            self,
            Mech::Pipe | Mech::Shm { .. } | Mech::ShmRing { .. } | Mech::Tcp | Mech::Unix
        )
    }

    /// What an end prints once it has met its peer's object (attached the segment, connected
    /// to the server; for the ring, created it or claimed its producer side, which the
    /// receiver watches). An end that died before printing it may never have met the
    /// survivor, which then rightly waits for it as for a peer that has not come yet.
    pub fn met_line(&self) -> Option<&'static str> {
        match self {
            Mech::Shm { .. } | Mech::ShmRing { .. } => Some("Memory attached at"),
            Mech::Tcp | Mech::Unix => Some("connected to"),
            _ => None,
        }
    }

    /// Does an end that said `stderr` wait for a new peer object, as one that came first
    /// does? A ring sender that never claimed the ring (no met line) and says it waits for
    /// one: its receiver removed the ring before the sender got to it, or died and the sender
    /// removed what it left. It rightly waits for the next `shm-receiver --ring`.
    pub fn waits_for_new_object(&self, stderr: &str) -> bool {
        match self {
            Mech::ShmRing { .. } => {
                self.met_line().is_some_and(|line| !stderr.contains(line))
                    && stderr.contains("waiting for shm-receiver --ring to create the ring")
            }
            _ => false,
        }
    }

    /// The stderr line that says the receiver's object exists (for `Mech::Pipe`, the sender's
    /// line naming the receiver it started).
    pub fn ready_line(&self) -> &'static str {
        match self {
            Mech::Pipe => "started pipe-receiver (pid ",
            Mech::Fifo => "waiting for a sender to open",
            Mech::MsgqSysv | Mech::MsgqPosix => "waiting for messages on",
            Mech::Sem => "created, waiting for signals",
            Mech::Shm { .. } => "waiting for shm-sender on",
            Mech::ShmRing { .. } => "waiting for shm-sender --ring on",
            Mech::Tcp | Mech::Unix | Mech::Udp => "server waiting on",
        }
    }

    fn program(&self, end: &str) -> String {
        let (receiver, sender) = match self {
            Mech::Pipe => ("pipe-receiver", "pipe-sender"),
            Mech::Fifo => ("fifo-receiver", "fifo-sender"),
            Mech::MsgqSysv | Mech::MsgqPosix => ("msgq-receiver", "msgq-sender"),
            Mech::Sem => ("sem-receiver", "sem-sender"),
            Mech::Shm { .. } | Mech::ShmRing { .. } => ("shm-receiver", "shm-sender"),
            Mech::Tcp | Mech::Unix | Mech::Udp => ("socket-server", "socket-client"),
        };
        if end == "receiver" { receiver } else { sender }.to_string()
    }

    /// The options that name the object, common to both ends.
    fn object_args(&self, names: &Names) -> Vec<String> {
        match self {
            Mech::Pipe => vec![],
            Mech::Fifo => vec!["--path".into(), names.path.display().to_string()],
            Mech::MsgqSysv | Mech::Sem => vec!["--key".into(), names.key_arg()],
            Mech::MsgqPosix => vec!["--posix".into(), "--name".into(), names.posix.clone()],
            Mech::Shm { slots, slot_size } => vec![
                "--key".into(),
                names.key_arg(),
                "--slots".into(),
                slots.to_string(),
                "--slot-size".into(),
                slot_size.to_string(),
            ],
            Mech::ShmRing { slots, slot_size } => vec![
                "--ring".into(),
                "--name".into(),
                names.posix.clone(),
                "--slots".into(),
                slots.to_string(),
                "--slot-size".into(),
                slot_size.to_string(),
            ],
            Mech::Unix => vec!["--unix".into(), names.path.display().to_string()],
            Mech::Tcp | Mech::Udp => {
                let port = names.port.unwrap_or(0).to_string();
                let mut args = vec!["--port".into(), port];
                if *self == Mech::Udp {
                    args.push("--udp".into());
                }
                args
            }
        }
    }

    /// The receiver's name and command (`None` for the pipe: pipe-sender starts it).
    pub fn receiver(&self, bin: &Path, names: &Names, senders: u64) -> Option<(String, Command)> {
        if *self == Mech::Pipe {
            return None;
        }
        let program = self.program("receiver");
        let mut cmd = Command::new(bin.join(&program));
        cmd.args(self.object_args(names));
        if self.is_socket() {
            // The server runs until Ctrl-C unless told how many clients to serve.
            cmd.args(["--clients", &senders.to_string()]);
        } else {
            cmd.args(["--senders", &senders.to_string()]);
        }
        Some((program, cmd))
    }

    /// Sender number `index`'s name and command, sending `count` messages of `size` bytes.
    pub fn sender(
        &self,
        bin: &Path,
        names: &Names,
        index: usize,
        count: u64,
        size: usize,
    ) -> (String, Command) {
        let program = self.program("sender");
        let mut cmd = Command::new(bin.join(&program));
        if matches!(self, Mech::Tcp | Mech::Udp) {
            cmd.arg("127.0.0.1");
        }
        cmd.args(self.object_args(names)).args([
            "--count",
            &count.to_string(),
            "--size",
            &size.to_string(),
        ]);
        (format!("{program}#{index}"), cmd)
    }

    /// The command that drains a message queue the contract kept (`--nowait`), if this
    /// mechanism keeps one.
    pub fn drainer(&self, bin: &Path, names: &Names) -> Option<Command> {
        match self {
            Mech::MsgqSysv | Mech::MsgqPosix => {
                let mut cmd = Command::new(bin.join("msgq-receiver"));
                cmd.args(self.object_args(names)).arg("--nowait");
                Some(cmd)
            }
            _ => None,
        }
    }
}

/// One object or file of a round that still exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Leftover {
    /// A System V object: `"msg"`, `"sem"` or `"shm"`, with the round's key.
    SysV(&'static str),
    /// The round's FIFO path.
    Path,
    /// The round's POSIX queue.
    Posix,
    /// The round's POSIX shared-memory object (a ring): /dev/shm/NAME.
    PosixShm,
}

impl Leftover {
    /// How the report names it.
    pub fn describe(&self, names: &Names) -> String {
        match self {
            Leftover::SysV(kind) => format!("System V {kind} key {}", names.key_arg()),
            Leftover::Path => format!("file {}", names.path.display()),
            Leftover::Posix => format!("POSIX queue {}", names.posix),
            Leftover::PosixShm => format!("POSIX shared memory {}", names.posix),
        }
    }
}

/// True when a System V object of `kind` with `key` exists (read from /proc/sysvipc).
pub fn sysv_exists(kind: &str, key: i32) -> bool {
    let table = std::fs::read_to_string(format!("/proc/sysvipc/{kind}")).unwrap_or_default();
    table
        .lines()
        .skip(1)
        .filter_map(|line| line.split_whitespace().next())
        .any(|first| first.parse::<i64>().ok() == Some(i64::from(key)))
}

/// True when the POSIX queue `name` exists. Where the mqueue file system is mounted it is a
/// file in /dev/mqueue; elsewhere we ask the kernel with `mq_open` (no O_CREAT).
pub fn posix_queue_exists(name: &str) -> bool {
    use nix::mqueue::{mq_close, mq_open, MQ_OFlag};
    use nix::sys::stat::Mode;
    if Path::new("/dev/mqueue").join(&name[1..]).exists() {
        return true;
    }
    match mq_open(name, MQ_OFlag::O_RDONLY, Mode::empty(), None) {
        Ok(mqd) => {
            let _ = mq_close(mqd);
            true
        }
        Err(errno) => errno != nix::errno::Errno::ENOENT,
    }
}

/// True when the POSIX shared-memory object `name` exists: shm_open(3) makes `/NAME` the
/// file /dev/shm/NAME (a tmpfs), so that is where to look.
pub fn posix_shm_exists(name: &str) -> bool {
    let file = name.strip_prefix('/').unwrap_or(name);
    std::fs::symlink_metadata(Path::new("/dev/shm").join(file)).is_ok()
}

/// Everything of `names` that exists now.
pub fn leftovers(names: &Names) -> Vec<Leftover> {
    let mut found: Vec<Leftover> = ["msg", "sem", "shm"]
        .into_iter()
        .filter(|kind| sysv_exists(kind, names.key))
        .map(Leftover::SysV)
        .collect();
    if std::fs::symlink_metadata(&names.path).is_ok() {
        found.push(Leftover::Path);
    }
    if posix_queue_exists(&names.posix) {
        found.push(Leftover::Posix);
    }
    if posix_shm_exists(&names.posix) {
        found.push(Leftover::PosixShm);
    }
    found
}

/// Removes what is left (after a SIGKILL nobody could clean up after). Uses ipcrm for System
/// V objects, `unlink` for the path, `mq_unlink` for the queue, `shm_unlink` for the ring.
/// Returns what it could not remove.
pub fn remove(names: &Names, what: &[Leftover]) -> Vec<String> {
    let mut failed = Vec::new();
    for item in what {
        let ok = match item {
            Leftover::SysV(kind) => {
                let flag = match *kind {
                    "msg" => "-Q",
                    "sem" => "-S",
                    _ => "-M",
                };
                Command::new("ipcrm")
                    .args([flag, &names.key_arg()])
                    .output()
                    .map(|out| out.status.success())
                    .unwrap_or(false)
            }
            Leftover::Path => std::fs::remove_file(&names.path).is_ok(),
            Leftover::Posix => nix::mqueue::mq_unlink(names.posix.as_str()).is_ok(),
            // C: shm_unlink("/NAME"): the name goes now, the memory with its last mapping.
            Leftover::PosixShm => nix::sys::mman::shm_unlink(names.posix.as_str()).is_ok(),
        };
        if !ok {
            failed.push(item.describe(names));
        }
    }
    failed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_payload_fits_and_one_more_byte_does_not() {
        for limit in [64, 4092, 8192] {
            let size = largest_payload(limit);
            let mut buf = Vec::new();
            wire::encode(
                &Message::payload(u32::MAX, u64::from(u32::MAX), size),
                &mut buf,
            )
            .expect("encodes");
            assert!(buf.len() <= limit);
            wire::encode(
                &Message::payload(u32::MAX, u64::from(u32::MAX), size + 1),
                &mut buf,
            )
            .expect("encodes");
            assert!(
                buf.len() > limit,
                "limit {limit}: {size} is not the largest"
            );
        }
    }

    #[test]
    fn the_largest_ring_payload_is_what_shm_sender_checks_for_the_last_message() {
        for slot_size in [64, 100, 1024, 4096, 65536] {
            let size = largest_ring_payload(slot_size);
            let worst = |size: usize| Message {
                sender: u32::MAX,
                seq: RING_MAX_COUNT,
                body: Body::Payload {
                    bytes: vec![0; size],
                    checksum: u64::MAX,
                },
            };
            assert!(wire::encoded_len(&worst(size)) <= slot_size);
            assert!(wire::encoded_len(&worst(size + 1)) > slot_size);
            // Any real message of the round is no longer: a smaller sequence number or
            // checksum only shortens its variable-length integers.
            let real = Message::payload(u32::MAX, RING_MAX_COUNT, size);
            assert!(wire::encoded_len(&real) <= slot_size);
        }
        // The envelope at its longest: pid 5 bytes, sequence number 5, body tag 1, length 1,
        // checksum 9 (crates/soak/README.md quotes this figure).
        assert_eq!(largest_ring_payload(64), 43);
    }

    #[test]
    fn round_names_are_in_the_leak_checkers_ranges() {
        let names = Names::new(123_456, 7);
        assert_eq!(names.key as u32 >> 28, 0x5);
        assert!(names.path.starts_with("/tmp") && names.path.to_string_lossy().contains("ipt-"));
        assert!(names.posix.starts_with("/ipt-"));
        assert_ne!(Names::new(123_456, 8).key, names.key);
    }
}
