//! Drift against the training profile in the model card: measured on every
//! run, written into the manifest and the run's report, a warning past
//! `drift.warn` and a failed run (nothing published) past `drift.fail`.

use common::testing::TestStore;
use inference::Error;
use records::drift::{Level, Thresholds};

use crate::pipeline::{options, repo, shipped, trained};

/// The raw penguins with every body mass 1.5 kg heavier and every bird on
/// Torgersen: two columns far from the training split.
fn shifted() -> String {
    let raw = std::fs::read_to_string(repo("data/raw/penguins.csv")).unwrap();
    let mut lines = raw.lines();
    let mut out = format!("{}\n", lines.next().unwrap());
    for line in lines {
        let mut cells: Vec<String> = line.split(',').map(str::to_string).collect();
        if let Ok(mass) = cells[5].parse::<f64>() {
            cells[5] = format!("{}", mass + 1500.0);
        }
        cells[1] = "Torgersen".into();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_is_measured_reported_and_fails_the_run_past_the_threshold() {
    let store = TestStore::memory();
    let root = store.location();
    trained(root).await;
    let raw = std::fs::read(repo("data/raw/penguins.csv")).unwrap();
    root.join("same/penguins.csv")
        .unwrap()
        .put(raw)
        .await
        .unwrap();
    root.join("shifted/penguins.csv")
        .unwrap()
        .put(shifted())
        .await
        .unwrap();

    // The data the model was trained on (before the ETL's split) is stable.
    let mut config = shipped();
    config.drift = Thresholds {
        fail: Some(0.25),
        ..Thresholds::default()
    };
    let same = inference::run(&config, &options(root, "same/penguins.csv", "same-out"))
        .await
        .unwrap();
    let drift = same
        .manifest
        .drift
        .as_ref()
        .expect("the card holds a profile");
    assert_eq!(
        drift.level,
        Level::Stable,
        "{:?}",
        drift.at_least(Level::Warn)
    );
    assert_eq!(drift.rows, same.manifest.rows.input);
    let columns: Vec<&str> = drift.columns.iter().map(|c| c.name.as_str()).collect();
    assert!(
        columns.contains(&"body_mass_g") && columns.contains(&"island"),
        "{columns:?}"
    );
    let report = same
        .manifest
        .report
        .as_ref()
        .expect("a report beside the outputs");
    let page = root
        .join(&format!("same-out/{}", report.path))
        .unwrap()
        .get()
        .await
        .unwrap();
    let page = String::from_utf8(page.to_vec()).unwrap();
    assert!(page.contains("Drift against the training data") && page.contains("Overall: stable"));

    // Shifted data past `fail`: the run fails naming the columns, and
    // publishes nothing.
    let err = inference::run(
        &config,
        &options(root, "shifted/penguins.csv", "shifted-out"),
    )
    .await
    .unwrap_err();
    let Error::Drift { columns, .. } = &err else {
        panic!("{err}")
    };
    assert!(
        columns.iter().any(|c| c.starts_with("body_mass_g (PSI"))
            && columns.iter().any(|c| c.starts_with("island (PSI")),
        "{err}"
    );
    assert!(err.to_string().contains("nothing published"), "{err}");
    assert!(
        root.join("shifted-out")
            .unwrap()
            .list()
            .await
            .unwrap()
            .is_empty()
    );

    // Without `fail` the same run publishes, with the drift recorded.
    config.drift.fail = None;
    let warned = inference::run(
        &config,
        &options(root, "shifted/penguins.csv", "shifted-out"),
    )
    .await
    .unwrap();
    let drift = warned.manifest.drift.as_ref().unwrap();
    assert_eq!(drift.level, Level::Warn);
    let mass = drift
        .columns
        .iter()
        .find(|c| c.name == "body_mass_g")
        .unwrap();
    assert!(
        mass.psi > 1.0 && mass.unseen_rate.unwrap() > 0.2,
        "{mass:?}"
    );
    let island = drift.columns.iter().find(|c| c.name == "island").unwrap();
    assert!(island.psi > 0.25, "{island:?}");
    let flipper = drift
        .columns
        .iter()
        .find(|c| c.name == "flipper_length_mm")
        .unwrap();
    assert_eq!(flipper.level, Level::Stable, "{flipper:?}");
}

/// Issue 28.11 (a README claim without a test): shards each too small to be
/// judged (below `min_rows`) publish, and `inference merge`, judging all
/// their rows together, refuses past `drift.fail` and publishes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_merge_refuses_shards_whose_rows_together_drift_past_fail() {
    let store = TestStore::memory();
    let root = store.location();
    trained(root).await;
    // Two files of 150 shifted rows; each shard scores one.
    let shifted = shifted();
    let mut lines = shifted.lines();
    let header = lines.next().unwrap().to_string();
    let body: Vec<&str> = lines.take(300).collect();
    for (i, part) in body.chunks(150).enumerate() {
        let text = format!("{header}\n{}\n", part.join("\n"));
        root.join(&format!("shifted/part-{i}.csv"))
            .unwrap()
            .put(text)
            .await
            .unwrap();
    }
    let mut config = shipped();
    config.drift = Thresholds {
        fail: Some(0.25),
        min_rows: 200,
        ..Thresholds::default()
    };
    for index in 0..2 {
        let mut shard = options(root, "shifted", "out");
        shard.shard = inference::Shard { index, count: 2 };
        let report = inference::run(&config, &shard).await.unwrap();
        let drift = report.manifest.drift.as_ref().unwrap();
        assert_eq!(drift.level, Level::Stable, "150 rows are not judged");
    }
    let err = inference::merge(&config, &root.join("out").unwrap(), None, false)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Drift { .. }), "{err}");
    assert!(err.to_string().contains("body_mass_g"), "{err}");
    assert!(
        !root
            .join("out/_manifest.json")
            .unwrap()
            .exists()
            .await
            .unwrap()
    );
}
