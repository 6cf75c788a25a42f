//! Property: for any mix of valid, invalid, ragged and duplicate rows (copies
//! made on purpose), the counts add up, every invalid row is in the
//! quarantine with a reason, and every copy of a valid row is a duplicate.

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use crate::helpers::Fixture;

#[derive(Debug, Clone)]
enum Cell {
    Valid(i64),
    OutOfRange(i64),
    NotANumber,
    Missing,
}

fn cell() -> impl Strategy<Value = Cell> {
    prop_oneof![
        6 => (0i64..100).prop_map(Cell::Valid),
        1 => (101i64..1000).prop_map(Cell::OutOfRange),
        1 => Just(Cell::NotANumber),
        1 => Just(Cell::Missing),
    ]
}

/// A row: two cells, a label, and whether it is cut short (ragged).
fn row() -> impl Strategy<Value = (Cell, Cell, u8, bool)> {
    (cell(), cell(), 0u8..4, prop::bool::weighted(0.05))
}

/// Rows, some of them copies of an earlier row on purpose (issue 28.10:
/// the property claimed duplicates but left them to chance).
fn rows() -> impl Strategy<Value = Vec<(Cell, Cell, u8, bool)>> {
    (
        prop::collection::vec(row(), 0..300),
        prop::collection::vec(0usize..300, 0..40),
    )
        .prop_map(|(mut rows, copies)| {
            for pick in copies {
                if !rows.is_empty() {
                    let copy = rows[pick % rows.len()].clone();
                    let at = (pick * 7) % (rows.len() + 1);
                    rows.insert(at, copy);
                }
            }
            rows
        })
}

#[test]
fn counts_add_up_and_invalid_rows_are_all_quarantined() {
    let config = Config {
        cases: 24,
        failure_persistence: None,
        ..Config::default()
    };
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]);
    let mut runner = TestRunner::new_with_rng(config, rng);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runner
        .run(&rows(), |rows| {
            runtime.block_on(check(rows));
            Ok(())
        })
        .unwrap();
}

fn text(cell: &Cell) -> String {
    match cell {
        Cell::Valid(v) | Cell::OutOfRange(v) => v.to_string(),
        Cell::NotANumber => "n/a".into(),
        Cell::Missing => String::new(),
    }
}

async fn check(rows: Vec<(Cell, Cell, u8, bool)>) {
    let mut csv = String::from("a,b,label\n");
    let mut expected_invalid = 0;
    let mut seen = std::collections::HashSet::new();
    let mut expected_duplicates = 0;
    for (a, b, label, ragged) in &rows {
        if *ragged {
            // One field where three are expected (never blank: blank lines are not records).
            let field = match text(a) {
                t if t.is_empty() => "0".to_string(),
                t => t,
            };
            csv.push_str(&format!("{field}\n"));
            expected_invalid += 1;
            continue;
        }
        let line = format!("{},{},L{label}\n", text(a), text(b));
        csv.push_str(&line);
        let bad = |c: &Cell| matches!(c, Cell::OutOfRange(_) | Cell::NotANumber);
        if bad(a) || bad(b) || matches!(a, Cell::Missing) {
            expected_invalid += 1;
        } else if !seen.insert(line) {
            // A valid row seen before: removed as a duplicate.
            expected_duplicates += 1;
        }
    }
    let fx = Fixture::memory(&[("p.csv", csv.as_bytes())]).await;
    let yaml = "columns:\n  a: {type: int64, required: true, max: 100}\n  b: {type: int64, max: 100}\nbatch_size: 37\n";
    let m = fx.run(yaml).await.unwrap().manifest;
    assert_eq!(m.rows.input, rows.len() as u64);
    assert!(m.rows.balanced(), "{:?}", m.rows);
    assert_eq!(m.rows.quarantined, expected_invalid);
    assert_eq!(m.rows.duplicates, expected_duplicates);
    let quarantined = fx.rows(&m, "quarantine").await;
    assert_eq!(quarantined.len() as u64, m.rows.quarantined);
    assert!(
        quarantined
            .iter()
            .all(|r| r[3].as_deref().is_some_and(|reason| !reason.is_empty()))
    );
    let reasons: u64 = m.quarantine_reasons.values().sum();
    assert_eq!(reasons, m.rows.quarantined);
    let written = fx.output_rows(&m).await.len() as u64;
    assert_eq!(written, m.rows.train + m.rows.test + m.rows.validation);
}
