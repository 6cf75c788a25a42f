//! The feature pipeline: unfitted [`FeatureParams`] learn their statistics
//! from the training rows ([`FeatureParams::fit`]) and become
//! [`FittedFeatures`], which turn any batch with the same columns into the
//! dense matrix the estimator sees. Numeric columns are imputed then scaled;
//! categorical columns are imputed then one-hot encoded. Non-finite numbers
//! (NaN, ±inf) are missing values, in fitting and in transforming.

mod categorical;
mod numeric;
mod onnx;

use arrow::array::{Array, ArrayRef, Float64Array, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use serde::{Deserialize, Serialize};

pub use categorical::{CategoricalColumn, CategoricalImputer, UnknownCategory};
pub(crate) use numeric::median;
pub use numeric::{NumericColumn, NumericImputer, Scaler};

use crate::error::{Error, Result, params};

/// Preprocessing settings, before fitting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FeatureParams {
    /// Numeric feature columns.
    #[serde(skip)]
    pub numeric: Vec<String>,
    /// Categorical feature columns.
    #[serde(skip)]
    pub categorical: Vec<String>,
    /// Numeric columns used as they are (no imputation of non-nulls, no scaling).
    #[serde(skip)]
    pub passthrough: Vec<String>,
    /// How numeric nulls are filled.
    pub numeric_imputer: NumericImputer,
    /// Fill value for `numeric_imputer: constant`.
    pub numeric_fill_value: f64,
    /// How categorical nulls are filled.
    pub categorical_imputer: CategoricalImputer,
    /// Fill value for `categorical_imputer: constant`.
    pub categorical_fill_value: String,
    /// How numeric columns are scaled.
    pub scaler: Scaler,
    /// Most frequent categories kept per column; rarer ones share an "other" column.
    pub max_categories: usize,
    /// What a category never seen in training becomes.
    pub unknown_category: UnknownCategory,
}

impl Default for FeatureParams {
    fn default() -> Self {
        Self {
            numeric: Vec::new(),
            categorical: Vec::new(),
            passthrough: Vec::new(),
            numeric_imputer: NumericImputer::Mean,
            numeric_fill_value: 0.0,
            categorical_imputer: CategoricalImputer::MostFrequent,
            categorical_fill_value: "missing".into(),
            scaler: Scaler::Standard,
            max_categories: 20,
            unknown_category: UnknownCategory::Ignore,
        }
    }
}

pub use records::training::InputColumn;

impl From<&FeatureParams> for records::preprocessing::Preprocessing {
    fn from(params: &FeatureParams) -> Self {
        Self {
            numeric_imputer: params.numeric_imputer,
            numeric_fill_value: params.numeric_fill_value,
            categorical_imputer: params.categorical_imputer,
            categorical_fill_value: params.categorical_fill_value.clone(),
            scaler: params.scaler,
            max_categories: params.max_categories,
            unknown_category: params.unknown_category,
        }
    }
}

/// Fitted preprocessing: everything needed to turn rows into features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedFeatures {
    numeric: Vec<NumericColumn>,
    categorical: Vec<CategoricalColumn>,
}

impl FeatureParams {
    /// Checks settings that need no data.
    pub fn check(&self) -> Result<()> {
        if self.max_categories == 0 {
            return Err(params("preprocessing.max_categories", "must be at least 1"));
        }
        if self.numeric.is_empty() && self.categorical.is_empty() && self.passthrough.is_empty() {
            return Err(params("features", "no feature columns"));
        }
        let mut seen = std::collections::HashSet::new();
        for name in self
            .numeric
            .iter()
            .chain(&self.categorical)
            .chain(&self.passthrough)
        {
            if !seen.insert(name) {
                return Err(params(
                    "features",
                    format!("column '{name}' is listed twice"),
                ));
            }
        }
        Ok(())
    }

