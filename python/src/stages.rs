//! `cauce.etl`, `cauce.train` and `cauce.infer`: the stages run in this
//! process, with the same configs and options as the binaries, returning
//! what `--json` prints (etl's and inference's manifest, the trainer's
//! report) as a dict.

use std::path::PathBuf;

use common::config::SharedSections;
use common::shard::Shard;
use common::storage::Location;
use pyo3::prelude::*;

use crate::errors::{self, Part};
use crate::runtime::{block_on, to_python};

/// Runs etl with the pipeline config at `config`, as `etl --json` does;
/// `input` and `output` override the config's, `force` runs even when
/// nothing changed, `shard` is `"I/N"`.
#[pyfunction]
#[pyo3(signature = (config = "config/pipeline_config.yaml", input = None, output = None, force = false, shard = None))]
pub fn etl<'py>(
    py: Python<'py>,
    config: &str,
    input: Option<String>,
    output: Option<String>,
    force: bool,
    shard: Option<String>,
) -> PyResult<Bound<'py, PyAny>> {
    let config = ::etl::PipelineConfig::load(&PathBuf::from(config)).map_err(errors::etl)?;
    let mut options = ::etl::RunOptions::resolve(&config, input, output)
        .map_err(errors::etl)?
        .with_force(force)
        .with_progress(false);
    options.shard = Shard::resolve(shard.as_deref()).map_err(|e| errors::common(e, Part::Etl))?;
    let report = block_on(py, ::etl::run(&config.etl, &options))?.map_err(errors::etl)?;
    to_python(py, &report.manifest)
}

/// Trains with the model config at `config` (storage from the pipeline
/// config at `pipeline_config`, if it exists), as `trainer --json` does:
/// `data` and `registry` override the storage locations, `register=False`
/// does not publish, `promote=True` promotes the new version,
/// `promote_if_better="METRIC"` only if it beats the current one.
#[pyfunction]
#[pyo3(signature = (config = "config/model_config.yaml", pipeline_config = "config/pipeline_config.yaml", data = None, registry = None, register = true, promote = false, promote_if_better = None, force = false))]
#[allow(clippy::too_many_arguments)]
pub fn train<'py>(
    py: Python<'py>,
    config: &str,
    pipeline_config: &str,
    data: Option<String>,
    registry: Option<String>,
    register: bool,
    promote: bool,
    promote_if_better: Option<String>,
    force: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let shared = SharedSections::load_if_exists(&PathBuf::from(pipeline_config))
        .map_err(|e| errors::common(e, Part::Train))?;
    let model_config = trainer::TrainConfig::load(&PathBuf::from(config)).map_err(errors::train)?;
    let location = |value: Option<String>, default: String| {
        Location::parse(&value.unwrap_or(default)).map_err(|e| errors::common(e, Part::Train))
    };
    let options = trainer::TrainOptions {
        register,
        promote: match (&promote_if_better, promote) {
            (Some(_), _) => Some(trainer::Promote::IfBetter),
            (None, true) => Some(trainer::Promote::Always),
            (None, false) => None,
        },
        metric: promote_if_better,
        force,
        ..trainer::TrainOptions::new(
            location(data, shared.storage.processed)?,
            location(registry, shared.storage.models)?,
        )
    };
    let report = block_on(py, trainer::train(&model_config, &options))?.map_err(errors::train)?;
    to_python(py, &report)
}

/// Scores the input with a registered model, as `inference --json` does,
/// writing predictions where the config says: `input`, `output`,
/// `registry` and `model` (`latest`, `vN`, an alias or a `model.bin`
/// path) override the config's; `shard` is `"I/N"`.
#[pyfunction]
#[pyo3(signature = (config = "config/pipeline_config.yaml", input = None, output = None, registry = None, model = None, shard = None))]
pub fn infer<'py>(
    py: Python<'py>,
    config: &str,
    input: Option<String>,
    output: Option<String>,
    registry: Option<String>,
    model: Option<String>,
    shard: Option<String>,
) -> PyResult<Bound<'py, PyAny>> {
    let config =
        inference::PipelineConfig::load(&PathBuf::from(config)).map_err(errors::inference)?;
    let shard = Shard::resolve(shard.as_deref()).map_err(|e| errors::common(e, Part::Inference))?;
    let options =
        inference::RunOptions::resolve(&config, input, output, registry, model, Some(shard))
            .map_err(errors::inference)?;
    let report =
        block_on(py, inference::run(&config.inference, &options))?.map_err(errors::inference)?;
    to_python(py, &report.manifest)
}
