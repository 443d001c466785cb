//! ipc-bench: every mechanism measured side by side, against C and against memcpy.
//!
//! What it shows: how fast each IPC mechanism of the workspace really is between two separate
//! processes, through the workspace's own libraries (what our users get), on two paths (raw
//! bytes, and typed `Message`s through the bincode codec), next to a small C program doing the
//! same with the same sizes and counts, and next to the machine's memcpy bandwidth.
//!
//! C programs it mirrors: none of the tutorial's; its own references in tools/bench/c/ (one
//! per mechanism: pipe, FIFO, Unix socket, TCP, UDP, the shared-memory ring, and System V
//! queue, POSIX queue, shm+semaphores), built with `cc -O2` at run time.
//!
//! Usage:
//! ```text
//! ipc-bench [--quick | --full] [--runs N] [--only pipe,ring,...] [--pin A,B]
//!           [--csv FILE] [--svg FILE] [--compare OLD.csv] [--count N] [--bytes BYTES] [--no-c]
//! ```
//! The other end: itself. For each measurement the bench re-executes its own binary with a
//! hidden `__peer` command, which opens the objects the bench created and echoes (latency) or
//! streams (throughput). Run it with `make bench` (quick mode, release build) or
//! `cargo run --release -p ipc-bench -- --full --pin 0,1 --svg tools/bench/results/bench.svg`.
//!
//! Progress goes to stderr (a bar on a terminal, plain lines otherwise: progress.rs), the
//! Markdown table to stdout, followed by the comparison with `--compare OLD.csv` (compare.rs).
#![forbid(unsafe_code)]

mod chart;
mod codec;
mod compare;
mod cref;
mod machine;
mod measure;
mod mech;
mod memcpy;
mod progress;
mod report;
mod stop;
mod transport;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use ipc_common::{program, signals, Context, Error, Result};

use codec::PathKind;
use machine::{Machine, Pin};
use measure::{Latency, Throughput};
use progress::Progress;
use report::{Better, Cell, Row, RunInfo};
use transport::{Mech, PeerSpec, Role};

/// Measure every IPC mechanism between two processes: latency, throughput, against C and memcpy.
#[derive(Debug, Parser)]
#[command(name = "ipc-bench", version)]
struct Args {
    #[command(subcommand)]
    peer: Option<Hidden>,
    /// Short run (the default; what `make bench` runs): 10000 round trips, 32 MiB streams, medians of 3
    #[arg(long, conflicts_with = "full")]
    quick: bool,
    /// Long run: 100000 round trips, 1 GiB streams, medians of 5 runs
    #[arg(long)]
    full: bool,
    /// Runs per measurement; the table shows the median
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=100))]
    runs: Option<u64>,
    /// Only these mechanisms (comma-separated)
    #[arg(long, value_name = "MECH,...", value_delimiter = ',', value_enum)]
    only: Vec<Mech>,
    /// Run the bench on CPU A and its peer on CPU B (sched_setaffinity)
    #[arg(long, value_name = "A,B")]
    pin: Option<Pin>,
    /// Also write the results as CSV to FILE
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
    /// Also draw a bar chart as SVG to FILE
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,
    /// Print this run beside a saved one (a CSV written by --csv), with now / before per cell
    #[arg(long, value_name = "OLD.csv")]
    compare: Option<PathBuf>,
    /// Timed latency round trips per run (overrides the mode's)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    count: Option<u64>,
    /// Bytes per throughput stream (overrides the mode's; K, M and G suffixes)
    #[arg(long, value_name = "BYTES", value_parser = parse_stream_bytes)]
    bytes: Option<u64>,
    /// Skip the C references (no C compiler needed)
    #[arg(long)]
    no_c: bool,
    /// Skip the memcpy measurement
    #[arg(long)]
    no_memcpy: bool,
}

#[derive(Debug, Subcommand)]
enum Hidden {
    /// The peer process the bench starts (internal)
    #[command(name = "__peer", hide = true)]
    Peer(PeerSpec),
}

