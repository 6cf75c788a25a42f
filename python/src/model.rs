//! `cauce.Model`: a registered model (or a `model.bin`) that scores
//! tables as `inference` scores a file: the card's cleaning, the SQL
//! transform replayed, the schema checked, rows that cannot be scored
//! given an `_error` instead of a prediction.

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow_array::RecordBatchReader;
use arrow_array::ffi_stream::ArrowArrayStreamReader;
use arrow_pyarrow::{FromPyArrow, IntoPyArrow, Table};
use futures::StreamExt;
use inference::{InferenceConfig, Scorer, TransformSource, TransformTables};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::errors;
use crate::runtime::{block_on, to_python};

/// Rows scored at a time (as `inference.batch_size`'s default); the slices
/// of a table are scored on both cores.
const BATCH_ROWS: usize = 8192;

/// A model loaded from a registry, ready to predict.
#[pyclass(module = "cauce", frozen)]
#[derive(Debug)]
pub struct Model {
    scorer: Arc<Scorer>,
    card: Option<model_registry::ModelCard>,
}

impl Model {
    /// Loads `reference` from the registry at `registry` (see
    /// `Registry.load`).
    pub fn load(
        py: Python<'_>,
        reference: &str,
        registry: &common::storage::Location,
        transform: bool,
        transform_tables: &str,
    ) -> PyResult<Self> {
        let config = InferenceConfig {
            transform: if transform {
                TransformSource::Model
            } else {
                TransformSource::None
            },
            transform_tables: match transform_tables {
                "recorded" => TransformTables::Recorded,
                "current" => TransformTables::Current,
                other => {
                    return Err(PyValueError::new_err(format!(
                        "transform_tables: '{other}' is not one of 'recorded', 'current'"
                    )));
                }
            },
            ..InferenceConfig::default()
        };
        let (scorer, card) = block_on(py, async {
            let scorer = Scorer::load(reference, registry, &config).await?;
            let card = match scorer.record().version.as_deref() {
                Some(version) => {
                    let registry = model_registry::Registry::at(registry.clone());
                    Some(registry.card(version.parse()?).await?)
                }
                None => None,
            };
            Ok::<_, inference::Error>((scorer, card))
        })?
        .map_err(errors::inference)?;
        Ok(Self {
            scorer: Arc::new(scorer),
            card,
        })
    }
}

#[pymethods]
impl Model {
    /// Scores `data` (anything with `__arrow_c_stream__`: a pyarrow Table,
    /// a pandas or polars DataFrame) and returns a pyarrow Table with the
    /// `passthrough` columns, `prediction`, one `proba_<class>` column per
    /// class for a classifier, `model_version` and `_error`.
    #[pyo3(signature = (data, passthrough = None))]
    fn _predict<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
        passthrough: Option<Vec<String>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        // The stream is taken with the GIL held; its batches are read on
        // another thread while earlier ones are scored, without the GIL (a
        // stream made by pyarrow from Python objects takes the GIL itself).
        let reader = ArrowArrayStreamReader::from_pyarrow_bound(data)?;
        let input = reader.schema();
        let passthrough = passthrough.unwrap_or_default();
        let scorer = Arc::clone(&self.scorer);
        let scored =
            block_on(py, score(scorer, reader, passthrough.clone()))?.map_err(errors::inference)?;
        let schema = match scored.first() {
            Some(batch) => batch.schema(),
            None => inference::output_schema(self.scorer.model(), &input, &passthrough)
                .map_err(errors::inference)?,
        };
        Table::try_new(scored, schema)
            .map_err(|e| errors::InferenceError::new_err(e.to_string()))?
            .into_pyarrow(py)
    }

    /// The model's name.
    #[getter]
    fn name(&self) -> String {
        self.scorer.model().name.clone()
    }

    /// The registry version (`vN`), or None for a model file.
    #[getter]
    fn version(&self) -> Option<String> {
        self.scorer.record().version.clone()
    }

    /// `"classification"` or `"regression"`.
    #[getter]
    fn task(&self) -> &'static str {
        match self.scorer.model().task {
            model::Task::Classification => "classification",
            model::Task::Regression => "regression",
        }
    }

    /// A classifier's classes, in the order of its probability columns.
    #[getter]
    fn classes(&self) -> Vec<String> {
        self.scorer.model().classes.clone()
    }

    /// The input columns the model reads.
    #[getter]
    fn inputs(&self) -> Vec<String> {
        self.scorer
            .model()
            .inputs()
            .into_iter()
            .map(|c| c.name)
            .collect()
    }

    /// The model card as a dict (None for a model file).
    #[getter]
    fn card<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.card
            .as_ref()
            .map(|card| to_python(py, card))
            .transpose()
    }

    /// Feature importances of a tree model, `{feature: importance}` from
    /// the largest (one-hot features named `column=value`); None for
    /// models without them.
    #[getter]
    fn feature_importances<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let Some(pairs) = self.scorer.model().feature_importances() else {
            return Ok(None);
        };
        let dict = PyDict::new(py);
        for (name, value) in pairs {
            dict.set_item(name, value)?;
        }
        Ok(Some(dict))
    }

    /// The model (feature pipeline and estimator) as a serialized ONNX
    /// model; see the `model::onnx` docs for its inputs and outputs.
    fn _to_onnx<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = model::onnx::export(self.scorer.model()).map_err(|e| {
            errors::InferenceError::new_err(common::terminal::one_line(&e.to_string()))
        })?;
        Ok(PyBytes::new(py, &bytes))
    }

    fn __repr__(&self) -> String {
        let model = self.scorer.model();
        let version = self.scorer.record().version.as_deref().unwrap_or("file");
        format!("cauce.Model('{}', {version}, {})", model.name, self.task())
    }
}

/// Scores the batches of `reader` in slices of [`BATCH_ROWS`], several at
/// a time and in order, while the next ones are read.
async fn score(
    scorer: Arc<Scorer>,
    reader: ArrowArrayStreamReader,
    passthrough: Vec<String>,
) -> inference::Result<Vec<RecordBatch>> {
    let workers = Scorer::concurrency();
    let (sender, mut receiver) = tokio::sync::mpsc::channel(workers);
    let read = tokio::task::spawn_blocking(move || {
        for batch in reader {
            let batch = match batch {
                Ok(batch) => batch,
                Err(e) => {
                    let _ = sender.blocking_send(Err(e));
                    return;
                }
            };
            let mut at = 0;
            while at < batch.num_rows() {
                let len = BATCH_ROWS.min(batch.num_rows() - at);
                if sender.blocking_send(Ok(batch.slice(at, len))).is_err() {
                    return;
                }
                at += len;
            }
        }
    });
    let passthrough = Arc::new(passthrough);
    let slices = futures::stream::poll_fn(move |cx| receiver.poll_recv(cx));
    let scored: Vec<inference::Result<RecordBatch>> = slices
        .map(|slice| {
            let (scorer, passthrough) = (Arc::clone(&scorer), Arc::clone(&passthrough));
            async move { scorer.score(slice?, "the table", &passthrough).await }
        })
        .buffered(workers)
        .collect()
        .await;
    read.await
        .map_err(|e| inference::Error::Internal(format!("reading the table failed: {e}")))?;
    scored.into_iter().collect()
}
