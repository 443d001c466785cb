//! Readable while it runs, and after: plain progress lines when stderr is not a terminal,
//! `--compare OLD.csv` (ratios, rows of one side listed, bad files refused), the latency chart
//! on a log axis, and results that name the machine they came from.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use ipc_testkit::{assert_gone, unique_path, Running, WATCHDOG};

fn bench(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ipc-bench"));
    cmd.args(args).stdin(Stdio::null());
    cmd
}

const HEADER: &str = "mechanism,measure,better,rust_raw,rust_raw_msgs_s,rust_typed,rust_typed_msgs_s,c,c_msgs_s,raw_vs_c,typed_vs_c,typed_vs_raw";

/// Writes `text` to a fresh path and returns it.
fn write_csv(tag: &str, text: &str) -> PathBuf {
    let path = unique_path(tag);
    std::fs::write(&path, text).expect("write the test CSV");
    path
}

fn remove(path: &Path) {
    std::fs::remove_file(path).expect("remove the test file");
    assert_gone(path);
}

/// The cells of the compare table's row for `mech` and `measure` (the compare table is the
/// one after "## Compared with").
fn compare_row<'a>(stdout: &'a str, mech: &str, measure: &str) -> Option<Vec<&'a str>> {
    let (_, table) = stdout.split_once("## Compared with")?;
    table
        .lines()
        .find(|l| l.starts_with(&format!("| {mech} | {measure} |")))
        .map(|l| l.trim_matches('|').split('|').map(str::trim).collect())
}

fn number(cell: &str) -> f64 {
    cell.trim_end_matches('x')
        .parse()
        .unwrap_or_else(|_| panic!("'{cell}' is not a number"))
}

/// One quick pipe + ring run against a CSV the test wrote: the ratio of every shared cell is
/// now / before, a row only in the old file and rows only in this run are listed; its stderr
/// (a pipe, not a terminal) has the plain progress lines; its chart has a log latency axis.
#[test]
fn compare_plain_progress_and_log_chart_in_one_quick_run() {
    let old = write_csv(
        "bench-old-csv",
        &format!(
            "# machine: Test CPU, 64 cores, Linux 0.1\n{HEADER}\n\
             pipe,latency p50 (us),lower,2.000,,4.000,,,,,,\n\
             ring,latency p50 (us),lower,0.500,,,,,,,,\n\
             carrier-pigeon,latency p50 (us),lower,9000.000,,,,,,,,\n"
        ),
    );
    let svg = unique_path("bench-log-svg");
    let (old_s, svg_s) = (
        old.to_string_lossy().into_owned(),
        svg.to_string_lossy().into_owned(),
    );
    let done = Running::start(
        bench(&[
            "--only",
            "pipe,ring",
            "--count",
            "100",
            "--bytes",
            "64K",
            "--runs",
            "1",
            "--no-c",
            "--no-memcpy",
            "--compare",
            &old_s,
            "--svg",
            &svg_s,
        ]),
        None,
    )
    .finish(WATCHDOG);
    done.assert_code(0).assert_no_panic();
    let out = &done.stdout;

    // Ratios: now / before, per cell, for each side measured in both runs.
    let pipe = compare_row(out, "pipe", "latency p50 (us)").expect("pipe p50 compared");
    // mechanism, measure, then (now, before, ratio) for raw, typed and C.
    assert_eq!(pipe.len(), 11, "{pipe:?}");
    assert_eq!(pipe[3], "2.00", "{pipe:?}");
    assert_eq!(pipe[6], "4.00", "{pipe:?}");
    for (now, before, ratio) in [(2, 3, 4), (5, 6, 7)] {
        let expected = number(pipe[now]) / number(pipe[before]);
        let shown = number(pipe[ratio]);
        assert!(
            (shown - expected).abs() <= 0.01 + expected * 0.01,
            "{pipe:?}: {shown} is not {expected}"
        );
    }
    // No C in this run: no C ratio.
    assert_eq!(&pipe[8..], ["-", "-", "-"], "{pipe:?}");
    let ring = compare_row(out, "ring", "latency p50 (us)").expect("ring p50 compared");
    assert_eq!(ring[6], "-", "typed not in the old file: {ring:?}");
    assert_eq!(ring[7], "-", "{ring:?}");
    // Rows of one side only are listed, not dropped.
    assert!(
        out.contains(&format!(
            "- rows only in {old_s}: carrier-pigeon latency p50 (us)"
        )),
        "{out}"
    );
    let only_now = out
        .lines()
        .find(|l| l.starts_with("- rows only in this run: "))
        .unwrap_or_else(|| panic!("no rows only in this run: {out}"));
    assert!(
        only_now.contains("pipe latency mean (us)") && only_now.contains("ring 64 KiB (MiB/s)")
    );
    assert!(!only_now.contains("pipe latency p50 (us)"), "{only_now}");
    assert!(
        out.contains("- machine then: Test CPU, 64 cores, Linux 0.1"),
        "{out}"
    );
    assert!(out.contains("- the machines differ"), "{out}");

    // stderr is a pipe here: one plain line per step, no bar, no terminal escapes.
    let err = &done.stderr;
    for step in [
        "ipc-bench: pipe latency raw (run 1/1)\n",
        "ipc-bench: pipe latency typed (run 1/1)\n",
        "ipc-bench: ring 64 KiB stream typed (run 1/1)\n",
    ] {
        assert!(err.contains(step), "missing {step:?} in {err}");
    }
    assert!(!err.contains('\r') && !err.contains('\u{1b}'), "{err:?}");
    assert!(
        !err.contains("steps"),
        "the bar's text in plain mode: {err}"
    );

    // The latency panel on a log axis: its title says so and the decade ticks are there.
    let chart = std::fs::read_to_string(&svg).expect("the SVG was written");
    assert!(chart.contains("microseconds (log scale)"), "no log axis");
    let texts: Vec<&str> = chart.lines().map(str::trim).collect();
    for tick in ["1", "10"] {
        assert!(texts.contains(&tick), "no log tick {tick}");
    }
    // The names are turned a quarter, starting at the axis.
    assert!(chart.contains("text-anchor=\"start\"") && chart.contains("rotate(90"));

    remove(&old);
    remove(&svg);
}

