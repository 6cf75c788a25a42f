//! Logging for the stage binaries: `log` + `env_logger`, every line written both
//! to stderr and appended to `logs/<stage>.log`, as
//! `2026-11-29T09:33:19.123Z INFO  etl  message`.
//!
//! The level comes from `RUST_LOG` when set (full `env_logger` syntax, e.g.
//! `RUST_LOG=debug,object_store=warn`), otherwise from the config's
//! `logging.level`. The folder is `CAUCE_LOG_DIR` when set, otherwise
//! `logging.dir`. `logging.level` shows the SQL engine's (DataFusion's)
//! warnings and errors only. Nothing here logs configuration values or the environment,
//! so credentials never reach a log file.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::config::LoggingConfig;
use crate::error::{Error, Result};

/// Dependencies whose debug and info lines `logging.level` leaves out
/// (`RUST_LOG` still shows them).
const QUIET: [&str; 2] = ["datafusion", "sqlparser"];

/// Environment variable overriding the log folder.
pub const LOG_DIR_ENV: &str = "CAUCE_LOG_DIR";

/// Log target whose records go to the log file only, not to stderr: for the
/// final error a binary already prints as its one-line message.
pub const FILE_ONLY: &str = "cauce::file_only";

/// Records a fatal error in the log file (the binary prints it to stderr itself).
pub fn record_failure(error: &dyn std::fmt::Display) {
    log::error!(target: FILE_ONLY, "{error}");
}

/// The pipeline stage a process runs; decides the log file name and the tag on each line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// `etl` → `data_processing.log`.
    Etl,
    /// `trainer` → `training.log`.
    Trainer,
    /// `inference` → `inference.log`.
    Inference,
    /// `model-registry` → `registry.log`.
    Registry,
}

impl Stage {
    /// Short name printed on every line.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Etl => "etl",
            Stage::Trainer => "trainer",
            Stage::Inference => "inference",
            Stage::Registry => "registry",
        }
    }

    /// File name inside the log folder.
    pub fn log_file_name(self) -> &'static str {
        match self {
            Stage::Etl => "data_processing.log",
            Stage::Trainer => "training.log",
            Stage::Inference => "inference.log",
            Stage::Registry => "registry.log",
        }
    }
}

/// Installs the process-wide logger for `stage` and returns the log file's path.
///
/// Fails if the log folder cannot be created or the file opened, or if a logger
/// is already installed.
pub fn init(stage: Stage, config: &LoggingConfig) -> Result<PathBuf> {
    let dir = std::env::var_os(LOG_DIR_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|| config.dir.clone());
    if dir.exists() && !dir.is_dir() {
        let from = if std::env::var_os(LOG_DIR_ENV).is_some() {
            LOG_DIR_ENV
        } else {
            "logging.dir"
        };
        return Err(Error::LogFile {
            path: dir.clone(),
            source: std::io::Error::other(format!(
                "{from} names a file; it must be a folder for the stage log files"
            )),
        });
    }
    let path = dir.join(stage.log_file_name());
    let file = Arc::new(Mutex::new(open_log_file(&path)?));
    let file_only = Arc::clone(&file);

    let mut builder = env_logger::Builder::new();
    builder.filter_level(config.level.as_filter());
    // The SQL engine logs every token it parses at debug: its lines are
    // for its own developers, so `logging.level` stops at warn for it.
    for engine in QUIET {
        builder.filter_module(engine, config.level.as_filter().min(log::LevelFilter::Warn));
    }
    if let Ok(filters) = std::env::var(env_logger::DEFAULT_FILTER_ENV) {
        builder.parse_filters(&filters);
    }
    builder
        .format(move |buf, record| {
            let line = format_line(
                &buf.timestamp_millis().to_string(),
                record.level(),
                stage,
                &record.args().to_string(),
            );
            if record.target() == FILE_ONLY {
                let mut file = file_only.lock().unwrap_or_else(|e| e.into_inner());
                return file.write_all(line.as_bytes());
            }
            buf.write_all(line.as_bytes())
        })
        .target(env_logger::Target::Pipe(Box::new(Tee {
            file,
            stderr: io::stderr(),
        })))
        .try_init()
        .map_err(|_| Error::LoggerAlreadySet)?;
    Ok(path)
}

fn open_log_file(path: &Path) -> Result<File> {
    let err = |source| Error::LogFile {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(err)?;
    }
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(err)
}

/// One log line. Newlines inside the message are escaped so that every event
/// stays on one line and the file can be processed with `grep`/`awk`.
fn format_line(timestamp: &str, level: log::Level, stage: Stage, message: &str) -> String {
    let message = message.replace('\n', "\\n");
    format!("{timestamp} {level:<5} {} {message}\n", stage.name())
}

/// Writes each formatted record to the log file and to stderr.
struct Tee {
    file: Arc<Mutex<File>>,
    stderr: io::Stderr,
}

impl Write for Tee {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        if buf.is_empty() {
            return Ok(());
        }
        // A full disk must not take the stage down with it; stderr still gets the line.
        let file_result = self
            .file
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .write_all(buf);
        self.stderr.write_all(buf)?;
        file_result
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .flush()?;
        self.stderr.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_has_timestamp_level_stage_and_message() {
        let line = format_line(
            "2026-01-01T00:00:00.000Z",
            log::Level::Info,
            Stage::Etl,
            "read 3 files",
        );
        assert_eq!(line, "2026-01-01T00:00:00.000Z INFO  etl read 3 files\n");
    }

    #[test]
    fn multi_line_messages_stay_on_one_line() {
        let line = format_line("t", log::Level::Error, Stage::Trainer, "a\nb");
        assert_eq!(line, "t ERROR trainer a\\nb\n");
    }

    #[test]
    fn every_stage_has_its_file() {
        let files: Vec<_> = [
            Stage::Etl,
            Stage::Trainer,
            Stage::Inference,
            Stage::Registry,
        ]
        .into_iter()
        .map(Stage::log_file_name)
        .collect();
        assert_eq!(
            files,
            [
                "data_processing.log",
                "training.log",
                "inference.log",
                "registry.log"
            ]
        );
    }
}
