//! The mechanisms the bench measures: their names, their C reference programs, the sizes of
//! their throughput streams.

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

    /// The name of its C reference program (tools/bench/c/NAME.c).
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
