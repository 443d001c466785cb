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
//!                                              # sem shm shm-ring socket-tcp socket-unix
//!                                              # socket-udp)
//! SOAK_VERBOSE=1 ...                           # print the stderr of every failed round
//! target/release/ipc-soak --secs 60 --only shm-ring   # the same as options (see --help)
//! ```
//!
//! It finds the programs beside its own executable (else in `IPC_BIN`). One line per round on
//! stdout, then the table; exit 0 only with no leak, hang, loss or other failure, 1 otherwise,
//! 2 for a usage error.
#![forbid(unsafe_code)]

use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ipc_soak::leftover::leftovers;
use ipc_soak::limits::Limits;
use ipc_soak::mechanism::KINDS;
use ipc_soak::names::Names;
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

/// What `--help` prints.
const USAGE: &str = "\
Usage: ipc-soak [--secs N] [--only KIND,...] [--seed S] [--round S] [--verbose]

Round after round, starts a random pair of the workspace's programs with a random fault
(SIGINT, SIGTERM, SIGKILL, a late receiver, SIGSTOP/SIGCONT) and checks that nothing leaks,
hangs or is lost. Ends with a table; exit 0 only if every round was clean.

Options (each also read from the environment variable beside it; an option wins):
  --secs N          run rounds for N seconds (default 120)              SOAK_SECS
  --only KIND,...   only these mechanism kinds                          SOAK_MECHS
                    (pipe fifo msgq-sysv msgq-posix sem shm shm-ring
                     socket-tcp socket-unix socket-udp)
  --seed S          the seed of the whole run (decimal or 0x-hex)       SOAK_SEED
  --round S         replay exactly one round (the seed a FAILED line    SOAK_ROUND
                    prints; give the same --only as that run)
  --verbose         print the stderr of every process of a failed round SOAK_VERBOSE
  -h, --help        this text

The programs are taken from beside ipc-soak (else from $IPC_BIN): build them first with
cargo build --release --workspace --bins. See tools/soak/README.md.
";

/// The run's settings: the command line, else the environment.
#[derive(Debug, Default)]
struct Options {
    secs: Option<String>,
    only: Option<String>,
    seed: Option<String>,
    round: Option<String>,
    verbose: bool,
    help: bool,
}

impl Options {
    /// Reads the command line (`--secs 60` or `--secs=60`); a usage error names the option.
    fn parse(args: impl IntoIterator<Item = String>) -> Result<Options, String> {
        let mut options = Options::default();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let (name, inline) = match arg.split_once('=') {
                Some((name, value)) if name.starts_with("--") => {
                    (name.to_string(), Some(value.to_string()))
                }
                _ => (arg.clone(), None),
            };
            let slot = match name.as_str() {
                "-h" | "--help" => {
                    options.help = true;
                    continue;
                }
                "--verbose" => {
                    options.verbose = true;
                    continue;
                }
                "--secs" => &mut options.secs,
                "--only" => &mut options.only,
                "--seed" => &mut options.seed,
                "--round" => &mut options.round,
                _ => return Err(format!("unknown argument {arg:?} (see ipc-soak --help)")),
            };
            let value = inline.or_else(|| args.next());
            *slot = Some(value.ok_or_else(|| format!("{name} needs a value"))?);
        }
        Ok(options)
    }

    /// The option's value, else the environment variable's.
    fn or_env(value: &Option<String>, var: &str) -> Option<(String, String)> {
        match value {
            Some(value) => Some((var.to_string(), value.clone())),
            None => std::env::var(var)
                .ok()
                .map(|value| (var.to_string(), value)),
        }
    }
}

fn main() -> ExitCode {
    ipc_common::program::set_name("ipc-soak");
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(err) => {
            eprintln!("ipc-soak: error: {err}");
            return ExitCode::from(2);
        }
    };
    if options.help {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    match run(&options) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(err) => {
            eprintln!("ipc-soak: error: {err}");
            ExitCode::from(2)
        }
    }
}

/// Reads a number given as `value` (an option) or in the environment variable `var`:
/// decimal or 0x-hex.
fn number(value: &Option<String>, var: &str) -> Result<Option<u64>, String> {
    let Some((name, text)) = Options::or_env(value, var) else {
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

fn run(options: &Options) -> Result<bool, String> {
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
    let filter = Options::or_env(&options.only, "SOAK_MECHS").map(|(_, list)| list);
    let replay = filter
        .as_ref()
        .map(|list| format!("SOAK_MECHS={list} "))
        .unwrap_or_default();
    let mechs: Vec<&str> = match &filter {
        Some(list) => {
            let wanted: Vec<&str> = list.split(',').map(str::trim).collect();
            if let Some(unknown) = wanted.iter().find(|want| !KINDS.contains(want)) {
                return Err(format!(
                    "--only / SOAK_MECHS={list:?}: {unknown:?} is not one of {}",
                    KINDS.join(", ")
                ));
            }
            // In KINDS order, so that a seed picks the same kind however the list was written.
            KINDS
                .iter()
                .copied()
                .filter(|kind| wanted.contains(kind))
                .collect()
        }
        None => KINDS.to_vec(),
    };
    let secs = number(&options.secs, "SOAK_SECS")?.unwrap_or(120);
    let single = number(&options.round, "SOAK_ROUND")?;
    let verbose = options.verbose || single.is_some() || std::env::var_os("SOAK_VERBOSE").is_some();
    let seed = match number(&options.seed, "SOAK_SEED")? {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, String> {
        Options::parse(args.iter().map(|arg| arg.to_string()))
    }

    #[test]
    fn options_take_a_value_after_them_or_after_an_equals_sign() {
        let options = parse(&["--secs", "60", "--only=shm-ring,fifo", "--verbose"]).expect("ok");
        assert_eq!(options.secs.as_deref(), Some("60"));
        assert_eq!(options.only.as_deref(), Some("shm-ring,fifo"));
        assert!(options.verbose && !options.help);
        assert!(parse(&["-h"]).expect("ok").help);
    }

    #[test]
    fn an_unknown_option_or_a_missing_value_is_a_usage_error() {
        assert!(parse(&["--sec", "60"])
            .expect_err("unknown")
            .contains("--sec"));
        assert!(parse(&["--only"])
            .expect_err("no value")
            .contains("needs a value"));
        assert!(number(&Some("0x10".into()), "SOAK_SECS") == Ok(Some(16)));
        assert!(number(&Some("ten".into()), "SOAK_SECS").is_err());
    }
}
