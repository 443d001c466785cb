//! One measurement between two processes, and the peer's half of it.
//!
//! - **Latency**: the bench sends message `i`, the peer sends it back, the bench times the
//!   round trip with `Instant::now()` (the vDSO's `clock_gettime`, about 20 ns). The first
//!   `warmup` round trips are not counted.
//! - **Throughput**: the peer sends `warmup + count` messages one way; the bench verifies
//!   every one, starts the clock after the warm-up and stops it after the last message.

use std::time::Instant;

use ipc_common::{Error, Result};

use crate::codec::{self, Codec};
use crate::transport::{self, PeerSpec, Role};

/// Latency of round trips, in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Latency {
    pub mean_ns: f64,
    pub p50_ns: f64,
    pub p99_ns: f64,
}

/// A one-way stream's speed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Throughput {
    pub mib_s: f64,
    pub msgs_s: f64,
}

/// Latency statistics of `samples` (sorted here).
pub fn latency_of(samples: &mut [u64]) -> Latency {
    samples.sort_unstable();
    let n = samples.len().max(1);
    let at = |q: f64| {
        samples
            .get(((n as f64 * q) as usize).min(n - 1))
            .copied()
            .unwrap_or(0) as f64
    };
    Latency {
        mean_ns: samples.iter().sum::<u64>() as f64 / n as f64,
        p50_ns: at(0.50),
        p99_ns: at(0.99),
    }
}

/// Throughput of `count` messages of `size` bytes in `nanos`.
pub fn throughput_of(size: usize, count: u64, nanos: u128) -> Throughput {
    let secs = (nanos.max(1) as f64) / 1e9;
    Throughput {
        mib_s: (size as f64 * count as f64) / secs / (1024.0 * 1024.0),
        msgs_s: count as f64 / secs,
    }
}

/// Checks that message `got` is the one expected.
fn expect(got: u64, want: u64) -> Result<()> {
    if got == want {
        Ok(())
    } else {
        Err(Error::new(
            "checking the order of messages",
            format!("expected message {want}, got {got}"),
        ))
    }
}

/// When our side failed: if the peer has exited, its failure is the real cause.
fn blame_peer(peer: &mut ipc_pipe::ChildGuard, err: Error) -> Error {
    if ipc_common::process::is_running(peer.pid().as_raw() as u32) {
        return err;
    }
    match finish_peer(peer) {
        Err(peer_err) => peer_err,
        Ok(()) => err,
    }
}

/// Starts the peer and measures round trips (`spec.role` must be Echo).
pub fn latency(spec: &PeerSpec) -> Result<Latency> {
    let session = transport::open_parent(spec)?;
    let mut peer = session.peer;
    let mut codec = codec::make(session.endpoint, spec.path, spec.size);
    let samples = round_trips(spec, codec.as_mut()).map_err(|err| blame_peer(&mut peer, err));
    let mut samples = samples?;
    // The peer first: the shared-memory writer leaves its objects to a live reader.
    finish_peer(&mut peer)?;
    drop(codec);
    Ok(latency_of(&mut samples))
}

fn round_trips(spec: &PeerSpec, codec: &mut dyn Codec) -> Result<Vec<u64>> {
    let mut samples = Vec::with_capacity(spec.count as usize);
    for seq in 1..=spec.warmup + spec.count {
        let start = Instant::now();
        codec.send(seq)?;
        codec.flush()?;
        let got = codec.recv()?;
        let nanos = start.elapsed().as_nanos() as u64;
        expect(got, seq)?;
        if seq > spec.warmup {
            samples.push(nanos);
        }
    }
    Ok(samples)
}

/// Starts the peer and measures its one-way stream (`spec.role` must be Send).
pub fn throughput(spec: &PeerSpec) -> Result<Throughput> {
    let session = transport::open_parent(spec)?;
    let mut peer = session.peer;
    let mut codec = codec::make(session.endpoint, spec.path, spec.size);
    let nanos = stream(spec, codec.as_mut()).map_err(|err| blame_peer(&mut peer, err))?;
    finish_peer(&mut peer)?;
    drop(codec);
    Ok(throughput_of(spec.size, spec.count, nanos))
}

/// Receives the peer's stream; returns the nanoseconds of the measured part.
fn stream(spec: &PeerSpec, codec: &mut dyn Codec) -> Result<u128> {
    for seq in 1..=spec.warmup {
        expect(codec.recv()?, seq)?;
    }
    let start = Instant::now();
    for seq in spec.warmup + 1..=spec.warmup + spec.count {
        expect(codec.recv()?, seq)?;
    }
    Ok(start.elapsed().as_nanos())
}

fn finish_peer(peer: &mut ipc_pipe::ChildGuard) -> Result<()> {
    let code = peer.wait()?;
    crate::stop::set_peer(0);
    match code {
        0 => Ok(()),
        code => Err(Error::new(
            "running the bench's peer",
            format!("it exited with code {code}"),
        )
        .with_hint("its error message is above")),
    }
}

/// The peer process: opens what the bench created and echoes or sends.
pub fn run_peer(spec: &PeerSpec) -> Result<()> {
    if let Some(cpu) = spec.cpu {
        crate::machine::pin_to(cpu)?;
    }
    let endpoint = transport::open_child(spec)?;
    let mut codec: Box<dyn Codec> = codec::make(endpoint, spec.path, spec.size);
    let total = spec.warmup + spec.count;
    match spec.role {
        Role::Echo => {
            for _ in 0..total {
                codec.echo()?;
                codec.flush()?;
            }
        }
        Role::Send => {
            for seq in 1..=total {
                codec.send(seq)?;
            }
            codec.flush()?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_known_sample() {
        let mut samples: Vec<u64> = (1..=100).rev().collect();
        let lat = latency_of(&mut samples);
        assert_eq!(lat.p50_ns, 51.0);
        assert_eq!(lat.p99_ns, 100.0);
        assert!((lat.mean_ns - 50.5).abs() < 1e-9);
    }

    #[test]
    fn throughput_in_mib_per_second() {
        let t = throughput_of(1024 * 1024, 10, 1_000_000_000);
        assert!((t.mib_s - 10.0).abs() < 1e-9);
        assert!((t.msgs_s - 10.0).abs() < 1e-9);
    }
}
