//! `svm`'s hyperparameters: kernel, γ rule and solver settings.

use serde::{Deserialize, Serialize};

use crate::error::{Result, params};

/// The kernel of `svm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KernelName {
    /// Dot product.
    Linear,
    /// Radial basis function.
    Rbf,
    /// Polynomial.
    Poly,
    /// Hyperbolic tangent.
    Sigmoid,
}

/// How `svm`'s γ is chosen, as in scikit-learn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GammaRule {
    /// `1 / (features × variance of the training matrix)`.
    Scale,
    /// `1 / features`.
    Auto,
}

impl GammaRule {
    /// γ for `features` columns whose values have `variance`.
    pub fn gamma(self, features: usize, variance: f64) -> f64 {
        let features = features.max(1) as f64;
        match self {
            Self::Scale if variance > 0.0 => 1.0 / (features * variance),
            Self::Scale | Self::Auto => 1.0 / features,
        }
    }
}

/// `svm`'s γ: a number or a rule.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Gamma {
    /// A fixed γ > 0.
    Value(f64),
    /// `scale` or `auto`.
    Rule(GammaRule),
}

/// `svm`: support vector classifier (one-vs-one over class pairs) or
/// epsilon-insensitive regressor, solved by smartcore's SMO.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SvmParams {
    /// `linear`, `rbf`, `poly` or `sigmoid`.
    pub kernel: KernelName,
    /// Penalty on margin violations (> 0).
    pub c: f64,
    /// Kernel coefficient for `rbf`, `poly`, `sigmoid`: a number, `scale` or `auto`.
    pub gamma: Gamma,
    /// Degree of `poly`.
    pub degree: f64,
    /// Constant term of `poly` and `sigmoid`.
    pub coef0: f64,
    /// Width of the no-penalty tube (regression).
    pub epsilon: f64,
    /// Solver tolerance (> 0).
    pub tol: f64,
    /// Passes of the classification solver over the data (≥ 1).
    pub epochs: usize,
}

impl<'de> Deserialize<'de> for Gamma {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Gamma;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number > 0, 'scale' or 'auto'")
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Gamma, E> {
                Ok(Gamma::Value(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Gamma, E> {
                Ok(Gamma::Value(v as f64))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Gamma, E> {
                Ok(Gamma::Value(v as f64))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Gamma, E> {
                match v {
                    "scale" => Ok(Gamma::Rule(GammaRule::Scale)),
                    "auto" => Ok(Gamma::Rule(GammaRule::Auto)),
                    other => Err(E::invalid_value(serde::de::Unexpected::Str(other), &self)),
                }
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl Default for SvmParams {
    fn default() -> Self {
        Self {
            kernel: KernelName::Rbf,
            c: 1.0,
            gamma: Gamma::Rule(GammaRule::Scale),
            degree: 3.0,
            coef0: 0.0,
            epsilon: 0.1,
            tol: 1e-3,
            epochs: 2,
        }
    }
}

impl SvmParams {
    pub(super) fn check_values(&self) -> Result<()> {
        let positive = |v: f64| v.is_finite() && v > 0.0;
        if !positive(self.c) {
            return Err(params("params.c", "must be > 0"));
        }
        if let Gamma::Value(g) = self.gamma
            && !positive(g)
        {
            return Err(params("params.gamma", "must be > 0, 'scale' or 'auto'"));
        }
        if !(self.degree.is_finite() && self.degree >= 1.0) {
            return Err(params("params.degree", "must be ≥ 1"));
        }
        if !self.coef0.is_finite() {
            return Err(params("params.coef0", "must be a number"));
        }
        if !(self.epsilon.is_finite() && self.epsilon >= 0.0) {
            return Err(params("params.epsilon", "must be ≥ 0"));
        }
        if !positive(self.tol) {
            return Err(params("params.tol", "must be > 0"));
        }
        if self.epochs == 0 {
            return Err(params("params.epochs", "must be at least 1"));
        }
        Ok(())
    }
}
