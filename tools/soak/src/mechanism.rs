//! The mechanisms a round can pick, and what the harness must know of each: the largest
//! payload it carries, how many senders may share a receiver, the ready line its receiver
//! prints once the object exists, and whether a surviving end must notice a dead peer on its
//! own.
//!
//! How each end is started is in [`crate::command`], the names a round uses in
//! [`crate::names`], what a round may leave behind in [`crate::leftover`].

use ipc_common::wire;

use crate::limits::{largest_payload, largest_ring_payload, Limits, MAX_COUNT, RING_MAX_COUNT};

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
}
