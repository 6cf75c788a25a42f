//! The one error type of `common`: every variant names what failed and where
//! (file, line, key, storage location), so that a stage binary can print it as
//! a single line and exit.

use std::path::PathBuf;

/// Errors raised by config loading, logging and storage.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The config file does not exist.
    #[error("{}: config file not found", path.display())]
    ConfigNotFound {
        /// The path that was tried.
        path: PathBuf,
    },

    /// The config file exists but could not be read.
    #[error("{}: cannot read config file: {source}", path.display())]
    ConfigRead {
        /// The config file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },

    /// YAML syntax error, unknown key, wrong type or missing key.
    #[error("{}:{line}:{column}: {message}", path.display())]
    ConfigSyntax {
        /// The config file.
        path: PathBuf,
        /// 1-based line of the offending text (0 when unknown).
        line: usize,
        /// 1-based column of the offending text (0 when unknown).
        column: usize,
        /// Dotted path of the key being read, e.g. `model.params.n_trees`.
        key: String,
        /// What is wrong, including the valid choices where there are some.
        message: String,
    },

    /// `${VAR}` names an environment variable that is not set and has no default.
    #[error(
        "{}:{line}: environment variable '{var}' is not set (use '${{{var}:-default}}' to give a default)",
        path.display()
    )]
    ConfigEnv {
        /// The config file.
        path: PathBuf,
        /// 1-based line of the reference.
        line: usize,
        /// The variable name.
        var: String,
    },

    /// A value parsed but is not acceptable (out of range, inconsistent, ...).
    #[error("{}: invalid value for '{key}': {message}", path.display())]
    ConfigValue {
        /// The config file.
        path: PathBuf,
        /// Dotted key path.
        key: String,
        /// Why the value is rejected and what is accepted.
        message: String,
    },

    /// A storage location string could not be understood. Credentials in
    /// it (`https://user:password@host/x`) are redacted.
    #[error("invalid storage location '{}': {}", redact(location), redact(reason))]
    InvalidLocation {
        /// The location as given.
        location: String,
        /// Why it is invalid.
        reason: String,
    },

    /// The object does not exist.
    #[error("{location}: not found")]
    NotFound {
        /// The object.
        location: String,
    },

    /// A create-if-absent write found the object already there.
    #[error("{location}: already exists")]
    AlreadyExists {
        /// The object.
        location: String,
    },

    /// An input selection (file, glob or prefix) matched no data file.
    #[error("{location}: no input files found")]
    NoInputs {
        /// The selection as given.
        location: String,
    },

    /// An S3 write found no bucket (object_store reports it as "not found").
    #[error("{location}: bucket '{bucket}' does not exist (NoSuchBucket)")]
    NoSuchBucket {
        /// The object being written.
        location: String,
        /// The bucket.
        bucket: String,
    },

    /// Any other storage failure (network, permissions, bucket missing, ...).
    /// Credentials in URLs (`http://user:password@host`) are redacted.
    #[error("{location}: {}", redact(&source.to_string()))]
    Store {
        /// The object or prefix being accessed.
        location: String,
        /// The underlying object_store error.
        source: object_store::Error,
    },

    /// A Parquet file could not be read or written.
    #[error("{location}: Parquet error: {}", parquet_message(source))]
    Parquet {
        /// The Parquet file.
        location: String,
        /// The underlying error.
        source: parquet::errors::ParquetError,
    },

    /// A CSV or NDJSON file could not be decoded.
    #[error("{location}: {format} error: {source}")]
    Decode {
        /// The file being decoded.
        location: String,
        /// `CSV` or `NDJSON`.
        format: &'static str,
        /// The underlying error (it carries the line where arrow knows it).
        source: arrow::error::ArrowError,
    },

    /// A byte stream (e.g. gzip) could not be read.
    #[error("{location}: read error: {source}")]
    Io {
        /// The object being read.
        location: String,
        /// The underlying error.
        source: std::io::Error,
    },

    /// A JSON document (manifest, model card) could not be parsed or written.
    #[error("{location}: invalid JSON: {source}")]
    Json {
        /// The document.
        location: String,
        /// The underlying error.
        source: serde_json::Error,
    },

    /// A manifest was not published because a file it lists is gone or
    /// changed (another process removed or rewrote it); the previous
    /// manifest stays in place.
    #[error(
        "not publishing {manifest}: {file} {problem}; was it removed by another run or a cleanup?"
    )]
    Unpublishable {
        /// The manifest that was about to be written.
        manifest: String,
        /// The file it lists.
        file: String,
        /// What is wrong with it.
        problem: String,
    },

    /// The log file could not be opened.
    #[error("{}: cannot open log file: {source}", path.display())]
    LogFile {
        /// The log file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },

    /// A shard setting (`--shard`, `CAUCE_SHARD`, an engine's index) is
    /// invalid or incomplete.
    #[error("invalid shard setting {key}: {message}")]
    Shard {
        /// The flag or environment variable.
        key: String,
        /// What is wrong.
        message: String,
    },

    /// The shards of a sharded run cannot be merged (one is missing, or
    /// they disagree on their inputs, config or model).
    #[error("{output}: cannot merge the shards: {message}")]
    Merge {
        /// The output root.
        output: String,
        /// What is wrong, naming the shard.
        message: String,
    },

    /// A file a manifest lists is not the file it recorded (size, SHA-256
    /// or rows differ): replaced, edited or damaged since it was written.
    #[error(
        "{location}: {problem}; it is not the file its manifest lists (changed since it was written: rerun the stage that wrote it)"
    )]
    Unverified {
        /// The file.
        location: String,
        /// What differs.
        problem: String,
    },

    /// An output root or run folder that a run must not write into or
    /// clean (it overlaps an input or the registry, or is reached through
    /// a symbolic link).
    #[error("refusing {location}: {message}")]
    Unsafe {
        /// What is refused: `output <root>`, a run or version folder.
        location: String,
        /// Why, naming what it overlaps.
        message: String,
    },

    /// A logger was already installed in this process.
    #[error("logging is already initialised in this process")]
    LoggerAlreadySet,
}

