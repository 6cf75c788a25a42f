//! Numeric columns: imputation (mean, median, constant), then scaling
//! (standard, min-max, none). Statistics are computed on the imputed
//! training values, as scikit-learn's `Pipeline([imputer, scaler])` does.

use serde::{Deserialize, Serialize};

use super::{FeatureParams, InputColumn};
use crate::error::{Error, Result};

pub use records::preprocessing::{NumericImputer, Scaler};

/// A fitted numeric column: `(value_or_fill - center) / scale`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumericColumn {
    /// Column name.
    pub name: String,
    /// Value replacing nulls (NaN: they stay missing).
    pub fill: f64,
    /// Subtracted before scaling.
    pub center: f64,
    /// Divided by after centering (never 0).
    pub scale: f64,
    /// Training data had nulls.
    pub nullable: bool,
}

impl NumericColumn {
    pub(super) fn fit(
        name: &str,
        values: &[Option<f64>],
        params: &FeatureParams,
        passthrough: bool,
    ) -> Result<Self> {
        let present: Vec<f64> = values.iter().flatten().copied().collect();
        let nullable = present.len() < values.len();
        if present.is_empty() && params.numeric_imputer != NumericImputer::Constant {
            return Err(Error::Data(format!(
                "numeric column '{name}' has no values in the training data to impute from"
            )));
        }
        let fill = match params.numeric_imputer {
            NumericImputer::Mean => mean(&present),
            NumericImputer::Median => median(&present),
            NumericImputer::Constant => params.numeric_fill_value,
            NumericImputer::None => f64::NAN,
        };
        // Statistics of the imputed column (of the present values when nulls stay missing).
        let imputed: Vec<f64> = match params.numeric_imputer {
            NumericImputer::None => present,
            _ => values.iter().map(|v| v.unwrap_or(fill)).collect(),
        };
        let (center, scale) = match (passthrough, params.scaler) {
            (true, _) | (_, Scaler::None) => (0.0, 1.0),
            (_, Scaler::Standard) => {
                let m = mean(&imputed);
                let var = imputed.iter().map(|x| (x - m).powi(2)).sum::<f64>()
                    / imputed.len().max(1) as f64;
                (m, nonzero(var.sqrt()))
            }
            (_, Scaler::Minmax) => {
                let min = imputed.iter().copied().fold(f64::INFINITY, f64::min);
                let max = imputed.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                (min, nonzero(max - min))
            }
        };
        Ok(Self {
            name: name.to_string(),
            fill,
            center,
            scale,
            nullable,
        })
    }

    pub(super) fn transform(
        &self,
        values: impl Iterator<Item = Option<f64>>,
        matrix: &mut [f64],
        width: usize,
        offset: usize,
    ) {
        for (row, value) in values.enumerate() {
            matrix[row * width + offset] = (value.unwrap_or(self.fill) - self.center) / self.scale;
        }
    }

    pub(super) fn input(&self) -> InputColumn {
        InputColumn {
            name: self.name.clone(),
            kind: "numeric".into(),
            data_type: "Float64".into(),
            nullable: self.nullable,
            categories: Vec::new(),
        }
    }
}

fn nonzero(scale: f64) -> f64 {
    if scale.is_finite() && scale > 0.0 {
        scale
    } else {
        1.0
    }
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len().max(1) as f64
}

/// The median of `values` (0 for none).
pub(crate) fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fit(values: &[Option<f64>], imputer: NumericImputer, scaler: Scaler) -> NumericColumn {
        let params = FeatureParams {
            numeric_imputer: imputer,
            scaler,
            ..FeatureParams::default()
        };
        NumericColumn::fit("x", values, &params, false).unwrap()
    }

    #[test]
    fn mean_imputation_then_standard_scaling() {
        // sklearn: SimpleImputer(mean) on [1, 2, None, 5] → fill 8/3; StandardScaler on the
        // imputed column → mean 8/3, population std sqrt(((1-8/3)²+(2-8/3)²+0+(5-8/3)²)/4).
        let c = fit(
            &[Some(1.0), Some(2.0), None, Some(5.0)],
            NumericImputer::Mean,
            Scaler::Standard,
        );
        assert!((c.fill - 8.0 / 3.0).abs() < 1e-12);
        assert!((c.center - 8.0 / 3.0).abs() < 1e-12);
        let expected_std = (((1.0f64 - 8.0 / 3.0).powi(2)
            + (2.0f64 - 8.0 / 3.0).powi(2)
            + (5.0f64 - 8.0 / 3.0).powi(2))
            / 4.0)
            .sqrt();
        assert!((c.scale - expected_std).abs() < 1e-12);
        assert!(c.nullable);
    }

    #[test]
    fn median_and_minmax() {
        let c = fit(
            &[Some(4.0), Some(1.0), None, Some(10.0), Some(2.0)],
            NumericImputer::Median,
            Scaler::Minmax,
        );
        assert_eq!((c.fill, c.center, c.scale), (3.0, 1.0, 9.0));
        let mut m = vec![0.0; 2];
        c.transform([None, Some(10.0)].into_iter(), &mut m, 1, 0);
        assert_eq!(m, [2.0 / 9.0, 1.0]);
    }

    #[test]
    fn constant_column_does_not_divide_by_zero() {
        let c = fit(
            &[Some(3.0), Some(3.0)],
            NumericImputer::Mean,
            Scaler::Standard,
        );
        assert_eq!(c.scale, 1.0);
    }
}
