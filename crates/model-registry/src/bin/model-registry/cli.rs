//! The `model-registry` command line: argument definitions and the commands,
//! each returning the text to print and the exit code, so that the binary
//! only parses, sets up logging and prints.

use std::path::PathBuf;

use bytes::Bytes;
use clap::{Parser, Subcommand};
use comfy_table::{Table, presets::NOTHING};
use serde::Serialize;

use model_registry::{
    CardInput, Error, GateDecision, LATEST, ModelCard, ModelReport, Promotion, Registry, Result,
    VerifyReport, Version, compare,
};

/// Exit code when `promote --if-better` refuses the candidate.
pub const EXIT_REFUSED: u8 = 3;

/// Versioned models, aliases and promotion history on plain object storage.
#[derive(Debug, Parser)]
#[command(name = "model-registry", version, about)]
pub struct Cli {
    /// Pipeline config whose `storage.models` is the default registry (used if it exists).
    #[arg(long, global = true, default_value = "config/pipeline_config.yaml")]
    pub config: PathBuf,
    /// Registry location (local path or s3://bucket/prefix); overrides the config.
    #[arg(long, global = true, env = "CAUCE_REGISTRY")]
    pub registry: Option<String>,
    /// Machine-readable JSON output.
    #[arg(long, global = true)]
    pub json: bool,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Registry commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List visible versions with their aliases and metrics.
    List,
    /// Show one version's card (vN or an alias such as latest).
    Show {
        /// vN or alias.
        reference: String,
    },
    /// Publish files made elsewhere as the next version.
    Publish {
        /// Artifact file (repeat for several).
        #[arg(long = "file", required = true)]
        files: Vec<PathBuf>,
        /// JSON with name, metrics, params, metadata.
        #[arg(long)]
        card: PathBuf,
    },
    /// Point an alias (default latest) at a version.
    Promote {
        /// The version, vN.
        version: String,
        /// The alias.
        #[arg(long, default_value = LATEST)]
        alias: String,
        /// Why (recorded in the history).
        #[arg(long)]
        reason: Option<String>,
        /// Promote only if this metric beats the alias's current version.
        #[arg(long, value_name = "METRIC")]
        if_better: Option<String>,
    },
    /// Re-promote the version before the alias's current one.
    Rollback {
        /// The alias.
        #[arg(long, default_value = LATEST)]
        alias: String,
        /// Why.
        #[arg(long)]
        reason: Option<String>,
    },
    /// The promotion history of an alias.
    History {
        /// The alias.
        #[arg(long, default_value = LATEST)]
        alias: String,
    },
    /// Recompute checksums of one version, or of all; non-zero exit on any problem.
    Verify {
        /// vN (default: every version).
        version: Option<String>,
    },
    /// Metrics and parameters of two versions side by side.
    Compare {
        /// First version.
        a: String,
        /// Second version.
        b: String,
    },
    /// Delete a version (refused while an alias points at it).
    Delete {
        /// The version.
        version: String,
    },
    /// A version's model report (HTML): the page published with it, or one
    /// rendered from its card; with --index, the overview of every version
    /// and alias (also kept as index.html at the registry's root).
    Report {
        /// vN or alias.
        #[arg(default_value = LATEST, conflicts_with = "index")]
        reference: String,
        /// The registry overview instead of one version's report.
        #[arg(long)]
        index: bool,
        /// A few lines of text (the version's metrics beside the baseline)
        /// instead of HTML.
        #[arg(long, conflicts_with = "index")]
        text: bool,
        /// Write it to this file instead of stdout.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Write a version's model (its feature pipeline and estimator) as an
    /// ONNX model, checksums verified first (docs/registry.md, "Export").
    Export {
        /// vN or alias.
        #[arg(default_value = LATEST)]
        reference: String,
        /// The format: onnx.
        #[arg(long, default_value = "onnx", value_parser = ["onnx"])]
        format: String,
        /// The file to write.
        #[arg(long)]
        output: PathBuf,
    },
    /// Remove files of versions that never got a card.
    Gc {
        /// Only versions claimed longer ago than this (e.g. 30m, 1h, 0s).
        #[arg(long, default_value = "1h", value_parser = humantime::parse_duration)]
        grace_period: std::time::Duration,
    },
}

/// What to print and how to exit.
#[derive(Debug)]
pub struct Outcome {
    /// Text for stdout.
    pub output: String,
    /// Process exit code.
    pub code: u8,
}

fn done(output: String) -> Result<Outcome> {
    Ok(Outcome { output, code: 0 })
}

fn json<T: Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

fn table(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut table = Table::new();
    table.load_preset(NOTHING).set_header(header.to_vec());
    for row in rows {
        table.add_row(row);
    }
    table.to_string()
}

/// A page that could not be rendered, as the registry's error for it.
fn rendering(location: &str, e: report::Error) -> Error {
    Error::BadRecord {
        location: location.into(),
        message: e.to_string(),
    }
}

fn opt<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_else(|| "-".into())
}

