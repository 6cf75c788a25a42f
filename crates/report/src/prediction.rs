//! The prediction report: one inference run (model, rows) and the drift of
//! its inputs against the training profile.

use maud::{Markup, html};

use crate::Error;
use crate::drift::{Drift, Level};
use crate::html::{charts, number, page};
use crate::plot::{Axes, Mark, Series, chart, paired_bars};

/// Columns whose bins are charted, the most drifted first.
const CHARTED: usize = 6;

/// What the report says about the run beside the drift.
#[derive(Debug, Clone, Default)]
pub struct RunInfo {
    /// The run's id.
    pub run_id: String,
    /// Model name.
    pub model: String,
    /// The version used (or the artifact path).
    pub version: String,
    /// When it started (UTC).
    pub started: String,
    /// Seconds it took.
    pub seconds: f64,
    /// `(what, rows)`: input, predicted, errored, quarantined.
    pub rows: Vec<(String, u64)>,
    /// A classifier's classes: `(label, share of this run's predictions,
    /// share of the model's predictions on its test set)`.
    pub classes: Vec<(String, f64, f64)>,
}

/// The report as one self-contained HTML page.
pub fn html(run: &RunInfo, drift: Option<&Drift>) -> Result<String, Error> {
    let title = format!("Predictions {}", run.run_id);
    let subtitle = format!(
        "{} {}, started {}, {:.2} s",
        run.model, run.version, run.started, run.seconds
    );
    let body = html! {
        h2 { "Rows" }
        table {
            @for (what, rows) in &run.rows { tr { th.l { (what) } td { (rows) } } }
        }
        @if !run.classes.is_empty() {
            h2 { "Predicted classes" }
            (classes(&run.classes)?)
        }
        h2 { "Drift against the training data" }
        @match drift {
            None => p.note { "The model's card holds no training profile (an artifact path, or a model trained by an older Cauce): drift was not measured." },
            Some(drift) => (drift_section(drift)?),
        }
    };
    Ok(page(&title, &subtitle, body))
}

fn level(level: Level) -> &'static str {
    match level {
        Level::Stable => "stable",
        Level::Warn => "drifted (warn)",
        Level::Fail => "drifted (fail)",
    }
}

/// This run's predicted-class shares beside those of the model's predictions
/// on its test set: a shift in the mix of predictions shows here before any
/// label arrives.
fn classes(classes: &[(String, f64, f64)]) -> Result<Markup, Error> {
    let labels: Vec<String> = classes.iter().map(|c| c.0.clone()).collect();
    let run: Vec<f64> = classes.iter().map(|c| c.1).collect();
    let test: Vec<f64> = classes.iter().map(|c| c.2).collect();
    let svg = paired_bars(
        Axes {
            title: "Predicted classes",
            x: "class",
            y: "share of predictions",
            whole_x: false,
            zero_y: true,
            whole_y: false,
        },
        &labels,
        ("this run", &run),
        ("test set", &test),
    )?;
    Ok(html! {
        (charts(&[("shares of each predicted class, this run against the test set".into(), svg)]))
        table {
            tr { th.l { "class" } th { "this run" } th { "test set" } }
            @for (label, run, test) in classes {
                tr { td.l { (label) } td { (format!("{:.2}%", 100.0 * run)) } td { (format!("{:.2}%", 100.0 * test)) } }
            }
        }
    })
}

