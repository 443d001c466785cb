//! ipc-bench itself, run for real with tiny counts: the table, the CSV and the SVG have their
//! shape, bad arguments are usage errors, and nothing of the bench is left behind.

use std::process::{Command, Stdio};
use std::time::Duration;

use ipc_testkit::{assert_gone, unique_path, Running, WATCHDOG};
use nix::sys::signal::Signal;

fn bench(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ipc-bench"));
    cmd.args(args).stdin(Stdio::null());
    cmd
}

/// Nothing named after the bench's pid is left in /dev/shm, /dev/mqueue or /tmp.
#[track_caller]
fn assert_nothing_left(pid: i32) {
    let prefix = format!("ipc-pairs-bench-{pid}-");
    for dir in ["/dev/shm", "/dev/mqueue", "/tmp"] {
        let left: Vec<String> = std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|name| name.starts_with(&prefix))
                    .collect()
            })
            .unwrap_or_default();
        assert!(left.is_empty(), "the bench left {left:?} in {dir}");
    }
}

/// The table rows of `mech`: each cell, trimmed.
fn rows<'a>(stdout: &'a str, mech: &str) -> Vec<Vec<&'a str>> {
    stdout
        .lines()
        .filter(|l| l.starts_with(&format!("| {mech} |")))
        .map(|l| l.trim_matches('|').split('|').map(str::trim).collect())
        .collect()
}

#[test]
fn quick_pipe_and_ring_give_a_full_table_csv_and_svg() {
    let csv = unique_path("bench-csv");
    let svg = unique_path("bench-svg");
    let (csv_s, svg_s) = (
        csv.to_string_lossy().into_owned(),
        svg.to_string_lossy().into_owned(),
    );
    let run = Running::start(
        bench(&[
            "--quick",
            "--only",
            "pipe,ring",
            "--count",
            "200",
            "--bytes",
            "256K",
            "--runs",
            "1",
            "--csv",
            &csv_s,
            "--svg",
            &svg_s,
        ]),
        None,
    );
    let pid = run.pid().as_raw();
    let done = run.finish(WATCHDOG);
    done.assert_code(0).assert_no_panic();
    let out = &done.stdout;
    assert!(
        out.contains("## ipc-bench,") && out.contains("(quick mode)"),
        "{out}"
    );
    assert!(
        out.contains("- machine: ") && out.contains("cores, Linux"),
        "{out}"
    );
    assert!(out.contains(
        "| mechanism | measure | Rust raw | Rust typed | C | raw / C | typed / C | typed / raw |"
    ));
    for mech in ["pipe", "ring"] {
        let rows = rows(out, mech);
        let measures: Vec<&str> = rows.iter().map(|r| r[1]).collect();
        assert_eq!(
            measures,
            [
                "latency mean (us)",
                "latency p50 (us)",
                "latency p99 (us)",
                "4 KiB (MiB/s)",
                "64 KiB (MiB/s)"
            ],
            "{out}"
        );
        for row in &rows {
            assert_eq!(row.len(), 8, "{row:?}");
            // Rust raw, Rust typed and C were all measured, and the ratios computed.
            for cell in &row[2..] {
                assert_ne!(*cell, "-", "{row:?}");
            }
            let raw: f64 = row[2]
                .split_whitespace()
                .next()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0.0);
            assert!(raw > 0.0, "{row:?}");
        }
    }
    assert_eq!(rows(out, "memcpy").len(), 2, "{out}");
    let text = std::fs::read_to_string(&csv).expect("the CSV was written");
    let lines: Vec<&str> = text.lines().collect();
    // The machine comment, the header, 5 rows per mechanism, 2 of memcpy.
    assert_eq!(lines.len(), 1 + 1 + 5 + 5 + 2, "{text}");
    assert!(lines[0].starts_with("# machine: ") && lines[0].contains("cores, Linux"));
    assert!(
        lines[1..].iter().all(|l| l.split(',').count() == 12),
        "{text}"
    );
    let chart = std::fs::read_to_string(&svg).expect("the SVG was written");
    assert!(chart.starts_with("<svg") && chart.contains("Rust raw") && chart.contains("pipe"));
    for file in [&csv, &svg] {
        std::fs::remove_file(file).expect("remove the output");
        assert_gone(file);
    }
    assert_nothing_left(pid);
}

