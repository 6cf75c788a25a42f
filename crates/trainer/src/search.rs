//! Hyperparameter search with k-fold cross-validation on the training split
//! (stratified for classification): every candidate × fold is fitted in
//! parallel on rayon, the best mean score wins (ties: the earlier
//! candidate), and every candidate's scores are kept for the model card.
//! Shuffles and random draws come from a SplitMix64 hash of the seed, so the
//! result does not depend on the thread count.

use std::collections::BTreeMap;

use arrow::array::{RecordBatch, UInt32Array};
use arrow::compute::take_record_batch;
use model::{EstimatorParams, ModelParams, Task};
use rayon::prelude::*;
use records::params::Params;
use serde::{Deserialize, Serialize};

pub use records::training::{Candidate, SearchReport};

use crate::error::{Error, Result};
use crate::evaluate::evaluate;

/// `model.search`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchConfig {
    /// `grid` (every combination of the lists) or `random` (`n_iter` draws).
    pub kind: SearchKind,
    /// Draws for `random`.
    #[serde(default = "default_n_iter")]
    pub n_iter: usize,
    /// Folds.
    #[serde(default = "default_cv")]
    pub cv: usize,
    /// Metric to optimise (default: accuracy / rmse by task).
    #[serde(default)]
    pub metric: Option<String>,
    /// Parameter → list of values, or (random only) `{low, high, log, integer}`.
    pub space: BTreeMap<String, Space>,
}

fn default_n_iter() -> usize {
    10
}

fn default_cv() -> usize {
    5
}

/// Search strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchKind {
    /// Cartesian product.
    Grid,
    /// Seeded random draws.
    Random,
}

/// Values of one parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Space {
    /// Explicit values.
    Values(Vec<serde_json::Value>),
    /// A numeric range (random search).
    Range {
        /// Lower bound.
        low: f64,
        /// Upper bound.
        high: f64,
        /// Draw uniformly in log space.
        #[serde(default)]
        log: bool,
        /// Round to an integer.
        #[serde(default)]
        integer: bool,
    },
}

/// Metric names by task.
pub fn metric_names(task: Task) -> &'static [&'static str] {
    match task {
        Task::Classification => &[
            "accuracy",
            "balanced_accuracy",
            "precision_macro",
            "recall_macro",
            "f1_macro",
            "roc_auc",
            "log_loss",
        ],
        Task::Regression => &["rmse", "mae", "r2", "mape"],
    }
}

impl SearchConfig {
    /// Checks the search without data; `base` holds the configured params.
    pub fn check(
        &self,
        algorithm: &str,
        task: Task,
        base: &serde_json::Value,
    ) -> std::result::Result<(), String> {
        if self.cv < 2 {
            return Err(format!("cv: {} folds; need at least 2", self.cv));
        }
        if self.space.is_empty() {
            return Err("space: no parameters to search".into());
        }
        if let Some(metric) = &self.metric
            && !metric_names(task).contains(&metric.as_str())
        {
            return Err(format!(
                "metric: '{metric}' is not one of {}",
                metric_names(task).join(", ")
            ));
        }
        for (name, space) in &self.space {
            match space {
                Space::Values(values) if values.is_empty() => {
                    return Err(format!("space.{name}: empty list"));
                }
                Space::Range { .. } if self.kind == SearchKind::Grid => {
                    return Err(format!(
                        "space.{name}: a grid needs a list of values, not a range"
                    ));
                }
                Space::Range { low, high, log, .. }
                    if low.partial_cmp(high).is_none_or(|o| o.is_gt()) || (*log && *low <= 0.0) =>
                {
                    return Err(format!(
                        "space.{name}: need low ≤ high (and low > 0 with log)"
                    ));
                }
                _ => {}
            }
        }
        if self.kind == SearchKind::Random && self.n_iter == 0 {
            return Err("n_iter: must be at least 1".into());
        }
        for candidate in self.candidates(0) {
            EstimatorParams::new(algorithm, task, &merge(base, &candidate)).map_err(|e| {
                format!(
                    "space: candidate {}: {e}",
                    serde_json::Value::Object(candidate.clone())
                )
            })?;
            recorded(&candidate).map_err(|e| format!("space: {e}"))?;
        }
        Ok(())
    }

