//! The model report: one version's training record as a page (header,
//! metrics beside the baseline, the test set's confusion matrix and curves
//! or residuals, feature importances, the search's fold scores, a
//! booster's loss per round) and as a few lines of text.

use maud::{Markup, html};

use crate::Error;
use crate::curves::Curves;
use crate::html::{charts, number, page};
use crate::plot::{Axes, Mark, Series, chart, histogram};
use crate::training::{Evaluation, LossHistory, SearchReport, TrainingRecord};
use records::registry::VersionInfo;

/// Importances listed, at most.
const TOP_FEATURES: usize = 30;

/// The report as one self-contained HTML page.
pub fn html(version: &VersionInfo, record: &TrainingRecord) -> Result<String, Error> {
    let title = format!("{} {}", version.name, version.version);
    let subtitle = format!(
        "{} {} on '{}', trained {} by {}",
        record.algorithm, record.task, record.target, version.created_at, version.created_by
    );
    let body = html! {
        h2 { "Run" }
        (run(version, record))
        h2 { "Test metrics" }
        (metrics(version))
        (evaluation(record)?)
        (importances(record))
        (training_data(record))
        (search(record.search.as_ref())?)
        (history(record.training.as_ref())?)
        h2 { "Parameters" }
        pre { (serde_json::to_string_pretty(&version.params).unwrap_or_default()) }
    };
    Ok(page(&title, &subtitle, body))
}

/// The report in a few lines.
pub fn text(version: &VersionInfo, record: &TrainingRecord) -> String {
    let mut lines = vec![format!(
        "{} {}: {} {} on '{}' ({} train / {} test rows, seed {}, fit {:.2} s, evaluation {:.2} s)",
        version.name,
        version.version,
        record.algorithm,
        record.task,
        record.target,
        record.rows.get("train").copied().unwrap_or(0),
        record.rows.get("test").copied().unwrap_or(0),
        record.seed,
        record.fit_seconds,
        record.evaluate_seconds
    )];
    for (metric, value) in version
        .metrics
        .iter()
        .filter(|(m, _)| !m.starts_with("baseline_"))
    {
        let baseline = version.metrics.get(&format!("baseline_{metric}"));
        lines.push(match baseline {
            Some(b) => format!("  {metric}: {} (baseline {})", number(*value), number(*b)),
            None => format!("  {metric}: {}", number(*value)),
        });
    }
    lines.join("\n")
}

fn run(version: &VersionInfo, record: &TrainingRecord) -> Markup {
    let rows = record
        .rows
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ");
    html! {
        dl {
            dt { "Algorithm" } dd { (record.algorithm) " (" (record.task) ")" }
            dt { "Target" } dd { (record.target) }
            @if !record.classes.is_empty() {
                dt { "Classes" } dd { (record.classes.join(", ")) }
            }
            dt { "Rows" } dd { (rows) }
            dt { "Features" } dd { (record.feature_names.len()) " after encoding" }
            dt { "Data" } dd { (record.data.manifest) " (SHA-256 " (record.data.manifest_sha256) ")" }
            dt { "ETL run" } dd { (record.data.etl_run_id) }
            dt { "Seed" } dd { (record.seed) }
            dt { "Fit time" } dd { (format!("{:.2} s", record.fit_seconds)) }
            dt { "Evaluation time" } dd { (format!("{:.2} s", record.evaluate_seconds)) }
            dt { "Config" } dd { "SHA-256 " (record.config_sha256) }
            dt { "Artifact" } dd {
                (record.artifact.file) " (format " (record.artifact.format_version)
                ", SHA-256 " (record.artifact.sha256) ")"
            }
            dt { "Written" } dd { (version.created_at) " by " (version.created_by) }
        }
    }
}

fn metrics(version: &VersionInfo) -> Markup {
    let names: Vec<&String> = version
        .metrics
        .keys()
        .filter(|m| !m.starts_with("baseline_"))
        .collect();
    html! {
        table {
            tr { th.l { "metric" } th { "model" } th { "baseline" } th { "better" } }
            @for name in names {
                tr {
                    td.l { (name) }
                    td { (number(version.metrics[name])) }
                    td { (version.metrics.get(&format!("baseline_{name}")).map_or(String::new(), |v| number(*v))) }
                    td { (match version.higher_is_better.get(name) {
                        Some(true) => "higher",
                        Some(false) => "lower",
                        None => "",
                    }) }
                }
            }
        }
        p.note { "The baseline needs no learning: the training split's majority class, or its mean." }
    }
}

