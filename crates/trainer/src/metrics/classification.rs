//! Classification metrics: accuracy, balanced accuracy, macro and per-class
//! precision / recall / F1, ROC AUC (binary, or one-vs-rest macro), log loss,
//! confusion matrix.

use records::training::{ClassMetrics, ClassificationMetrics};

/// Computes every metric over every row. `truth` holds indexes into
/// `labels`; `predicted` holds the predicted index, or `None` for a row the
/// model could not score, which counts as wrong (it lowers accuracy and its
/// class's recall) and is left out of the confusion matrix, ROC AUC and log
/// loss. `proba` (one row per truth row; rows of unscored rows are ignored)
/// enables ROC AUC and log loss: its width is the number of classes the model
/// knows, the first labels; a true label beyond them (a class never seen in
/// training) has probability 0.
pub fn classification(
    truth: &[usize],
    predicted: &[Option<usize>],
    proba: Option<&[Vec<f64>]>,
    labels: &[String],
) -> ClassificationMetrics {
    let k = labels.len();
    let n = truth.len().max(1) as f64;
    let mut confusion = vec![vec![0u64; k]; k];
    let mut support = vec![0u64; k];
    for (&t, p) in truth.iter().zip(predicted) {
        support[t] += 1;
        if let Some(p) = *p {
            confusion[t][p] += 1;
        }
    }
    let correct: u64 = (0..k).map(|c| confusion[c][c]).sum();
    let per_class: Vec<ClassMetrics> = (0..k)
        .map(|c| {
            let tp = confusion[c][c] as f64;
            let predicted_c: u64 = (0..k).map(|t| confusion[t][c]).sum();
            let precision = ratio(tp, predicted_c as f64);
            let recall = ratio(tp, support[c] as f64);
            let f1 = ratio(2.0 * precision * recall, precision + recall);
            ClassMetrics {
                class: labels[c].clone(),
                precision,
                recall,
                f1,
                support: support[c],
            }
        })
        .collect();
    let present: Vec<&ClassMetrics> = per_class.iter().filter(|c| c.support > 0).collect();
    let mean = |f: fn(&ClassMetrics) -> f64| per_class.iter().map(f).sum::<f64>() / k.max(1) as f64;
    let scored = |proba: &[Vec<f64>]| -> (Vec<usize>, Vec<Vec<f64>>) {
        truth
            .iter()
            .zip(predicted)
            .zip(proba)
            .filter(|((_, p), _)| p.is_some())
            .map(|((&t, _), row)| (t, row.clone()))
            .unzip()
    };
    let (auc, loss) = match proba {
        Some(proba) => {
            let (truth, proba) = scored(proba);
            (roc_auc(&truth, &proba, k), Some(log_loss(&truth, &proba)))
        }
        None => (None, None),
    };
    ClassificationMetrics {
        accuracy: correct as f64 / n,
        balanced_accuracy: present.iter().map(|c| c.recall).sum::<f64>()
            / present.len().max(1) as f64,
        precision_macro: mean(|c| c.precision),
        recall_macro: mean(|c| c.recall),
        f1_macro: mean(|c| c.f1),
        roc_auc: auc,
        log_loss: loss,
        per_class,
        confusion,
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

/// Mean negative log-probability of the true class.
fn log_loss(truth: &[usize], proba: &[Vec<f64>]) -> f64 {
    let total: f64 = truth
        .iter()
        .zip(proba)
        .map(|(&t, p)| {
            let sum: f64 = p.iter().sum();
            let q = match p.get(t) {
                Some(&pt) if sum > 0.0 => pt / sum,
                _ => 0.0,
            };
            -q.clamp(1e-15, 1.0).ln()
        })
        .sum();
    total / truth.len().max(1) as f64
}

/// Binary AUC of class 1, or the one-vs-rest macro average over the `k`
/// labels (the model's classes first) that have both positives and
/// negatives. A class the model does not know has probability 0 in every
/// row, so it counts (at 0.5: it cannot rank its rows) instead of being
/// left out, as scikit-learn's `roc_auc_score(labels=…)` counts it.
fn roc_auc(truth: &[usize], proba: &[Vec<f64>], k: usize) -> Option<f64> {
    let auc_of = |c: usize| {
        let scores: Vec<(f64, bool)> = truth
            .iter()
            .zip(proba)
            .map(|(&t, p)| (p.get(c).copied().unwrap_or(0.0), t == c))
            .collect();
        binary_auc(&scores)
    };
    if k == 2 {
        return auc_of(1);
    }
    let aucs: Vec<f64> = (0..k).filter_map(auc_of).collect();
    (!aucs.is_empty()).then(|| aucs.iter().sum::<f64>() / aucs.len() as f64)
}

/// Mann–Whitney U with average ranks for ties; None without both labels.
fn binary_auc(scores: &[(f64, bool)]) -> Option<f64> {
    let positives = scores.iter().filter(|s| s.1).count() as f64;
    let negatives = scores.len() as f64 - positives;
    if positives == 0.0 || negatives == 0.0 {
        return None;
    }
    let mut sorted: Vec<(f64, bool)> = scores.to_vec();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < sorted.len() {
        let mut j = i;
        while j + 1 < sorted.len() && sorted[j + 1].0 == sorted[i].0 {
            j += 1;
        }
        let average_rank = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += sorted[i..=j].iter().filter(|s| s.1).count() as f64 * average_rank;
        i = j + 1;
    }
    Some((rank_sum - positives * (positives + 1.0) / 2.0) / (positives * negatives))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("c{i}")).collect()
    }

    fn some(predicted: &[usize]) -> Vec<Option<usize>> {
        predicted.iter().copied().map(Some).collect()
    }

    /// Regression (issue 11.2): test rows of a class never seen in training,
    /// and rows the model could not score, were dropped from the metrics.
    #[test]
    fn unseen_classes_and_unscored_rows_count_as_wrong() {
        // Labels c0, c1 known to the model (probabilities 2 wide); c2 unseen.
        let truth = [0, 1, 2, 2, 0];
        let predicted = [Some(0), Some(1), Some(0), Some(1), None];
        let proba = vec![
            vec![0.9, 0.1],
            vec![0.2, 0.8],
            vec![0.6, 0.4],
            vec![0.3, 0.7],
            vec![],
        ];
        let m = classification(&truth, &predicted, Some(&proba), &labels(3));
        // scikit-learn, scoring the unscored row as a wrong label:
        // accuracy_score([0,1,2,2,0], [0,1,0,1,9]) = 0.4.
        assert!((m.accuracy - 0.4).abs() < 1e-12);
        assert_eq!(m.per_class[2].support, 2);
        assert_eq!(m.per_class[2].recall, 0.0);
        assert_eq!(m.per_class[0].support, 2);
        assert_eq!(m.per_class[0].recall, 0.5);
        assert_eq!(m.confusion, [[1, 0, 0], [0, 1, 0], [1, 1, 0]]);
        // Log loss over the 4 scored rows; the unseen class has probability 0 (clipped).
        let expected = (-(0.9f64.ln()) - 0.8f64.ln() - 2.0 * 1e-15f64.ln()) / 4.0;
        assert!(
            (m.log_loss.unwrap() - expected).abs() < 1e-9,
            "{:?}",
            m.log_loss
        );
        assert!(m.roc_auc.is_some());
    }

    /// Regression (issue 27.12): a class seen only in the test split was
    /// left out of the one-vs-rest ROC AUC (wine: 1.0 instead of 0.875).
    #[test]
    fn roc_auc_counts_a_class_the_model_never_saw() {
        let truth = [0, 1, 2, 3, 0, 1, 2, 3, 0];
        let proba = vec![
            vec![0.7, 0.2, 0.1],
            vec![0.1, 0.8, 0.1],
            vec![0.2, 0.2, 0.6],
            vec![0.5, 0.3, 0.2],
            vec![0.6, 0.3, 0.1],
            vec![0.3, 0.4, 0.3],
            vec![0.1, 0.1, 0.8],
            vec![0.2, 0.5, 0.3],
            vec![0.4, 0.4, 0.2],
        ];
        let predicted = some(&[0, 1, 2, 0, 0, 1, 2, 1, 0]);
        let m = classification(&truth, &predicted, Some(&proba), &labels(4));
        // scikit-learn 1.9.1: roc_auc_score(y, hstack([P, zeros]),
        // multi_class='ovr', labels=[0, 1, 2, 3]).
        let auc = m.roc_auc.unwrap();
        assert!((auc - 0.8343253968253969).abs() < 1e-12, "{auc}");
    }

    /// Issue 28.8: a confusion matrix whose row and column sums differ, so
    /// that precision and recall (per class) cannot be swapped unseen.
    #[test]
    fn an_asymmetric_confusion_matrix_matches_scikit_learn_per_class() {
        let truth = [0, 0, 0, 0, 0, 0, 1, 1, 2, 2, 2, 1, 0, 2, 1, 0];
        let predicted = [0, 1, 1, 0, 2, 1, 0, 1, 2, 1, 2, 1, 0, 0, 2, 0];
        let m = classification(&truth, &some(&predicted), None, &labels(3));
        let close = |a: f64, b: f64| assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        // scikit-learn 1.9.1: confusion_matrix, accuracy_score,
        // balanced_accuracy_score, precision/recall/f1_score(average=None | 'macro').
        assert_eq!(m.confusion, [[4, 3, 1], [1, 2, 1], [1, 1, 2]]);
        close(m.accuracy, 0.5);
        close(m.balanced_accuracy, 0.5);
        let precision = [0.6666666666666666, 0.3333333333333333, 0.5];
        let recall = [0.5, 0.5, 0.5];
        let f1 = [0.5714285714285714, 0.4, 0.5];
        for (c, class) in m.per_class.iter().enumerate() {
            close(class.precision, precision[c]);
            close(class.recall, recall[c]);
            close(class.f1, f1[c]);
        }
        assert_eq!(
            m.per_class.iter().map(|c| c.support).collect::<Vec<_>>(),
            [8, 4, 4]
        );
        close(m.precision_macro, 0.5);
        close(m.recall_macro, 0.5);
        close(m.f1_macro, 0.4904761904761905);
    }

    #[test]
    fn multiclass_matches_scikit_learn() {
        // Constants from scikit-learn 1.5.2 on the same labels: accuracy_score,
        // balanced_accuracy_score, precision/recall/f1_score(average='macro'), confusion_matrix.
        let truth = [0, 0, 0, 1, 1, 2, 2, 2, 2, 1];
        let predicted = [0, 1, 0, 1, 2, 2, 2, 0, 2, 1];
        let m = classification(&truth, &some(&predicted), None, &labels(3));
        let close = |a: f64, b: f64| assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        close(m.accuracy, 0.7);
        close(m.balanced_accuracy, 0.6944444444444443);
        close(m.precision_macro, 0.6944444444444443);
        close(m.recall_macro, 0.6944444444444443);
        close(m.f1_macro, 0.6944444444444443);
        assert_eq!(m.confusion, [[2, 1, 0], [0, 2, 1], [1, 0, 3]]);
        assert_eq!(m.per_class[2].support, 4);
    }

    #[test]
    fn binary_auc_and_log_loss_match_scikit_learn() {
        // scikit-learn 1.5.2: roc_auc_score(y, p1) (ties averaged) and log_loss(y, [1-p1, p1]).
        let truth = [0, 0, 1, 1, 1, 0];
        let p1 = [0.1, 0.4, 0.35, 0.8, 0.8, 0.8];
        let proba: Vec<Vec<f64>> = p1.iter().map(|p| vec![1.0 - p, *p]).collect();
        let predicted: Vec<usize> = p1.iter().map(|p| usize::from(*p > 0.5)).collect();
        let m = classification(&truth, &some(&predicted), Some(&proba), &labels(2));
        assert!(
            (m.roc_auc.unwrap() - 0.6666666666666667).abs() < 1e-12,
            "{:?}",
            m.roc_auc
        );
        assert!(
            (m.log_loss.unwrap() - 0.6202888798308358).abs() < 1e-12,
            "{:?}",
            m.log_loss
        );
    }

    #[test]
    fn multiclass_auc_is_one_vs_rest_macro() {
        // scikit-learn 1.5.2: roc_auc_score(y, P, multi_class='ovr', average='macro').
        let truth = [0, 1, 2, 2, 1, 0];
        let proba = vec![
            vec![0.7, 0.2, 0.1],
            vec![0.3, 0.4, 0.3],
            vec![0.2, 0.3, 0.5],
            vec![0.4, 0.4, 0.2],
            vec![0.1, 0.8, 0.1],
            vec![0.5, 0.1, 0.4],
        ];
        let m = classification(&truth, &some(&[0, 1, 2, 0, 1, 0]), Some(&proba), &labels(3));
        assert!(
            (m.roc_auc.unwrap() - 0.8958333333333334).abs() < 1e-12,
            "{:?}",
            m.roc_auc
        );
    }
}
