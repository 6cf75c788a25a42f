//! The numbers behind a model report's plots, computed from the test
//! split's predictions at training time and kept in the training record
//! (bounded: at most [`MAX_POINTS`] points per curve and a fixed number of
//! bins, whatever the test set's size), as scikit-learn computes them:
//! `roc_curve` and `roc_auc_score`, `precision_recall_curve` and
//! `average_precision_score`, `calibration_curve(strategy="uniform")`.

use serde::{Deserialize, Serialize};

/// Most points kept per curve; longer curves are thinned evenly (the area
/// under them is computed before).
pub const MAX_POINTS: usize = 201;
/// Bins of a calibration curve.
pub const CALIBRATION_BINS: usize = 10;
/// Bins of a histogram.
pub const HISTOGRAM_BINS: usize = 20;
/// Rows kept for a regression's scatter plots.
pub const SAMPLE_ROWS: usize = 500;
/// Classes whose curves are kept (the first ones, in label order).
pub const MAX_CLASSES: usize = 20;

/// What a model report plots, by task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "task", rename_all = "snake_case")]
pub enum Curves {
    /// Per class (one against the rest), and the predicted class's
    /// probability.
    Classification {
        /// Curves of the first [`MAX_CLASSES`] classes.
        classes: Vec<ClassCurves>,
        /// Histogram of the probability of the predicted class.
        confidence: Histogram,
    },
    /// Predicted against actual values.
    Regression {
        /// Up to [`SAMPLE_ROWS`] `(actual, predicted)` pairs, evenly spread
        /// over the scored test rows.
        sample: Vec<(f64, f64)>,
        /// Histogram of the residuals (actual − predicted) of every scored
        /// test row.
        residuals: Histogram,
    },
}

/// One class against the rest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassCurves {
    /// The class label.
    pub class: String,
    /// Test rows of the class.
    pub positives: u64,
    /// ROC curve `(false positive rate, true positive rate)`, from (0, 0).
    pub roc: Vec<(f64, f64)>,
    /// Area under it (`None` when the test rows are all or none of the
    /// class).
    pub roc_auc: Option<f64>,
    /// Precision-recall curve `(recall, precision)`, by decreasing threshold.
    pub pr: Vec<(f64, f64)>,
    /// Average precision (`None` without positives).
    pub average_precision: Option<f64>,
    /// Reliability: per non-empty probability bin, the mean predicted
    /// probability and the share of rows of the class.
    pub calibration: Vec<CalibrationBin>,
}

/// One bin of a calibration curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CalibrationBin {
    /// Mean predicted probability of the rows in the bin.
    pub mean_predicted: f64,
    /// Share of them that are of the class.
    pub fraction_positive: f64,
    /// Rows in the bin.
    pub rows: u64,
}

/// Counts in `edges.len() - 1` bins; a value on an inner edge counts in
/// the bin above it, the last bin includes its upper edge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    /// Bin edges, increasing.
    pub edges: Vec<f64>,
    /// Count per bin.
    pub counts: Vec<u64>,
}

impl Histogram {
    /// `bins` equal bins over `[low, high]` (a single bin around a constant).
    pub fn new(
        values: impl Iterator<Item = f64> + Clone,
        low: f64,
        high: f64,
        bins: usize,
    ) -> Self {
        let bins = bins.max(1);
        let (low, high) = if high > low {
            (low, high)
        } else {
            (low - 0.5, low + 0.5)
        };
        let width = (high - low) / bins as f64;
        let edges: Vec<f64> = (0..=bins).map(|i| low + width * i as f64).collect();
        let mut counts = vec![0u64; bins];
        for v in values.filter(|v| v.is_finite()) {
            let at = (((v - low) / width).floor().max(0.0) as usize).min(bins - 1);
            counts[at] += 1;
        }
        Self { edges, counts }
    }

