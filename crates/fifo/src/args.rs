//! The options of the pair, flattened into each end's `Args` like the shared option groups of
//! `ipc_common::cli`: [`FifoArgs`] (both ends: which FIFO, its mode, the wire) and
//! [`WriterArgs`] (fifo-sender only).

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use ipc_common::cli::{ModeArg, DEFAULT_FIFO_PATH};
use ipc_common::codec::WireArg;

/// The options both ends share: `--path`, `--mode`, `--wire`.
#[derive(Debug, Clone, Args)]
pub struct FifoArgs {
    /// Path of the FIFO; created with mkfifo if missing, else checked (a FIFO, yours, private)
    #[arg(long, value_name = "P", default_value = DEFAULT_FIFO_PATH)]
    pub path: PathBuf,
    #[command(flatten)]
    pub mode: ModeArg,
    #[command(flatten)]
    pub wire: WireArg,
}

/// `--timeout SECS` and `--allow-split`.
#[derive(Debug, Clone, Args)]
pub struct WriterArgs {
    /// Give up with an error if no receiver opens the FIFO within SECS seconds (default: wait)
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    pub timeout: Option<Duration>,
    /// Experiment: write messages larger than PIPE_BUF in pieces instead of refusing them, so
    /// that several senders interleave
    #[arg(long)]
    pub allow_split: bool,
}

/// Parses `--timeout`: seconds, decimals allowed (`0.5`).
fn parse_seconds(text: &str) -> Result<Duration, String> {
    text.parse::<f64>()
        .ok()
        .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
        .ok_or_else(|| format!("'{text}' is not a number of seconds, such as 5 or 0.5"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_may_have_decimals_and_nothing_else() {
        assert_eq!(parse_seconds("0.5"), Ok(Duration::from_millis(500)));
        assert!(parse_seconds("-1").is_err() && parse_seconds("soon").is_err());
    }
}