fn evaluation(record: &TrainingRecord) -> Result<Markup, Error> {
    let curves = match &record.curves {
        Some(curves) => curve_charts(curves)?,
        None => {
            html! { p.note { "This version's record has no test-set curves (written by an older Cauce)." } }
        }
    };
    Ok(match &record.evaluation {
        Evaluation::Classification {
            model,
            rows,
            unscored,
            ..
        } => {
            let labels: Vec<&str> = model.per_class.iter().map(|c| c.class.as_str()).collect();
            html! {
                h2 { "Confusion matrix" }
                p.note { "Test rows by true class (rows) and predicted class (columns); "
                    (rows) " rows, " (unscored) " not scored. Right: each row as a share of its class." }
                div.charts {
                    (confusion(&labels, &model.confusion, false))
                    (confusion(&labels, &model.confusion, true))
                }
                h2 { "Per class" }
                table {
                    tr { th.l { "class" } th { "precision" } th { "recall" } th { "F1" } th { "support" } }
                    @for c in &model.per_class {
                        tr { td.l { (c.class) } td { (number(c.precision)) } td { (number(c.recall)) }
                             td { (number(c.f1)) } td { (c.support) } }
                    }
                }
                (curves)
            }
        }
        Evaluation::Regression { rows, unscored, .. } => html! {
            h2 { "Predictions" }
            p.note { (rows) " test rows, " (unscored) " not scored." }
            (curves)
        },
    })
}

fn confusion(labels: &[&str], counts: &[Vec<u64>], normalised: bool) -> Markup {
    let most = counts.iter().flatten().copied().max().unwrap_or(0).max(1) as f64;
    html! {
        table aria-label=(if normalised { "confusion matrix, share of each true class" } else { "confusion matrix, counts" }) {
            tr { th.l { "true \\ predicted" } @for l in labels { th { (l) } } }
            @for (label, row) in labels.iter().zip(counts) {
                @let total = row.iter().sum::<u64>().max(1) as f64;
                tr {
                    th.l { (label) }
                    @for &c in row {
                        @let share = if normalised { c as f64 / total } else { c as f64 / most };
                        @let ink = if share > 0.55 { "#fff" } else { "#1a1a1a" };
                        td style=(format!("background: rgba(0,114,178,{share:.3}); color: {ink}")) {
                            (if normalised { format!("{:.1}%", 100.0 * c as f64 / total) } else { c.to_string() })
                        }
                    }
                }
            }
        }
    }
}

fn curve_charts(curves: &Curves) -> Result<Markup, Error> {
    match curves {
        Curves::Classification {
            classes,
            confidence,
        } => {
            let roc: Vec<Series> = classes
                .iter()
                .filter_map(|c| {
                    let label = format!("{} (AUC {:.3})", c.class, c.roc_auc?);
                    Some(Series {
                        label,
                        points: c.roc.clone(),
                    })
                })
                .collect();
            let pr: Vec<Series> = classes
                .iter()
                .filter_map(|c| {
                    let label = format!("{} (AP {:.3})", c.class, c.average_precision?);
                    Some(Series {
                        label,
                        points: c.pr.clone(),
                    })
                })
                .collect();
            let calibration: Vec<Series> = classes
                .iter()
                .map(|c| Series {
                    label: c.class.clone(),
                    points: c
                        .calibration
                        .iter()
                        .map(|b| (b.mean_predicted, b.fraction_positive))
                        .collect(),
                })
                .collect();
            let one_vs_rest = "each class against the rest";
            Ok(html! {
                h2 { "Curves on the test set" }
                p.note { "ROC, precision-recall and reliability curves of " (one_vs_rest)
                    "; the dashed line is a random classifier (ROC) or perfect calibration." }
                (charts(&[
                    ("ROC curves".into(), chart(Axes { title: "ROC", x: "false positive rate", y: "true positive rate", whole_x: false, zero_y: false, whole_y: false }, &roc, Mark::Line, true, true, None)?),
                    ("precision-recall curves".into(), chart(Axes { title: "Precision-recall", x: "recall", y: "precision", whole_x: false, zero_y: false, whole_y: false }, &pr, Mark::Line, true, false, None)?),
                    ("calibration curves".into(), chart(Axes { title: "Calibration", x: "mean predicted probability", y: "share of the class", whole_x: false, zero_y: false, whole_y: false }, &calibration, Mark::Line, true, true, None)?),
                    ("histogram of the predicted class's probability".into(), histogram(Axes { title: "Confidence", x: "probability of the predicted class", y: "test rows", whole_x: false, zero_y: false, whole_y: false }, confidence)?),
                ]))
            })
        }
        Curves::Regression { sample, residuals } => {
            let actual = [Series {
                label: String::new(),
                points: sample.iter().map(|&(a, p)| (a, p)).collect(),
            }];
            let residual = [Series {
                label: String::new(),
                points: sample.iter().map(|&(a, p)| (p, a - p)).collect(),
            }];
            Ok(html! {
                h2 { "Residuals on the test set" }
                p.note { "Scatter plots show up to 500 test rows spread over the set; the histogram counts every scored row." }
                (charts(&[
                    ("predicted against actual values".into(), chart(Axes { title: "Predicted vs actual", x: "actual", y: "predicted", whole_x: false, zero_y: false, whole_y: false }, &actual, Mark::Dot, false, true, None)?),
                    ("residuals against predicted values".into(), chart(Axes { title: "Residuals vs predicted", x: "predicted", y: "actual − predicted", whole_x: false, zero_y: false, whole_y: false }, &residual, Mark::Dot, false, false, None)?),
                    ("histogram of the residuals".into(), histogram(Axes { title: "Residuals", x: "actual − predicted", y: "test rows", whole_x: false, zero_y: false, whole_y: false }, residuals)?),
                ]))
            })
        }
    }
}

