//! Row rules of one declared column, compiled once: `required`, `min`, `max`,
//! `allowed`, `pattern`, `max_length`, and the `fill_null` constant.

use std::collections::HashSet;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Scalar, StringArray};
use arrow::compute::kernels::zip::zip;
use arrow::compute::{cast, is_null};
use arrow::datatypes::{DataType, Float64Type};
use regex::Regex;

use crate::config::ColumnSpec;
use crate::error::{Error, Result};
use crate::reason::Reason;

/// A declared column's rules, ready to run on arrays of its type.
#[derive(Debug)]
pub struct Rules {
    name: String,
    required: bool,
    min: Option<f64>,
    max: Option<f64>,
    /// Allowed values in canonical text form (the value cast to the column type and back).
    allowed: Option<HashSet<String>>,
    pattern: Option<(Regex, String)>,
    max_length: Option<usize>,
    fill: Option<ArrayRef>,
}

impl Rules {
    /// Compiles `spec` for column `name`; errors name the config key.
    pub fn compile(name: &str, spec: &ColumnSpec) -> Result<Self> {
        let data_type = spec.column_type.data_type();
        let key_err = |rule: &str, message: String| Error::Rule {
            key: format!("etl.columns.{name}.{rule}"),
            message,
        };
        let allowed = match &spec.allowed {
            Some(values) => {
                let texts: Vec<String> = values.iter().map(|v| v.to_text()).collect();
                let canon = canonical(&texts, &data_type).map_err(|bad| {
                    key_err(
                        "allowed",
                        format!("{bad} is not a valid {}", spec.column_type.name()),
                    )
                })?;
                Some(canon.into_iter().collect())
            }
            None => None,
        };
        let fill = match &spec.fill_null {
            Some(value) => {
                let text: ArrayRef = Arc::new(StringArray::from(vec![value.to_text()]));
                let typed = cast(&text, &data_type)?;
                if typed.is_null(0) {
                    return Err(key_err(
                        "fill_null",
                        format!(
                            "{} is not a valid {}",
                            value.to_text(),
                            spec.column_type.name()
                        ),
                    ));
                }
                Some(typed)
            }
            None => None,
        };
        let pattern = match &spec.pattern {
            Some(p) => Some((
                Regex::new(&format!("^(?:{p})$")).map_err(|e| key_err("pattern", e.to_string()))?,
                p.clone(),
            )),
            None => None,
        };
        Ok(Self {
            name: name.to_string(),
            required: spec.required,
            min: spec.min,
            max: spec.max,
            allowed,
            pattern,
            max_length: spec.max_length,
            fill,
        })
    }

    /// Replaces nulls with the `fill_null` constant, if any.
    pub fn fill(&self, column: ArrayRef) -> Result<ArrayRef> {
        match &self.fill {
            Some(fill) if column.null_count() > 0 => {
                let mask = is_null(&column)?;
                Ok(zip(&mask, &Scalar::new(Arc::clone(fill)), &column)?)
            }
            _ => Ok(column),
        }
    }

    /// Records the first failed rule of each row in `reasons` (rows that already
    /// have a reason are left alone).
    pub fn check(&self, column: &ArrayRef, reasons: &mut [Option<Reason>]) -> Result<()> {
        let name = &self.name;
        if self.required {
            for (i, reason) in reasons.iter_mut().enumerate() {
                if reason.is_none() && column.is_null(i) {
                    *reason = Some(Reason::required(name));
                }
            }
        }
        if self.min.is_some() || self.max.is_some() {
            let numbers = cast(column, &DataType::Float64)?;
            let numbers = numbers.as_primitive::<Float64Type>();
            for (i, reason) in reasons.iter_mut().enumerate() {
                if reason.is_some() || numbers.is_null(i) {
                    continue;
                }
                let value = numbers.value(i);
                if !value.is_finite() {
                    // NaN compares false with everything, so it would pass
                    // both bounds; ±inf is no measurement either.
                    *reason = Some(Reason::not_finite(name, value, self.min, self.max));
                } else if let Some(min) = self.min.filter(|min| value < *min) {
                    *reason = Some(Reason::min(name, value, min));
                } else if let Some(max) = self.max.filter(|max| value > *max) {
                    *reason = Some(Reason::max(name, value, max));
                }
            }
        }
        if self.allowed.is_some() || self.pattern.is_some() || self.max_length.is_some() {
            let text = cast(column, &DataType::Utf8)?;
            let text = text.as_string::<i32>();
            for (i, reason) in reasons.iter_mut().enumerate() {
                if reason.is_some() || text.is_null(i) {
                    continue;
                }
                let value = text.value(i);
                if let Some(allowed) = &self.allowed
                    && !allowed.contains(value)
                {
                    *reason = Some(Reason::allowed(name, value));
                } else if let Some((regex, pattern)) = &self.pattern
                    && !regex.is_match(value)
                {
                    *reason = Some(Reason::pattern(name, value, pattern));
                } else if let Some(max) = self.max_length.filter(|max| value.chars().count() > *max)
                {
                    *reason = Some(Reason::max_length(name, value, max));
                }
            }
        }
        Ok(())
    }
}

/// Each text cast to `data_type` and back to text, or the first that does not cast.
fn canonical(texts: &[String], data_type: &DataType) -> std::result::Result<Vec<String>, String> {
    let array: ArrayRef = Arc::new(StringArray::from(texts.to_vec()));
    let typed = cast(&array, data_type).map_err(|e| e.to_string())?;
    if let Some(bad) = (0..typed.len()).find(|&i| typed.is_null(i)) {
        return Err(texts[bad].clone());
    }
    let back = cast(&typed, &DataType::Utf8).map_err(|e| e.to_string())?;
    Ok(back
        .as_string::<i32>()
        .iter()
        .flatten()
        .map(str::to_string)
        .collect())
}
