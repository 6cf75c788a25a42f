//! Registry errors, each naming the version, alias or file concerned.

/// Everything the registry can refuse or fail at.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Storage, JSON or config error from `common`.
    #[error(transparent)]
    Common(#[from] common::Error),

    /// A version or alias name is malformed (or tries to escape the registry).
    #[error("invalid {kind} '{name}': {reason}")]
    InvalidName {
        /// `version`, `alias` or `file name`.
        kind: &'static str,
        /// The name as given.
        name: String,
        /// What is accepted.
        reason: String,
    },

    /// The version has no model card (never finished, deleted, or never existed).
    #[error("{registry}: version {version} not found (see `model-registry list`)")]
    VersionNotFound {
        /// Registry root.
        registry: String,
        /// e.g. `v7`.
        version: String,
    },

    /// The alias has no promotion record yet.
    #[error(
        "{registry}: alias '{alias}' has never been promoted (run `model-registry promote vN --alias {alias}`)"
    )]
    AliasNotSet {
        /// Registry root.
        registry: String,
        /// The alias.
        alias: String,
    },

    /// A file's bytes do not match the model card.
    #[error(
        "{version}/{file}: {problem}; refusing to use this version (run `model-registry verify {version}`)"
    )]
    Corrupt {
        /// The version.
        version: String,
        /// The file inside it.
        file: String,
        /// e.g. "sha256 mismatch: card says …, file has …".
        problem: String,
    },

    /// `delete` of a version an alias currently points at.
    #[error("{version} is the current version of alias(es) {}; promote another version first", aliases.join(", "))]
    InUse {
        /// The version.
        version: String,
        /// Aliases pointing at it.
        aliases: Vec<String>,
    },

    /// `rollback` with no earlier version to return to.
    /// A file uploaded for a version was gone or changed before its card
    /// was written; the version stays invisible.
    #[error(
        "not publishing {version}: {file} {problem} after it was uploaded (removed by `gc` or another process?)"
    )]
    Vanished {
        /// The version being published.
        version: String,
        /// The file.
        file: String,
        /// What is wrong with it.
        problem: String,
    },

    /// A `delete` of the version is in progress.
    #[error("{version} is being deleted (by {by}); promote another version")]
    BeingDeleted {
        /// The version.
        version: String,
        /// Who is deleting it.
        by: String,
    },

    /// The version was deleted while a promotion to it was being written;
    /// the alias was moved back where it was.
    #[error("{version} was deleted while it was being promoted to '{alias}'; {outcome}")]
    DeletedWhilePromoting {
        /// The alias.
        alias: String,
        /// The version.
        version: String,
        /// Where the alias is now.
        outcome: String,
    },

    /// A card without its seal, in a version claimed in the sealed format:
    /// the publisher died between card and seal, or the seal was removed.
    #[error(
        "{version} has a model card but no seal (_sealed.json): it never finished publishing, or its seal was removed; refusing to use it (run `model-registry verify {version}`)"
    )]
    Unsealed {
        /// The version.
        version: String,
    },

    #[error("alias '{alias}' has no previous version to roll back to")]
    NoPrevious {
        /// The alias.
        alias: String,
    },

    /// `--if-better` with a metric the card does not have.
    #[error("{version} has no metric '{metric}' (it has: {})", available.join(", "))]
    MissingMetric {
        /// The version.
        version: String,
        /// The metric asked for.
        metric: String,
        /// Metrics the card has.
        available: Vec<String>,
    },

    /// `--if-better` on a metric whose direction neither card records.
    #[error(
        "{version}'s card does not say whether a higher or lower '{metric}' is better (publish it with better: {{{metric}: higher|lower}}, or promote without --if-better)"
    )]
    UnknownDirection {
        /// The candidate version.
        version: String,
        /// The metric asked for.
        metric: String,
    },

    /// A model card or record file is unreadable or of an unknown format version.
    #[error("{location}: {message}")]
    BadRecord {
        /// The JSON document.
        location: String,
        /// What is wrong.
        message: String,
    },

    /// Claiming a number kept losing races (should not happen outside a storm).
    #[error("{registry}: could not claim a {what} after {attempts} attempts")]
    Contention {
        /// Registry root.
        registry: String,
        /// `version number` or `promotion sequence number`.
        what: &'static str,
        /// Attempts made.
        attempts: usize,
    },

    /// A local file given to `publish` could not be read.
    #[error("{path}: {source}")]
    LocalFile {
        /// The path.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// `Result` with [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
