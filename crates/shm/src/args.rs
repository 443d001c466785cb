//! The options both ends share, defined once for shm-sender and shm-receiver: which segment
//! (`--key`, `--mode`), its shape (`--slot-size`, `--slots`, `--no-sync`), and the other ways
//! to share memory (`--ring`, `--wire c`).

use ipc_common::cli::{KeyArg, ModeArg};
use ipc_common::codec::WireArg;
use ipc_common::Result;
use ipc_ring::RingArgs;

use crate::layout::{Geometry, Layout};

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
///
/// `--slot-size` and `--slots` are `None` when not given: the end that creates the segment
/// uses the defaults, an end that joins adopts the segment's (see [`Geometry`]).
#[derive(Debug, Clone, clap::Args)]
pub struct SlotArgs {
    /// Bytes per slot, its 4-byte length included [default: 1024, the tutorial's buffer; an
    /// end that joins a segment takes the segment's]; with --ring, the largest encoded message
    /// a slot holds
    #[arg(long, value_name = "BYTES", value_parser = ipc_common::cli::parse_size,
          conflicts_with = "wire")]
    pub slot_size: Option<usize>,
    /// Number of slots [default: 1, the tutorial's single buffer; an end that joins a segment
    /// takes the segment's]; more let both ends run at once
    #[arg(long, value_name = "S", conflicts_with = "wire")]
    pub slots: Option<u32>,
    /// Experiment: skip the semaphore handoff (no waiting, no signalling) and count the torn,
    /// repeated and lost reads in the summary; both ends need it
    #[arg(long, conflicts_with = "wire")]
    pub no_sync: bool,
}

impl SlotArgs {
    /// The shape asked for: the values given, checked (a usage error for an impossible one).
    pub fn geometry(&self) -> Result<Geometry> {
        Geometry::new(self.slot_size, self.slots)
    }

    /// The layout with the defaults for what was not given (`--ring`: the receiver sizes the
    /// ring it creates).
    pub fn layout(&self) -> Result<Layout> {
        self.geometry()?.layout()
    }
}
