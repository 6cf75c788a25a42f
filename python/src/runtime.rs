//! The tokio runtime the module's work runs on (one per process, made on
//! first use, as `#[tokio::main]` makes the binaries'), entered with the
//! GIL released so other Python threads run meanwhile.

use std::future::Future;
use std::sync::OnceLock;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use tokio::runtime::Runtime;

static RUNTIME: OnceLock<std::io::Result<Runtime>> = OnceLock::new();

/// Runs `work` to completion on the runtime, without the GIL.
pub fn block_on<F>(py: Python<'_>, work: F) -> PyResult<F::Output>
where
    F: Future + Send,
    F::Output: Send,
{
    let runtime = RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("cauce-io")
            .build()
    });
    let runtime = runtime
        .as_ref()
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start Cauce's I/O runtime: {e}")))?;
    Ok(py.detach(|| runtime.block_on(work)))
}

/// A serde value as the Python object `json.loads` makes of it (dicts,
/// lists, str, int, float, bool, None).
pub fn to_python<'py, T: serde::Serialize>(
    py: Python<'py>,
    value: &T,
) -> PyResult<Bound<'py, PyAny>> {
    let text = serde_json::to_string(value)
        .map_err(|e| PyRuntimeError::new_err(format!("cannot convert a report: {e}")))?;
    py.import("json")?.call_method1("loads", (text,))
}