    /// Learns imputation values, scaling and categories from the training rows.
    pub fn fit(&self, batch: &RecordBatch) -> Result<FittedFeatures> {
        self.check()?;
        require_columns(
            batch,
            self.numeric
                .iter()
                .chain(&self.categorical)
                .chain(&self.passthrough),
        )?;
        let mut numeric = Vec::new();
        for (name, passthrough) in self
            .numeric
            .iter()
            .map(|n| (n, false))
            .chain(self.passthrough.iter().map(|n| (n, true)))
        {
            let values = numeric_values(batch, name)?;
            numeric.push(NumericColumn::fit(name, &values, self, passthrough)?);
        }
        let mut categorical = Vec::new();
        for name in &self.categorical {
            let values = text_values(batch, name)?;
            categorical.push(CategoricalColumn::fit(name, &values, self)?);
        }
        Ok(FittedFeatures {
            numeric,
            categorical,
        })
    }
}

impl FittedFeatures {
    /// Number of features the estimator sees.
    pub fn width(&self) -> usize {
        self.numeric.len()
            + self
                .categorical
                .iter()
                .map(CategoricalColumn::width)
                .sum::<usize>()
    }

    /// Names of the features, in matrix column order (`island=Biscoe`, …).
    pub fn feature_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.numeric.iter().map(|c| c.name.clone()).collect();
        for c in &self.categorical {
            names.extend(c.feature_names());
        }
        names
    }

    /// The input columns and what was learned about them.
    pub fn inputs(&self) -> Vec<InputColumn> {
        let mut inputs: Vec<InputColumn> = self.numeric.iter().map(NumericColumn::input).collect();
        inputs.extend(self.categorical.iter().map(CategoricalColumn::input));
        inputs
    }

    /// Turns a batch into a row-major matrix (`rows × width`) and, per row, an
    /// error when the row cannot be scored (its features are then zeros).
    pub fn transform(&self, batch: &RecordBatch) -> Result<(Vec<f64>, Vec<Option<String>>)> {
        let names = self
            .numeric
            .iter()
            .map(|c| &c.name)
            .chain(self.categorical.iter().map(|c| &c.name));
        require_columns(batch, names)?;
        let rows = batch.num_rows();
        let width = self.width();
        let mut matrix = vec![0.0; rows * width];
        let mut errors: Vec<Option<String>> = vec![None; rows];
        let mut offset = 0;
        for column in &self.numeric {
            let values = float_array(batch, &column.name)?;
            column.transform(present(&values), &mut matrix, width, offset);
            offset += 1;
        }
        for column in &self.categorical {
            let values = text_array(batch, &column.name)?;
            column.transform(values.iter(), &mut matrix, width, offset, &mut errors);
            offset += column.width();
        }
        Ok((matrix, errors))
    }
}

fn require_columns<'a>(batch: &RecordBatch, names: impl Iterator<Item = &'a String>) -> Result<()> {
    let schema = batch.schema();
    let missing: Vec<String> = names
        .filter(|n| schema.index_of(n).is_err())
        .cloned()
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Error::MissingColumns { columns: missing })
    }
}

fn column<'a>(batch: &'a RecordBatch, name: &str) -> Result<&'a ArrayRef> {
    batch
        .column_by_name(name)
        .ok_or_else(|| Error::MissingColumns {
            columns: vec![name.to_string()],
        })
}

/// A column as `f64` values; integers, floats, decimals and booleans are
/// accepted, and NaN and ±inf count as missing.
pub(crate) fn numeric_values(batch: &RecordBatch, name: &str) -> Result<Vec<Option<f64>>> {
    Ok(present(&float_array(batch, name)?).collect())
}

/// The values of `array`, with NaN and ±inf as missing: the one rule for
/// non-finite numbers, in training and in serving alike. They are imputed
/// like nulls (scikit-learn's imputers do so for NaN), never fed to an
/// estimator, whose splits and weights would treat ±inf as a real value.
fn present(array: &Float64Array) -> impl Iterator<Item = Option<f64>> + '_ {
    array.iter().map(|v| v.filter(|x| x.is_finite()))
}

