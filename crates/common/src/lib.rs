//! What every ipc-pairs program shares, and nothing mechanism-specific.
//!
//! - [`message`]: the one `Message` (sender pid, sequence number, text / payload / End);
//! - [`wire`]: the one bincode configuration, and length-prefixed frames for byte streams;
//! - [`sender`] and [`receiver`]: the loops both ends of every pair share;
//! - [`stream`]: framed, buffered, interruptible messages over pipes, FIFOs and stream sockets;
//! - [`tally`]: lost / duplicated / reordered / corrupt counting and the `summary:` line;
//! - [`ctext`]: what the tutorial's C programs can carry (`--wire c`), checked once;
//! - [`cli`]: shared flags (clap) and the tutorial's rendezvous defaults (key 1234, ...);
//! - [`signals`]: Ctrl-C and SIGTERM that really wake a blocked call;
//! - [`error`]: the error type and the one place that prints it and picks the exit code.
//!
//! There is no `unsafe` in this crate.
#![forbid(unsafe_code)]

pub mod cli;
pub mod ctext;
pub mod error;
pub mod message;
pub mod receiver;
pub mod sender;
pub mod signals;
pub mod stream;
pub mod tally;
pub mod trace;
pub mod wire;

pub use error::{Context, Error, Result};
pub use message::{Body, Message};
