//! The data-quality report of an ETL run: where the input rows went (train,
//! test, validation, quarantined, duplicates), why rows were quarantined,
//! by rule and column, and the training split's columns, profiled.

use std::collections::BTreeMap;

use maud::{Markup, html};

use crate::Error;
use crate::html::{charts, number, page};
use crate::plot::{Axes, bars, histogram};
use crate::profile::Profile;

/// Histograms drawn, at most (the first numeric columns).
const CHARTED: usize = 12;

/// What the report shows.
#[derive(Debug, Clone, Default)]
pub struct RunQuality {
    /// The ETL run's id.
    pub run_id: String,
    /// When it started (UTC).
    pub started: String,
    /// Seconds it took.
    pub seconds: f64,
    /// Input files with their rows.
    pub inputs: Vec<(String, u64)>,
    /// `(outcome, rows)`: input, train, test, validation, quarantined,
    /// duplicates.
    pub rows: Vec<(String, u64)>,
    /// Quarantined rows per reason key (`min(bill_length_mm)`, `ragged`).
    pub reasons: BTreeMap<String, u64>,
    /// The training split's profile.
    pub profile: Option<Profile>,
    /// The SQL transform the run applied, if any.
    pub transform: Option<records::transform::Transform>,
}

/// A reason key as (rule, column): `min(bill_length_mm)` is rule `min` on
/// column `bill_length_mm`; a key without a column (`ragged`) has none.
pub fn rule_and_column(reason: &str) -> (String, String) {
    match reason.split_once('(') {
        Some((rule, rest)) if rest.ends_with(')') => {
            (rule.to_string(), rest.trim_end_matches(')').to_string())
        }
        _ => (reason.to_string(), String::new()),
    }
}

/// The report as one self-contained HTML page.
pub fn html(run: &RunQuality) -> Result<String, Error> {
    let title = format!("Data quality, ETL run {}", run.run_id);
    let subtitle = format!("started {}, {:.2} s", run.started, run.seconds);
    let outcomes: Vec<(String, f64)> = run
        .rows
        .iter()
        .filter(|(what, _)| what != "input")
        .map(|(what, n)| (what.clone(), *n as f64))
        .collect();
    let body = html! {
        h2 { "Rows" }
        div.charts {
            (charts(&[("where the input rows went".into(),
                bars(Axes { title: "Where the rows went", x: "", y: "rows", whole_x: false, zero_y: true, whole_y: false }, &outcomes)?)]))
            table {
                @for (what, n) in &run.rows { tr { th.l { (what) } td { (n) } } }
            }
        }
        h3 { "Inputs" }
        table {
            tr { th.l { "file" } th { "rows" } }
            @for (file, n) in &run.inputs { tr { td.l { (file) } td { (n) } } }
        }
        @if let Some(transform) = &run.transform {
            h2 { "Transform" }
            (transform_section(transform))
        }
        h2 { "Quarantine" }
        (reasons(&run.reasons))
        h2 { "Training split" }
        @match &run.profile {
            Some(profile) => (profile_section(profile)?),
            None => p.note { "No training rows were written." },
        }
    };
    Ok(page(&title, &subtitle, body))
}

/// The SQL, its reference tables with their checksums, and the columns it
/// wrote (also shown in the model report).
pub fn transform_section(transform: &records::transform::Transform) -> Markup {
    html! {
        @if transform.whole_input {
            p.note { "The SQL run once over all the cleaned rows (Apache DataFusion, whole input); inference cannot replay it." }
        } @else {
            p.note { "The SQL run on the cleaned rows (Apache DataFusion); inference replays it without its filters." }
        }
        pre { (transform.sql.trim_end()) }
        @if !transform.tables.is_empty() {
            table {
                tr { th.l { "table" } th.l { "location" } th.l { "format" } th { "rows" } th.l { "sha256" } }
                @for t in &transform.tables {
                    tr { td.l { (t.name) } td.l { (t.location) } td.l { (t.format) } td { (t.rows) } td.l { code { (t.sha256.get(..16).unwrap_or(&t.sha256)) "…" } } }
                }
            }
        }
        p.note {
            (transform.columns_before.len()) " column(s) in, " (transform.columns_after.len()) " out: "
            (transform.columns_after.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", "))
        }
    }
}

fn reasons(reasons: &BTreeMap<String, u64>) -> Markup {
    if reasons.is_empty() {
        return html! { p.note { "No row was quarantined." } };
    }
    let mut ranked: Vec<(&String, &u64)> = reasons.iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let total: u64 = reasons.values().sum();
    html! {
        p.note { (total) " quarantined row(s), by the first rule each broke." }
        table {
            tr { th.l { "rule" } th.l { "column" } th { "rows" } th { "share" } }
            @for (reason, n) in ranked {
                @let (rule, column) = rule_and_column(reason);
                tr { td.l { (rule) } td.l { (column) } td { (n) } td { (format!("{:.1}%", 100.0 * *n as f64 / total as f64)) } }
            }
        }
    }
}

