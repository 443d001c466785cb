//! What every ipc-pairs program shares, and nothing mechanism-specific.
//!
//! - [`program`]: each binary's `main`: parse, `--trace`, Ctrl-C, run, exit code; its name;
//! - [`message`]: the one `Message` (sender pid, sequence number, text / payload / End);
//! - [`sender`] and [`receiver`]: the two loops, mirror images: a mechanism supplies an
//!   [`Outbox`](sender::Outbox) and an [`Inbox`](receiver::Inbox), the loops do the rest;
//! - [`ledger`] and [`tally`]: what a receiver shows and counts, and the `summary:` line;
//! - [`codec`]: `--wire`, the one choice between our encoding and the C programs' layouts;
//! - [`wire`]: our encoding: the one bincode configuration, length-prefixed frames;
//! - [`clayout`]: the C programs' layouts, as data, with one encoder and one decoder;
//! - [`stream`] and [`lines`]: messages over byte streams (pipes, FIFOs, stream sockets), as
//!   frames or as C text lines;
//! - [`cli`]: shared flags (clap) and the tutorial's rendezvous defaults (key 1234, ...);
//! - [`signals`]: Ctrl-C and SIGTERM that really wake a blocked call;
//! - [`creation`]: create exclusively, else open: how each end gets its kernel object;
//! - [`process`]: is a peer process still alive;
//! - [`ownership`]: the record of what our programs created, so cleanup removes only that;
//! - [`sysvipc`]: the System V objects that exist, read from /proc/sysvipc (what `ipcs` reads);
//! - [`trace`]: `--trace`, each system call in C notation;
//! - [`error`]: the error type and the one place that prints it and picks the exit code.
//!
//! There is no `unsafe` in this crate.
#![forbid(unsafe_code)]

mod block_copy;
pub mod clayout;
pub mod cli;
pub mod codec;
pub mod creation;
pub mod error;
pub mod ledger;
pub mod lines;
pub mod message;
pub mod ownership;
mod payload_layout;
pub mod process;
pub mod program;
pub mod receiver;
pub mod sender;
pub mod signals;
pub mod stream;
pub mod sysvipc;
pub mod tally;
pub mod trace;
pub mod wire;

pub use error::{Context, Error, Result};
pub use message::{Body, Message};