    /// Over the values' own range.
    pub fn of(values: &[f64], bins: usize) -> Self {
        let finite = values.iter().copied().filter(|v| v.is_finite());
        let low = finite.clone().fold(f64::INFINITY, f64::min);
        let high = finite.fold(f64::NEG_INFINITY, f64::max);
        if !low.is_finite() {
            return Self::new(std::iter::empty(), 0.0, 1.0, bins);
        }
        Self::new(values.iter().copied(), low, high, bins)
    }
}

/// The curves of a classifier: `truth[i]` the true class index of test row
/// `i`, `proba[i]` its predicted probabilities (one per class the model
/// knows; rows it could not score left out by the caller), `labels` the
/// class names.
pub fn classification(truth: &[usize], proba: &[Vec<f64>], labels: &[String]) -> Curves {
    let classes = labels
        .iter()
        .enumerate()
        .take(MAX_CLASSES)
        .filter(|(k, _)| proba.first().is_some_and(|p| *k < p.len()))
        .map(|(k, label)| {
            let positive: Vec<bool> = truth.iter().map(|&t| t == k).collect();
            let score: Vec<f64> = proba.iter().map(|p| p[k]).collect();
            class_curves(label, &positive, &score)
        })
        .collect();
    let top = proba.iter().map(|p| p.iter().copied().fold(0.0, f64::max));
    Curves::Classification {
        classes,
        confidence: Histogram::new(top, 0.0, 1.0, HISTOGRAM_BINS),
    }
}

/// The curves of a regressor from its scored test rows.
pub fn regression(actual: &[f64], predicted: &[f64]) -> Curves {
    let n = actual.len().min(predicted.len());
    let step = n.div_ceil(SAMPLE_ROWS).max(1);
    let sample = (0..n)
        .step_by(step)
        .map(|i| (actual[i], predicted[i]))
        .collect();
    let residuals: Vec<f64> = (0..n).map(|i| actual[i] - predicted[i]).collect();
    Curves::Regression {
        sample,
        residuals: Histogram::of(&residuals, HISTOGRAM_BINS),
    }
}

fn class_curves(label: &str, positive: &[bool], score: &[f64]) -> ClassCurves {
    let positives = positive.iter().filter(|&&p| p).count();
    let (roc, roc_auc) = roc(positive, score);
    let (pr, average_precision) = precision_recall(positive, score);
    ClassCurves {
        class: label.to_string(),
        positives: positives as u64,
        roc: thin(roc),
        roc_auc,
        pr: thin(pr),
        average_precision,
        calibration: calibration(positive, score, CALIBRATION_BINS),
    }
}

/// Cumulative (false, true) positives at each distinct score, highest
/// first (scikit-learn's `_binary_clf_curve`).
fn cumulative(positive: &[bool], score: &[f64]) -> Vec<(f64, f64)> {
    let mut order: Vec<usize> = (0..score.len()).collect();
    order.sort_by(|&a, &b| score[b].total_cmp(&score[a]));
    let mut out = Vec::new();
    let (mut fp, mut tp) = (0.0, 0.0);
    for (i, &row) in order.iter().enumerate() {
        if positive[row] {
            tp += 1.0;
        } else {
            fp += 1.0;
        }
        let last = order
            .get(i + 1)
            .is_none_or(|&next| score[next] != score[row]);
        if last {
            out.push((fp, tp));
        }
    }
    out
}

/// ROC points from (0, 0) and the area under them (trapezoids).
pub fn roc(positive: &[bool], score: &[f64]) -> (Vec<(f64, f64)>, Option<f64>) {
    let counts = cumulative(positive, score);
    let (fp_total, tp_total) = counts.last().copied().unwrap_or((0.0, 0.0));
    if fp_total == 0.0 || tp_total == 0.0 {
        return (Vec::new(), None);
    }
    let points: Vec<(f64, f64)> = std::iter::once((0.0, 0.0))
        .chain(
            counts
                .iter()
                .map(|&(fp, tp)| (fp / fp_total, tp / tp_total)),
        )
        .collect();
    let auc = points
        .windows(2)
        .map(|w| (w[1].0 - w[0].0) * (w[1].1 + w[0].1) / 2.0)
        .sum();
    (points, Some(auc))
}