    /// The candidates to try.
    pub fn candidates(&self, seed: u64) -> Vec<serde_json::Map<String, serde_json::Value>> {
        match self.kind {
            SearchKind::Grid => {
                let mut out = vec![serde_json::Map::new()];
                for (name, space) in &self.space {
                    let Space::Values(values) = space else {
                        continue;
                    };
                    out = out
                        .into_iter()
                        .flat_map(|c| {
                            values.iter().map(move |v| {
                                let mut c = c.clone();
                                c.insert(name.clone(), v.clone());
                                c
                            })
                        })
                        .collect();
                }
                out
            }
            SearchKind::Random => (0..self.n_iter as u64)
                .map(|i| {
                    self.space
                        .iter()
                        .enumerate()
                        .map(|(p, (name, space))| {
                            let h =
                                mix(seed ^ mix(i.wrapping_mul(1_000_003).wrapping_add(p as u64)));
                            (name.clone(), draw(space, h))
                        })
                        .collect()
                })
                .collect(),
        }
    }
}

fn draw(space: &Space, hash: u64) -> serde_json::Value {
    match space {
        Space::Values(values) => values[(hash % values.len() as u64) as usize].clone(),
        Space::Range {
            low,
            high,
            log,
            integer,
        } => {
            let u = (hash >> 11) as f64 / (1u64 << 53) as f64;
            let x = if *log {
                (low.ln() + u * (high.ln() - low.ln())).exp()
            } else {
                low + u * (high - low)
            };
            if *integer {
                serde_json::json!(x.round() as i64)
            } else {
                serde_json::json!(x)
            }
        }
    }
}

/// The configured params with a candidate's values on top.
pub fn merge(
    base: &serde_json::Value,
    candidate: &serde_json::Map<String, serde_json::Value>,
) -> serde_json::Value {
    let mut merged = base.as_object().cloned().unwrap_or_default();
    for (k, v) in candidate {
        merged.insert(k.clone(), v.clone());
    }
    serde_json::Value::Object(merged)
}

/// A candidate's values as the training record keeps them.
fn recorded(
    candidate: &serde_json::Map<String, serde_json::Value>,
) -> std::result::Result<Params, String> {
    serde_json::from_value(serde_json::Value::Object(candidate.clone())).map_err(|_| {
        format!(
            "candidate {}: a value is not a number, name, boolean, null or list of them",
            serde_json::Value::Object(candidate.clone())
        )
    })
}

/// SplitMix64 finaliser.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Fold of each row: a seeded shuffle, dealt round-robin (per class when stratified).
fn folds(
    train: &RecordBatch,
    target: &str,
    k: usize,
    stratify: bool,
    seed: u64,
) -> Result<Vec<usize>> {
    let n = train.num_rows();
    let groups: Vec<String> = if stratify {
        let column = train.column_by_name(target).ok_or_else(|| Error::Data {
            location: "training data".into(),
            message: format!("no target column '{target}'"),
        })?;
        let text = arrow::compute::cast(column, &arrow::datatypes::DataType::Utf8)
            .map_err(model::Error::from)?;
        use arrow::array::AsArray;
        text.as_string::<i32>()
            .iter()
            .map(|v| v.unwrap_or_default().to_string())
            .collect()
    } else {
        vec![String::new(); n]
    };
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| (groups[i].clone(), mix(seed ^ i as u64)));
    let mut fold = vec![0; n];
    let mut dealt: BTreeMap<&str, usize> = BTreeMap::new();
    for &i in &order {
        // Each class starts dealing one fold later than the previous class, so
        // the remainders of small classes land in different folds.
        let offset = dealt.len();
        let next = dealt.entry(groups[i].as_str()).or_insert(offset);
        fold[i] = *next % k;
        *next += 1;
    }
    Ok(fold)
}

