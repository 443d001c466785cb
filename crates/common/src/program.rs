//! The life of every program, in one place: parse the command line, turn on `--trace`,
//! install the Ctrl-C handler, run, print the error once and pick the exit code.
//!
//! Each binary's `main` is one line, `program::main(run)`; the program's name (clap's
//! `#[command(name = ...)]`) is held here once per process, for every error and warning line
//! (`msgq-receiver: error: ...`), so no function needs it as a parameter.

use std::process::ExitCode;
use std::sync::OnceLock;

use clap::{Arg, ArgAction, ArgMatches, Parser};

use crate::error::{self, Result};
use crate::{signals, trace};

/// The switch every program has: [`crate::trace`], each system call in C notation on stderr.
const TRACE: &str = "trace";

/// The running program's name, set once by [`main`].
static NAME: OnceLock<String> = OnceLock::new();

/// The running program's name (`msgq-sender`), as its error lines start.
pub fn name() -> &'static str {
    NAME.get().map_or("ipc-pairs", String::as_str)
}

/// Sets the program's name, where [`main`] is not used (tests, the bench's peer). Only the
/// first call counts.
pub fn set_name(name: &str) {
    let _ = NAME.set(name.to_string());
}

/// Runs a program: parses `A` (a usage error prints `PROGRAM: error: ...` and exits 2,
/// `--help`/`--version` print on stdout and exit 0), with the `--trace` switch every program
/// has (turned on here when given), installs the Ctrl-C/SIGTERM handler, runs `run`, and maps its result to
/// the exit code (0, 1, 2 or 130), printing the error once.
pub fn main<A: Parser>(run: impl FnOnce(&A) -> Result<()>) -> ExitCode {
    let args = parse::<A>();
    let outcome = signals::install().and_then(|()| run(&args));
    error::exit_code(outcome)
}

/// [`main`] without installing the Ctrl-C handler, for a program that forks first: the handler
/// runs on a thread of its own, and a multithreaded process may fork only with care (see
/// nix's `fork`). Such a program calls `signals::install` itself after the fork.
pub fn main_before_fork<A: Parser>(run: impl FnOnce(&A) -> Result<()>) -> ExitCode {
    let args = parse::<A>();
    error::exit_code(run(&args))
}

/// Parses the command line of `A` and records the program's name and `--trace`.
pub fn parse<A: Parser>() -> A {
    // Every program has --trace: it is added here, once, not declared by each binary.
    let mut command = A::command().arg(
        Arg::new(TRACE)
            .long(TRACE)
            .action(ArgAction::SetTrue)
            .help("Print each system call on stderr, in C notation with its result (like strace)"),
    );
    set_name(command.get_name());
    let parsed = command
        .try_get_matches_from_mut(std::env::args_os())
        .and_then(|mut matches| {
            trace_if_asked(&matches);
            A::from_arg_matches_mut(&mut matches).map_err(|err| err.format(&mut command))
        });
    match parsed {
        Ok(args) => args,
        Err(err) if !err.use_stderr() => {
            let _ = err.print();
            std::process::exit(0);
        }
        Err(err) => {
            // clap's message starts with "error: " and ends with the usage and a newline.
            eprint!("{}: {}", name(), err.render());
            std::process::exit(2);
        }
    }
}

/// Turns tracing on when `--trace` was given.
fn trace_if_asked(matches: &ArgMatches) {
    if let Ok(Some(true)) = matches.try_get_one::<bool>(TRACE) {
        trace::set_enabled(true);
    }
}
