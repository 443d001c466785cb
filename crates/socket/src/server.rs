//! Many clients at once on one stream socket, as one `Inbox` for `run_receiver`.
//!
//! server.c serves one client at a time: `accept`, read, write, `close`, back to `accept`. A
//! client that connects and says nothing blocks every other client. Here a thread accepts
//! (`accept` in a loop) and starts one [`session`](crate::session) thread per client; the
//! sessions acknowledge, time and drop their clients, and forward what arrives over a channel.
//! The main thread's [`ServerInbox::receive`] takes it from there, one message at a time,
//! whichever client it came from, so the server's receive loop is every receiver's.
//!
//! Every wait of every thread goes through `poll` with the Ctrl-C wake-up pipe, so Ctrl-C wakes
//! all of them at once: the accepting thread stops accepting and closes the listener (which
//! removes a Unix socket file), each session closes its client, and the totals are printed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use nix::errno::Errno;

use ipc_common::receiver::{Delivery, Inbox};
use ipc_common::{program, Error, Result};

use crate::listener::Listener;
use crate::one_char;
use crate::report::{print_line, ClientTally, Served};
use crate::session::{serve_client, Event, ServerOptions};
use crate::stream::Stream;

/// The most clients served at the same time (one thread each). A client that connects while
/// the server is full is closed at once, with a log line, instead of starting another thread.
pub const MAX_CONCURRENT_CLIENTS: usize = 512;

/// How often the accepting thread looks whether its sessions are over, or the main thread is.
const SESSION_CHECK: Duration = Duration::from_millis(10);

/// How many events may wait for the main thread before the sessions wait for it in turn.
const BACKLOG: usize = 1024;

/// The stream server's inbox: the messages of all its clients, in the order they arrive.
#[derive(Debug)]
pub struct ServerInbox {
    events: Receiver<Event>,
    clients: HashMap<u64, ClientTally>,
    served: Served,
    /// The client of the last message, for `[PEER] You wrote: ...`.
    origin: String,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl ServerInbox {
    /// Starts accepting clients on `listener` (on a thread of its own), each served by a
    /// session thread, until `options.clients` have finished or Ctrl-C.
    pub fn start(listener: Listener, options: ServerOptions) -> Result<Self> {
        let (sender, events) = mpsc::sync_channel(BACKLOG);
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let acceptor = std::thread::Builder::new()
            .name("accept".into())
            .spawn(move || {
                let outcome = accept_all(listener, options, &sender, &stopped);
                let _ = sender.send(Event::Over(outcome));
            })
            .map_err(|err| Error::io("starting the thread that accepts clients", &err))?;
        Ok(ServerInbox {
            events,
            clients: HashMap::new(),
            served: Served::default(),
            origin: String::new(),
            stop,
            acceptor: Some(acceptor),
        })
    }

    /// Takes in an event about a client's comings and goings; returns a delivery for the
    /// receive loop, if the event is one.
    fn take(&mut self, event: Event) -> Option<Result<Delivery>> {
        match event {
            Event::Joined(id, peer) => {
                self.clients.insert(id, ClientTally::new(peer));
            }
            Event::Message(id, mut msg) => {
                if let Some(client) = self.clients.get_mut(&id) {
                    client.record(&msg);
                    self.origin.clear();
                    self.origin.push_str(client.peer());
                }
                // Each connection is its own sender in the total (C clients all send as pid 0,
                // numbering from 1), so the total is the sum of the clients' counts.
                msg.sender = u32::try_from(id).unwrap_or(u32::MAX);
                return Some(Ok(Delivery::Message(msg)));
            }
            Event::OneChar(id, got, sent) => {
                // The textbook client's char: shown in the textbook's words, counted as the
                // client's message number 1 (a one-byte payload: nothing to print as text).
                let mut msg = one_char::as_message(got);
                if let Some(client) = self.clients.get_mut(&id) {
                    client.record(&msg);
                    self.origin.clear();
                    self.origin.push_str(client.peer());
                }
                let line = format!(
                    "[{}] char from client = {}, sent back {}",
                    self.origin,
                    one_char::show(got),
                    one_char::show(sent)
                );
                if let Err(err) = print_line(&line) {
                    return Some(Err(err));
                }
                msg.sender = u32::try_from(id).unwrap_or(u32::MAX);
                return Some(Ok(Delivery::Message(msg)));
            }
            Event::Garbled(id, why) => {
                if let Some(client) = self.clients.get_mut(&id) {
                    client.bad_record();
                }
                return Some(Ok(Delivery::Garbled(why)));
            }
            Event::Left(id, dropped) => {
                if let Some(client) = self.clients.remove(&id) {
                    client.report();
                }
                self.served.add(dropped);
            }
            Event::Refused => self.served.add(true),
            Event::Over(outcome) => return Some(outcome.map(|()| Delivery::Closed)),
        }
        None
    }
}

impl Inbox for ServerInbox {
    /// The next message of any client; `Closed` once accepting is over and every client is
    /// done (`--clients N`).
    fn receive(&mut self) -> Result<Delivery> {
        while let Ok(event) = self.events.recv() {
            if let Some(delivery) = self.take(event) {
                return delivery;
            }
        }
        Ok(Delivery::Closed)
    }

