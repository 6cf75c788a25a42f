//! The `cauce` Python package's native module (`cauce._cauce`): the same
//! crates as the binaries behind a Python API. `Registry` lists, promotes
//! and loads versions; `Model` scores pyarrow, pandas or polars tables as
//! `inference` scores a file; `etl`, `train` and `infer` run the stages in
//! this process and return their reports as dicts. Errors are Python
//! exceptions (`cauce.Error` and one subclass per stage) carrying the
//! binaries' one-line messages. Work runs with the GIL released, on a
//! tokio runtime for I/O and rayon for CPU work, as in the binaries.

mod errors;
mod model;
mod registry;
mod runtime;
mod stages;

use pyo3::prelude::*;

/// The native module; `cauce/__init__.py` is its public face.
#[pymodule]
fn _cauce(m: &Bound<'_, PyModule>) -> PyResult<()> {
    errors::register(m)?;
    m.add_class::<registry::Registry>()?;
    m.add_class::<model::Model>()?;
    m.add_function(wrap_pyfunction!(stages::etl, m)?)?;
    m.add_function(wrap_pyfunction!(stages::train, m)?)?;
    m.add_function(wrap_pyfunction!(stages::infer, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