/// Runs the search and returns the report and the best candidate's params.
pub fn run(
    search: &SearchConfig,
    base: &ModelParams,
    config_params: &serde_json::Value,
    train: &RecordBatch,
) -> Result<(SearchReport, EstimatorParams)> {
    let task = base.task;
    let metric = search
        .metric
        .clone()
        .unwrap_or_else(|| crate::metrics::default_metric(task).to_string());
    let higher_is_better = crate::metrics::better(&metric) != Some(model_registry::Better::Lower);
    let candidates = search.candidates(base.seed);
    let fold_of = folds(
        train,
        &base.target,
        search.cv,
        task == Task::Classification,
        base.seed,
    )?;
    let split = |f: usize| -> Result<(RecordBatch, RecordBatch)> {
        let pick = |keep: bool| -> Result<RecordBatch> {
            let indices: UInt32Array = (0..train.num_rows() as u32)
                .filter(|&i| (fold_of[i as usize] == f) != keep)
                .collect();
            Ok(take_record_batch(train, &indices).map_err(model::Error::from)?)
        };
        Ok((pick(true)?, pick(false)?))
    };
    let splits: Vec<(RecordBatch, RecordBatch)> =
        (0..search.cv).map(split).collect::<Result<_>>()?;
    let algorithm = base.estimator.name();
    let jobs: Vec<(usize, usize)> = (0..candidates.len())
        .flat_map(|c| (0..search.cv).map(move |f| (c, f)))
        .collect();
    log::info!(
        "search: {} candidates × {} folds on {metric}",
        candidates.len(),
        search.cv
    );
    let scores: Vec<f64> = jobs
        .par_iter()
        .map(|&(c, f)| {
            let estimator =
                EstimatorParams::new(algorithm, task, &merge(config_params, &candidates[c]))?;
            let params = ModelParams {
                estimator,
                ..base.clone()
            };
            let (fit_on, score_on) = &splits[f];
            let model = params.fit(fit_on)?;
            let evaluation = evaluate(&model, fit_on, score_on)?;
            evaluation.metric(&metric).ok_or_else(|| Error::Data {
                location: "search".into(),
                message: format!("metric '{metric}' is not available for {algorithm}"),
            })
        })
        .collect::<Result<_>>()?;
    let results: Vec<Candidate> = candidates
        .iter()
        .enumerate()
        .map(|(c, params)| {
            let s: Vec<f64> = scores[c * search.cv..(c + 1) * search.cv].to_vec();
            let mean = s.iter().sum::<f64>() / s.len() as f64;
            let std = (s.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / s.len() as f64).sqrt();
            Ok(Candidate {
                params: recorded(params).map_err(|message| Error::Data {
                    location: "model.search".into(),
                    message,
                })?,
                scores: s,
                mean,
                std,
            })
        })
        .collect::<Result<_>>()?;
    let best = results.iter().enumerate().fold(0, |best, (i, c)| {
        let better = if higher_is_better {
            c.mean > results[best].mean
        } else {
            c.mean < results[best].mean
        };
        if better { i } else { best }
    });
    log::info!(
        "search: best {} = {:.4} ± {:.4} with {}",
        metric,
        results[best].mean,
        results[best].std,
        serde_json::to_string(&results[best].params).unwrap_or_default()
    );
    let estimator =
        EstimatorParams::new(algorithm, task, &merge(config_params, &candidates[best]))?;
    Ok((
        SearchReport {
            metric,
            higher_is_better,
            cv: search.cv,
            candidates: results,
            best,
        },
        estimator,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(kind: SearchKind, space: serde_json::Value) -> SearchConfig {
        SearchConfig {
            kind,
            n_iter: 5,
            cv: 3,
            metric: None,
            space: serde_json::from_value(space).unwrap(),
        }
    }

    #[test]
    fn grid_is_the_cartesian_product() {
        let c = config(
            SearchKind::Grid,
            serde_json::json!({"max_depth": [2, 4], "n_trees": [10, 20, 30]}),
        );
        let all = c.candidates(0);
        assert_eq!(all.len(), 6);
        assert_eq!(
            serde_json::Value::Object(all[0].clone()),
            serde_json::json!({"max_depth": 2, "n_trees": 10})
        );
    }

    #[test]
    fn random_draws_are_seeded_and_in_range() {
        let c = config(
            SearchKind::Random,
            serde_json::json!({"alpha": {"low": 0.001, "high": 10.0, "log": true}, "k": [1, 3, 5]}),
        );
        let a = c.candidates(1);
        assert_eq!(a, c.candidates(1));
        assert_ne!(a, c.candidates(2));
        for candidate in &a {
            let alpha = candidate["alpha"].as_f64().unwrap();
            assert!((0.001..=10.0).contains(&alpha));
            assert!([1, 3, 5].contains(&candidate["k"].as_i64().unwrap()));
        }
    }

    #[test]
    fn checks_reject_bad_spaces() {
        let grid_range = config(
            SearchKind::Grid,
            serde_json::json!({"alpha": {"low": 0.1, "high": 1.0}}),
        );
        assert!(
            grid_range
                .check("ridge", Task::Regression, &serde_json::Value::Null)
                .unwrap_err()
                .contains("a grid needs a list")
        );
        let unknown = config(SearchKind::Grid, serde_json::json!({"n_tree": [1]}));
        let err = unknown
            .check(
                "random_forest",
                Task::Classification,
                &serde_json::Value::Null,
            )
            .unwrap_err();
        assert!(err.contains("unknown field 'n_tree'"), "{err}");
    }
}