/// `--bytes`: a byte count with an optional K, M or G suffix (powers of 1024), 1 KiB to 64 GiB.
fn parse_stream_bytes(text: &str) -> std::result::Result<u64, String> {
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, suffix) = text.split_at(digits_end);
    let scale: u64 = match suffix {
        "" | "B" => 1,
        "K" | "KiB" => 1 << 10,
        "M" | "MiB" => 1 << 20,
        "G" | "GiB" => 1 << 30,
        _ => {
            return Err(format!(
                "'{text}' is not a size: use bytes, or a K, M or G suffix"
            ))
        }
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .filter(|n| (1 << 10..=64 << 30).contains(n))
        .ok_or_else(|| format!("'{text}' is not a size between 1K and 64G"))
}

fn main() -> ExitCode {
    program::main(run)
}

/// How much each measurement does.
#[derive(Debug, Clone, Copy)]
struct Plan {
    mode: &'static str,
    runs: usize,
    round_trips: u64,
    stream_bytes: u64,
}

impl Plan {
    fn of(args: &Args) -> Plan {
        let full = args.full;
        Plan {
            mode: if full { "full" } else { "quick" },
            runs: args.runs.map_or(if full { 5 } else { 3 }, |r| r as usize),
            round_trips: args.count.unwrap_or(if full { 100_000 } else { 10_000 }),
            stream_bytes: args.bytes.unwrap_or(if full { 1 << 30 } else { 32 << 20 }),
        }
    }

    /// Messages in a stream of `size`-byte messages (at least 8).
    fn stream_count(&self, size: usize) -> u64 {
        (self.stream_bytes / size as u64).max(8)
    }
}

fn warmup_of(count: u64) -> u64 {
    (count / 10).clamp(2, 10_000)
}

fn run(args: &Args) -> Result<()> {
    if let Some(Hidden::Peer(spec)) = &args.peer {
        return measure::run_peer(spec);
    }
    // Read the saved run first: a wrong file is refused before minutes of measuring.
    let saved = args.compare.as_deref().map(compare::load).transpose()?;
    stop::watch();
    let plan = Plan::of(args);
    if let Some(pin) = args.pin {
        machine::check_cpu(pin.bench)?;
        machine::check_cpu(pin.peer)?;
        machine::pin_to(pin.bench)?;
    }
    let peer_cpu = args.pin.map(|p| p.peer);
    let mechs: Vec<Mech> = if args.only.is_empty() {
        Mech::ALL.to_vec()
    } else {
        Mech::ALL
            .iter()
            .copied()
            .filter(|m| args.only.contains(m))
            .collect()
    };
    let sides = if args.no_c { 2 } else { 3 };
    let steps: u64 = mechs
        .iter()
        .map(|m| {
            let sizes = if m.has_throughput() {
                m.stream_sizes().len()
            } else {
                0
            };
            (plan.runs * sides * (1 + sizes)) as u64
        })
        .sum::<u64>()
        + if args.no_memcpy { 0 } else { 2 };
    let progress = Progress::new(steps);
    let c = if args.no_c {
        None
    } else {
        progress.note("building the C references with cc -O2");
        Some(cref::CPrograms::build()?)
    };
    let cpus = args
        .pin
        .map_or((-1, -1), |p| (p.bench as i64, p.peer as i64));
    let mut rows = Vec::new();
    for mech in mechs {
        signals::check()?;
        rows.extend(bench_mech(
            mech,
            &plan,
            peer_cpu,
            c.as_ref(),
            cpus,
            &progress,
        )?);
    }
    let mut memcpy_beyond = None;
    if !args.no_memcpy {
        let min_time = Duration::from_millis(if plan.mode == "full" { 500 } else { 100 });
        for (block, label) in [
            (16 << 10, "16 KiB cache-hot (MiB/s)"),
            (256 << 20, "256 MiB beyond cache (MiB/s)"),
        ] {
            progress.step(&format!("memcpy bandwidth, {label}"));
            let bw = memcpy::measure(block, min_time, plan.runs.min(3));
            progress.done();
            if block > (1 << 20) {
                memcpy_beyond = Some(bw.mib_s);
            }
            rows.push(Row {
                mech: "memcpy".into(),
                measure: label.into(),
                better: Better::Higher,
                raw: Some(Cell {
                    value: bw.mib_s,
                    msgs_s: None,
                }),
                typed: None,
                c: None,
            });
        }
    }
    let machine = Machine::read();
    let info = RunInfo {
        date: report::utc_now(),
        machine: machine.clone(),
        mode: plan.mode,
        runs: plan.runs,
        pin: args.pin.map(|p| (p.bench, p.peer)),
        latency_round_trips: plan.round_trips,
        stream_bytes: plan.stream_bytes,
    };
    drop(progress);
    print!("{}", report::markdown(&info, &rows));
    if let (Some(saved), Some(path)) = (&saved, &args.compare) {
        let name = path.display().to_string();
        let now = compare::saved_of(&rows);
        print!(
            "{}",
            compare::markdown(&name, saved, &machine.describe(), &now)
        );
    }
    if let Some(path) = &args.csv {
        std::fs::write(path, report::csv(&machine, &rows))
            .context(format!("writing {}", path.display()))?;
        eprintln!("ipc-bench: wrote {}", path.display());
    }
    if let Some(path) = &args.svg {
        chart::write_svg(path, &rows, "64 KiB (MiB/s)", memcpy_beyond)?;
        eprintln!("ipc-bench: wrote {}", path.display());
    }
    Ok(())
}

