//! Cauce's records: what crosses a stage boundary, typed. etl's manifest
//! ([`etl::Manifest`]) with the cleaning it applied ([`cleaning`]), the
//! prediction manifest ([`prediction::Manifest`]), the training
//! record the model card holds ([`training::TrainingRecord`]) with the
//! numbers behind its plots ([`curves`]), the profile of a table that etl
//! writes and the trainer keeps ([`profile`], merged over shards in
//! [`merge`]), the drift inference measures against it ([`drift`]), and
//! the registry's view of its versions and aliases ([`registry`]), with
//! the preprocessing settings and hyperparameters a record names
//! ([`preprocessing`], [`params`]), and the SQL transform etl ran and
//! inference replays ([`transform`]).
//! Every stage and the registry read and write these; `report` only renders
//! them, so depending on a record never pulls in a rendering library.

pub mod cleaning;
pub mod curves;
pub mod drift;
pub mod etl;
pub mod merge;
pub mod params;
pub mod prediction;
pub mod preprocessing;
pub mod profile;
pub mod registry;
pub mod training;
pub mod transform;

/// What can go wrong computing a record from data, or reading one.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Data that cannot be profiled or compared.
    #[error("{0}")]
    Data(String),
    /// A record written in a layout this build does not read.
    #[error("{record} format_version {found} is not supported (expected {expected})")]
    Version {
        /// What the record is (`ETL manifest`).
        record: &'static str,
        /// The version the file says.
        found: u64,
        /// The version this build reads.
        expected: u32,
    },
    /// Bytes that are not the record.
    #[error("not a readable {record}: {message}")]
    Decode {
        /// What the record is.
        record: &'static str,
        /// What the decoder said.
        message: String,
    },
}

/// Decodes a versioned JSON record: the version first, so a file from a
/// newer build is refused naming its version rather than a field this build
/// does not know.
pub(crate) fn decode_versioned<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
    record: &'static str,
    expected: u32,
) -> Result<T, Error> {
    let decode = |e: serde_json::Error| Error::Decode {
        record,
        message: e.to_string(),
    };
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(decode)?;
    match value
        .get("format_version")
        .and_then(serde_json::Value::as_u64)
    {
        Some(found) if found != u64::from(expected) => Err(Error::Version {
            record,
            found,
            expected,
        }),
        _ => serde_json::from_value(value).map_err(decode),
    }
}
