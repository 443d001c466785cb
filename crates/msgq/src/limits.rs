//! The kernel's message-queue limits, read at run time from /proc (never guessed).
//!
//! The tutorial says a message may hold "only 1024 bytes"; the real limits are settings of the
//! running kernel (`sysctl`), the same files `ipcs -l` reads:
//!
//! | file | meaning | typical |
//! |---|---|---|
//! | /proc/sys/kernel/msgmax | largest System V message text, in bytes | 8192 |
//! | /proc/sys/kernel/msgmnb | bytes a new System V queue may hold (`msg_qbytes`) | 16384 |
//! | /proc/sys/fs/mqueue/msgsize_max | largest `mq_msgsize` of a new POSIX queue | 8192 |
//! | /proc/sys/fs/mqueue/msg_max | largest `mq_maxmsg` (messages a POSIX queue holds) | 10 |

use std::path::Path;

use ipc_common::{Context, Error, Result};

/// Where msgmax comes from.
pub const MSGMAX_FILE: &str = "/proc/sys/kernel/msgmax";
/// Where msgmnb comes from.
pub const MSGMNB_FILE: &str = "/proc/sys/kernel/msgmnb";
/// Where the POSIX message size limit comes from.
pub const MSGSIZE_MAX_FILE: &str = "/proc/sys/fs/mqueue/msgsize_max";
/// Where the POSIX queue length limit comes from.
pub const MSG_MAX_FILE: &str = "/proc/sys/fs/mqueue/msg_max";

/// The System V limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SysvLimits {
    /// Largest message text msgsnd accepts (bytes).
    pub msgmax: usize,
    /// Bytes a newly created queue may hold.
    pub msgmnb: usize,
}

impl SysvLimits {
    /// Reads msgmax and msgmnb.
    pub fn read() -> Result<Self> {
        Ok(SysvLimits {
            msgmax: read_number(Path::new(MSGMAX_FILE))?,
            msgmnb: read_number(Path::new(MSGMNB_FILE))?,
        })
    }
}

/// The POSIX message queue limits for queues we create.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PosixLimits {
    /// Largest message size a new queue may have (bytes).
    pub msgsize_max: usize,
    /// Most messages a new queue may hold.
    pub msg_max: usize,
}

impl PosixLimits {
    /// Reads msgsize_max and msg_max.
    pub fn read() -> Result<Self> {
        Ok(PosixLimits {
            msgsize_max: read_number(Path::new(MSGSIZE_MAX_FILE))?,
            msg_max: read_number(Path::new(MSG_MAX_FILE))?,
        })
    }
}

/// Reads one decimal number from a /proc/sys file.
fn read_number(path: &Path) -> Result<usize> {
    let what = format!("reading the limit in {}", path.display());
    let text = std::fs::read_to_string(path).context(what.clone())?;
    text.trim()
        .parse()
        .map_err(|_| Error::new(what, format!("'{}' is not a number", text.trim())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_running_kernel_has_sane_limits() {
        let sysv = SysvLimits::read().expect("System V limits are readable");
        assert!(sysv.msgmax > 0 && sysv.msgmnb > 0);
        let posix = PosixLimits::read().expect("POSIX limits are readable");
        assert!(posix.msgsize_max > 0 && posix.msg_max > 0);
    }

    #[test]
    fn a_missing_file_is_a_clear_error() {
        let err = read_number(Path::new("/proc/sys/kernel/no-such-limit")).expect_err("missing");
        assert!(err.to_string().contains("no-such-limit"), "{err}");
        assert!(err.to_string().contains("ENOENT"), "{err}");
    }
}
