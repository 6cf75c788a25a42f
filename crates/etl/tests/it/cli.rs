//! The `etl` binary: exit codes, one-line errors, dry run.

use std::process::Command;

fn etl(args: &[&str], dir: &std::path::Path) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_etl"))
        .args(args)
        .current_dir(dir)
        .env("CAUCE_LOG_DIR", dir.join("logs"))
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn workspace(config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("data/raw")).unwrap();
    std::fs::write(dir.path().join("data/raw/in.csv"), "id,x\n1,2\n3,4\n").unwrap();
    std::fs::write(dir.path().join("pipeline.yaml"), config).unwrap();
    dir
}

#[test]
fn misspelled_key_exits_non_zero_with_one_line() {
    let dir = workspace("etl:\n  split: {tset: 0.2}\n");
    let (code, _, stderr) = etl(&["--config", "pipeline.yaml"], dir.path());
    assert_eq!(code, 1);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("etl: error: pipeline.yaml:2:11: unknown field 'tset', expected one of 'test', 'validation', 'seed', 'key'"),
        "{stderr}"
    );
}

#[test]
fn missing_config_and_input_are_clear_errors() {
    let dir = workspace("etl: {}\n");
    let (code, _, stderr) = etl(&["--config", "nope.yaml"], dir.path());
    assert_eq!(
        (code, stderr.trim()),
        (1, "etl: error: nope.yaml: config file not found")
    );
    let (code, _, stderr) = etl(
        &[
            "--config",
            "pipeline.yaml",
            "--input",
            "data/raw/absent.csv",
        ],
        dir.path(),
    );
    assert_eq!(code, 1);
    assert!(
        stderr.contains("data/raw/absent.csv: no input files found"),
        "{stderr}"
    );
}

#[test]
fn dry_run_prints_the_plan_and_writes_nothing() {
    let dir = workspace("etl:\n  columns:\n    x: {type: float64}\n");
    let (code, stdout, stderr) = etl(&["--config", "pipeline.yaml", "--dry-run"], dir.path());
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("data/raw/in.csv (csv, 13 bytes)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("x                        Float64"),
        "{stdout}"
    );
    assert!(
        stdout.contains("id                       Int64                        inferred"),
        "{stdout}"
    );
    assert!(!dir.path().join("data/processed").exists());
}

#[test]
fn a_run_prints_counts_logs_to_its_file_and_then_is_up_to_date() {
    let dir = workspace("etl: {}\n");
    let (code, stdout, stderr) = etl(&["--config", "pipeline.yaml"], dir.path());
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("done: 2 → train"), "{stdout}");
    assert!(dir.path().join("data/processed/_manifest.json").exists());
    let log = std::fs::read_to_string(dir.path().join("logs/data_processing.log")).unwrap();
    assert!(log.contains("INFO  etl run "), "{log}");
    let (code, stdout, _) = etl(&["--config", "pipeline.yaml"], dir.path());
    assert_eq!(code, 0);
    assert!(stdout.starts_with("up to date: 2 → train"), "{stdout}");
}

#[test]
fn missing_bucket_is_one_line_naming_it() {
    if common::testing::skip_s3() {
        return;
    }
    // Needs the S3 test server for its endpoint; the bucket is what is missing.
    let _server = common::testing::TestStore::s3();
    let dir = workspace("etl: {}\n");
    let (code, _, stderr) = etl(
        &[
            "--config",
            "pipeline.yaml",
            "--input",
            "s3://cauce-no-such-bucket/raw/in.csv",
        ],
        dir.path(),
    );
    assert_eq!(code, 1);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("etl: error: s3://cauce-no-such-bucket/raw/in.csv: "),
        "{stderr}"
    );
    assert!(
        stderr.contains("NoSuchBucket: The specified bucket does not exist"),
        "{stderr}"
    );
}