fn importances(record: &TrainingRecord) -> Markup {
    let Some(importances) = &record.feature_importances else {
        return html! {};
    };
    let top = importances
        .first()
        .map_or(1.0, |f| f.1.max(f64::MIN_POSITIVE));
    html! {
        h2 { "Feature importances" }
        p.note { "Impurity decrease (trees) or split gain (boosting), as a share of the total; the "
            (TOP_FEATURES.min(importances.len())) " largest of " (importances.len()) "." }
        table {
            tr { th.l { "feature" } th { "share" } th.l { "" } }
            @for (name, value) in importances.iter().take(TOP_FEATURES) {
                tr {
                    td.l { (name) }
                    td { (format!("{:.2}%", 100.0 * value)) }
                    td.l style="width: 320px" {
                        div.bar style=(format!("width: {:.1}%", 100.0 * value / top)) {}
                    }
                }
            }
        }
    }
}

fn training_data(record: &TrainingRecord) -> Markup {
    let transform = record.transform.as_ref().map(|t| {
        html! {
            h2 { "Transform" }
            (crate::data_quality::transform_section(t))
        }
    });
    let Some(profile) = &record.profile else {
        return html! { @if let Some(t) = transform { (t) } };
    };
    html! {
        @if let Some(t) = transform { (t) }
        h2 { "Training data" }
        p.note { "The input columns of the " (profile.rows) " training rows: what inference compares new data with." }
        div.wide { table {
            tr { th.l { "column" } th.l { "type" } th { "nulls" } th { "distinct" } th { "min" } th { "mean" } th { "max" } th.l { "most frequent" } }
            @for c in &profile.columns {
                tr {
                    td.l { (c.name) } td.l { (c.data_type) } td { (c.nulls) }
                    td { (c.distinct) @if c.distinct_capped { "+" } }
                    @match &c.numeric {
                        Some(n) => { td { (number(n.min)) } td { (number(n.mean)) } td { (number(n.max)) } }
                        None => { td {} td {} td {} }
                    }
                    td.l {
                        @if let Some(cat) = &c.categorical {
                            (cat.top.iter().take(5).map(|(v, n)| format!("{v} ({n})")).collect::<Vec<_>>().join(", "))
                        }
                    }
                }
            }
        } }
    }
}

