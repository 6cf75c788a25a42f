//! Categorical columns: imputation (most frequent, constant), then one-hot
//! encoding of the `max_categories` most frequent categories, with one
//! "other" column for the rarer ones seen in training. A category never seen
//! in training is all zeros (`ignore`) or makes the row unscoreable (`error`).

use std::collections::{BTreeMap, BTreeSet};

use hashbrown::HashMap;
use serde::{Deserialize, Serialize};

use super::{FeatureParams, InputColumn};
use crate::error::{Error, Result};

pub use records::preprocessing::{CategoricalImputer, UnknownCategory};

/// A fitted categorical column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoricalColumn {
    /// Column name.
    pub name: String,
    /// Value replacing nulls.
    pub fill: String,
    /// One-hot categories, sorted.
    pub categories: Vec<String>,
    /// Seen in training but beyond `max_categories`: these share the "other" column.
    pub rare: BTreeSet<String>,
    /// Policy for unseen categories.
    pub unknown: UnknownCategory,
    /// Training data had nulls.
    pub nullable: bool,
}

impl CategoricalColumn {
    pub(super) fn fit(
        name: &str,
        values: &[Option<String>],
        params: &FeatureParams,
    ) -> Result<Self> {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for value in values.iter().flatten() {
            *counts.entry(value.as_str()).or_default() += 1;
        }
        let nullable = values.iter().any(Option::is_none);
        let fill = match params.categorical_imputer {
            CategoricalImputer::Constant => params.categorical_fill_value.clone(),
            CategoricalImputer::MostFrequent => {
                // BTreeMap order makes ties go to the alphabetically first category.
                let top = counts.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)));
                match top {
                    Some((value, _)) => value.to_string(),
                    None => {
                        return Err(Error::Data(format!(
                            "categorical column '{name}' has no values in the training data"
                        )));
                    }
                }
            }
        };
        if nullable {
            *counts.entry(fill.as_str()).or_default() +=
                values.iter().filter(|v| v.is_none()).count();
        }
        let mut by_frequency: Vec<(&str, usize)> = counts.into_iter().collect();
        by_frequency.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let keep = params.max_categories.min(by_frequency.len());
        let mut categories: Vec<String> = by_frequency[..keep]
            .iter()
            .map(|(v, _)| v.to_string())
            .collect();
        categories.sort();
        let rare = by_frequency[keep..]
            .iter()
            .map(|(v, _)| v.to_string())
            .collect();
        Ok(Self {
            name: name.to_string(),
            fill,
            categories,
            rare,
            unknown: params.unknown_category,
            nullable,
        })
    }

    /// Columns this feature occupies: one per category, plus "other" if any were rare.
    pub fn width(&self) -> usize {
        self.categories.len() + usize::from(!self.rare.is_empty())
    }

    pub(super) fn feature_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .categories
            .iter()
            .map(|c| format!("{}={c}", self.name))
            .collect();
        if !self.rare.is_empty() {
            names.push(format!("{}=<other>", self.name));
        }
        names
    }

    pub(super) fn transform<'a>(
        &self,
        values: impl Iterator<Item = Option<&'a str>>,
        matrix: &mut [f64],
        width: usize,
        offset: usize,
        errors: &mut [Option<String>],
    ) {
        // A batch holds few distinct values: each is looked up once, then
        // found by hash (binary search compared strings ~log2(k) times a row).
        let mut seen: HashMap<&str, Option<usize>> = HashMap::new();
        for (row, value) in values.enumerate() {
            let value = value.unwrap_or(&self.fill);
            let position = *seen.entry(value).or_insert_with(|| self.position(value));
            match position {
                Some(i) => matrix[row * width + offset + i] = 1.0,
                None if self.unknown == UnknownCategory::Error && errors[row].is_none() => {
                    errors[row] = Some(format!(
                        "column '{}': category '{value}' was not seen in training",
                        self.name
                    ));
                }
                None => {}
            }
        }
    }

    /// The one-hot column of `value` among this feature's columns, if any.
    fn position(&self, value: &str) -> Option<usize> {
        match self.categories.binary_search_by(|c| c.as_str().cmp(value)) {
            Ok(i) => Some(i),
            Err(_) if self.rare.contains(value) => Some(self.categories.len()),
            Err(_) => None,
        }
    }

    pub(super) fn input(&self) -> InputColumn {
        let mut categories = self.categories.clone();
        categories.extend(self.rare.iter().cloned());
        InputColumn {
            name: self.name.clone(),
            kind: "categorical".into(),
            data_type: "Utf8".into(),
            nullable: self.nullable,
            categories,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(v: &[Option<&str>]) -> Vec<Option<String>> {
        v.iter().map(|x| x.map(str::to_string)).collect()
    }

    #[test]
    fn most_frequent_fill_and_other_bucket() {
        let params = FeatureParams {
            max_categories: 2,
            ..FeatureParams::default()
        };
        let data = values(&[
            Some("b"),
            Some("a"),
            Some("b"),
            None,
            Some("c"),
            Some("a"),
            Some("d"),
        ]);
        let c = CategoricalColumn::fit("k", &data, &params).unwrap();
        // a and b tie at 2: the alphabetically first fills the null, so a has 3.
        assert_eq!(c.fill, "a");
        assert_eq!(c.categories, ["a", "b"]);
        assert_eq!(c.rare.iter().collect::<Vec<_>>(), ["c", "d"]);
        assert_eq!(c.width(), 3);
        // Each value twice: the second time it comes from the batch's memo.
        let batch = [Some("b"), None, Some("d"), Some("zzz")];
        let mut m = vec![0.0; 8 * 3];
        let mut errors = vec![None; 8];
        c.transform(
            batch.iter().chain(&batch).copied(),
            &mut m,
            3,
            0,
            &mut errors,
        );
        let once = [0., 1., 0., 1., 0., 0., 0., 0., 1., 0., 0., 0.];
        assert_eq!(m[..12], once);
        assert_eq!(m[12..], once);
        assert!(errors.iter().all(Option::is_none), "ignore policy");
    }

    #[test]
    fn unseen_category_with_error_policy_marks_the_row() {
        let params = FeatureParams {
            unknown_category: UnknownCategory::Error,
            ..FeatureParams::default()
        };
        let c = CategoricalColumn::fit("island", &values(&[Some("Dream")]), &params).unwrap();
        let mut m = vec![0.0; 4];
        let mut errors = vec![None; 4];
        c.transform(
            [
                Some("Dream"),
                Some("Atlantis"),
                Some("Dream"),
                Some("Atlantis"),
            ]
            .into_iter(),
            &mut m,
            1,
            0,
            &mut errors,
        );
        assert_eq!(m, [1., 0., 1., 0.]);
        for row in [0, 2] {
            assert_eq!(errors[row], None);
        }
        for row in [1, 3] {
            assert_eq!(
                errors[row].as_deref(),
                Some("column 'island': category 'Atlantis' was not seen in training"),
                "row {row}"
            );
        }
    }
}
