//! Looking at a ring's two ends from outside, without attaching: who attached, and what
//! became of them. This is how a program tells a ring left by a killed peer (remove it) from
//! one in use (leave it alone).

use std::fs::File;
use std::mem::offset_of;
use std::os::unix::fs::FileExt;

use nix::fcntl::OFlag;
use nix::sys::mman::shm_open;
use nix::sys::stat::Mode;

use crate::layout::{state, Fixed, Header, Line, MAGIC};
use ipc_common::process::is_running;

/// One end of a ring, as its header names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The side that sends ([`crate::Producer`]).
    Producer,
    /// The side that receives ([`crate::Consumer`]).
    Consumer,
}

/// What a ring's header says about one end: its pid and state ([`crate::layout::state`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndSeen {
    pub pid: u32,
    pub state: u32,
}

impl EndSeen {
    /// This end attached once and its process is gone (killed, or a zombie) without saying
    /// goodbye in the header: `kill -9`.
    pub fn is_dead(&self) -> bool {
        self.pid != 0 && self.state == state::ATTACHED && !is_running(self.pid)
    }

    /// This end said goodbye in the header (GONE): it stopped on an error path or, for a
    /// consumer, finished; it may have exited since.
    pub fn went_away(&self) -> bool {
        self.state == state::GONE
    }
}

/// Reads one end's pid and state from the ring `name` without mapping it (C:
/// `fd = shm_open(name, O_RDONLY, 0); pread(fd, &word, 4, offsetof(...))`). `None` when there
/// is no such object or it is not one of our rings (no magic).
pub fn peek(name: &str, end: End) -> Option<EndSeen> {
    let fd = shm_open(name, OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty()).ok()?;
    let file = File::from(fd);
    // The first line of the header holds `Fixed`.
    let fixed = offset_of!(Header, fixed) + offset_of!(Line<Fixed>, 0);
    let read_at =
        |offset: usize, out: &mut [u8]| file.read_exact_at(out, (fixed + offset) as u64).ok();
    let mut magic = [0u8; 8];
    read_at(offset_of!(Fixed, magic), &mut magic)?;
    if u64::from_ne_bytes(magic) != MAGIC {
        return None;
    }
    let (pid_at, state_at) = match end {
        End::Producer => (
            offset_of!(Fixed, producer_pid),
            offset_of!(Fixed, producer_state),
        ),
        End::Consumer => (
            offset_of!(Fixed, consumer_pid),
            offset_of!(Fixed, consumer_state),
        ),
    };
    let (mut pid, mut state) = ([0u8; 4], [0u8; 4]);
    read_at(pid_at, &mut pid)?;
    read_at(state_at, &mut state)?;
    Some(EndSeen {
        pid: u32::from_ne_bytes(pid),
        state: u32::from_ne_bytes(state),
    })
}