#[test]
fn udp_has_latency_rows_only_and_no_c_leaves_the_c_column_empty() {
    let run = Running::start(
        bench(&["--only", "udp", "--count", "100", "--no-c", "--no-memcpy"]),
        None,
    );
    let pid = run.pid().as_raw();
    let done = run.finish(WATCHDOG);
    done.assert_code(0).assert_no_panic();
    let rows = rows(&done.stdout, "udp");
    assert_eq!(rows.len(), 3, "{}", done.stdout);
    assert!(rows.iter().all(|r| r[4] == "-" && r[2] != "-"), "{rows:?}");
    assert!(
        done.stderr.contains("udp latency raw (run 1/3)"),
        "progress goes to stderr"
    );
    assert_nothing_left(pid);
}

#[test]
fn bad_arguments_are_usage_errors() {
    for args in [
        &["--only", "carrier-pigeon"][..],
        &["--pin", "0"],
        &["--quick", "--full"],
        &["--runs", "0"],
    ] {
        let done = Running::start(bench(args), None).finish(WATCHDOG);
        done.assert_code(2).assert_no_panic();
        assert!(
            done.stderr.starts_with("ipc-bench: error:"),
            "{args:?}: {}",
            done.stderr
        );
    }
    let done = Running::start(
        bench(&["--pin", "0,4096", "--only", "pipe", "--no-c"]),
        None,
    )
    .finish(WATCHDOG);
    done.assert_code(2).assert_no_panic();
    assert!(done.stderr.contains("CPU 4096"), "{}", done.stderr);
}

#[test]
fn ctrl_c_stops_a_long_run_and_removes_its_objects() {
    let mut run = Running::start(
        bench(&["--full", "--only", "ring", "--no-c", "--no-memcpy"]),
        None,
    );
    run.wait_for_stderr("ring latency raw (run 1/5)", WATCHDOG);
    run.signal(Signal::SIGINT);
    let pid = run.pid().as_raw();
    let done = run.finish(Duration::from_secs(5));
    done.assert_code(130).assert_no_panic();
    assert!(done.stderr.contains("interrupted"), "{}", done.stderr);
    assert_nothing_left(pid);
}

/// True when a System V object of the bench with pid `pid` (keys 0x49PPPPNN) still exists.
fn bench_sysv_left(pid: i32) -> Vec<String> {
    let high = 0x4900_0000_i64 | (i64::from(pid) & 0xffff) << 8;
    ["msg", "sem", "shm"]
        .iter()
        .flat_map(|kind| {
            let table =
                std::fs::read_to_string(format!("/proc/sysvipc/{kind}")).unwrap_or_default();
            table
                .lines()
                .skip(1)
                .filter_map(|l| l.split_whitespace().next()?.parse::<i64>().ok())
                .filter(|key| key & !0xff == high)
                .map(|key| format!("{kind} key 0x{key:08x}"))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn queues_and_the_shared_memory_handoff_run_both_paths_and_clean_up() {
    let run = Running::start(
        bench(&[
            "--only",
            "sysv-msgq,posix-mq,shm-sem-1",
            "--count",
            "50",
            "--bytes",
            "64K",
            "--runs",
            "1",
            "--no-c",
            "--no-memcpy",
        ]),
        None,
    );
    let pid = run.pid().as_raw();
    let done = run.finish(WATCHDOG);
    done.assert_code(0).assert_no_panic();
    for mech in ["sysv-msgq", "posix-mq", "shm-sem-1"] {
        let rows = rows(&done.stdout, mech);
        assert_eq!(rows.len(), 5, "{}", done.stdout);
        // Raw bytes and typed Messages, each through the crate's own API.
        assert!(rows.iter().all(|r| r[2] != "-" && r[3] != "-"), "{rows:?}");
    }
    let sizes: Vec<&str> = rows(&done.stdout, "sysv-msgq")
        .iter()
        .map(|r| r[1])
        .collect();
    assert_eq!(sizes[3], "4 KiB (MiB/s)");
    assert!(
        sizes[4].ends_with(" B (MiB/s)"),
        "msgmax less the envelope: {sizes:?}"
    );
    assert_eq!(bench_sysv_left(pid), Vec::<String>::new());
    assert_nothing_left(pid);
}