/// Runs one command against `registry`; after one that changes what the
/// overview shows, rewrites `index.html` (a failure there is logged: the
/// command itself succeeded).
pub async fn execute(registry: &Registry, command: &Command, as_json: bool) -> Result<Outcome> {
    let outcome = run(registry, command, as_json).await?;
    if matches!(
        command,
        Command::Publish { .. }
            | Command::Promote { .. }
            | Command::Rollback { .. }
            | Command::Delete { .. }
    ) && let Err(e) = registry.write_index(report::registry::html).await
    {
        log::warn!("could not rewrite {}: {e}", model_registry::INDEX_FILE);
    }
    Ok(outcome)
}

async fn run(registry: &Registry, command: &Command, as_json: bool) -> Result<Outcome> {
    match command {
        Command::List => list(registry, as_json).await,
        Command::Show { reference } => {
            let version = registry.resolve_version(reference).await?;
            let card = registry.card(version).await?;
            if as_json {
                return done(json(&card));
            }
            done(show(&card))
        }
        Command::Publish { files, card } => publish(registry, files, card, as_json).await,
        Command::Promote {
            version,
            alias,
            reason,
            if_better,
        } => promote(registry, version, alias, reason, if_better, as_json).await,
        Command::Rollback { alias, reason } => {
            let record = registry.rollback(alias, reason.clone()).await?;
            done(if as_json {
                json(&record)
            } else {
                promotion_line(&record)
            })
        }
        Command::History { alias } => history(registry, alias, as_json).await,
        Command::Verify { version } => verify(registry, version.as_deref(), as_json).await,
        Command::Report {
            reference,
            index,
            text,
            output,
        } => page(registry, reference, *index, *text, output.as_deref()).await,
        Command::Compare { a, b } => comparison(registry, a, b, as_json).await,
        Command::Export {
            reference, output, ..
        } => export(registry, reference, output).await,
        Command::Delete { version } => {
            let version: Version = version.parse()?;
            registry.delete(version).await?;
            done(format!("deleted {version}"))
        }
        Command::Gc { grace_period } => {
            let report = registry.gc(*grace_period).await?;
            done(if as_json {
                json(&report)
            } else if report.versions.is_empty() && report.staging == 0 {
                "nothing to collect".into()
            } else {
                format!(
                    "removed {} file(s) of unfinished version(s) {} and {} staging file(s) of interrupted writes",
                    report.files,
                    if report.versions.is_empty() {
                        "-".to_string()
                    } else {
                        report.versions.join(", ")
                    },
                    report.staging
                )
            })
        }
    }
}

/// `promote`: unconditionally, or only past the gate (`--if-better`, exit
/// code [`EXIT_REFUSED`] when refused).
async fn promote(
    registry: &Registry,
    version: &str,
    alias: &str,
    reason: &Option<String>,
    if_better: &Option<String>,
    as_json: bool,
) -> Result<Outcome> {
    let version: Version = version.parse()?;
    match if_better {
        None => {
            let record = registry.promote(version, alias, reason.clone()).await?;
            done(if as_json {
                json(&record)
            } else {
                promotion_line(&record)
            })
        }
        Some(metric) => {
            let decision = registry
                .promote_if_better(version, alias, metric, reason.clone())
                .await?;
            let code = if decision.promoted.is_some() {
                0
            } else {
                EXIT_REFUSED
            };
            let output = if as_json {
                json(&decision)
            } else {
                gate_text(alias, &decision)
            };
            Ok(Outcome { output, code })
        }
    }
}

