//! Many clients at once on one stream socket: the tutorial's server, one thread per client.
//!
//! server.c serves one client at a time: `accept`, read, write, `close`, back to `accept`. A
//! client that connects and says nothing blocks every other client. Here the main thread only
//! accepts; each accepted client gets its own thread, which reads its frames, prints its texts,
//! acknowledges each message and counts what arrived (C: `fork()` per client in the tutorial's
//! multi-client variant, or `pthread_create`).
//!
//! Every wait of every thread goes through `poll` with the Ctrl-C wake-up pipe, so Ctrl-C wakes
//! all of them at once: the main thread stops accepting, each client thread closes its client,
//! and the totals are printed.
//!
//! With `--wire c` ([`crate::cwire`]) each client thread reads lines instead of frames and
//! answers nothing, as c/server.c does; everything else (threads, counts, Ctrl-C) is the same.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use nix::errno::Errno;

use ipc_common::error::ErrorKind;
use ipc_common::sender::Outbox;
use ipc_common::stream::{FrameReader, FrameWriter};
use ipc_common::tally::Summary;
use ipc_common::{signals, Error, Message, Result};

use crate::cwire::{LineReader, Wire};
use crate::listener::{Listener, Peer};
use crate::report::ClientTally;
use crate::stream::Stream;
use crate::timed::{TimedReader, TimedWriter};

/// The most clients served at the same time (one thread each). A client that connects while
/// the server is full is closed at once, with a log line, instead of starting another thread.
pub const MAX_CONCURRENT_CLIENTS: usize = 512;

/// How the server runs.
#[derive(Debug, Clone, Copy)]
pub struct ServerOptions {
    /// How long a client may take to finish a frame, or to read our acknowledgement.
    pub frame_timeout: Duration,
    /// Stop after this many clients have finished (`--clients N`); `None`: until Ctrl-C.
    pub clients: Option<u64>,
    /// Our frames and acknowledgements, or the C programs' lines (stream sockets only).
    pub wire: Wire,
}

/// What the server did, over all its clients.
#[derive(Debug, Default, Clone, Copy)]
pub struct Served {
    /// The sum of every client's counts.
    pub total: Summary,
    /// Clients that connected (stream) or sent anything (UDP).
    pub clients: u64,
    /// Clients that were dropped for a bad frame, a stall or a lost connection.
    pub dropped: u64,
}

impl Served {
    /// Adds one client's counts.
    pub fn add(&mut self, summary: &Summary, dropped: bool) {
        self.total.add(summary);
        self.clients += 1;
        self.dropped += u64::from(dropped);
    }
}

/// How a client's session ended.
#[derive(Debug)]
enum Ending {
    /// Its End arrived and was acknowledged.
    End,
    /// It closed the connection between two frames, without an End.
    LeftEarly,
    /// Its bytes were not valid frames (garbage, a length over the limit, a truncated frame,
    /// a frame that stopped half-way): counted as one corrupt message.
    BadFrame(Error),
    /// The connection failed (reset, a write that found no reader) or it stopped reading.
    Lost(Error),
    /// Ctrl-C or SIGTERM: the server is stopping.
    Stopped,
}