/// Precision-recall points by decreasing threshold, ending at (0, 1) as
/// scikit-learn's curve does once reversed, and the average precision
/// `Σ (Rₙ − Rₙ₋₁) Pₙ`.
pub fn precision_recall(positive: &[bool], score: &[f64]) -> (Vec<(f64, f64)>, Option<f64>) {
    let counts = cumulative(positive, score);
    let tp_total = counts.last().map_or(0.0, |c| c.1);
    if tp_total == 0.0 {
        return (Vec::new(), None);
    }
    let mut points = vec![(0.0, 1.0)];
    let mut ap = 0.0;
    let mut recall_before = 0.0;
    for &(fp, tp) in &counts {
        let (recall, precision) = (tp / tp_total, tp / (tp + fp));
        ap += (recall - recall_before) * precision;
        recall_before = recall;
        points.push((recall, precision));
    }
    (points, Some(ap))
}

/// `bins` uniform bins over [0, 1]; a probability on an inner edge goes to
/// the bin below (scikit-learn's `searchsorted` on the inner edges).
pub fn calibration(positive: &[bool], score: &[f64], bins: usize) -> Vec<CalibrationBin> {
    let bins = bins.max(1);
    // numpy's linspace(0, 1, bins + 1) without its ends.
    let step = 1.0 / bins as f64;
    let inner: Vec<f64> = (1..bins).map(|i| i as f64 * step).collect();
    let mut sums = vec![(0.0, 0.0, 0u64); bins];
    for (&p, &s) in positive.iter().zip(score) {
        let at = inner.partition_point(|&edge| edge < s);
        let bin = &mut sums[at];
        bin.0 += s;
        bin.1 += f64::from(u8::from(p));
        bin.2 += 1;
    }
    sums.into_iter()
        .filter(|b| b.2 > 0)
        .map(|(predicted, positives, rows)| CalibrationBin {
            mean_predicted: predicted / rows as f64,
            fraction_positive: positives / rows as f64,
            rows,
        })
        .collect()
}

