//! The soak's closing table states its headline figures as rows of their own: messages lost,
//! duplicated and corrupt (each 0 in a good run), beside leaks, hangs and failed rounds.
//!
//! One test runs the real `ipc-soak` for one replayed round of each of two mechanisms and reads
//! the table it prints; the other feeds the totals a round that lost, duplicated and damaged
//! messages, and checks that the rows say so and that the run is no longer clean.

mod support;

use std::time::Duration;

use ipc_soak::mechanism::Mech;
use ipc_soak::plan::{Fault, Plan};
use ipc_soak::report::Totals;
use ipc_soak::round::Outcome;
use ipc_testkit::Running;

/// The rows every table must have, each with its figure.
const HEADLINE: [&str; 6] = [
    "messages lost",
    "messages duplicated",
    "messages corrupt",
    "leaks",
    "hangs",
    "failed rounds",
];

/// The figure on the table's row that starts with `row` (after its two-space indent).
fn figure(table: &str, row: &str) -> Option<u64> {
    table
        .lines()
        .find(|line| line.trim_start().starts_with(row) && line.starts_with("  "))
        .and_then(|line| line.split_whitespace().last()?.parse().ok())
}

#[test]
fn a_real_soak_round_ends_with_lost_duplicated_and_corrupt_rows_all_zero() {
    for program in ["fifo-sender", "fifo-receiver"] {
        support::program_path(program);
    }
    for seed in ["0x1", "0x2"] {
        let mut cmd = support::program("ipc-soak");
        cmd.args(["--only", "fifo", "--round", seed]);
        let out = Running::start(cmd, None).finish(Duration::from_secs(120));
        out.assert_code(0).assert_no_panic();
        let stdout = &out.stdout;
        for row in HEADLINE {
            assert_eq!(
                figure(stdout, row),
                Some(0),
                "the row {row:?} with 0 in:\n{stdout}"
            );
        }
    }
}

#[test]
fn a_round_that_lost_duplicated_or_damaged_messages_shows_it_in_the_rows() {
    let plan = Plan {
        seed: 7,
        mech: Mech::Fifo,
        counts: vec![10],
        size: 16,
        fault: Fault::None,
    };
    let mut totals = Totals::default();
    totals.add(1, &plan, &Outcome::default());
    let table = totals.table(7, Duration::from_secs(1), "");
    assert!(totals.clean(), "{table}");
    for row in HEADLINE {
        assert_eq!(figure(&table, row), Some(0), "{row:?} in:\n{table}");
    }
    let bad = Outcome {
        lost: 3,
        duplicated: 2,
        corrupt: 1,
        ..Outcome::default()
    };
    totals.add(2, &plan, &bad);
    let table = totals.table(7, Duration::from_secs(1), "");
    assert!(
        !totals.clean(),
        "lost, duplicated and corrupt messages are not a clean run"
    );
    assert_eq!(figure(&table, "messages lost"), Some(3), "{table}");
    assert_eq!(figure(&table, "messages duplicated"), Some(2), "{table}");
    assert_eq!(figure(&table, "messages corrupt"), Some(1), "{table}");
}
