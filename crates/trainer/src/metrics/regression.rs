//! Regression metrics: RMSE, MAE, R², MAPE.

use records::training::RegressionMetrics;

/// Computes every metric of `predicted` against `truth`.
pub fn regression(truth: &[f64], predicted: &[f64]) -> RegressionMetrics {
    let n = truth.len().max(1) as f64;
    let mean = truth.iter().sum::<f64>() / n;
    let (mut se, mut ae, mut ape, mut total) = (0.0, 0.0, 0.0, 0.0);
    for (&t, &p) in truth.iter().zip(predicted) {
        se += (t - p).powi(2);
        ae += (t - p).abs();
        ape += (t - p).abs() / t.abs().max(f64::EPSILON);
        total += (t - mean).powi(2);
    }
    RegressionMetrics {
        rmse: (se / n).sqrt(),
        mae: ae / n,
        // scikit-learn returns 0 for a constant target predicted imperfectly, 1 if perfectly.
        r2: if total > 0.0 {
            1.0 - se / total
        } else if se == 0.0 {
            1.0
        } else {
            0.0
        },
        mape: ape / n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_scikit_learn() {
        // The scikit-learn docs example; constants from scikit-learn 1.5.2:
        // sqrt(mean_squared_error), mean_absolute_error, r2_score, mean_absolute_percentage_error.
        let m = regression(&[3.0, -0.5, 2.0, 7.0], &[2.5, 0.0, 2.0, 8.0]);
        let close = |a: f64, b: f64| assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        close(m.rmse, 0.6123724356957945);
        close(m.mae, 0.5);
        close(m.r2, 0.9486081370449679);
        close(m.mape, 0.3273809523809524);
    }
}
