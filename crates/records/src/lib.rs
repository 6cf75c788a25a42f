//! Cauce's records: what crosses a stage boundary, typed. The training
//! record the model card holds ([`training::TrainingRecord`]) with the
//! numbers behind its plots ([`curves`]), the profile of a table that etl
//! writes and the trainer keeps ([`profile`], merged over shards in
//! [`merge`]), the drift inference measures against it ([`drift`]), and
//! the registry's view of its versions and aliases ([`registry`]).
//! Every stage and the registry read and write these; `report` only renders
//! them, so depending on a record never pulls in a rendering library.

pub mod curves;
pub mod drift;
pub mod merge;
pub mod profile;
pub mod registry;
pub mod training;

/// What can go wrong computing a record from data.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Data that cannot be profiled or compared.
    #[error("{0}")]
    Data(String),
}