fn drift_section(drift: &Drift) -> Result<Markup, Error> {
    let t = drift.thresholds;
    let mut ranked: Vec<_> = drift
        .columns
        .iter()
        .filter(|c| !c.bins.is_empty())
        .collect();
    ranked.sort_by(|a, b| b.psi.total_cmp(&a.psi));
    let mut svgs = Vec::new();
    for c in ranked.iter().take(CHARTED) {
        let shares = |pick: fn(&(String, f64, f64)) -> f64| -> Vec<(f64, f64)> {
            c.bins
                .iter()
                .enumerate()
                .map(|(i, b)| ((i + 1) as f64, pick(b)))
                .collect()
        };
        let series = [
            Series {
                label: "training".into(),
                points: shares(|b| b.1),
            },
            Series {
                label: "scored".into(),
                points: shares(|b| b.2),
            },
        ];
        let title = format!("{} (PSI {:.3})", c.name, c.psi);
        let caption = format!("shares of {} by bin, training against scored", c.name);
        if c.kind != "numeric" {
            // Categories have no order: bars labelled with each category.
            let categories: Vec<String> = c.bins.iter().map(|b| b.0.clone()).collect();
            let training: Vec<f64> = c.bins.iter().map(|b| b.1).collect();
            let scored: Vec<f64> = c.bins.iter().map(|b| b.2).collect();
            svgs.push((
                caption,
                paired_bars(
                    Axes {
                        title: &title,
                        x: "category (by training frequency)",
                        y: "share of rows",
                        whole_x: false,
                        zero_y: true,
                        whole_y: false,
                    },
                    &categories,
                    ("training", &training),
                    ("scored", &scored),
                )?,
            ));
            continue;
        }
        let x = "training quantile bin";
        svgs.push((
            caption,
            chart(
                Axes {
                    title: &title,
                    x,
                    y: "share of rows",
                    whole_x: true,
                    zero_y: true,
                    whole_y: false,
                },
                &series,
                Mark::Line,
                false,
                false,
                None,
            )?,
        ));
    }
    Ok(html! {
        p.note {
            (drift.rows) " scored rows against the training profile. PSI (population stability index) over the "
            "training deciles (numbers) or categories; a column warns from " (number(t.warn))
            @if let Some(fail) = t.fail { " and fails the run from " (number(fail)) }
            "; a run of fewer than " (t.min_rows) " rows is not judged."
        }
        p { strong { "Overall: " (level(drift.level)) } }
        table {
            tr { th.l { "column" } th.l { "kind" } th { "PSI" } th.l { "level" } th { "null rate" } th { "in training" } th { "unseen" } }
            @for c in &drift.columns {
                tr {
                    td.l { (c.name) } td.l { (c.kind) } td { (format!("{:.4}", c.psi)) } td.l { (level(c.level)) }
                    td { (format!("{:.2}%", 100.0 * c.null_rate)) }
                    td { (format!("{:.2}%", 100.0 * c.training_null_rate)) }
                    td { (c.unseen_rate.map_or("-".to_string(), |u| format!("{:.2}%", 100.0 * u))) }
                }
            }
        }
        @if !svgs.is_empty() {
            h3 { "The most drifted columns" }
            (charts(&svgs))
            @for c in ranked.iter().take(CHARTED) {
                details {
                    summary { (c.name) ": bins" }
                    table {
                        tr { th { "bin" } th.l { "values" } th { "training" } th { "scored" } }
                        @for (i, b) in c.bins.iter().enumerate() {
                            tr { td { (i + 1) } td.l { (b.0) } td { (format!("{:.2}%", 100.0 * b.1)) } td { (format!("{:.2}%", 100.0 * b.2)) } }
                        }
                    }
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;

    use arrow::array::{Float64Array, RecordBatch};
    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;
    use crate::drift::{Counter, Thresholds};
    use crate::profile::Profile;

    #[test]
    fn the_report_charts_the_drifted_columns() {
        let batch = |shift: f64| {
            RecordBatch::try_new(
                Arc::new(Schema::new(vec![Field::new("x", DataType::Float64, false)])),
                vec![Arc::new(Float64Array::from(
                    (0..500).map(|i| f64::from(i) + shift).collect::<Vec<_>>(),
                ))],
            )
            .unwrap()
        };
        let profile = Profile::of(&batch(0.0), &[]).unwrap();
        let mut counter = Counter::new(&profile);
        counter.add(&profile, &batch(300.0)).unwrap();
        let drift = counter.finish(
            &profile,
            Thresholds {
                fail: Some(0.25),
                ..Thresholds::default()
            },
        );
        let run = RunInfo {
            run_id: "r1".into(),
            model: "m".into(),
            version: "v1".into(),
            rows: vec![("input".into(), 500)],
            ..RunInfo::default()
        };
        let page = html(&run, Some(&drift)).unwrap();
        assert!(page.contains("drifted (fail)") && page.contains("x (PSI"));
        assert_eq!(page.matches("<svg").count(), 1);
        let none = html(&run, None).unwrap();
        assert!(none.contains("drift was not measured"));
    }
}