/// Regressions (issue 12.15): a missing output bucket said `Object at
/// location … not found: Error performing PUT`; CAUCE_LOG_DIR naming a file
/// said only `File exists (os error 17)`; a password in AWS_ENDPOINT_URL
/// was printed.
#[test]
fn output_bucket_log_dir_and_endpoint_password_messages() {
    if common::testing::skip_s3() {
        return;
    }
    let _server = common::testing::TestStore::s3();
    let dir = workspace("etl: {}\n");
    let (code, _, stderr) = etl(
        &[
            "--config",
            "pipeline.yaml",
            "--input",
            "data/raw/in.csv",
            "--output",
            "s3://cauce-no-such-bucket/out",
        ],
        dir.path(),
    );
    assert_eq!((code, stderr.lines().count()), (1, 1), "{stderr}");
    assert!(
        stderr.contains("bucket 'cauce-no-such-bucket' does not exist (NoSuchBucket)"),
        "{stderr}"
    );

    std::fs::write(dir.path().join("a-file"), "").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_etl"))
        .args(["--config", "pipeline.yaml", "--input", "data/raw/in.csv"])
        .current_dir(dir.path())
        .env("CAUCE_LOG_DIR", dir.path().join("a-file"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr.contains("CAUCE_LOG_DIR names a file; it must be a folder"),
        "{stderr}"
    );

    let output = Command::new(env!("CARGO_BIN_EXE_etl"))
        .args(["--config", "pipeline.yaml", "--input", "s3://b/in.csv"])
        .current_dir(dir.path())
        .env("CAUCE_LOG_DIR", dir.path().join("logs"))
        .env("AWS_ENDPOINT_URL", "http://user:hunter2@127.0.0.1:1")
        .env("AWS_MAX_RETRIES", "0")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        !stderr.contains("hunter2") && stderr.contains("user:***@"),
        "{stderr}"
    );
    let log =
        std::fs::read_to_string(dir.path().join("logs/data_processing.log")).unwrap_or_default();
    assert!(!log.contains("hunter2"), "{log}");
}

#[test]
fn json_prints_the_manifest_with_its_cleaning() {
    let dir = workspace("etl:\n  null_tokens: ['*']\n  allow_empty: true\n");
    let (code, stdout, stderr) = etl(&["--config", "pipeline.yaml", "--json"], dir.path());
    assert_eq!(code, 0, "{stderr}");
    let manifest: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(manifest["rows"]["input"], 2);
    assert_eq!(
        manifest["cleaning"]["null_tokens"],
        serde_json::json!(["*"])
    );
    assert_eq!(manifest["cleaning"]["types"]["x"], "int64");
    let (code, stdout, _) = etl(&["--config", "pipeline.yaml"], dir.path());
    assert_eq!(code, 0);
    assert!(stdout.starts_with("up to date: 2 → train"), "{stdout}");
}

#[test]
fn sharding_mistakes_exit_non_zero_with_one_line() {
    let dir = workspace("etl:\n  input: data/raw\n  allow_empty: true\n");
    let one_line = |args: &[&str], expected: &str| {
        let (code, _, stderr) = etl(args, dir.path());
        assert_eq!(code, 1, "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    };
    one_line(
        &["--config", "pipeline.yaml", "--shard", "2/2"],
        "invalid shard setting --shard: '2/2' is not I/N",
    );
    one_line(
        &["--config", "pipeline.yaml", "merge"],
        "cannot merge the shards: no shard manifests (_manifest.shard-I-of-N.json) here; run `etl --shard I/N` first",
    );
    let shard = |spec: &str| {
        let (code, _, stderr) = etl(&["--config", "pipeline.yaml", "--shard", spec], dir.path());
        assert_eq!(code, 0, "{stderr}");
    };
    shard("0/2");
    shard("1/3");
    one_line(
        &["--config", "pipeline.yaml", "merge"],
        "shard manifests of [2, 3] shards are here; pick one with --shards N",
    );
    one_line(
        &["--config", "pipeline.yaml", "merge", "--shards", "1"],
        "--shards 1: a merge needs 2 or more",
    );
    one_line(
        &["--config", "pipeline.yaml", "merge", "--shards", "2"],
        "1 of 2 shards have not published: _manifest.shard-1-of-2.json",
    );
    shard("1/2");
    let (code, stdout, stderr) = etl(
        &["--config", "pipeline.yaml", "merge", "--shards", "2"],
        dir.path(),
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("done: 2 →") && stdout.contains("_manifest.json"),
        "{stdout}"
    );
    // An engine's index without the count.
    let output = Command::new(env!("CARGO_BIN_EXE_etl"))
        .args(["--config", "pipeline.yaml"])
        .current_dir(dir.path())
        .env("CAUCE_LOG_DIR", dir.path().join("logs"))
        .env("JOB_COMPLETION_INDEX", "1")
        .env_remove("CAUCE_SHARD_COUNT")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("set CAUCE_SHARD_COUNT"), "{stderr}");
}

/// Regression (issue 27.1): a symbolic link and a user's folder under
/// `<output>/runs/` were pruned as old runs; the link was followed and the
/// folder it points to emptied.
#[test]
fn pruning_keeps_links_and_folders_cauce_did_not_create() {
    let dir = workspace("etl:\n  keep_runs: 1\n");
    let victim = dir.path().join("victim");
    std::fs::create_dir_all(&victim).unwrap();
    std::fs::write(victim.join("precious.csv"), "a\n1\n").unwrap();
    let runs = dir.path().join("data/processed/runs");
    std::fs::create_dir_all(runs.join("2025-11-03_baseline")).unwrap();
    std::fs::write(runs.join("2025-11-03_baseline/model.csv"), "a\n").unwrap();
    std::os::unix::fs::symlink(&victim, runs.join("0000-link")).unwrap();
    for _ in 0..3 {
        let (code, _, stderr) = etl(&["--config", "pipeline.yaml", "--force"], dir.path());
        assert_eq!(code, 0, "{stderr}");
    }
    assert!(
        victim.join("precious.csv").exists(),
        "the link's target stays"
    );
    assert!(runs.join("0000-link").exists(), "the link itself stays");
    assert!(runs.join("2025-11-03_baseline/model.csv").exists());
    let ours: Vec<_> = std::fs::read_dir(&runs)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("_run.json").exists())
        .collect();
    assert_eq!(ours.len(), 1, "keep_runs: 1 of our own runs");
}