/// Accepts clients on `listener` until `options.clients` have finished or Ctrl-C, serving each
/// in its own thread. Closes the listener (which removes a Unix socket file) as soon as it stops
/// accepting, then waits for every client thread. Returns the totals and how accepting ended.
pub fn serve(listener: Listener, options: ServerOptions) -> (Served, Result<()>) {
    let served = Arc::new(Mutex::new(Served::default()));
    let mut threads: Vec<JoinHandle<()>> = Vec::new();
    let mut accepted = 0u64;
    let mut unix_peers = 0u64;
    let mut starved = false;
    let outcome = loop {
        if options.clients.is_some_and(|wanted| accepted >= wanted) {
            break Ok(());
        }
        let (stream, peer) = match listener.accept(&mut unix_peers) {
            Ok(client) => client,
            // Out of descriptors or memory: the pending client stays queued; serve the
            // others and try again shortly, as a long-running server must.
            Err(err) if is_transient(&err) => {
                if !starved {
                    eprintln!("socket-server: warning: {err}; retrying every 100 ms");
                    starved = true; // one line per episode, not ten a second
                }
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
            Err(err) => break Err(err),
        };
        accepted += 1;
        starved = false;
        // Forget threads that are done, so that a server running for days does not pile them up.
        threads.retain(|thread| !thread.is_finished());
        if threads.len() >= MAX_CONCURRENT_CLIENTS {
            eprintln!(
                "socket-server: refused {peer}: already serving {MAX_CONCURRENT_CLIENTS} clients"
            );
            lock(&served).add(&Summary::default(), true);
            continue; // dropping the stream closes it: the client reads end-of-file
        }
        eprintln!("socket-server: {peer} connected");
        let shared = Arc::clone(&served);
        let spawned = std::thread::Builder::new()
            .name(format!("client {peer}"))
            .spawn(move || serve_client(&stream, &peer, options, &shared));
        match spawned {
            Ok(thread) => threads.push(thread),
            Err(err) => {
                let err = Error::io("starting its thread", &err);
                eprintln!("socket-server: dropped a client: {err}");
                lock(&served).add(&Summary::default(), true);
            }
        }
    };
    drop(listener); // C: close(server_sockfd): new clients are refused from now on
    for thread in threads {
        let _ = thread.join();
    }
    let served = *lock(&served);
    (served, outcome)
}

/// One client, from its first frame to its End (or until it is dropped).
fn serve_client(stream: &Stream, peer: &Peer, options: ServerOptions, served: &Mutex<Served>) {
    let mut client = ClientTally::new(peer);
    let ending = match options.wire {
        Wire::Bincode => exchange(stream, options.frame_timeout, &mut client),
        Wire::C => exchange_lines(stream, &mut client),
    };
    let dropped = match &ending {
        Ending::End => {
            eprintln!("socket-server: {peer} finished");
            false
        }
        Ending::LeftEarly => {
            eprintln!("socket-server: {peer} left without its End message");
            false
        }
        Ending::BadFrame(err) => {
            client.bad_frame();
            let mixed_up = match options.wire {
                // Text where a length prefix should be: the usual sign of a C client.
                Wire::Bincode => " (lines of text from a C client need socket-server --wire c)",
                Wire::C => "",
            };
            eprintln!("socket-server: dropped {peer}: {err}{mixed_up}");
            true
        }
        Ending::Lost(err) => {
            eprintln!("socket-server: lost {peer}: {err}");
            true
        }
        Ending::Stopped => {
            eprintln!("socket-server: closed {peer}: the server is stopping");
            false
        }
    };
    // C: close(client_sockfd) happens when the caller's Stream is dropped, right after this.
    stream.shutdown_write();
    let summary = client.report();
    served
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .add(&summary, dropped);
}

/// Reads messages and acknowledges each, until the client's End.
fn exchange(stream: &Stream, frame_timeout: Duration, client: &mut ClientTally) -> Ending {
    let mut reader = FrameReader::new(
        TimedReader::new(stream, None, frame_timeout),
        "reading its next message",
    );
    let mut writer = FrameWriter::new(
        TimedWriter::new(stream, frame_timeout),
        "sending its acknowledgement",
        "the client closed the connection",
    );
    let server = std::process::id();
    loop {
        let msg = match reader.next_message() {
            Ok(Some(msg)) => msg,
            Ok(None) => return Ending::LeftEarly,
            Err(err) => return failed_read(err),
        };
        let is_end = match client.take(&msg) {
            Ok(first_end) => first_end || msg.is_end(),
            Err(err) => return Ending::Lost(err),
        };
        // C: write(client_sockfd, &ack, ...). Acks are flushed at once (they are not payloads).
        match writer.send(&Message::ack(server, msg.seq)) {
            Ok(()) => {}
            Err(err) if stopping(&err) => return Ending::Stopped,
            Err(err) => return Ending::Lost(err),
        }
        if is_end {
            return Ending::End;
        }
    }
}

/// `--wire c`: reads the client's lines (server.c's `fgets` loop), prints each, answers
/// nothing, until its `end`. No bound on silence, also in the middle of a line.
fn exchange_lines(stream: &Stream, client: &mut ClientTally) -> Ending {
    let mut lines = LineReader::new(stream);
    loop {
        let msg = match lines.next_message() {
            Ok(Some(msg)) => msg,
            Ok(None) => return Ending::LeftEarly,
            Err(err) => return failed_read(err),
        };
        match client.take(&msg) {
            Ok(first_end) if first_end || msg.is_end() => return Ending::End,
            Ok(_) => {}
            Err(err) => return Ending::Lost(err),
        }
    }
}

/// How a failed read ends a client: a stop, a bad frame or line (an error without an errno:
/// garbage, too large, truncated, stalled half-way), or a lost connection.
fn failed_read(err: Error) -> Ending {
    if stopping(&err) {
        Ending::Stopped
    } else if err.errno().is_none() {
        Ending::BadFrame(err)
    } else {
        Ending::Lost(err)
    }
}

/// The totals, locked. A client thread never panics while holding the lock, but if one ever
/// did, its counts are still there: take them rather than fail.
fn lock(served: &Mutex<Served>) -> MutexGuard<'_, Served> {
    served.lock().unwrap_or_else(PoisonError::into_inner)
}

/// `accept` failures that pass when other clients leave: EMFILE, ENFILE, ENOBUFS, ENOMEM.
fn is_transient(err: &Error) -> bool {
    matches!(
        err.errno(),
        Some(Errno::EMFILE | Errno::ENFILE | Errno::ENOBUFS | Errno::ENOMEM)
    )
}

/// True when `err` is (or was caused by) a Ctrl-C / SIGTERM stop.
fn stopping(err: &Error) -> bool {
    err.kind() == ErrorKind::Interrupted || signals::stop_requested()
}
