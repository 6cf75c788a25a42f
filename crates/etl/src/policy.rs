//! The invalid-row policy: how much of a run may be quarantined (or
//! dropped) before it is refused. A wrong declared type (`Age: int64` over
//! `29.0`) quarantines most rows without any single error; publishing that
//! would train a model on a biased remainder. Above `etl.max_quarantined`
//! the run fails naming the top reasons with an example each; below it,
//! any invalid row is a warning with the same names.

use std::collections::BTreeMap;

use common::storage::Location;

use crate::config::EtlConfig;
use crate::error::{Error, Result};
use crate::manifest::Manifest;

/// How many reasons a message names.
const TOP: usize = 3;

/// Fails when the invalid share of `manifest` is above the config's
/// limit; warns when it has any invalid row.
pub(crate) fn judge_invalid(
    config: &EtlConfig,
    manifest: &Manifest,
    output: &Location,
) -> Result<()> {
    let rows = &manifest.rows;
    if rows.quarantined == 0 {
        return Ok(());
    }
    let share = rows.quarantined as f64 / rows.input.max(1) as f64;
    let top = top_reasons(&manifest.quarantine_reasons, &manifest.quarantine_examples);
    if share > config.max_quarantined {
        return Err(Error::TooManyInvalid {
            output: output.to_string(),
            quarantined: rows.quarantined,
            input: rows.input,
            share: 100.0 * share,
            max: 100.0 * config.max_quarantined,
            top,
        });
    }
    log::warn!(
        "{} of {} rows ({:.1}%) are invalid (etl.max_quarantined: {:.1}%): {top}",
        rows.quarantined,
        rows.input,
        100.0 * share,
        100.0 * config.max_quarantined
    );
    Ok(())
}

/// `cast(Age) 756 (e.g. titanic.csv:2: …), min(x) 3 (e.g. …)`: the most
/// frequent reasons first.
fn top_reasons(reasons: &BTreeMap<String, u64>, examples: &BTreeMap<String, String>) -> String {
    let mut sorted: Vec<(&String, &u64)> = reasons.iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let mut parts: Vec<String> = sorted
        .iter()
        .take(TOP)
        .map(|(key, n)| match examples.get(*key) {
            Some(example) => format!("{key} {n} (e.g. {example})"),
            None => format!("{key} {n}"),
        })
        .collect();
    if sorted.len() > TOP {
        parts.push(format!("and {} more reason(s)", sorted.len() - TOP));
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_frequent_reasons_come_first_with_an_example() {
        let reasons = BTreeMap::from([
            ("cast(Age)".to_string(), 756),
            ("min(x)".to_string(), 3),
            ("ragged".to_string(), 9),
            ("utf8(y)".to_string(), 1),
        ]);
        let examples = BTreeMap::from([(
            "cast(Age)".to_string(),
            "t.csv:2: cast: column 'Age': '29.0' is not an int64".to_string(),
        )]);
        assert_eq!(
            top_reasons(&reasons, &examples),
            "cast(Age) 756 (e.g. t.csv:2: cast: column 'Age': '29.0' is not an int64), ragged 9, min(x) 3, and 1 more reason(s)"
        );
    }
}
