//! The names one round uses: its own System V key, /tmp path and POSIX name (and the port its
//! server announces), so that rounds never meet, in the ranges scripts/check-leaks.sh watches.

use std::path::PathBuf;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_names_are_in_the_leak_checkers_ranges() {
        let names = Names::new(123_456, 7);
        assert_eq!(names.key as u32 >> 28, 0x5);
        assert!(names.path.starts_with("/tmp") && names.path.to_string_lossy().contains("ipt-"));
        assert!(names.posix.starts_with("/ipt-"));
        assert_ne!(Names::new(123_456, 8).key, names.key);
    }
}
