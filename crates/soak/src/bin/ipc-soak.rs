//! ipc-soak: round after round, starts a random pair with a random fault and checks that
//! nothing leaks, nothing hangs and nothing is lost.
//!
//! What it shows: the contract's promises ("Ctrl-C or SIGTERM stops it within a second and
//! removes what it owns", "messages are never dropped silently", "a message queue survives the
//! sender's exit") hold under SIGINT, SIGTERM, SIGKILL, a late receiver and a stalled sender,
//! for every mechanism, 1 to 4 senders, and sizes from 1 byte to each mechanism's maximum.
//! It mirrors no C program; it drives the real programs as a user or a script would.
//!
//! Usage (the programs must be built first; `make soak` does both):
//!
//! ```text
//! cargo build --release --workspace --bins
//! SOAK_SECS=600 target/release/ipc-soak        # seed from the clock, printed first
//! SOAK_SEED=0x1234 target/release/ipc-soak     # the same rounds again
//! SOAK_ROUND=0xabcd target/release/ipc-soak    # replay one round (seed from a FAILED line)
//! SOAK_MECHS=fifo,shm target/release/ipc-soak  # only these (pipe fifo msgq-sysv msgq-posix
//!                                              # sem shm socket-tcp socket-unix socket-udp)
//! SOAK_VERBOSE=1 ...                           # print the stderr of every failed round
//! ```
//!
//! It finds the programs beside its own executable (else in `IPC_BIN`). One line per round on
//! stdout, then the table; exit 0 only with no leak, hang, loss or other failure, else 1.
#![forbid(unsafe_code)]

use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ipc_soak::mechanism::{leftovers, Limits, Names, KINDS};
use ipc_soak::report::Totals;
use ipc_soak::rng::Rng;
use ipc_soak::{bin_dir, missing_programs, plan, round};

/// The programs a round may start.
const PROGRAMS: [&str; 12] = [
    "pipe-sender",
    "pipe-receiver",
    "fifo-sender",
    "fifo-receiver",
    "msgq-sender",
    "msgq-receiver",
    "sem-sender",
    "sem-receiver",
    "shm-sender",
    "shm-receiver",
    "socket-server",
    "socket-client",
];

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(err) => {
            eprintln!("ipc-soak: error: {err}");
            ExitCode::from(2)
        }
    }
}

/// Reads a number from the environment: decimal or 0x-hex.
fn env_number(name: &str) -> Result<Option<u64>, String> {
    let Ok(text) = std::env::var(name) else {
        return Ok(None);
    };
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    };
    parsed
        .map(Some)
        .map_err(|_| format!("{name}={text:?} is not a number (decimal or 0x-hex)"))
}

fn run() -> Result<bool, String> {
    // Beside our own executable first (target/release for `make soak`), so that an IPC_BIN
    // pointing at the debug programs (the Makefile exports one for the tests) does not slow
    // the soak down; IPC_BIN only when the programs are not there.
    let own = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(std::path::Path::to_path_buf))
        .unwrap_or_default();
    let bin = if missing_programs(&own, &PROGRAMS).is_empty() {
        own
    } else {
        bin_dir()
    };
    let missing = missing_programs(&bin, &PROGRAMS);
    if !missing.is_empty() {
        return Err(format!(
            "{} not found in {}; build them first: cargo build --release --workspace --bins \
             (or set IPC_BIN to their directory)",
            missing.join(", "),
            bin.display()
        ));
    }
    // Orphans of the programs (pipe-sender's child when pipe-sender is killed) come to us, so
    // that we can see them end and reap them instead of losing track of them.
    nix::sys::prctl::set_child_subreaper(true)
        .map_err(|errno| format!("prctl(PR_SET_CHILD_SUBREAPER): {errno}"))?;
    let filter = std::env::var("SOAK_MECHS").ok();
    let replay = filter
        .as_ref()
        .map(|list| format!("SOAK_MECHS={list} "))
        .unwrap_or_default();
    let mechs: Vec<&str> = match &filter {
        Some(list) => {
            let picked: Vec<&str> = KINDS
                .iter()
                .copied()
                .filter(|kind| list.split(',').any(|want| want.trim() == *kind))
                .collect();
            if picked.is_empty() {
                return Err(format!(
                    "SOAK_MECHS={list:?} names none of {}",
                    KINDS.join(", ")
                ));
            }
            picked
        }
        None => KINDS.to_vec(),
    };
    let secs = env_number("SOAK_SECS")?.unwrap_or(120);
    let single = env_number("SOAK_ROUND")?;
    let verbose = single.is_some() || std::env::var_os("SOAK_VERBOSE").is_some();
    let seed = match env_number("SOAK_SEED")? {
        Some(seed) => seed,
        None => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1),
    };
    let limits = Limits::read();
    let pid = std::process::id();
    let mut master = Rng::new(seed);
    let mut totals = Totals::default();
    let began = Instant::now();
    let until = began + Duration::from_secs(secs);
    println!(
        "ipc-soak: seed {seed:#x}, {secs} s, mechanisms {}, programs from {}",
        mechs.join(" "),
        bin.display()
    );
    let mut number = 0u64;
    let mut skip = 0u64;
    loop {
        let round_seed = match single {
            Some(one) if number == 0 => one,
            Some(_) => break,
            None if Instant::now() >= until => break,
            None => master.next_u64(),
        };
        number += 1;
        let plan = plan::draw(round_seed, &mechs, &limits);
        // Names no one uses now (a test may hold a key in the same 0x5xxxxxxx range).
        let mut names = Names::new(pid, number + skip);
        while !leftovers(&names).is_empty() {
            skip += 1;
            names = Names::new(pid, number + skip);
        }
        let started = Instant::now();
        let outcome = round::run(&plan, &bin, &names);
        println!(
            "round {number:>4} {:>6} ms  {}  {}  [{}]",
            started.elapsed().as_millis(),
            if outcome.ok() { "ok  " } else { "FAIL" },
            plan,
            format_args!("seed {round_seed:#x}")
        );
        if !outcome.ok() {
            for problem in outcome
                .leaks
                .iter()
                .chain(&outcome.hangs)
                .chain(&outcome.failures)
            {
                println!("      {problem}");
            }
            if verbose {
                for detail in &outcome.details {
                    println!("{detail}");
                }
            }
        }
        totals.add(number, &plan, &outcome);
    }
    print!("{}", totals.table(seed, began.elapsed(), &replay));
    Ok(totals.clean())
}
