//! The options both ends share, defined once for shm-sender and shm-receiver: which segment
//! (`--key`, `--mode`), its shape (`--slot-size`, `--slots`, `--no-sync`), and the other ways
//! to share memory (`--ring`, `--wire c`).

use ipc_common::cli::{KeyArg, ModeArg};
use ipc_common::codec::WireArg;
use ipc_common::Result;
use ipc_ring::RingArgs;

use crate::layout::Layout;

/// Everything that names and shapes the shared memory, the same on both ends.
#[derive(Debug, Clone, clap::Args)]
pub struct ShmArgs {
    #[command(flatten)]
    pub key: KeyArg,
    #[command(flatten)]
    pub mode: ModeArg,
    #[command(flatten)]
    pub slots: SlotArgs,
    #[command(flatten)]
    pub ring: RingArgs,
    #[command(flatten)]
    pub wire: WireArg,
}

/// `--slot-size`, `--slots` and `--no-sync`. None of them goes with `--wire c`, whose segment
/// is the textbook's `struct shared_use_st` (2052 bytes, a flag instead of semaphores; clap
/// says so: a usage error, exit 2).
#[derive(Debug, Clone, clap::Args)]
pub struct SlotArgs {
    /// Bytes per slot, its 4-byte length included (the tutorial's buffer is 1024); with --ring, the largest encoded message a slot holds
    #[arg(long, value_name = "BYTES", default_value = "1024", value_parser = ipc_common::cli::parse_size,
          conflicts_with = "wire")]
    pub slot_size: usize,
    /// Number of slots: 1 is the tutorial's single buffer, more let both ends run at once
    #[arg(long, value_name = "S", default_value_t = 1, conflicts_with = "wire")]
    pub slots: u32,
    /// Experiment: skip the semaphore handoff (no waiting, no signalling) and count the torn,
    /// repeated and lost reads in the summary; both ends need it
    #[arg(long, conflicts_with = "wire")]
    pub no_sync: bool,
}

impl SlotArgs {
    /// The segment's layout for these options (a usage error for an impossible one).
    pub fn layout(&self) -> Result<Layout> {
        Layout::new(self.slot_size, self.slots)
    }
}