/// The median of `values` (which it sorts).
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

fn median_latency(runs: Vec<Latency>) -> Latency {
    let pick = |f: fn(&Latency) -> f64| median(&mut runs.iter().map(f).collect::<Vec<_>>());
    Latency {
        mean_ns: pick(|l| l.mean_ns),
        p50_ns: pick(|l| l.p50_ns),
        p99_ns: pick(|l| l.p99_ns),
    }
}

fn median_throughput(runs: Vec<Throughput>) -> Throughput {
    Throughput {
        mib_s: median(&mut runs.iter().map(|t| t.mib_s).collect::<Vec<_>>()),
        msgs_s: median(&mut runs.iter().map(|t| t.msgs_s).collect::<Vec<_>>()),
    }
}

/// The three columns of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Raw,
    Typed,
    C,
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Side::Raw => "raw",
            Side::Typed => "typed",
            Side::C => "C",
        }
    }
}

/// Runs `f` for every side, `runs` times, interleaved (raw, typed, C, raw, typed, C, ...) so
/// that a change in the machine's load hits every column alike; a progress step each time.
/// Returns the results of each side in the order of `sides`.
fn interleave<T>(
    runs: usize,
    sides: &[Side],
    label: &str,
    progress: &Progress,
    mut f: impl FnMut(Side) -> Result<T>,
) -> Result<Vec<Vec<T>>> {
    let mut out: Vec<Vec<T>> = sides.iter().map(|_| Vec::with_capacity(runs)).collect();
    for run in 1..=runs {
        for (i, &side) in sides.iter().enumerate() {
            signals::check()?;
            let what = format!("{label} {}", side.name());
            progress.step(&format!("{what} (run {run}/{runs})"));
            let result =
                f(side).map_err(|err| Error::new(format!("measuring {what}"), err.to_string()))?;
            progress.done();
            out[i].push(result);
        }
    }
    Ok(out)
}

/// `4 KiB`, `64 KiB`, or `8128 B` for sizes that are not whole KiB.
fn size_name(size: usize) -> String {
    if size % 1024 == 0 {
        format!("{} KiB", size >> 10)
    } else {
        format!("{size} B")
    }
}