/// `publish`: a card and its files from local disk.
async fn publish(
    registry: &Registry,
    files: &[PathBuf],
    card: &std::path::Path,
    as_json: bool,
) -> Result<Outcome> {
    let text = std::fs::read_to_string(card).map_err(|source| Error::LocalFile {
        path: card.display().to_string(),
        source,
    })?;
    let input: CardInput = serde_json::from_str(&text).map_err(|e| Error::BadRecord {
        location: card.display().to_string(),
        message: e.to_string(),
    })?;
    let mut contents = Vec::new();
    for path in files {
        let bytes = std::fs::read(path).map_err(|source| Error::LocalFile {
            path: path.display().to_string(),
            source,
        })?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        contents.push((name, Bytes::from(bytes)));
    }
    let card = registry.publish(input, contents).await?;
    done(if as_json {
        json(&card)
    } else {
        format!("published {}", card.version)
    })
}

/// `history`: an alias's promotion records as a table.
async fn history(registry: &Registry, alias: &str, as_json: bool) -> Result<Outcome> {
    let records = registry.history(alias).await?;
    if as_json {
        return done(json(&records));
    }
    let rows = records
        .iter()
        .map(|r| {
            vec![
                r.sequence.to_string(),
                format!("{:?}", r.action).to_lowercase(),
                r.version.to_string(),
                opt(r.previous),
                r.at.format("%Y-%m-%d %H:%M:%S").to_string(),
                r.by.clone(),
                r.reason.clone().unwrap_or_default(),
            ]
        })
        .collect();
    done(table(
        &[
            "SEQ", "ACTION", "VERSION", "PREVIOUS", "AT (UTC)", "BY", "REASON",
        ],
        rows,
    ))
}

/// `report`: the overview or a version's model report, printed or written to a file.
async fn page(
    registry: &Registry,
    reference: &str,
    index: bool,
    text: bool,
    output: Option<&std::path::Path>,
) -> Result<Outcome> {
    let page = if index {
        report::registry::html(&model_registry::overview(registry).await?)
            .map_err(|e| rendering(model_registry::INDEX_FILE, e))?
    } else if text {
        let (version, record) = model_registry::model_record(registry, reference).await?;
        report::model::text(&version, &record)
    } else {
        match model_registry::model_report(registry, reference).await? {
            ModelReport::Published(page) => page,
            ModelReport::Record(found) => {
                let (version, record) = *found;
                report::model::html(&version, &record).map_err(|e| {
                    rendering(
                        &format!("{}/{}", version.version, model_registry::REPORT_FILE),
                        e,
                    )
                })?
            }
        }
    };
    let Some(path) = output else {
        return done(page);
    };
    std::fs::write(path, page).map_err(|source| Error::LocalFile {
        path: path.display().to_string(),
        source,
    })?;
    done(format!("wrote {}", path.display()))
}

/// `export`: the version's model as ONNX, written to `output`.
async fn export(registry: &Registry, reference: &str, output: &std::path::Path) -> Result<Outcome> {
    let resolved = registry.resolve(reference).await?;
    let version = resolved.card.version;
    let location = format!("{version}/{}", model::artifact::FILE_NAME);
    let failed = |message: String| Error::BadRecord {
        location: location.clone(),
        message,
    };
    let bytes = resolved
        .files
        .get(model::artifact::FILE_NAME)
        .ok_or_else(|| failed("the version has no model file".into()))?;
    let fitted = model::Model::from_bytes(bytes).map_err(|e| failed(e.to_string()))?;
    let onnx = model::onnx::export(&fitted).map_err(|e| failed(e.to_string()))?;
    std::fs::write(output, &onnx).map_err(|source| Error::LocalFile {
        path: output.display().to_string(),
        source,
    })?;
    done(format!(
        "wrote {} ({version}, {} bytes of ONNX)",
        output.display(),
        onnx.len()
    ))
}

