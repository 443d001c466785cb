//! Reading a receiver's `summary:` line back into numbers.

use ipc_common::tally::Summary;

/// Parses `summary: received=N lost=L duplicated=D reordered=R corrupt=C`.
pub fn parse(line: &str) -> Option<Summary> {
    let rest = line.trim().strip_prefix("summary: ")?;
    let mut summary = Summary::default();
    let mut fields = 0;
    for pair in rest.split_whitespace() {
        let (name, value) = pair.split_once('=')?;
        let value: u64 = value.parse().ok()?;
        let slot = match name {
            "received" => &mut summary.received,
            "lost" => &mut summary.lost,
            "duplicated" => &mut summary.duplicated,
            "reordered" => &mut summary.reordered,
            "corrupt" => &mut summary.corrupt,
            _ => return None,
        };
        *slot = value;
        fields += 1;
    }
    (fields == 5).then_some(summary)
}

/// Every summary line on `stdout`, in order.
pub fn all(stdout: &str) -> Vec<Summary> {
    stdout.lines().filter_map(parse).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_line_round_trips() {
        let summary = Summary {
            received: 5,
            lost: 1,
            duplicated: 2,
            reordered: 3,
            corrupt: 4,
        };
        assert_eq!(parse(&summary.to_string()), Some(summary));
        assert_eq!(parse("You wrote: summary: received=1"), None);
        assert_eq!(parse("summary: received=1 lost=0"), None);
        assert_eq!(
            all("You wrote: x\nsummary: received=1 lost=0 duplicated=0 reordered=0 corrupt=0\n")
                .len(),
            1
        );
    }
}
