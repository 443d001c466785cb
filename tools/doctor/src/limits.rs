//! The machine's IPC limits, read from /proc, each with one line on what it means.
//!
//! These are the numbers behind errors a C programmer meets: `msgsnd` failing with EINVAL
//! (message over msgmax) or blocking (queue over msgmnb), `shmget` failing with EINVAL (over
//! shmmax) or ENOSPC (shmmni segments exist), `semget` with EINVAL (nsems over SEMMSL), and so
//! on. `ipcs -l` prints most of them; we add PIPE_BUF and the POSIX queue limits.

use std::fs;

/// One limit: its usual name, where it comes from, its value (as the kernel prints it), and
/// what it means. `value` is None when the file is missing (e.g. no POSIX mqueue support).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    pub name: &'static str,
    pub source: &'static str,
    pub value: Option<String>,
    pub meaning: &'static str,
}

/// A limit held in one /proc file: (name, file, meaning).
const FILE_LIMITS: &[(&str, &str, &str)] = &[
    (
        "msgmax",
        "/proc/sys/kernel/msgmax",
        "largest message msgsnd accepts, in bytes (EINVAL above)",
    ),
    (
        "msgmnb",
        "/proc/sys/kernel/msgmnb",
        "bytes one queue may hold; a full queue blocks msgsnd (EAGAIN with IPC_NOWAIT)",
    ),
    (
        "msgmni",
        "/proc/sys/kernel/msgmni",
        "message queues on the whole system; msgget fails with ENOSPC beyond",
    ),
    (
        "shmmax",
        "/proc/sys/kernel/shmmax",
        "largest segment shmget creates, in bytes (EINVAL above)",
    ),
    (
        "shmall",
        "/proc/sys/kernel/shmall",
        "pages of shared memory all segments together may use (ENOSPC beyond)",
    ),
    (
        "shmmni",
        "/proc/sys/kernel/shmmni",
        "segments on the whole system; shmget fails with ENOSPC beyond",
    ),
];

/// The four fields of /proc/sys/kernel/sem, in order.
const SEM_LIMITS: [(&str, &str); 4] = [
    (
        "SEMMSL",
        "semaphores in one set: the most nsems semget accepts (EINVAL above)",
    ),
    (
        "SEMMNS",
        "semaphores on the whole system, all sets together (ENOSPC beyond)",
    ),
    ("SEMOPM", "operations in one semop call (E2BIG above)"),
    (
        "SEMMNI",
        "semaphore sets on the whole system; semget fails with ENOSPC beyond",
    ),
];

/// The POSIX message queue limits in /proc/sys/fs/mqueue.
const MQUEUE_LIMITS: &[(&str, &str, &str)] = &[
    (
        "msg_max",
        "/proc/sys/fs/mqueue/msg_max",
        "most messages one POSIX queue may hold (mq_maxmsg; EINVAL above, unless privileged)",
    ),
    (
        "msgsize_max",
        "/proc/sys/fs/mqueue/msgsize_max",
        "largest POSIX message (mq_msgsize), in bytes",
    ),
    (
        "queues_max",
        "/proc/sys/fs/mqueue/queues_max",
        "POSIX queues on the whole system; mq_open fails with ENOSPC beyond",
    ),
    (
        "msg_default",
        "/proc/sys/fs/mqueue/msg_default",
        "mq_maxmsg of a queue created without attributes",
    ),
    (
        "msgsize_default",
        "/proc/sys/fs/mqueue/msgsize_default",
        "mq_msgsize of a queue created without attributes",
    ),
];

/// Where the semaphore limits live.
pub const SEM_FILE: &str = "/proc/sys/kernel/sem";
/// Where the largest pipe capacity lives.
pub const PIPE_MAX_SIZE_FILE: &str = "/proc/sys/fs/pipe-max-size";

/// A limit group as printed: a title and its limits.
#[derive(Debug, Clone)]
pub struct Group {
    pub title: &'static str,
    pub limits: Vec<Limit>,
}

/// Reads one /proc value, trimmed; None when the file cannot be read.
fn read_value(path: &str) -> Option<String> {
    fs::read_to_string(path)
        .ok()
        .map(|text| text.trim().to_string())
}

fn from_files(table: &[(&'static str, &'static str, &'static str)]) -> Vec<Limit> {
    table
        .iter()
        .map(|&(name, source, meaning)| Limit {
            name,
            source,
            value: read_value(source),
            meaning,
        })
        .collect()
}

/// Every limit, grouped by mechanism, read now from /proc.
pub fn read_all() -> Vec<Group> {
    let (msg, shm) = FILE_LIMITS.split_at(3);
    let sem_fields: Vec<String> = read_value(SEM_FILE)
        .map(|text| text.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();
    let sem = SEM_LIMITS
        .iter()
        .enumerate()
        .map(|(i, &(name, meaning))| Limit {
            name,
            source: SEM_FILE,
            value: sem_fields.get(i).cloned(),
            meaning,
        })
        .collect();
    let pipes = vec![
        Limit {
            name: "PIPE_BUF",
            source: "<limits.h>",
            value: Some(nix::libc::PIPE_BUF.to_string()),
            meaning: "a write of at most this many bytes to a pipe or FIFO is atomic: never interleaved with other writers",
        },
        Limit {
            name: "pipe-max-size",
            source: PIPE_MAX_SIZE_FILE,
            value: read_value(PIPE_MAX_SIZE_FILE),
            meaning: "largest capacity fcntl(F_SETPIPE_SZ) may give a pipe without privilege, in bytes",
        },
    ];
    vec![
        Group {
            title: "System V message queues",
            limits: from_files(msg),
        },
        Group {
            title: "System V shared memory",
            limits: from_files(shm),
        },
        Group {
            title: "System V semaphores (/proc/sys/kernel/sem)",
            limits: sem,
        },
        Group {
            title: "Pipes and FIFOs",
            limits: pipes,
        },
        Group {
            title: "POSIX message queues (/proc/sys/fs/mqueue)",
            limits: from_files(MQUEUE_LIMITS),
        },
    ]
}