/// At most [`MAX_POINTS`] points, evenly chosen, first and last kept.
fn thin(points: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    if points.len() <= MAX_POINTS {
        return points;
    }
    let last = points.len() - 1;
    (0..MAX_POINTS)
        .map(|i| points[i * last / (MAX_POINTS - 1)])
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn close(a: &[(f64, f64)], b: &[(f64, f64)]) {
        assert_eq!(a.len(), b.len(), "{a:?} vs {b:?}");
        for (x, y) in a.iter().zip(b) {
            assert!(
                (x.0 - y.0).abs() < 1e-6 && (x.1 - y.1).abs() < 1e-6,
                "{a:?} vs {b:?}"
            );
        }
    }

    /// Ties at 0.4 (a positive and two negatives). Expected values are
    /// scikit-learn 1.x's `roc_curve(drop_intermediate=False)`,
    /// `roc_auc_score`, `precision_recall_curve` (reversed) and
    /// `average_precision_score` on the same arrays.
    const TRUTH: [u8; 10] = [0, 0, 1, 1, 0, 1, 0, 1, 1, 0];
    const SCORE: [f64; 10] = [0.1, 0.4, 0.35, 0.8, 0.4, 0.9, 0.2, 0.55, 0.4, 0.7];

    fn positive() -> Vec<bool> {
        TRUTH.iter().map(|&t| t == 1).collect()
    }

    #[test]
    fn roc_points_and_auc_are_scikit_learns() {
        let (points, auc) = roc(&positive(), &SCORE);
        close(
            &points,
            &[
                (0.0, 0.0),
                (0.0, 0.2),
                (0.0, 0.4),
                (0.2, 0.4),
                (0.2, 0.6),
                (0.6, 0.8),
                (0.6, 1.0),
                (0.8, 1.0),
                (1.0, 1.0),
            ],
        );
        assert!((auc.unwrap() - 0.76).abs() < 1e-12);
        assert_eq!(roc(&[true, true], &[0.2, 0.9]), (Vec::new(), None));
    }

    #[test]
    fn precision_recall_and_average_precision_are_scikit_learns() {
        let (points, ap) = precision_recall(&positive(), &SCORE);
        let mut expected = vec![
            (1.0, 0.5),
            (1.0, 0.555556),
            (1.0, 0.625),
            (0.8, 0.571429),
            (0.6, 0.75),
            (0.4, 0.666667),
            (0.4, 1.0),
            (0.2, 1.0),
            (0.0, 1.0),
        ];
        expected.reverse();
        close(&points, &expected);
        assert!((ap.unwrap() - 0.7892857142857144).abs() < 1e-12);
    }

    /// `calibration_curve(y, p, n_bins=10)`: prob_true [0.5, 0.667, 0.5,
    /// 1.0], prob_pred [0.075, 0.3, 0.66, 0.95]; 0.3 and 0.7 sit on edges
    /// and go to the bin below.
    #[test]
    fn calibration_bins_are_scikit_learns() {
        let truth = [false, true, true, false, true, true, false, true];
        let score = [0.3, 0.3, 0.1, 0.05, 0.95, 0.7, 0.62, 0.3];
        let bins = calibration(&truth, &score, 10);
        let got: Vec<(f64, f64, u64)> = bins
            .iter()
            .map(|b| (b.mean_predicted, b.fraction_positive, b.rows))
            .collect();
        let expected = [
            (0.075, 0.5, 2),
            (0.3, 2.0 / 3.0, 3),
            (0.66, 0.5, 2),
            (0.95, 1.0, 1),
        ];
        assert_eq!(got.len(), expected.len(), "{got:?}");
        for (g, e) in got.iter().zip(&expected) {
            assert!((g.0 - e.0).abs() < 1e-12 && (g.1 - e.1).abs() < 1e-12 && g.2 == e.2);
        }
    }

    #[test]
    fn curves_stay_bounded_and_keep_their_ends() {
        let n = 100_000;
        let positive: Vec<bool> = (0..n).map(|i| i % 3 == 0).collect();
        let score: Vec<f64> = (0..n).map(|i| ((i * 7919) % n) as f64 / n as f64).collect();
        let curves = class_curves("a", &positive, &score);
        assert_eq!(curves.roc.len(), MAX_POINTS);
        assert_eq!(curves.roc.first(), Some(&(0.0, 0.0)));
        assert_eq!(curves.roc.last(), Some(&(1.0, 1.0)));
        assert_eq!(curves.pr.len(), MAX_POINTS);
        assert!(curves.calibration.len() <= CALIBRATION_BINS);
        let Curves::Regression { sample, residuals } = regression(&score, &score) else {
            panic!("regression");
        };
        assert!(sample.len() <= SAMPLE_ROWS);
        assert_eq!(residuals.counts.iter().sum::<u64>(), n as u64);
    }

    #[test]
    fn histograms_count_every_finite_value_once() {
        let h = Histogram::new(
            [0.0, 0.05, 0.5, 0.999, 1.0, f64::NAN].into_iter(),
            0.0,
            1.0,
            20,
        );
        assert_eq!(h.counts.iter().sum::<u64>(), 5);
        assert_eq!(
            (h.counts[0], h.counts[1], h.counts[10], h.counts[19]),
            (1, 1, 1, 2)
        );
        let constant = Histogram::of(&[3.0, 3.0], 4);
        assert_eq!(constant.counts.iter().sum::<u64>(), 2);
        assert_eq!(Histogram::of(&[], 4).counts, vec![0; 4]);
    }
}
