//! The results: one row per mechanism and measure, printed as a Markdown table (stdout) and
//! as CSV (`--csv FILE`).

use std::fmt::Write as _;

use crate::machine::Machine;

/// Whether a bigger number is better (throughput) or worse (latency).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    Higher,
    Lower,
}

/// One measured value, with messages per second for throughput.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cell {
    pub value: f64,
    pub msgs_s: Option<f64>,
}

/// One line of the table.
#[derive(Debug, Clone)]
pub struct Row {
    pub mech: String,
    /// e.g. `latency p50 (us)`, `64 KiB (MiB/s)`.
    pub measure: String,
    pub better: Better,
    pub raw: Option<Cell>,
    pub typed: Option<Cell>,
    pub c: Option<Cell>,
}

impl Row {
    /// raw / C.
    pub fn raw_vs_c(&self) -> Option<f64> {
        ratio(self.raw, self.c)
    }

    /// typed / C: what the Message envelope costs against the C reference.
    pub fn typed_vs_c(&self) -> Option<f64> {
        ratio(self.typed, self.c)
    }

    /// typed / raw.
    pub fn typed_vs_raw(&self) -> Option<f64> {
        ratio(self.typed, self.raw)
    }
}

fn ratio(a: Option<Cell>, b: Option<Cell>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b.value > 0.0 => Some(a.value / b.value),
        _ => None,
    }
}

/// What the header says about the run.
#[derive(Debug, Clone)]
pub struct RunInfo {
    pub date: String,
    pub machine: Machine,
    pub mode: &'static str,
    pub runs: usize,
    pub pin: Option<(usize, usize)>,
    pub latency_round_trips: u64,
    pub stream_bytes: u64,
}

fn show(cell: Option<Cell>) -> String {
    match cell {
        None => "-".into(),
        Some(Cell { value, msgs_s }) => {
            let main = if value >= 100.0 {
                format!("{value:.0}")
            } else {
                format!("{value:.2}")
            };
            match msgs_s {
                Some(m) if m >= 1e6 => format!("{main} ({:.2}M msg/s)", m / 1e6),
                Some(m) => format!("{main} ({:.0}k msg/s)", m / 1e3),
                None => main,
            }
        }
    }
}

fn show_ratio(r: Option<f64>) -> String {
    r.map_or_else(|| "-".into(), |r| format!("{r:.2}x"))
}

/// The Markdown report: header lines, then the table.
pub fn markdown(info: &RunInfo, rows: &[Row]) -> String {
    let mut out = String::new();
    let m = &info.machine;
    let _ = writeln!(out, "## ipc-bench, {} ({} mode)", info.date, info.mode);
    let _ = writeln!(out);
    let _ = writeln!(out, "- machine: {}", m.describe());
    let pin = info.pin.map_or_else(
        || "not pinned".to_string(),
        |(a, b)| format!("pinned to CPUs {a},{b}"),
    );
    let _ = writeln!(
        out,
        "- medians of {} run(s), {pin}; latency: {} round trips of 64 B; throughput: {} MiB per stream",
        info.runs,
        info.latency_round_trips,
        info.stream_bytes >> 20
    );
    let _ = writeln!(
        out,
        "- latency in microseconds (lower is better), throughput in MiB/s (higher is better); raw / C: \
         Rust raw path over the C reference; typed / C and typed / raw: the bincode Message path over \
         the C reference and over the raw path"
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "| mechanism | measure | Rust raw | Rust typed | C | raw / C | typed / C | typed / raw |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            row.mech,
            row.measure,
            show(row.raw),
            show(row.typed),
            show(row.c),
            show_ratio(row.raw_vs_c()),
            show_ratio(row.typed_vs_c()),
            show_ratio(row.typed_vs_raw())
        );
    }
    out
}

/// The CSV: a `# machine: ...` comment naming the machine, the header, then one line per
/// row, empty fields where nothing was measured.
pub fn csv(machine: &Machine, rows: &[Row]) -> String {
    let mut out = format!("# machine: {}\n", machine.describe());
    out.push_str(
        "mechanism,measure,better,rust_raw,rust_raw_msgs_s,rust_typed,rust_typed_msgs_s,c,c_msgs_s,raw_vs_c,typed_vs_c,typed_vs_raw\n",
    );
    let num = |v: Option<f64>| v.map_or_else(String::new, |v| format!("{v:.3}"));
    for row in rows {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{}",
            row.mech,
            row.measure,
            if row.better == Better::Higher {
                "higher"
            } else {
                "lower"
            },
            num(row.raw.map(|c| c.value)),
            num(row.raw.and_then(|c| c.msgs_s)),
            num(row.typed.map(|c| c.value)),
            num(row.typed.and_then(|c| c.msgs_s)),
            num(row.c.map(|c| c.value)),
            num(row.c.and_then(|c| c.msgs_s)),
            num(row.raw_vs_c()),
            num(row.typed_vs_c()),
            num(row.typed_vs_raw()),
        );
    }
    out
}

/// Today's date and time in UTC, `YYYY-MM-DD HH:MM UTC` (no date crate needed).
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's civil_from_days.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> Row {
        Row {
            mech: "pipe".into(),
            measure: "64 KiB (MiB/s)".into(),
            better: Better::Higher,
            raw: Some(Cell {
                value: 2000.0,
                msgs_s: Some(32000.0),
            }),
            typed: Some(Cell {
                value: 1600.0,
                msgs_s: Some(25600.0),
            }),
            c: Some(Cell {
                value: 2100.0,
                msgs_s: None,
            }),
        }
    }

    #[test]
    fn ratios_and_table_cells() {
        let r = row();
        assert!((r.typed_vs_raw().unwrap_or(0.0) - 0.8).abs() < 1e-9);
        let info = RunInfo {
            date: "2026-01-01 00:00 UTC".into(),
            machine: Machine {
                cpu: "x".into(),
                cores: 2,
                kernel: "Linux 6".into(),
            },
            mode: "quick",
            runs: 1,
            pin: None,
            latency_round_trips: 10,
            stream_bytes: 1 << 20,
        };
        let table = markdown(&info, std::slice::from_ref(&r));
        assert!(table.contains("| pipe | 64 KiB (MiB/s) | 2000 (32k msg/s) | 1600 (26k msg/s) | 2100 | 0.95x | 0.76x | 0.80x |"), "{table}");
        let csv = csv(&info.machine, &[r]);
        assert_eq!(csv.lines().count(), 3);
        assert_eq!(csv.lines().next(), Some("# machine: x, 2 cores, Linux 6"));
        assert_eq!(csv.lines().nth(2).map(|l| l.split(',').count()), Some(12));
    }

    #[test]
    fn the_date_is_civil() {
        let now = utc_now();
        assert!(now.starts_with("20") && now.ends_with("UTC"), "{now}");
    }
}