/// Regression (issue 27.3): an output equal to, inside or around the input,
/// the registry, `/` or the home folder was accepted (the input grew with
/// every run).
#[test]
fn outputs_overlapping_inputs_or_the_registry_are_refused() {
    let dir = workspace("storage:\n  models: models\netl: {}\n");
    for (output, says) in [
        ("data/raw", "it is the input data/raw"),
        ("data/raw/out", "it is inside the input data/raw"),
        ("data", "it contains the input data/raw"),
        ("models", "it overlaps the model registry models"),
        ("/", "the file system root cannot be an output"),
    ] {
        let (code, _, stderr) = etl(
            &[
                "--config",
                "pipeline.yaml",
                "--input",
                "data/raw",
                "--output",
                output,
            ],
            dir.path(),
        );
        assert_eq!(code, 1, "{output}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.starts_with(&format!("etl: error: refusing output {output}: {says}")),
            "{stderr}"
        );
    }
    let (code, _, stderr) = etl(
        &["--config", "pipeline.yaml", "--output", "data/raw", "merge"],
        dir.path(),
    );
    assert_eq!(code, 1);
    assert!(stderr.contains("refusing output data/raw"), "{stderr}");
    assert_eq!(
        std::fs::read_dir(dir.path().join("data/raw"))
            .unwrap()
            .count(),
        1,
        "nothing written into the input"
    );
}

/// Issue 30: the dry run plans the transform (so its errors show before
/// any data is read) and `--json` carries it with the filtered count.
#[test]
fn a_transform_is_planned_by_the_dry_run_and_in_the_json_manifest() {
    let dir = workspace(
        "etl:\n  allow_empty: true\n  transform:\n    sql: SELECT id, x * 2 AS x2 FROM input WHERE id > 1\n",
    );
    let (code, stdout, stderr) = etl(&["--config", "pipeline.yaml", "--dry-run"], dir.path());
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("transform (SQL, row-local):"), "{stdout}");
    assert!(
        stdout.contains("x2                       Int64"),
        "{stdout}"
    );
    let (code, stdout, stderr) = etl(&["--config", "pipeline.yaml", "--json"], dir.path());
    assert_eq!(code, 0, "{stderr}");
    let manifest: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(manifest["rows"]["filtered"], 1);
    assert_eq!(manifest["transform"]["columns_after"][1]["name"], "x2");

    std::fs::write(
        dir.path().join("pipeline.yaml"),
        "etl:\n  transform:\n    sql: SELECT id, y FROM input\n",
    )
    .unwrap();
    let (code, _, stderr) = etl(&["--config", "pipeline.yaml", "--dry-run"], dir.path());
    assert_eq!(code, 1);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("etl: error: etl.transform.sql: "),
        "{stderr}"
    );
    assert!(
        stderr.contains("y") && stderr.contains("Valid fields are"),
        "{stderr}"
    );
}
