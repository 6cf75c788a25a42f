//! The registry as records: what it knows of a version beside its
//! training record ([`VersionInfo`]), and the overview of every version and
//! every alias's history ([`Overview`]). The registry gathers them from its
//! cards and promotion records; `report` renders them.

use std::collections::BTreeMap;

/// What the registry knows of a version beside its training record.
#[derive(Debug, Clone, Default)]
pub struct VersionInfo {
    /// Model name.
    pub name: String,
    /// `v3`.
    pub version: String,
    /// When the card was written (RFC 3339).
    pub created_at: String,
    /// Who wrote it.
    pub created_by: String,
    /// Hyperparameters.
    pub params: serde_json::Value,
    /// The card's metrics.
    pub metrics: BTreeMap<String, f64>,
    /// Per metric, whether higher is better (as the card records it).
    pub higher_is_better: BTreeMap<String, bool>,
}

/// What the overview shows.
#[derive(Debug, Clone, Default)]
pub struct Overview {
    /// The registry's location.
    pub registry: String,
    /// Every visible version, oldest first.
    pub versions: Vec<VersionRow>,
    /// Every alias with its records, oldest first.
    pub aliases: Vec<(String, Vec<AliasEvent>)>,
}

/// One version.
#[derive(Debug, Clone, Default)]
pub struct VersionRow {
    /// `v3`.
    pub version: String,
    /// 3.
    pub number: u64,
    /// Model name.
    pub name: String,
    /// Estimator, when the card holds a training record.
    pub algorithm: Option<String>,
    /// When and by whom the card was written.
    pub created: String,
    /// Test metrics (without the baselines).
    pub metrics: BTreeMap<String, f64>,
    /// Per metric, whether higher is better.
    pub higher_is_better: BTreeMap<String, bool>,
    /// Aliases pointing at it now.
    pub aliases: Vec<String>,
    /// Link to its report, relative to the overview.
    pub report: Option<String>,
}

/// One promotion record.
#[derive(Debug, Clone, Default)]
pub struct AliasEvent {
    /// Its sequence number.
    pub sequence: u64,
    /// `promote` or `rollback`.
    pub action: String,
    /// The version it points at.
    pub version: String,
    /// Its number, for the chart.
    pub number: u64,
    /// The version before, if any.
    pub previous: Option<String>,
    /// When (RFC 3339).
    pub at: String,
    /// Who.
    pub by: String,
    /// Why.
    pub reason: Option<String>,
}