#[test]
fn a_malformed_or_missing_compare_file_is_refused_before_measuring() {
    for (tag, text, why) in [
        (
            "bench-bad-number",
            format!("{HEADER}\npipe,latency p50 (us),lower,fast,,,,,,,,\n"),
            "line 2",
        ),
        (
            "bench-bad-fields",
            format!("{HEADER}\npipe,latency p50 (us)\n"),
            "line 2",
        ),
        ("bench-no-header", "hello,world\n".to_string(), "line 1"),
    ] {
        let bad = write_csv(tag, &text);
        let done = Running::start(
            bench(&[
                "--only",
                "pipe",
                "--no-c",
                "--compare",
                &bad.to_string_lossy(),
            ]),
            None,
        )
        .finish(WATCHDOG);
        done.assert_code(1).assert_no_panic();
        assert!(
            done.stderr.starts_with("ipc-bench: error: --compare "),
            "{}",
            done.stderr
        );
        assert!(
            done.stderr.contains(why) && done.stderr.contains("hint:"),
            "{}",
            done.stderr
        );
        assert!(done.stdout.is_empty(), "measured anyway: {}", done.stdout);
        remove(&bad);
    }
    let missing = unique_path("bench-missing-csv");
    let done = Running::start(
        bench(&["--only", "pipe", "--compare", &missing.to_string_lossy()]),
        None,
    )
    .finish(WATCHDOG);
    done.assert_code(2).assert_no_panic();
    assert!(
        done.stderr.starts_with("ipc-bench: error: --compare "),
        "{}",
        done.stderr
    );
}

/// The saved results name their machine, in the CSV (a comment --compare reads back) and in
/// the .md; --compare reads the CSV ipc-bench itself wrote.
#[test]
fn the_saved_results_name_their_machine_and_compare_reads_them() {
    let results = Path::new(env!("CARGO_MANIFEST_DIR")).join("results");
    let csv = std::fs::read_to_string(results.join("bench.csv")).expect("results/bench.csv");
    let machine = csv
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("# machine: "))
        .expect("the CSV names its machine on line 1");
    assert!(machine.contains(" cores, Linux "), "{machine}");
    let md = std::fs::read_to_string(results.join("bench.md")).expect("results/bench.md");
    assert!(
        md.contains(&format!("- machine: {machine}")),
        "the .md names it too"
    );

    let new_csv = unique_path("bench-new-csv");
    let done = Running::start(
        bench(&[
            "--only",
            "udp",
            "--count",
            "50",
            "--runs",
            "1",
            "--no-c",
            "--no-memcpy",
            "--csv",
            &new_csv.to_string_lossy(),
            "--compare",
            &results.join("bench.csv").to_string_lossy(),
        ]),
        None,
    )
    .finish(WATCHDOG);
    done.assert_code(0).assert_no_panic();
    assert!(
        done.stdout.contains(&format!("- machine then: {machine}")),
        "{}",
        done.stdout
    );
    let udp = compare_row(&done.stdout, "udp", "latency p99 (us)").expect("udp compared");
    assert!(udp[4].ends_with('x'), "{udp:?}");
    // The CSV of this run names this machine, as the table does.
    let written = std::fs::read_to_string(&new_csv).expect("the CSV was written");
    let first = written.lines().next().unwrap_or_default();
    let now = first.strip_prefix("# machine: ").expect("a machine line");
    assert!(
        done.stdout.contains(&format!("- machine: {now}")),
        "{first}"
    );
    remove(&new_csv);
}