/// `compare`: two versions' metrics and parameters side by side.
async fn comparison(registry: &Registry, a: &str, b: &str, as_json: bool) -> Result<Outcome> {
    let a = registry.card(registry.resolve_version(a).await?).await?;
    let b = registry.card(registry.resolve_version(b).await?).await?;
    let comparison = compare(&a, &b);
    if as_json {
        return done(json(&comparison));
    }
    let metrics = comparison
        .metrics
        .iter()
        .map(|m| {
            vec![
                m.metric.clone(),
                opt(m.a),
                opt(m.b),
                m.delta
                    .map(|d| format!("{d:+}"))
                    .unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    let params = comparison
        .params
        .iter()
        .map(|p| {
            vec![
                p.param.clone(),
                opt(p.a.as_ref()),
                opt(p.b.as_ref()),
                if p.changed { "*".into() } else { String::new() },
            ]
        })
        .collect();
    done(format!(
        "{}\n\n{}",
        table(&["METRIC", &comparison.a, &comparison.b, "DELTA"], metrics),
        table(&["PARAM", &comparison.a, &comparison.b, "CHANGED"], params)
    ))
}

async fn list(registry: &Registry, as_json: bool) -> Result<Outcome> {
    let catalogue = registry.catalogue().await?;
    let cards: Vec<&ModelCard> = catalogue
        .iter()
        .filter_map(|(_, c)| c.as_ref().ok())
        .collect();
    let bad: Vec<(Version, String)> = catalogue
        .iter()
        .filter_map(|(v, c)| c.as_ref().err().map(|e| (*v, e.to_string())))
        .collect();
    let mut current: Vec<(String, Version)> = Vec::new();
    for alias in registry.aliases().await? {
        if let Some(record) = registry.current(&alias).await? {
            current.push((alias, record.version));
        }
    }
    let aliases_of = |v: Version| -> Vec<String> {
        current
            .iter()
            .filter(|(_, cv)| *cv == v)
            .map(|(a, _)| a.clone())
            .collect()
    };
    if as_json {
        #[derive(Serialize)]
        struct Entry<'a> {
            version: Version,
            name: &'a str,
            created_at: chrono::DateTime<chrono::Utc>,
            aliases: Vec<String>,
            metrics: &'a std::collections::BTreeMap<String, f64>,
        }
        #[derive(Serialize)]
        struct Listing<'a> {
            versions: Vec<Entry<'a>>,
            unreadable: Vec<(Version, String)>,
        }
        let versions: Vec<Entry> = cards
            .iter()
            .map(|c| Entry {
                version: c.version,
                name: &c.name,
                created_at: c.created_at,
                aliases: aliases_of(c.version),
                metrics: &c.metrics,
            })
            .collect();
        if bad.is_empty() {
            return done(json(&versions));
        }
        return done(json(&Listing {
            versions,
            unreadable: bad,
        }));
    }
    let mut rows: Vec<(Version, Vec<String>)> = cards
        .iter()
        .map(|c| {
            let row = vec![
                c.version.to_string(),
                c.name.clone(),
                c.created_at.format("%Y-%m-%d %H:%M:%S").to_string(),
                aliases_of(c.version).join(","),
                headline_metrics(&c.metrics),
            ];
            (c.version, row)
        })
        .collect();
    for (version, problem) in &bad {
        let row = vec![
            version.to_string(),
            format!("(unusable: {problem})"),
            String::new(),
            aliases_of(*version).join(","),
            String::new(),
        ];
        rows.push((*version, row));
    }
    rows.sort_by_key(|(v, _)| *v);
    let rows = rows.into_iter().map(|(_, row)| row).collect();
    done(table(
        &["VERSION", "NAME", "CREATED (UTC)", "ALIASES", "METRICS"],
        rows,
    ))
}

/// Up to four metrics for the list view: the well-known ones first, never baselines.
fn headline_metrics(metrics: &std::collections::BTreeMap<String, f64>) -> String {
    const PREFERRED: &[&str] = &["accuracy", "f1_macro", "roc_auc", "rmse", "mae", "r2"];
    let mut names: Vec<&String> = metrics
        .keys()
        .filter(|k| PREFERRED.contains(&k.as_str()))
        .collect();
    names.sort_by_key(|k| PREFERRED.iter().position(|p| p == k));
    if names.is_empty() {
        names = metrics
            .keys()
            .filter(|k| !k.starts_with("baseline_"))
            .take(4)
            .collect();
    }
    names
        .iter()
        .take(4)
        .map(|k| format!("{k}={:.4}", metrics[*k]))
        .collect::<Vec<_>>()
        .join(" ")
}

fn show(card: &ModelCard) -> String {
    let mut out = format!(
        "version:    {}\nname:       {}\ncreated:    {} by {}\n",
        card.version, card.name, card.created_at, card.created_by
    );
    let files = card
        .files
        .iter()
        .map(|f| vec![f.name.clone(), f.bytes.to_string(), f.sha256.clone()])
        .collect();
    out.push_str(&format!(
        "\n{}\n",
        table(&["FILE", "BYTES", "SHA256"], files)
    ));
    let metrics = card
        .metrics
        .iter()
        .map(|(k, v)| vec![k.clone(), v.to_string()])
        .collect();
    out.push_str(&format!("\n{}\n", table(&["METRIC", "VALUE"], metrics)));
    if !card.params.is_null() {
        out.push_str(&format!("\nparams: {}\n", card.params));
    }
    out
}

fn promotion_line(record: &Promotion) -> String {
    format!(
        "{}: {} → {} ({:?}, record {})",
        record.alias,
        opt(record.previous),
        record.version,
        record.action,
        record.sequence
    )
    .to_lowercase()
}

fn gate_text(alias: &str, d: &GateDecision) -> String {
    let direction = if d.higher_is_better {
        "higher"
    } else {
        "lower"
    };
    let current = match d.current {
        Some((v, value)) => format!("{alias} is {v} with {value}"),
        None => format!("{alias} is not set"),
    };
    let decision = match &d.promoted {
        Some(record) => format!("promoted ({})", promotion_line(record)),
        None => "refused: not better".into(),
    };
    format!(
        "{}: candidate {} = {} ({direction} is better); {current} → {decision}",
        d.metric, d.candidate.0, d.candidate.1
    )
}

async fn verify(registry: &Registry, version: Option<&str>, as_json: bool) -> Result<Outcome> {
    let versions: Vec<Version> = match version {
        Some(v) => vec![registry.resolve_version(v).await?],
        None => registry
            .catalogue()
            .await?
            .iter()
            .map(|(v, _)| *v)
            .collect(),
    };
    let mut reports = Vec::new();
    for version in versions {
        match registry.verify(version).await {
            Ok(report) => reports.push(report),
            // An unreadable or edited card is reported like a corrupted file.
            Err(e @ (Error::BadRecord { .. } | Error::Corrupt { .. })) => {
                reports.push(VerifyReport {
                    version: version.to_string(),
                    corrupted: vec![(model_registry::CARD_FILE.to_string(), e.to_string())],
                    ..VerifyReport::default()
                });
            }
            Err(e) => return Err(e),
        }
    }
    let code = if reports.iter().all(|r| r.is_ok()) {
        0
    } else {
        1
    };
    if as_json {
        return Ok(Outcome {
            output: json(&reports),
            code,
        });
    }
    let mut lines = Vec::new();
    for r in &reports {
        if r.is_ok() {
            lines.push(format!("{}: ok ({} file(s))", r.version, r.ok.len()));
        }
        for name in &r.missing {
            lines.push(format!("{}/{name}: missing", r.version));
        }
        for name in &r.extra {
            lines.push(format!("{}/{name}: extra file not in the card", r.version));
        }
        for (name, problem) in &r.corrupted {
            lines.push(format!("{}/{name}: corrupted: {problem}", r.version));
        }
    }
    Ok(Outcome {
        output: lines.join("\n"),
        code,
    })
}