fn search(search: Option<&SearchReport>) -> Result<Markup, Error> {
    let Some(search) = search else {
        return Ok(html! {});
    };
    let folds: Vec<Series> = (0..search.cv)
        .map(|f| Series {
            label: format!("fold {}", f + 1),
            points: search
                .candidates
                .iter()
                .enumerate()
                .filter_map(|(i, c)| Some(((i + 1) as f64, *c.scores.get(f)?)))
                .collect(),
        })
        .collect();
    let direction = if search.higher_is_better {
        "higher"
    } else {
        "lower"
    };
    Ok(html! {
        h2 { "Hyperparameter search" }
        p.note { (search.candidates.len()) " candidates × " (search.cv) " folds on " (search.metric)
            " (" (direction) " is better); the chosen candidate is marked." }
        (charts(&[("cross-validation score of each candidate, fold by fold".into(),
            chart(Axes { title: "Fold scores", x: "candidate", y: &search.metric, whole_x: true, zero_y: false, whole_y: false }, &folds, Mark::Dot, false, false, Some((search.best + 1) as f64))?)]))
        table {
            tr { th { "#" } th.l { "params" } th { "mean" } th { "std" } th.l { "folds" } }
            @for (i, c) in search.candidates.iter().enumerate() {
                tr style=(if i == search.best { "font-weight: bold" } else { "" }) {
                    td { (i + 1) }
                    td.l { (c.params.iter().map(|(k, v)| format!("{k} = {v}")).collect::<Vec<_>>().join(", ")) }
                    td { (number(c.mean)) } td { (number(c.std)) }
                    td.l { (c.scores.iter().map(|s| number(*s)).collect::<Vec<_>>().join(", ")) }
                }
            }
        }
    })
}