fn profile_section(profile: &Profile) -> Result<Markup, Error> {
    let mut svgs = Vec::new();
    for c in profile
        .columns
        .iter()
        .filter(|c| c.numeric.is_some())
        .take(CHARTED)
    {
        if let Some(n) = &c.numeric {
            let title = format!("{} ({})", c.name, c.data_type);
            svgs.push((
                format!("histogram of {}", c.name),
                histogram(
                    Axes {
                        title: &title,
                        x: &c.name,
                        y: "rows",
                        whole_x: false,
                        zero_y: true,
                        whole_y: false,
                    },
                    &n.histogram,
                )?,
            ));
        }
    }
    Ok(html! {
        p.note { (profile.rows) " rows. Numbers: range, mean, standard deviation and a histogram; other columns: the most frequent values." }
        div.wide { table {
            tr { th.l { "column" } th.l { "type" } th { "nulls" } th { "distinct" } th { "min" } th { "mean" } th { "std" } th { "max" } th.l { "most frequent" } }
            @for c in &profile.columns {
                tr {
                    td.l { (c.name) } td.l { (c.data_type) }
                    td { (c.nulls) " (" (format!("{:.1}%", 100.0 * c.nulls as f64 / profile.rows.max(1) as f64)) ")" }
                    td { (c.distinct) @if c.distinct_capped { "+" } }
                    @match &c.numeric {
                        Some(n) => { td { (number(n.min)) } td { (number(n.mean)) } td { (number(n.std)) } td { (number(n.max)) } }
                        None => { td {} td {} td {} td {} }
                    }
                    td.l {
                        @if let Some(cat) = &c.categorical {
                            (cat.top.iter().take(5).map(|(v, n)| format!("{v} ({n})")).collect::<Vec<_>>().join(", "))
                        }
                    }
                }
            }
        } }
        @if !svgs.is_empty() { (charts(&svgs)) }
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// Regression: an infinite value made the histogram's range infinite
    /// and plotters panicked; they are counted apart and left out.
    #[test]
    fn infinite_values_are_counted_and_left_out_of_the_charts() {
        use std::sync::Arc;

        use arrow::array::{Float64Array, RecordBatch};
        use arrow::datatypes::{DataType, Field, Schema};

        let values = vec![1.0, f64::INFINITY, f64::NAN, f64::NEG_INFINITY, 2.0];
        let batch = RecordBatch::try_new(
            Arc::new(Schema::new(vec![Field::new("x", DataType::Float64, false)])),
            vec![Arc::new(Float64Array::from(values))],
        )
        .unwrap();
        let profile = Profile::of(&batch, &[]).unwrap();
        let x = &profile.columns[0];
        let n = x.numeric.as_ref().unwrap();
        assert_eq!((x.non_finite, n.min, n.max), (3, 1.0, 2.0));
        let run = RunQuality {
            profile: Some(profile),
            ..RunQuality::default()
        };
        assert!(html(&run).unwrap().contains("<svg"));
        let only_infinite = RecordBatch::try_new(
            Arc::new(Schema::new(vec![Field::new("x", DataType::Float64, false)])),
            vec![Arc::new(Float64Array::from(vec![f64::INFINITY]))],
        )
        .unwrap();
        let run = RunQuality {
            profile: Some(Profile::of(&only_infinite, &[]).unwrap()),
            ..RunQuality::default()
        };
        html(&run).unwrap();
    }

    #[test]
    fn reasons_split_into_rule_and_column() {
        assert_eq!(
            rule_and_column("min(bill_length_mm)"),
            ("min".into(), "bill_length_mm".into())
        );
        assert_eq!(rule_and_column("ragged"), ("ragged".into(), String::new()));
    }

    #[test]
    fn the_report_shows_rows_reasons_and_the_profile() {
        use std::sync::Arc;

        use arrow::array::{Float64Array, RecordBatch};
        use arrow::datatypes::{DataType, Field, Schema};

        let batch = RecordBatch::try_new(
            Arc::new(Schema::new(vec![Field::new(
                "mass",
                DataType::Float64,
                true,
            )])),
            vec![Arc::new(Float64Array::from(vec![
                Some(1.0),
                None,
                Some(3.0),
            ]))],
        )
        .unwrap();
        let run = RunQuality {
            run_id: "r".into(),
            rows: vec![
                ("input".into(), 10),
                ("train".into(), 3),
                ("quarantined".into(), 7),
            ],
            reasons: [("min(mass)".to_string(), 5), ("ragged".to_string(), 2)].into(),
            profile: Some(Profile::of(&batch, &[]).unwrap()),
            transform: Some(records::transform::Transform {
                sql: "SELECT *, mass / 2 AS half FROM input".into(),
                tables: vec![records::transform::ReferenceTable {
                    name: "islands".into(),
                    location: "ref/islands.csv".into(),
                    format: "csv".into(),
                    sha256: "ab".repeat(32),
                    bytes: 40,
                    rows: 3,
                }],
                columns_before: vec![],
                columns_after: vec![],
                whole_input: false,
            }),
            ..RunQuality::default()
        };
        let page = html(&run).unwrap();
        assert!(
            page.contains("<h2>Transform</h2>") && page.contains("mass / 2 AS half"),
            "{page}"
        );
        assert!(page.contains("abababababababab…") && page.contains("ref/islands.csv"));
        assert!(
            page.contains(r#"<td class="l">min</td><td class="l">mass</td><td>5</td>"#),
            "{page}"
        );
        assert_eq!(page.matches("<svg").count(), 2, "rows and one histogram");
        assert!(page.contains("1 (33.3%)"));
    }
}
