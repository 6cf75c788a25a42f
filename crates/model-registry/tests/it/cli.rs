//! The `model-registry` binary on a local registry: outputs, `--json`, exit codes.

use std::path::Path;
use std::process::Command;

fn registry(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_model-registry"))
        .arg("--registry")
        .arg(dir.join("models"))
        .args(args)
        .current_dir(dir)
        .env("CAUCE_LOG_DIR", dir.join("logs"))
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn publish(dir: &Path, accuracy: f64) -> String {
    std::fs::write(dir.join("model.bin"), format!("weights {accuracy}")).unwrap();
    std::fs::write(
        dir.join("card.json"),
        format!(
            r#"{{"name": "m", "metrics": {{"accuracy": {accuracy}}}, "better": {{"accuracy": "higher"}}}}"#
        ),
    )
    .unwrap();
    let (code, stdout, stderr) = registry(
        dir,
        &["publish", "--file", "model.bin", "--card", "card.json"],
    );
    assert_eq!(code, 0, "{stderr}");
    stdout.trim().trim_start_matches("published ").to_string()
}

#[test]
fn a_session_with_every_command() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    assert_eq!(publish(dir, 0.9), "v1");
    assert_eq!(publish(dir, 0.8), "v2");
    assert_eq!(publish(dir, 0.95), "v3");

    let (code, out, _) = registry(dir, &["promote", "v1", "--reason", "first"]);
    assert_eq!(
        (code, out.trim()),
        (0, "latest: - → v1 (promote, record 1)")
    );
    let (code, out, _) = registry(dir, &["promote", "v2", "--if-better", "accuracy"]);
    assert_eq!(code, 3, "refusal exits 3: {out}");
    assert_eq!(
        out.trim(),
        "accuracy: candidate v2 = 0.8 (higher is better); latest is v1 with 0.9 → refused: not better"
    );
    let (code, out, _) = registry(dir, &["promote", "v3", "--if-better", "accuracy"]);
    assert_eq!(code, 0, "{out}");
    let (code, out, _) = registry(dir, &["rollback"]);
    assert_eq!(
        (code, out.trim()),
        (0, "latest: v3 → v1 (rollback, record 3)")
    );

    let (_, out, _) = registry(dir, &["history"]);
    assert!(out.contains("SEQ") && out.contains("rollback"), "{out}");
    let (_, out, _) = registry(dir, &["--json", "history"]);
    let history: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(history.as_array().unwrap().len(), 3);

    let (_, out, _) = registry(dir, &["list"]);
    let v1_line = out
        .lines()
        .find(|l| l.trim_start().starts_with("v1"))
        .unwrap();
    assert!(
        v1_line.contains("latest") && v1_line.contains("accuracy=0.9000"),
        "{out}"
    );
    let (_, out, _) = registry(dir, &["--json", "list"]);
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(list[0]["aliases"], serde_json::json!(["latest"]));

    let (code, out, _) = registry(dir, &["show", "latest"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("version:    v1"), "{out}");
    let (_, out, _) = registry(dir, &["compare", "v1", "v3"]);
    assert!(out.contains("+0.04999"), "{out}");

    // The report of a version published without one, whose card holds no
    // training record: a one-line error naming the file.
    let (code, _, err) = registry(dir, &["report", "v3"]);
    assert_eq!(code, 1);
    assert!(
        err.trim()
            .starts_with("model-registry: error: v3/model_card.json: no report.html")
            && err.lines().count() == 1,
        "{err}"
    );

    let (code, out, _) = registry(dir, &["verify"]);
    assert_eq!((code, out.lines().count()), (0, 3), "{out}");
    std::fs::write(dir.join("models/versioned/v2/model.bin"), "tampered").unwrap();
    let (code, out, _) = registry(dir, &["verify", "v2"]);
    assert_eq!(code, 1);
    assert!(
        out.starts_with("v2/model.bin: corrupted: size mismatch"),
        "{out}"
    );

    let (code, _, err) = registry(dir, &["delete", "v1"]);
    assert_eq!(code, 1);
    assert_eq!(
        err.trim(),
        "model-registry: error: v1 is the current version of alias(es) latest; promote another version first"
    );
    let (code, out, _) = registry(dir, &["delete", "v2"]);
    assert_eq!((code, out.trim()), (0, "deleted v2"));
    let (code, out, _) = registry(dir, &["gc", "--grace-period", "0s"]);
    assert_eq!((code, out.trim()), (0, "nothing to collect"));
    let log = std::fs::read_to_string(dir.join("logs/registry.log")).unwrap();
    assert!(log.contains("INFO  registry published v3"), "{log}");
}

#[test]
fn bad_references_are_one_line_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, _, err) = registry(tmp.path(), &["show", "v9"]);
    assert_eq!(code, 1);
    assert!(
        err.trim()
            .ends_with("version v9 not found (see `model-registry list`)"),
        "{err}"
    );
    let (code, _, err) = registry(tmp.path(), &["promote", "v1", "--alias", "../x"]);
    assert_eq!(code, 1);
    assert_eq!(err.lines().count(), 1);
    assert!(err.contains("invalid alias '../x'"), "{err}");
    let (code, _, err) = registry(tmp.path(), &["show", "latest"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("alias 'latest' has never been promoted"),
        "{err}"
    );
}
