//! Typed YAML config: load a file into a `deny_unknown_fields` struct, with
//! `${VAR}` / `${VAR:-default}` environment interpolation, and errors that name
//! the file, line, column and key (and list the valid keys for a typo).
//!
//! ```
//! # fn main() -> common::Result<()> {
//! #[derive(serde::Deserialize)]
//! #[serde(deny_unknown_fields)]
//! struct Settings { threads: usize }
//!
//! let yaml = "threads: ${THREADS:-4}\n";
//! let settings: Settings = common::config::from_str(yaml, "settings.yaml".as_ref())?;
//! assert_eq!(settings.threads, 4);
//! # Ok(()) }
//! ```

mod interpolate;
mod sections;
mod stage;

use std::path::Path;

use serde::de::DeserializeOwned;

pub use sections::{LogLevel, LoggingConfig, SharedSections, StorageConfig};
pub use stage::{STAGE_SECTIONS, StageFile, StageSection};

use crate::error::{Error, Result};

/// Reads `path`, interpolates environment variables and deserializes it into `T`.
pub fn load<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            Error::ConfigNotFound {
                path: path.to_path_buf(),
            }
        } else {
            Error::ConfigRead {
                path: path.to_path_buf(),
                source,
            }
        }
    })?;
    from_str(&text, path)
}

/// Like [`load`] for text already in memory; `path` is only used in error messages.
pub fn from_str<T: DeserializeOwned>(text: &str, path: &Path) -> Result<T> {
    from_str_with_env(text, path, &|name| std::env::var(name).ok())
}

/// Like [`from_str`], looking environment variables up with `lookup` instead of
/// the process environment (for tests and for callers with their own overrides).
pub fn from_str_with_env<T: DeserializeOwned>(
    text: &str,
    path: &Path,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<T> {
    let text = interpolate::interpolate(text, path, lookup)?;
    let has_content = text.lines().any(|line| {
        let line = line.trim();
        !line.is_empty() && !line.starts_with('#') && line != "---"
    });
    if !has_content {
        return Err(Error::ConfigSyntax {
            path: path.to_path_buf(),
            line: 1,
            column: 1,
            key: String::new(),
            message: "config file is empty".into(),
        });
    }
    let deserializer = serde_yaml::Deserializer::from_str(&text);
    serde_path_to_error::deserialize(deserializer).map_err(|err| syntax_error(path, err))
}

/// Turns a serde_yaml error (wrapped with the key path) into [`Error::ConfigSyntax`]:
/// `file:line:column: message (key 'a.b.c')`.
fn syntax_error(path: &Path, err: serde_path_to_error::Error<serde_yaml::Error>) -> Error {
    let key = err.path().to_string();
    let inner = err.into_inner();
    let (line, column) = inner
        .location()
        .map(|l| (l.line(), l.column()))
        .unwrap_or((0, 0));
    let mut message = inner.to_string();
    // serde_yaml appends the position and prefixes the parent key path; we
    // lead with the position and end with the full key instead.
    if let Some(idx) = message.rfind(" at line ") {
        message.truncate(idx);
    }
    if let Some((prefix, rest)) = message.split_once(": ")
        && !prefix.contains(' ')
        && key.starts_with(prefix)
    {
        message = rest.to_string();
    }
    let mut message = message.replace('`', "'");
    if !key.is_empty() && key != "." {
        message = format!("{message} (key '{key}')");
    }
    Error::ConfigSyntax {
        path: path.to_path_buf(),
        line,
        column,
        key,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Top {
        storage: StorageConfig,
        #[serde(default)]
        logging: LoggingConfig,
        model: Model,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Model {
        name: String,
        params: Params,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Params {
        n_trees: usize,
        max_depth: Option<usize>,
    }

    fn parse(text: &str) -> Result<Top> {
        from_str_with_env(text, Path::new("config/model_config.yaml"), &|_| None)
    }

    #[test]
    fn misspelled_nested_key_names_position_key_and_valid_keys() {
        let text = "storage:\n  raw: data/raw\nmodel:\n  name: m\n  params:\n    n_tree: 10\n";
        let err = parse(text).unwrap_err();
        let Error::ConfigSyntax {
            line, column, key, ..
        } = &err
        else {
            panic!("wrong variant: {err:?}");
        };
        assert_eq!((*line, *column), (6, 5));
        assert_eq!(key, "model.params.n_tree");
        assert_eq!(
            err.to_string(),
            "config/model_config.yaml:6:5: unknown field 'n_tree', expected 'n_trees' or \
             'max_depth' (key 'model.params.n_tree')"
        );
    }

    #[test]
    fn wrong_type_names_key() {
        let text = "storage: {}\nmodel:\n  name: m\n  params:\n    n_trees: many\n";
        let err = parse(text).unwrap_err().to_string();
        assert!(
            err.starts_with("config/model_config.yaml:5:14: invalid type"),
            "{err}"
        );
        assert!(err.contains("model.params.n_trees"), "{err}");
    }

    #[test]
    fn invalid_enum_value_lists_choices() {
        let text = "storage: {}\nlogging: {level: loud}\nmodel: {name: m, params: {n_trees: 1}}\n";
        let err = parse(text).unwrap_err().to_string();
        assert!(err.contains("unknown variant 'loud'"), "{err}");
        assert!(
            err.contains("'off', 'error', 'warn', 'info', 'debug', 'trace'"),
            "{err}"
        );
    }

    #[test]
    fn defaults_fill_omitted_sections() {
        let text = "storage: {raw: s3://b/raw}\nmodel: {name: m, params: {n_trees: 3}}\n";
        let top = parse(text).unwrap();
        assert_eq!(top.storage.raw, "s3://b/raw");
        assert_eq!(top.storage.processed, "data/processed");
        assert_eq!(top.logging, LoggingConfig::default());
        assert_eq!(top.model.params.n_trees, 3);
    }

    #[test]
    fn empty_file_is_an_error() {
        let err = parse("# nothing\n\n").unwrap_err().to_string();
        assert_eq!(err, "config/model_config.yaml:1:1: config file is empty");
    }

    #[test]
    fn missing_file_names_its_path() {
        let err = load::<Top>(Path::new("no/such/config.yaml")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no/such/config.yaml: config file not found"
        );
    }
}
