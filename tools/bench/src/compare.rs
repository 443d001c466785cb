//! `--compare OLD.csv`: today's run beside a saved one, with the ratio now / before per cell.
//!
//! The saved file is a CSV that ipc-bench wrote with `--csv`: an optional `# machine: ...`
//! comment line, the header line, then one line per mechanism and measure. Rows are matched by
//! (mechanism, measure); a row only in one of the two runs is listed below the table, never
//! dropped silently. A file that is not such a CSV is refused with the line that is wrong.

use std::fmt::Write as _;
use std::path::Path;

use ipc_common::{Error, Result};

use crate::report::{Cell, Row};

/// The three value columns, by their CSV names and their names in the table.
const COLUMNS: [(&str, &str); 3] = [("rust_raw", "raw"), ("rust_typed", "typed"), ("c", "C")];

/// One saved row: its key and the values of the three columns (None: empty or absent).
#[derive(Debug, Clone, PartialEq)]
pub struct SavedRow {
    pub mech: String,
    pub measure: String,
    pub values: [Option<f64>; 3],
}

/// A saved run: the machine it names (if any), which value columns it has, and its rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Saved {
    pub machine: Option<String>,
    pub has_column: [bool; 3],
    pub rows: Vec<SavedRow>,
}

/// Parses the text of a CSV written by ipc-bench. `Err` holds why it is not one.
pub fn parse(text: &str) -> std::result::Result<Saved, String> {
    let mut machine = None;
    let mut header: Option<Vec<&str>> = None;
    let mut rows = Vec::new();
    let mut index = [None; 3];
    for (n, line) in text.lines().enumerate() {
        let n = n + 1;
        if let Some(comment) = line.strip_prefix('#') {
            if let Some(m) = comment.trim().strip_prefix("machine:") {
                machine = Some(m.trim().to_string());
            }
            continue;
        }
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').collect();
        let Some(head) = &header else {
            if fields.first() != Some(&"mechanism") || fields.get(1) != Some(&"measure") {
                return Err(format!(
                    "line {n}: expected the header 'mechanism,measure,...', found '{}'",
                    shorten(line)
                ));
            }
            for (i, (name, _)) in COLUMNS.iter().enumerate() {
                index[i] = fields.iter().position(|f| f == name);
            }
            if index.iter().all(Option::is_none) {
                return Err(format!(
                    "line {n}: the header has none of the columns rust_raw, rust_typed, c"
                ));
            }
            header = Some(fields);
            continue;
        };
        if fields.len() != head.len() {
            return Err(format!(
                "line {n}: {} fields where the header has {}",
                fields.len(),
                head.len()
            ));
        }
        let mut values = [None; 3];
        for (slot, i) in values.iter_mut().zip(index) {
            let Some(i) = i else { continue };
            let field = fields[i].trim();
            if field.is_empty() {
                continue;
            }
            *slot = Some(field.parse::<f64>().map_err(|_| {
                format!("line {n}: '{field}' in column {} is not a number", head[i])
            })?);
        }
        rows.push(SavedRow {
            mech: fields[0].to_string(),
            measure: fields[1].to_string(),
            values,
        });
    }
    if header.is_none() {
        return Err(
            "no header line 'mechanism,measure,...' (is it a CSV from ipc-bench --csv?)".into(),
        );
    }
    Ok(Saved {
        machine,
        has_column: index.map(|i| i.is_some()),
        rows,
    })
}

fn shorten(line: &str) -> String {
    line.chars().take(60).collect()
}

/// Reads and parses `path` before the run starts (so a wrong file costs no measuring time).
/// A file that cannot be read is a usage error (exit 2); one that is not our CSV exits 1.
pub fn load(path: &Path) -> Result<Saved> {
    let what = format!("--compare {}", path.display());
    let text = std::fs::read_to_string(path).map_err(|err| {
        Error::usage(what.clone(), err.to_string()).with_hint(
            "give a CSV written by an earlier run with --csv, e.g. tools/bench/results/bench.csv",
        )
    })?;
    parse(&text).map_err(|why| {
        Error::new(what, why).with_hint("--compare reads only the CSV that ipc-bench --csv writes")
    })
}

/// The rows of today's run as saved rows (what the CSV of this run would say).
pub fn saved_of(rows: &[Row]) -> Vec<SavedRow> {
    let value = |c: Option<Cell>| c.map(|c| c.value);
    rows.iter()
        .map(|r| SavedRow {
            mech: r.mech.clone(),
            measure: r.measure.clone(),
            values: [value(r.raw), value(r.typed), value(r.c)],
        })
        .collect()
}

fn num(v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(v) if v >= 100.0 => format!("{v:.0}"),
        Some(v) => format!("{v:.2}"),
    }
}

