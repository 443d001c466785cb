//! `--key` and `--mode`: the semaphore set sem-receiver and sem-mutex create (or join),
//! defined once for both. (sem-sender only opens the set, so it takes `--key` alone.)

use ipc_common::cli::{KeyArg, ModeArg};

/// Which set, and the mode it gets if this program creates it.
#[derive(Debug, Clone, clap::Args)]
pub struct SetArgs {
    #[command(flatten)]
    pub key: KeyArg,
    #[command(flatten)]
    pub mode: ModeArg,
}
