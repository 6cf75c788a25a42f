//! Logging goes to stderr and to the stage's file. The logger is process-wide,
//! so the test runs itself as a child process that installs it.

use std::path::Path;
use std::process::Command;

use common::config::LoggingConfig;
use common::logging::{self, Stage};

const CHILD_ENV: &str = "CAUCE_TEST_LOGGING_CHILD_DIR";

/// Runs only inside the child process started by the tests below.
#[test]
fn child_process_installs_logger() {
    let Some(dir) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let config = LoggingConfig {
        dir: dir.into(),
        ..LoggingConfig::default()
    };
    let path = logging::init(Stage::Trainer, &config).unwrap();
    assert!(path.ends_with("training.log"));
    log::info!("fitted 3 models");
    logging::record_failure(&"only in the file");
    log::debug!("detail only at debug");
    assert!(matches!(
        logging::init(Stage::Trainer, &config),
        Err(common::Error::LoggerAlreadySet)
    ));
}

fn run_child(dir: &Path, rust_log: Option<&str>) -> String {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--exact",
            "logging::child_process_installs_logger",
            "--nocapture",
        ])
        .env(CHILD_ENV, dir)
        .env_remove("RUST_LOG")
        .env_remove(logging::LOG_DIR_ENV);
    if let Some(filter) = rust_log {
        command.env("RUST_LOG", filter);
    }
    let output = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "child failed: {stderr}");
    stderr
}

#[test]
fn log_line_lands_in_stderr_and_the_stage_file() {
    let dir = tempfile::tempdir().unwrap();
    let stderr = run_child(dir.path(), None);
    let file = std::fs::read_to_string(dir.path().join("training.log")).unwrap();

    let in_file: Vec<&str> = file.lines().collect();
    assert_eq!(in_file.len(), 2, "{file}");
    assert!(
        in_file[1].ends_with(" ERROR trainer only in the file"),
        "{file}"
    );
    let line = in_file[0];
    assert!(line.ends_with(" INFO  trainer fitted 3 models"), "{line}");
    // RFC 3339 timestamp with milliseconds first.
    let timestamp = line.split(' ').next().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(timestamp).is_ok(),
        "{line}"
    );
    assert!(stderr.lines().any(|l| l == line), "stderr: {stderr}");
    assert!(!stderr.contains("only in the file"), "stderr: {stderr}");
    assert!(!file.contains("detail only at debug"));
}

#[test]
fn rust_log_overrides_the_configured_level_and_lines_are_appended() {
    let dir = tempfile::tempdir().unwrap();
    run_child(dir.path(), None);
    let stderr = run_child(dir.path(), Some("debug"));
    assert!(
        stderr.contains("DEBUG trainer detail only at debug"),
        "{stderr}"
    );
    let file = std::fs::read_to_string(dir.path().join("training.log")).unwrap();
    assert_eq!(file.matches("fitted 3 models").count(), 2, "{file}");
    assert_eq!(file.matches("only in the file").count(), 2, "{file}");
    assert_eq!(file.matches("detail only at debug").count(), 1, "{file}");
}