/// `Result` with [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `text` with the password of every `scheme://user:password@` URL
/// replaced by `***`: an `AWS_ENDPOINT_URL` with credentials must not end
/// up in messages and logs.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        let authority_end = tail
            .find(|c: char| c == '/' || c.is_whitespace())
            .unwrap_or(tail.len());
        let authority = &tail[..authority_end];
        match authority.rfind('@') {
            Some(userinfo_end) => {
                let userinfo = &authority[..userinfo_end];
                let user = userinfo.split(':').next().unwrap_or_default();
                out.push_str(user);
                if userinfo.contains(':') {
                    out.push_str(":***");
                }
                out.push_str(&authority[userinfo_end..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[authority_end..];
    }
    out.push_str(rest);
    out
}

/// A Parquet error's text without the "Parquet error: " that its own
/// `Display` puts before general errors (the variant above says it once).
fn parquet_message(source: &parquet::errors::ParquetError) -> String {
    let text = source.to_string();
    match text.strip_prefix("Parquet error: ") {
        Some(rest) => rest.to_string(),
        None => text,
    }
}

impl Error {
    /// Wraps an object_store error for `location`, keeping "not found" and
    /// "already exists" as their own variants so callers can match on them.
    pub fn from_store(location: impl Into<String>, source: object_store::Error) -> Self {
        let location = location.into();
        match source {
            object_store::Error::NotFound { .. } => Error::NotFound { location },
            object_store::Error::AlreadyExists { .. } => Error::AlreadyExists { location },
            source => Error::Store { location, source },
        }
    }

    /// True for [`Error::NotFound`].
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound { .. })
    }

    /// True for [`Error::AlreadyExists`].
    pub fn is_already_exists(&self) -> bool {
        matches!(self, Error::AlreadyExists { .. })
    }
}

#[cfg(test)]
mod tests {
    /// Regression (issue 27.15): an output URL with credentials echoed the
    /// password in the error line (and so in the log).
    #[test]
    fn a_location_with_credentials_is_redacted_in_its_error() {
        let e = crate::storage::Location::parse("https://user:hunter2@host/x")
            .unwrap_err()
            .to_string();
        assert!(
            !e.contains("hunter2") && e.contains("https://user:***@host/x"),
            "{e}"
        );
    }

    #[test]
    fn passwords_in_urls_are_redacted() {
        assert_eq!(
            super::redact("Error performing HEAD http://user:secretpw@127.0.0.1:1/b/raw.csv in 2s"),
            "Error performing HEAD http://user:***@127.0.0.1:1/b/raw.csv in 2s"
        );
        assert_eq!(
            super::redact("s3://bucket/key and http://host/x"),
            "s3://bucket/key and http://host/x"
        );
        assert_eq!(
            super::redact("http://only-user@host/"),
            "http://only-user@host/"
        );
    }
}