fn history(history: Option<&LossHistory>) -> Result<Markup, Error> {
    let Some(history) = history else {
        return Ok(html! {});
    };
    let curve = |values: &[f64]| -> Vec<(f64, f64)> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| ((i + 1) as f64, *v))
            .collect()
    };
    let mut series = vec![Series {
        label: "train".into(),
        points: curve(&history.train),
    }];
    if !history.validation.is_empty() {
        series.push(Series {
            label: format!(
                "validation ({}, {} rows)",
                history.validation_from, history.validation_rows
            ),
            points: curve(&history.validation),
        });
    }
    Ok(html! {
        h2 { "Boosting rounds" }
        p.note { (history.metric) " after each round; " (history.best_iteration) " rounds kept (dashed line)." }
        (charts(&[("loss per boosting round".into(), chart(Axes { title: "Loss per round", x: "round", y: &history.metric, whole_x: true, zero_y: false, whole_y: false }, &series, Mark::Line, false, false, Some(history.best_iteration as f64))?)]))
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::curves;
    use crate::training::{
        ArtifactInfo, Candidate, ClassMetrics, ClassificationMetrics, DataLineage,
        RegressionMetrics,
    };

    fn record(evaluation: Evaluation, curves: Option<Curves>) -> TrainingRecord {
        TrainingRecord {
            task: records::training::Task::Classification,
            algorithm: "gradient_boosting".into(),
            target: "species".into(),
            classes: vec!["Adelie".into(), "Gentoo <b>".into()],
            inputs: Vec::new(),
            feature_names: vec!["bill".into(), "flipper".into()],
            preprocessing: Default::default(),
            cleaning: None,
            transform: None,
            data: DataLineage {
                manifest: "data/processed/_manifest.json".into(),
                manifest_sha256: "ab".repeat(32),
                etl_run_id: "run-1".into(),
            },
            config_sha256: "cd".repeat(32),
            seed: 42,
            rows: [("train".to_string(), 80), ("test".to_string(), 20)].into(),
            fit_seconds: 0.25,
            evaluate_seconds: 0.5,
            evaluation,
            search: Some(SearchReport {
                metric: "accuracy".into(),
                higher_is_better: true,
                cv: 3,
                candidates: vec![
                    Candidate {
                        params: Default::default(),
                        scores: vec![0.9, 0.8, 0.85],
                        mean: 0.85,
                        std: 0.04,
                    },
                    Candidate {
                        params: Default::default(),
                        scores: vec![0.95, 0.9, 0.92],
                        mean: 0.923,
                        std: 0.02,
                    },
                ],
                best: 1,
            }),
            feature_importances: Some(vec![("flipper".into(), 0.7), ("bill".into(), 0.3)]),
            training: Some(LossHistory {
                metric: "log_loss".into(),
                train: vec![0.6, 0.4, 0.3],
                validation: vec![0.62, 0.45, 0.47],
                validation_from: "training holdout".into(),
                validation_rows: 10,
                best_iteration: 2,
            }),
            curves,
            profile: None,
            artifact: ArtifactInfo {
                file: "model.bin".into(),
                format_version: 5,
                sha256: "ef".repeat(32),
            },
        }
    }

    fn version() -> VersionInfo {
        VersionInfo {
            name: "penguins".into(),
            version: "v3".into(),
            created_at: "2026-12-05T10:00:00Z".into(),
            created_by: "ana@host".into(),
            params: serde_json::json!({"learning_rate": 0.1}),
            metrics: [
                ("accuracy".to_string(), 0.9),
                ("baseline_accuracy".to_string(), 0.5),
            ]
            .into(),
            higher_is_better: [("accuracy".to_string(), true)].into(),
        }
    }

    fn classification() -> (Evaluation, Curves) {
        let metrics = |accuracy| ClassificationMetrics {
            accuracy,
            balanced_accuracy: accuracy,
            precision_macro: accuracy,
            recall_macro: accuracy,
            f1_macro: accuracy,
            roc_auc: Some(0.9),
            log_loss: Some(0.3),
            per_class: ["Adelie", "Gentoo <b>"]
                .iter()
                .map(|c| ClassMetrics {
                    class: (*c).into(),
                    precision: 0.9,
                    recall: 0.9,
                    f1: 0.9,
                    support: 10,
                })
                .collect(),
            confusion: vec![vec![9, 1], vec![1, 9]],
        };
        let truth: Vec<usize> = (0..20).map(|i| i % 2).collect();
        let proba: Vec<Vec<f64>> = (0..20)
            .map(|i| {
                let p = if i % 2 == 1 {
                    0.6 + i as f64 / 100.0
                } else {
                    0.4 - i as f64 / 100.0
                };
                vec![1.0 - p, p]
            })
            .collect();
        let labels = vec!["Adelie".to_string(), "Gentoo <b>".to_string()];
        let evaluation = Evaluation::Classification {
            model: metrics(0.9),
            baseline: metrics(0.5),
            rows: 20,
            unscored: 0,
        };
        (evaluation, curves::classification(&truth, &proba, &labels))
    }

    /// Every chart is an SVG with marks (paths, polylines, circles or
    /// rectangles beyond its background), labels are escaped, and the page
    /// loads nothing.
    #[test]
    fn a_classification_report_has_every_section_with_marks() {
        let (evaluation, curves) = classification();
        let page = html(&version(), &record(evaluation, Some(curves))).unwrap();
        for section in [
            "Test metrics",
            "Confusion matrix",
            "Per class",
            "Curves on the test set",
            "Feature importances",
            "Hyperparameter search",
            "Boosting rounds",
        ] {
            assert!(page.contains(&format!("<h2>{section}</h2>")), "{section}");
        }
        let svgs = page.matches("<svg").count();
        assert_eq!(svgs, 6, "ROC, PR, calibration, confidence, folds, loss");
        for svg in page.split("<svg").skip(1) {
            let svg = &svg[..svg.find("</svg>").unwrap()];
            let marks = svg.matches("<polyline").count()
                + svg.matches("<path").count()
                + svg.matches("<circle").count()
                + svg.matches("<rect").count().saturating_sub(1);
            assert!(
                marks > 0,
                "an SVG without marks: {}",
                &svg[..200.min(svg.len())]
            );
        }
        assert!(page.contains("Gentoo &lt;b&gt;") && !page.contains("Gentoo <b>"));
        assert!(page.contains("AUC 1.000"));
        assert!(
            !page.contains("http://")
                || page.matches("http://").count()
                    == page.matches("http://www.w3.org/2000/svg").count()
        );
        assert!(!page.contains("<script") && !page.contains("src="));
    }

    #[test]
    fn a_regression_report_plots_residuals_and_a_record_without_curves_says_so() {
        let metrics = RegressionMetrics {
            rmse: 1.0,
            mae: 0.8,
            r2: 0.9,
            mape: 0.1,
        };
        let evaluation = Evaluation::Regression {
            model: metrics.clone(),
            baseline: metrics,
            rows: 50,
            unscored: 1,
        };
        let actual: Vec<f64> = (0..50).map(f64::from).collect();
        let predicted: Vec<f64> = actual.iter().map(|a| a + (a % 3.0) - 1.0).collect();
        let curves = curves::regression(&actual, &predicted);
        let mut with = record(evaluation.clone(), Some(curves));
        with.task = records::training::Task::Regression;
        let page = html(&version(), &with).unwrap();
        assert!(page.contains("Predicted vs actual") && page.contains("Residuals vs predicted"));
        assert!(
            page.matches("<circle").count() >= 100,
            "two scatter plots of 50 rows"
        );
        let page = html(&version(), &record(evaluation, None)).unwrap();
        assert!(page.contains("has no test-set curves"));
        let text = text(&version(), &with);
        assert!(text.starts_with("penguins v3: gradient_boosting regression on 'species'"));
        assert!(
            text.contains("accuracy: 0.9000 (baseline 0.5000)"),
            "{text}"
        );
    }
}