/// now / before, when both were measured.
pub fn ratio(now: Option<f64>, before: Option<f64>) -> Option<f64> {
    match (now, before) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

/// The comparison in Markdown: a table of every row in both runs, then what only one has.
pub fn markdown(old_name: &str, old: &Saved, now_machine: &str, now: &[SavedRow]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "\n## Compared with {old_name}\n");
    let then = old.machine.as_deref().unwrap_or("not named in the file");
    let _ = writeln!(out, "- machine now: {now_machine}");
    let _ = writeln!(out, "- machine then: {then}");
    if old.machine.as_deref().is_some_and(|m| m != now_machine) {
        let _ = writeln!(
            out,
            "- the machines differ: the ratios compare machines, not code"
        );
    }
    let _ = writeln!(
        out,
        "- now / before: above 1 is more (faster for MiB/s, slower for us)\n"
    );
    let _ = write!(out, "| mechanism | measure |");
    for (_, name) in COLUMNS {
        let _ = write!(out, " {name} now | {name} before | {name} now / before |");
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "|---|---|{}", "---:|".repeat(9));
    let key = |r: &SavedRow| (r.mech.clone(), r.measure.clone());
    let mut only_now = Vec::new();
    for row in now {
        let Some(before) = old.rows.iter().find(|o| key(o) == key(row)) else {
            only_now.push(format!("{} {}", row.mech, row.measure));
            continue;
        };
        let _ = write!(out, "| {} | {} |", row.mech, row.measure);
        for i in 0..3 {
            let r = ratio(row.values[i], before.values[i]);
            let r = r.map_or_else(|| "-".into(), |r| format!("{r:.2}x"));
            let _ = write!(
                out,
                " {} | {} | {r} |",
                num(row.values[i]),
                num(before.values[i])
            );
        }
        let _ = writeln!(out);
    }
    let only_before: Vec<String> = old
        .rows
        .iter()
        .filter(|o| !now.iter().any(|r| key(r) == key(o)))
        .map(|o| format!("{} {}", o.mech, o.measure))
        .collect();
    let missing: Vec<&str> = COLUMNS
        .iter()
        .zip(old.has_column)
        .filter(|(_, has)| !has)
        .map(|((name, _), _)| *name)
        .collect();
    let _ = writeln!(out);
    for (label, list) in [
        ("only in this run", only_now),
        (&format!("only in {old_name}") as &str, only_before),
    ] {
        if !list.is_empty() {
            let _ = writeln!(out, "- rows {label}: {}", list.join("; "));
        }
    }
    if !missing.is_empty() {
        let _ = writeln!(
            out,
            "- columns only in this run (absent from {old_name}): {}",
            missing.join(", ")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str = "# machine: Some CPU, 2 cores, Linux 6\n\
        mechanism,measure,better,rust_raw,rust_raw_msgs_s,rust_typed,rust_typed_msgs_s,c,c_msgs_s,raw_vs_c,typed_vs_c,typed_vs_raw\n\
        pipe,latency p50 (us),lower,10.000,,20.000,,,,,,\n";

    #[test]
    fn a_saved_csv_parses_with_its_machine() {
        let saved = parse(CSV).expect("parses");
        assert_eq!(saved.machine.as_deref(), Some("Some CPU, 2 cores, Linux 6"));
        assert_eq!(saved.rows[0].values, [Some(10.0), Some(20.0), None]);
    }

    #[test]
    fn malformed_csvs_name_the_line() {
        assert!(parse("hello\n").expect_err("refused").contains("line 1"));
        let short = format!("{CSV}pipe,x,lower,1\n");
        assert!(parse(&short).expect_err("refused").contains("line 4"));
        let bad = CSV.replace("10.000", "ten");
        assert!(parse(&bad).expect_err("refused").contains("'ten'"));
        assert!(parse("").is_err());
    }

    #[test]
    fn a_column_absent_from_the_old_file_is_listed() {
        let old = parse("mechanism,measure,rust_raw\npipe,latency p50 (us),2\n").expect("parses");
        assert_eq!(old.has_column, [true, false, false]);
        let now = vec![SavedRow {
            mech: "pipe".into(),
            measure: "latency p50 (us)".into(),
            values: [Some(1.0), Some(1.0), Some(1.0)],
        }];
        let text = markdown("old.csv", &old, "M", &now);
        assert!(
            text.contains("| 1.00 | 2.00 | 0.50x | 1.00 | - | - |"),
            "{text}"
        );
        assert!(
            text.contains("columns only in this run (absent from old.csv): rust_typed, c"),
            "{text}"
        );
    }

    #[test]
    fn the_table_has_ratios_and_lists_rows_of_one_side() {
        let old = parse(CSV).expect("parses");
        let now = vec![
            SavedRow {
                mech: "pipe".into(),
                measure: "latency p50 (us)".into(),
                values: [Some(5.0), Some(20.0), None],
            },
            SavedRow {
                mech: "ring".into(),
                measure: "latency p50 (us)".into(),
                values: [Some(0.2), None, None],
            },
        ];
        let text = markdown("old.csv", &old, "Other", &now);
        assert!(text.contains("| pipe | latency p50 (us) | 5.00 | 10.00 | 0.50x | 20.00 | 20.00 | 1.00x | - | - | - |"), "{text}");
        assert!(
            text.contains("rows only in this run: ring latency p50 (us)"),
            "{text}"
        );
        assert!(text.contains("the machines differ"), "{text}");
    }
}
