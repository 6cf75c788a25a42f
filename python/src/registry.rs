//! `cauce.Registry`: a registry's versions, cards, aliases and promotions,
//! as `model-registry` lists and changes them, and `load` for a model.

use model_registry::Version;
use pyo3::prelude::*;

use crate::errors;
use crate::model::Model;
use crate::runtime::{block_on, to_python};

/// A model registry at a location: a local path, `file://…` or `s3://…`
/// (S3 credentials and endpoint from the usual `AWS_*` environment).
#[pyclass(module = "cauce", frozen)]
#[derive(Debug)]
pub struct Registry {
    inner: model_registry::Registry,
}

impl Registry {
    /// `reference` (`vN`, `latest` or another alias) as a version number.
    async fn version(&self, reference: &str) -> Result<Version, model_registry::Error> {
        self.inner.resolve_version(reference).await
    }
}

#[pymethods]
impl Registry {
    #[new]
    fn new(location: &str) -> PyResult<Self> {
        let inner = model_registry::Registry::open(location).map_err(errors::registry)?;
        Ok(Self { inner })
    }

    /// Where the registry is.
    #[getter]
    fn location(&self) -> String {
        self.inner.root().to_string()
    }

    /// Every published version's card (dicts), oldest first.
    fn versions<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let cards = block_on(py, self.inner.versions())?.map_err(errors::registry)?;
        to_python(py, &cards)
    }

    /// The card of `version` (`vN`, `latest` or another alias) as a dict.
    #[pyo3(signature = (version = "latest"))]
    fn card<'py>(&self, py: Python<'py>, version: &str) -> PyResult<Bound<'py, PyAny>> {
        let card = block_on(py, async {
            let version = self.version(version).await?;
            self.inner.card(version).await
        })?
        .map_err(errors::registry)?;
        to_python(py, &card)
    }

    /// The aliases that are set (`latest`, `staging`, …).
    fn aliases(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        block_on(py, self.inner.aliases())?.map_err(errors::registry)
    }

    /// The promotion records of `alias`, oldest first (dicts).
    #[pyo3(signature = (alias = "latest"))]
    fn history<'py>(&self, py: Python<'py>, alias: &str) -> PyResult<Bound<'py, PyAny>> {
        let records = block_on(py, self.inner.history(alias))?.map_err(errors::registry)?;
        to_python(py, &records)
    }

    /// Points `alias` at `version` (checked intact first), as
    /// `model-registry promote`; returns the promotion record.
    #[pyo3(signature = (version, alias = "latest", reason = None))]
    fn promote<'py>(
        &self,
        py: Python<'py>,
        version: &str,
        alias: &str,
        reason: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let record = block_on(py, async {
            let version = self.version(version).await?;
            self.inner.promote(version, alias, reason).await
        })?
        .map_err(errors::registry)?;
        to_python(py, &record)
    }

    /// Moves `alias` back to the version before its current one, as
    /// `model-registry rollback`; returns the rollback record.
    #[pyo3(signature = (alias = "latest", reason = None))]
    fn rollback<'py>(
        &self,
        py: Python<'py>,
        alias: &str,
        reason: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let record = block_on(py, self.inner.rollback(alias, reason))?.map_err(errors::registry)?;
        to_python(py, &record)
    }

    /// Checks every file of `version` against its card (sizes, checksums).
    #[pyo3(signature = (version = "latest"))]
    fn verify<'py>(&self, py: Python<'py>, version: &str) -> PyResult<Bound<'py, PyAny>> {
        let report = block_on(py, async {
            let version = self.version(version).await?;
            self.inner.verify(version).await
        })?
        .map_err(errors::registry)?;
        to_python(py, &report)
    }

    /// Loads `version` (`latest`, `vN` or an alias) with every checksum
    /// verified. `transform_tables="current"` replays a SQL transform with
    /// its reference tables as they are now instead of refusing changed
    /// ones; `transform=False` does not replay it (rows that went through
    /// etl already).
    #[pyo3(signature = (version = "latest", transform = true, transform_tables = "recorded"))]
    fn load(
        &self,
        py: Python<'_>,
        version: &str,
        transform: bool,
        transform_tables: &str,
    ) -> PyResult<Model> {
        Model::load(py, version, self.inner.root(), transform, transform_tables)
    }

    fn __repr__(&self) -> String {
        format!("cauce.Registry('{}')", self.inner.root())
    }
}