/// Column `name` cast to `Float64` (integers, floats, decimals and booleans).
fn float_array(batch: &RecordBatch, name: &str) -> Result<Float64Array> {
    let array = column(batch, name)?;
    let numeric = array.data_type().is_numeric()
        || *array.data_type() == DataType::Boolean
        || *array.data_type() == DataType::Null;
    if !numeric {
        return Err(Error::ColumnType {
            column: name.to_string(),
            found: array.data_type().to_string(),
            expected: "a numeric type".into(),
        });
    }
    let floats = cast(array, &DataType::Float64)?;
    floats
        .as_any()
        .downcast_ref::<Float64Array>()
        .cloned()
        .ok_or_else(|| Error::Data(format!("column '{name}' did not cast to Float64")))
}

/// A column as text; strings, booleans and integers are accepted.
pub(crate) fn text_values(batch: &RecordBatch, name: &str) -> Result<Vec<Option<String>>> {
    let text = text_array(batch, name)?;
    Ok(text.iter().map(|v| v.map(str::to_string)).collect())
}

/// Column `name` as strings (cast from any string-like or printable type).
fn text_array(batch: &RecordBatch, name: &str) -> Result<arrow::array::StringArray> {
    let array = column(batch, name)?;
    let text = cast(array, &DataType::Utf8).map_err(|_| Error::ColumnType {
        column: name.to_string(),
        found: array.data_type().to_string(),
        expected: "a string-like type".into(),
    })?;
    let text = text
        .as_any()
        .downcast_ref::<arrow::array::StringArray>()
        .ok_or_else(|| Error::Data(format!("column '{name}' did not cast to Utf8")))?;
    Ok(text.clone())
}

#[cfg(test)]
mod tests {
    /// The card records the settings as `records::preprocessing`, whose
    /// fields mirror these (the config keeps its own struct to refuse
    /// unknown keys, which serde's flatten cannot): the two must serialise
    /// alike, for the defaults and for every non-default value.
    #[test]
    fn the_recorded_preprocessing_is_the_config_field_for_field() {
        use records::preprocessing::Preprocessing;
        let mut params = FeatureParams::default();
        let same = |p: &FeatureParams| {
            serde_json::to_value(p).unwrap()
                == serde_json::to_value(Preprocessing::from(p)).unwrap()
        };
        assert!(same(&params));
        assert_eq!(
            serde_json::to_value(Preprocessing::default()).unwrap(),
            serde_json::to_value(&params).unwrap()
        );
        params.numeric_imputer = NumericImputer::Median;
        params.numeric_fill_value = 1.5;
        params.categorical_imputer = CategoricalImputer::Constant;
        params.categorical_fill_value = "x".into();
        params.scaler = Scaler::Minmax;
        params.max_categories = 3;
        params.unknown_category = UnknownCategory::Error;
        assert!(same(&params));
    }

    use std::sync::Arc;

    use arrow::datatypes::{Field, Schema};

    use super::*;

    fn batch(values: Vec<Option<f64>>) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Float64, true)]));
        RecordBatch::try_new(schema, vec![Arc::new(Float64Array::from(values))]).unwrap()
    }

    /// Regression (issue 11.5): ±inf reached the estimator as a value (and
    /// NaN-free fits learned means of infinity).
    #[test]
    fn nan_and_infinities_are_missing_in_fit_and_transform() {
        let params = FeatureParams {
            numeric: vec!["x".into()],
            scaler: Scaler::None,
            ..FeatureParams::default()
        };
        let train = batch(vec![
            Some(1.0),
            Some(f64::INFINITY),
            Some(3.0),
            Some(f64::NAN),
        ]);
        let fitted = params.fit(&train).unwrap();
        let (matrix, errors) = fitted.transform(&train).unwrap();
        // Mean of the finite values (2), in place of inf and NaN, as of a null.
        assert_eq!(matrix, [1.0, 2.0, 3.0, 2.0]);
        assert!(errors.iter().all(Option::is_none));
        assert!(fitted.inputs()[0].nullable);
        let serve = batch(vec![Some(f64::NEG_INFINITY), None, Some(f64::NAN)]);
        assert_eq!(fitted.transform(&serve).unwrap().0, [2.0, 2.0, 2.0]);
    }
}
