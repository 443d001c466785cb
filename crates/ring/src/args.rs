//! `--ring` and `--name`: the ring as a mode of shm-sender and shm-receiver, defined once for
//! both.

use ipc_common::cli::DEFAULT_POSIX_NAME;

/// The smallest slot the programs accept (room for an End message and some text), as for
/// the System V slots of crates/shm.
pub const MIN_SLOT_SIZE: usize = 64;

/// `--ring` and `--name`, flattened into shm-sender and shm-receiver.
#[derive(Debug, Clone, clap::Args)]
pub struct RingArgs {
    /// Hand messages over through the lock-free ring of crates/ring (POSIX shared memory,
    /// no system call per message) instead of the System V segment and semaphores; the
    /// receiver creates it with --slot-size and --slots, the sender uses the ring's
    #[arg(long, conflicts_with_all = ["key", "no_sync", "wire"])]
    pub ring: bool,
    /// Name of the ring in /dev/shm (with --ring)
    #[arg(long, value_name = "/NAME", default_value = DEFAULT_POSIX_NAME, requires = "ring")]
    pub name: String,
}