    fn origin(&self) -> Option<&str> {
        Some(&self.origin)
    }

    /// After Ctrl-C: stop accepting, and hand over every message a session forwarded (and so
    /// acknowledged) that the loop has not taken yet, until every session has ended. A
    /// session forwards before it acknowledges, so a client never sees an acknowledgement
    /// for a message that is not counted.
    fn take_held(&mut self) -> Result<Option<Delivery>> {
        self.stop.store(true, Ordering::Relaxed);
        while let Ok(event) = self.events.recv() {
            // Joined/Left are taken in; the accept loop's end (Over) says nothing more here:
            // the stop is what the run reports.
            if let Some(Ok(delivery @ (Delivery::Message(_) | Delivery::Garbled(_)))) =
                self.take(event)
            {
                return Ok(Some(delivery));
            }
        }
        Ok(None)
    }
}

impl Drop for ServerInbox {
    /// Stops accepting, waits for every session (each says how its client ended, and its
    /// `[PEER] summary:` line is shown), then says how many clients were served.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        while let Ok(event) = self.events.recv() {
            match event {
                Event::Message(..) | Event::OneChar(..) | Event::Garbled(..) | Event::Over(_) => {}
                other => drop(self.take(other)),
            }
        }
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        self.served.announce();
    }
}

/// The accepting thread: C's `accept` loop. Closes the listener as soon as it stops accepting
/// (new clients are refused from then on), then waits for every session.
fn accept_all(
    listener: Listener,
    options: ServerOptions,
    events: &SyncSender<Event>,
    stop: &AtomicBool,
) -> Result<()> {
    let name = program::name();
    // Each session's thread, and a second handle on its connection (to end it, below).
    let mut sessions: Vec<(JoinHandle<()>, Option<Stream>)> = Vec::new();
    let mut accepted = 0u64;
    let mut unix_peers = 0u64;
    let mut starved = false;
    let outcome = loop {
        if options.clients.is_some_and(|wanted| accepted >= wanted) {
            break Ok(());
        }
        let (stream, peer) = match listener.accept(&mut unix_peers, stop) {
            Ok(Some(client)) => client,
            Ok(None) => break Ok(()), // the main thread is done
            // Out of descriptors or memory: the pending client stays queued; serve the
            // others and try again shortly, as a long-running server must.
            Err(err) if is_transient(&err) => {
                if !starved {
                    eprintln!("{name}: warning: {err}; retrying every 100 ms");
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
        sessions.retain(|(thread, _)| !thread.is_finished());
        if sessions.len() >= MAX_CONCURRENT_CLIENTS {
            eprintln!("{name}: refused {peer}: already serving {MAX_CONCURRENT_CLIENTS} clients");
            let _ = events.send(Event::Refused);
            continue; // dropping the stream closes it: the client reads end-of-file
        }
        eprintln!("{name}: {peer} connected");
        let peer = peer.to_string();
        let _ = events.send(Event::Joined(accepted, peer.clone()));
        let to_main = events.clone();
        let handle = stream.try_clone().ok();
        let spawned = std::thread::Builder::new()
            .name(format!("client {peer}"))
            .spawn(move || serve_client(&stream, accepted, &peer, options, &to_main));
        match spawned {
            Ok(thread) => sessions.push((thread, handle)),
            Err(err) => {
                let err = Error::io("starting its thread", &err);
                eprintln!("{name}: dropped a client: {err}");
                let _ = events.send(Event::Left(accepted, true));
            }
        }
    };
    drop(listener); // C: close(server_sockfd): new clients are refused from now on
                    // Wait for the sessions. Once the main thread is done (Ctrl-C, or an error such as a
                    // closed stdout), a client waiting between two messages is not waited for: its
                    // connection is shut down, and its session reads end-of-file.
    let mut shut = false;
    while sessions.iter().any(|(thread, _)| !thread.is_finished()) {
        if !shut && stop.load(Ordering::Relaxed) {
            for handle in sessions.iter().filter_map(|(_, handle)| handle.as_ref()) {
                handle.shutdown_both();
            }
            shut = true;
        }
        std::thread::sleep(SESSION_CHECK);
    }
    for (thread, _) in sessions {
        let _ = thread.join();
    }
    outcome
}

/// `accept` failures that pass when other clients leave: EMFILE, ENFILE, ENOBUFS, ENOMEM.
fn is_transient(err: &Error) -> bool {
    matches!(
        err.errno(),
        Some(Errno::EMFILE | Errno::ENFILE | Errno::ENOBUFS | Errno::ENOMEM)
    )
}
