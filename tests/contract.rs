//! The contract every program of the workspace keeps, checked from outside for all of them at
//! once: `--help` and `--version`, usage errors (exit 2, `PROGRAM: error: ...`, no panic), the
//! shared flags of senders, receivers and System V programs, and the README naming them all.
//!
//! The programs belong to other packages, so `CARGO_BIN_EXE_*` does not see them: they are
//! found beside this test executable (target/PROFILE/, one level above deps/), and built with
//! `cargo build --workspace --bins` first if any is missing.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Once;

use ipc_testkit::{run, Finished};

/// Every sender: reads stdin lines, or --message, or --count/--size.
const SENDERS: &[&str] = &[
    "pipe-sender",
    "fifo-sender",
    "msgq-sender",
    "sem-sender",
    "shm-sender",
    "socket-client",
];

/// Every receiver: prints texts and the summary, --senders N.
const RECEIVERS: &[&str] = &[
    "pipe-receiver",
    "fifo-receiver",
    "msgq-receiver",
    "sem-receiver",
    "shm-receiver",
];

/// Programs that name a System V object with --key.
const SYSV: &[&str] = &[
    "msgq-sender",
    "msgq-receiver",
    "sem-sender",
    "sem-receiver",
    "sem-mutex",
    "shm-sender",
    "shm-receiver",
];

/// The rest of the programs in the contract's table.
const OTHERS: &[&str] = &["pipe-demo", "sem-mutex", "socket-server"];

fn all_programs() -> Vec<&'static str> {
    let mut all: Vec<&str> = SENDERS
        .iter()
        .chain(RECEIVERS)
        .chain(OTHERS)
        .copied()
        .collect();
    all.sort_unstable();
    all.dedup();
    all
}

/// target/PROFILE/, where cargo puts every binary of the workspace.
fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable's path");
    exe.parent()
        .and_then(|deps| deps.parent())
        .expect("target/PROFILE/deps/TEST")
        .to_path_buf()
}

fn program(name: &str) -> Command {
    static BUILD: Once = Once::new();
    let path = bin_dir().join(name);
    BUILD.call_once(|| {
        if all_programs().iter().any(|p| !bin_dir().join(p).is_file()) {
            let status = Command::new(env!("CARGO"))
                .args(["build", "--workspace", "--bins"])
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .status()
                .expect("run cargo build");
            assert!(status.success(), "cargo build --workspace --bins failed");
        }
    });
    assert!(path.is_file(), "{} is missing", path.display());
    Command::new(path)
}

fn run_with(name: &str, args: &[&str]) -> Finished {
    let mut cmd = program(name);
    cmd.args(args);
    run(cmd, b"")
}

#[test]
fn every_program_has_help_and_version() {
    for name in all_programs() {
        let help = run_with(name, &["--help"]);
        help.assert_code(0).assert_no_panic();
        assert!(
            help.stdout.contains(&format!("Usage: {name}")),
            "{name} --help:\n{}",
            help.stdout
        );
        let version = run_with(name, &["--version"]);
        version.assert_code(0);
        assert!(
            version.stdout.starts_with(&format!("{name} ")),
            "{name} --version: {}",
            version.stdout
        );
    }
}

#[test]
fn an_unknown_flag_is_a_usage_error_in_the_one_format() {
    for name in all_programs() {
        let out = run_with(name, &["--no-such-flag"]);
        out.assert_code(2).assert_no_panic();
        assert!(
            out.stderr.starts_with(&format!("{name}: error: ")),
            "{name}: {}",
            out.stderr
        );
        assert!(
            out.stdout.is_empty(),
            "{name} printed on stdout: {}",
            out.stdout
        );
    }
}

#[test]
fn senders_share_the_message_source_flags() {
    for name in SENDERS {
        let help = run_with(name, &["--help"]).stdout;
        for flag in ["--message <TEXT>", "--count <N>", "--size <BYTES>"] {
            assert!(help.contains(flag), "{name} --help lacks {flag}:\n{help}");
        }
        // --message and --count exclude each other; --size needs --count.
        run_with(name, &["--message", "x", "--count", "1"]).assert_code(2);
        run_with(name, &["--size", "10"]).assert_code(2);
        run_with(name, &["--count", "1", "--size", "17M"]).assert_code(2);
    }
}

#[test]
fn receivers_wait_for_n_senders() {
    for name in RECEIVERS {
        let help = run_with(name, &["--help"]).stdout;
        assert!(
            help.contains("--senders <N>"),
            "{name} --help lacks --senders:\n{help}"
        );
        run_with(name, &["--senders", "0"])
            .assert_code(2)
            .assert_no_panic();
    }
}

#[test]
fn system_v_programs_take_decimal_and_hex_keys_and_refuse_others() {
    for name in SYSV {
        let help = run_with(name, &["--help"]).stdout;
        assert!(
            help.contains("--key <K>"),
            "{name} --help lacks --key:\n{help}"
        );
        assert!(
            help.contains("[default: 1234]"),
            "{name}: the default key is 1234:\n{help}"
        );
        for bad in ["0", "twelve", "0xnothex", "99999999999"] {
            let out = run_with(name, &["--key", bad]);
            out.assert_code(2).assert_no_panic();
            assert!(
                out.stderr.starts_with(&format!("{name}: error: ")),
                "{}",
                out.stderr
            );
        }
    }
}

#[test]
fn the_readme_names_every_program() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    for name in all_programs() {
        assert!(
            readme.contains(&format!("`{name}`")),
            "README.md does not name `{name}`"
        );
    }
}