/// Every measurement of one mechanism: its table rows.
fn bench_mech(
    mech: Mech,
    plan: &Plan,
    peer_cpu: Option<usize>,
    c: Option<&cref::CPrograms>,
    cpus: (i64, i64),
    progress: &Progress,
) -> Result<Vec<Row>> {
    let name = mech.name();
    let spec = |role, path, size, count| PeerSpec {
        mech,
        role,
        path,
        size,
        count,
        warmup: warmup_of(count),
        addr: String::new(),
        cpu: peer_cpu,
    };
    let mut sides = vec![Side::Raw, Side::Typed];
    if c.is_some() {
        sides.push(Side::C);
    }
    let path_of = |side| {
        if side == Side::Raw {
            PathKind::Raw
        } else {
            PathKind::Typed
        }
    };
    let slots = mech.slots() as usize;
    let mut rows = Vec::new();
    // Latency: 64-byte round trips.
    let n = plan.round_trips;
    let results = interleave(
        plan.runs,
        &sides,
        &format!("{name} latency"),
        progress,
        |side| match (side, c) {
            (Side::C, Some(c)) => c.latency(mech.c_name(), 64, n, warmup_of(n), cpus, slots),
            (Side::C, None) => Err(Error::new("running C", "no C programs")),
            _ => measure::latency(&spec(Role::Echo, path_of(side), 64, n)),
        },
    )?;
    let mut lat: [Option<Latency>; 3] = [None; 3];
    for (side, runs) in sides.iter().zip(results) {
        lat[*side as usize] = Some(median_latency(runs));
    }
    let us = |l: Option<Latency>, f: fn(&Latency) -> f64| {
        l.map(|l| Cell {
            value: f(&l) / 1000.0,
            msgs_s: None,
        })
    };
    for (measure, f) in [
        (
            "latency mean (us)",
            (|l: &Latency| l.mean_ns) as fn(&Latency) -> f64,
        ),
        ("latency p50 (us)", |l: &Latency| l.p50_ns),
        ("latency p99 (us)", |l: &Latency| l.p99_ns),
    ] {
        rows.push(Row {
            mech: name.into(),
            measure: measure.into(),
            better: Better::Lower,
            raw: us(lat[0], f),
            typed: us(lat[1], f),
            c: us(lat[2], f),
        });
    }
    if !mech.has_throughput() {
        return Ok(rows);
    }
    for size in mech.stream_sizes() {
        let count = plan.stream_count(size);
        let label = format!("{name} {} stream", size_name(size));
        let results = interleave(plan.runs, &sides, &label, progress, |side| {
            match (side, c) {
                (Side::C, Some(c)) => {
                    c.throughput(mech.c_name(), size, count, warmup_of(count), cpus, slots)
                }
                (Side::C, None) => Err(Error::new("running C", "no C programs")),
                _ => measure::throughput(&spec(Role::Send, path_of(side), size, count)),
            }
        })?;
        let mut cells: [Option<Cell>; 3] = [None; 3];
        for (side, runs) in sides.iter().zip(results) {
            let t = median_throughput(runs);
            cells[*side as usize] = Some(Cell {
                value: t.mib_s,
                msgs_s: Some(t.msgs_s),
            });
        }
        rows.push(Row {
            mech: name.into(),
            measure: format!("{} (MiB/s)", size_name(size)),
            better: Better::Higher,
            raw: cells[0],
            typed: cells[1],
            c: cells[2],
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_sizes_take_suffixes_up_to_64g() {
        assert_eq!(parse_stream_bytes("256K"), Ok(256 << 10));
        assert_eq!(parse_stream_bytes("1G"), Ok(1 << 30));
        assert!(parse_stream_bytes("100").is_err());
        assert!(parse_stream_bytes("65G").is_err());
        assert!(parse_stream_bytes("1T").is_err());
    }

    #[test]
    fn medians_pick_the_middle() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(size_name(4096), "4 KiB");
        assert_eq!(size_name(8128), "8128 B");
    }
}
