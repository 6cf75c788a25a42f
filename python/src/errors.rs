//! The exceptions: `cauce.Error`, and under it one class per part
//! (`EtlError`, `TrainError`, `InferenceError`, `RegistryError`). The
//! message is the one line the binary would print after `error:`.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

create_exception!(cauce, Error, PyException, "Any error Cauce reports.");
create_exception!(cauce, EtlError, Error, "An error of the etl stage.");
create_exception!(cauce, TrainError, Error, "An error of the trainer.");
create_exception!(
    cauce,
    InferenceError,
    Error,
    "An error of inference (or of loading a model)."
);
create_exception!(
    cauce,
    RegistryError,
    Error,
    "An error of the model registry."
);

/// Adds the exception classes to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("Error", py.get_type::<Error>())?;
    m.add("EtlError", py.get_type::<EtlError>())?;
    m.add("TrainError", py.get_type::<TrainError>())?;
    m.add("InferenceError", py.get_type::<InferenceError>())?;
    m.add("RegistryError", py.get_type::<RegistryError>())?;
    Ok(())
}

/// The binaries' one line for `error`.
fn line(error: &dyn std::fmt::Display) -> String {
    common::terminal::one_line(&error.to_string())
}

/// An etl error as `cauce.EtlError`.
pub fn etl(error: etl::Error) -> PyErr {
    EtlError::new_err(line(&error))
}

/// A trainer error as `cauce.TrainError`.
pub fn train(error: trainer::Error) -> PyErr {
    TrainError::new_err(line(&error))
}

/// An inference error as `cauce.InferenceError`.
pub fn inference(error: inference::Error) -> PyErr {
    InferenceError::new_err(line(&error))
}

/// A registry error as `cauce.RegistryError`.
pub fn registry(error: model_registry::Error) -> PyErr {
    RegistryError::new_err(line(&error))
}

/// A shared error (a location that does not parse, an unreachable store,
/// a config file) as the error of the part that met it.
pub fn common(error: common::Error, part: Part) -> PyErr {
    let message = line(&error);
    match part {
        Part::Etl => EtlError::new_err(message),
        Part::Train => TrainError::new_err(message),
        Part::Inference => InferenceError::new_err(message),
    }
}

/// Which part of Cauce an error comes from.
#[derive(Debug, Clone, Copy)]
pub enum Part {
    Etl,
    Train,
    Inference,
}
