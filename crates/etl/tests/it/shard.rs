//! Sharded ETL: `--shard I/N` over the same inputs, merged, gives the rows
//! one unsharded run gives (train, test and quarantine with their reasons,
//! as sets), for N = 1, 2, 4 and 7, on local disk and on the S3 test
//! server, with duplicates and unique keys spread over files of different
//! shards; the merge refuses missing and stale shards and publishes nothing
//! then; a rerun shard replaces only its own part.

use common::shard::Shard;
use etl::{EtlConfig, Manifest, RunOptions};

use crate::helpers::{Fixture, config};

/// Keyed split, exact de-duplication, a unique id, a range rule; one run
/// kept per shard, so a rerun shard prunes all it may.
const CONFIG: &str = "
columns:
  id: {type: int64}
  x: {type: float64, min: 0}
  label: {type: string}
deduplicate: true
unique: [id]
split: {test: 0.25, validation: 0.1, seed: 7, key: [id]}
max_rows_per_file: 50
keep_runs: 1
max_quarantined: 1
";

/// Nine files of 60 rows. Within a file: exact duplicates, repeated ids
/// with other values (unique violations), negative x (invalid) and
/// unparsable x. Across files: copies of the previous file's rows, of
/// file 0's (in every file), and its ids with other values, then repeated
/// again within the file.
fn files() -> Vec<(String, Vec<u8>)> {
    (0..9)
        .map(|f| {
            let mut csv = String::from("id,x,label\n");
            for r in 0..60 {
                let id = f * 1000 + r;
                match r % 10 {
                    3 => csv.push_str(&format!("{},{}.5,b\n", id - 1, r)), // unique clash, other values
                    5 => csv.push_str(&format!("{id},-{r},a\n")),          // invalid: min
                    7 => csv.push_str(&format!("{id},seven,a\n")),         // invalid: cast
                    _ => csv.push_str(&format!("{id},{r}.25,{}\n", ["a", "b", "c"][r % 3])),
                }
                if r % 11 == 0 {
                    csv.push_str(&format!("{id},{r}.25,{}\n", ["a", "b", "c"][r % 3])); // exact duplicate
                }
            }
            if f >= 1 {
                let previous = (f - 1) * 1000;
                csv.push_str(&format!("{},1.25,b\n", previous + 1)); // a copy
                csv.push_str(&format!("{},99.5,z\n", previous + 2)); // its id, other values
                csv.push_str(&format!("{},98.5,y\n", previous + 2)); // and again
                csv.push_str("4,4.25,b\n"); // a copy of file 0's row in every file
            }
            (format!("part-{f:02}.csv"), csv.into_bytes())
        })
        .collect()
}

async fn fixture(backend: &str, extra: &[(String, Vec<u8>)]) -> Fixture {
    let mut all = files();
    all.extend(extra.iter().cloned());
    let named: Vec<(&str, &[u8])> = all
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    Fixture::new(backend, &named).await
}

fn options(fx: &Fixture, out: &str, shard: Shard) -> RunOptions {
    RunOptions::new(fx.root().join("raw").unwrap(), fx.root().join(out).unwrap()).with_shard(shard)
}

/// Every row of each dataset, sorted.
async fn rows(fx: &Fixture, out: &str, m: &Manifest) -> Vec<Vec<Vec<Option<String>>>> {
    let mut all = Vec::new();
    for dataset in ["train", "test", "validation", "quarantine"] {
        let mut rows = fx.rows_in(out, m, dataset).await;
        rows.sort();
        all.push(rows);
    }
    all
}

/// Runs N shards (in a shuffled order) and merges them.
async fn sharded(fx: &Fixture, config: &EtlConfig, out: &str, n: usize) -> Manifest {
    let order: Vec<usize> = (0..n).map(|i| (i * 3 + 1) % n).collect();
    for index in order {
        let shard = Shard { index, count: n };
        let report = etl::run(config, &options(fx, out, shard)).await.unwrap();
        let record = report.manifest.shard.as_ref().unwrap();
        assert_eq!((record.index, record.count), (index, n));
    }
    etl::merge(config, &options(fx, out, Shard::default()), None)
        .await
        .unwrap()
        .manifest
}

async fn same_as_unsharded(backend: &str) {
    let fx = fixture(backend, &[]).await;
    let config = config(CONFIG);
    let one = etl::run(&config, &options(&fx, "one", Shard::default()))
        .await
        .unwrap()
        .manifest;
    assert!(one.rows.duplicates > 0 && one.rows.quarantined > 0 && one.rows.test > 0);
    // Every shard count below puts some copies in other shards than their
    // first row: the merge settles them.
    assert!(one.rows.duplicates >= 2 * 8, "{}", one.rows);
    assert!(
        one.quarantine_reasons
            .keys()
            .any(|k| k.starts_with("unique"))
    );
    let expected = rows(&fx, "one", &one).await;
    for n in [1, 2, 4, 7] {
        let out = format!("sharded-{n}");
        let merged = if n == 1 {
            let shard = Shard { index: 0, count: 1 };
            etl::run(&config, &options(&fx, &out, shard))
                .await
                .unwrap()
                .manifest
        } else {
            sharded(&fx, &config, &out, n).await
        };
        assert_eq!(merged.rows, one.rows, "N = {n}");
        assert_eq!(merged.quarantine_reasons, one.quarantine_reasons, "N = {n}");
        assert_eq!(merged.inputs, one.inputs, "N = {n}");
        assert_eq!(merged.schema, one.schema, "N = {n}");
        assert_eq!(rows(&fx, &out, &merged).await, expected, "N = {n}");
        let profile = merged.profile.as_ref().unwrap();
        assert_eq!(profile.rows, one.rows.train);
        if n > 1 {
            // Recomputed from the final parts once rows were settled.
            let whole = one.profile.as_ref().unwrap();
            assert_eq!(profile.columns[0].nulls, whole.columns[0].nulls);
            assert_eq!(profile.columns[2], whole.columns[2]);
        }
        if n > 1 {
            let shards = merged.shards.as_ref().unwrap();
            assert_eq!((shards.count, shards.shards.len()), (n, n));
            assert!(merged.report.is_some());
            // Merging again finds nothing to do.
            let again = etl::merge(&config, &options(&fx, &out, Shard::default()), None)
                .await
                .unwrap();
            assert!(again.up_to_date && again.manifest == merged, "N = {n}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shards_merge_to_the_unsharded_rows_on_local_disk() {
    same_as_unsharded("local").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shards_merge_to_the_unsharded_rows_on_s3() {
    if common::testing::skip_s3() {
        return;
    }
    same_as_unsharded("s3").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_merge_refuses_missing_and_mismatched_shards() {
    let clash = (
        "part-99.csv".to_string(),
        // id 6 is in part-00.csv (shard 0 of 2); part-99 is file 9 (shard 1).
        b"id,x,label\n6,6.25,c\n".to_vec(),
    );
    let fx = fixture("memory", &[clash]).await;
    let config = config(CONFIG);
    let whole = options(&fx, "out", Shard::default());
    let merge = || etl::merge(&config, &whole, None);
    let manifest = fx.root().join("out/_manifest.json").unwrap();

    let e = merge().await.unwrap_err().to_string();
    assert!(e.contains("no shard manifests"), "{e}");
    let shard = |index| options(&fx, "out", Shard { index, count: 2 });
    etl::run(&config, &shard(0)).await.unwrap();
    let e = merge().await.unwrap_err().to_string();
    assert!(
        e.contains("1 of 2 shards have not published: _manifest.shard-1-of-2.json"),
        "{e}"
    );
    etl::run(&config, &shard(1)).await.unwrap();

    // Another config than the shards ran with.
    let other = config_with("split: {test: 0.3, seed: 7, key: [id]}");
    let e = etl::merge(&other, &options(&fx, "out", Shard::default()), None)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("_manifest.shard-0-of-2.json ran with another etl config"),
        "{e}"
    );
    assert!(!manifest.exists().await.unwrap(), "nothing published");
    // Regression (issue 27.6): a shard's part changed after it was written
    // is refused, naming it.
    let shard1: Manifest = fx
        .root()
        .join("out/_manifest.shard-1-of-2.json")
        .unwrap()
        .read_json()
        .await
        .unwrap();
    let part = fx
        .root()
        .join("out")
        .unwrap()
        .join(&shard1.files("test")[0].path)
        .unwrap();
    let original = part.get().await.unwrap();
    let mut flipped = original.to_vec();
    flipped[original.len() / 2] ^= 1;
    part.put(flipped).await.unwrap();
    let e = merge().await.unwrap_err().to_string();
    assert!(
        e.starts_with(&format!("{part}: SHA-256 "))
            && e.contains("not the file its manifest lists"),
        "{e}"
    );
    assert!(!manifest.exists().await.unwrap(), "nothing published");
    part.put(original).await.unwrap();
    // With the shards' own config it merges, the repeated id settled.
    let merged = merge().await.unwrap().manifest;
    assert!(merged.quarantine_reasons["unique(id)"] > 0);
}

/// De-duplicating on x and checking id: file b's first row is a copy (by x)
/// of file a's and claimed id 2, whose repeat shard 1 quarantined.
/// Unsharded, that repeat is the first id 2 and is kept: the merge cannot
/// settle this, and says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unrelated_dedup_and_unique_keys_across_shards_are_refused() {
    let fx = Fixture::memory(&[
        ("a.csv", b"id,x,label\n1,5.5,a\n"),
        ("b.csv", b"id,x,label\n2,5.5,b\n2,7.5,c\n"),
    ])
    .await;
    let config = config(
        "columns:\n  id: {type: int64}\n  x: {type: float64}\ndedup_key: [x]\nunique: [id]\nsplit: {test: 0.5, seed: 1, key: [id]}\nallow_empty: true\nmax_quarantined: 1\n",
    );
    for index in 0..2 {
        etl::run(&config, &options(&fx, "out", Shard { index, count: 2 }))
            .await
            .unwrap();
    }
    let e = etl::merge(&config, &options(&fx, "out", Shard::default()), None)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("cannot be settled") && e.contains("b.csv:2"),
        "{e}"
    );
    let manifest = fx.root().join("out/_manifest.json").unwrap();
    assert!(!manifest.exists().await.unwrap(), "nothing published");
}

fn config_with(split: &str) -> EtlConfig {
    let yaml: String = CONFIG
        .lines()
        .map(|l| if l.starts_with("split:") { split } else { l })
        .collect::<Vec<_>>()
        .join("\n");
    config(&yaml)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inputs_changed_between_shards_are_refused_and_a_rerun_shard_replaces_only_its_part() {
    let fx = fixture("local", &[]).await;
    let config = config(CONFIG);
    let shard = |index| options(&fx, "out", Shard { index, count: 3 });
    let whole = options(&fx, "out", Shard::default());
    let merge = || etl::merge(&config, &whole, None);
    for index in 0..3 {
        etl::run(&config, &shard(index)).await.unwrap();
    }
    let first = merge().await.unwrap().manifest;

    // A new input file lands: shard 1 reruns over it, the others did not.
    fx.root()
        .join("raw/part-50.csv")
        .unwrap()
        .put(b"id,x,label\n777777,1.5,a\n".to_vec())
        .await
        .unwrap();
    etl::run(&config, &shard(1)).await.unwrap();
    let e = merge().await.unwrap_err().to_string();
    assert!(
        e.contains("were made from different input files (9 and 10 files)"),
        "{e}"
    );
    // The published merge still reads files that exist.
    let current: Manifest = fx
        .root()
        .join("out/_manifest.json")
        .unwrap()
        .read_json()
        .await
        .unwrap();
    assert_eq!(current, first);
    for file in current.outputs.values().flatten() {
        let at = fx.root().join("out").unwrap().join(&file.path).unwrap();
        assert!(at.exists().await.unwrap(), "{at} is gone");
    }

    // The other shards rerun: shard 1 is up to date now and keeps its run.
    let shard1 = etl::run(&config, &shard(1)).await.unwrap();
    assert!(shard1.up_to_date);
    for index in [0, 2] {
        let report = etl::run(&config, &shard(index)).await.unwrap();
        assert!(!report.up_to_date);
    }
    let second = merge().await.unwrap().manifest;
    assert_eq!(second.rows.input, first.rows.input + 1);
    assert_eq!(second.inputs.len(), 10);
    let runs = |m: &Manifest| -> Vec<String> {
        m.shards
            .as_ref()
            .unwrap()
            .shards
            .iter()
            .map(|s| s.run_id.clone())
            .collect()
    };
    assert_eq!(runs(&second)[1], shard1.manifest.run_id);
    assert_ne!(runs(&second)[0], runs(&first)[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_split_key_each_shard_splits_its_own_rows_exactly() {
    let fx = fixture("memory", &[]).await;
    let config = config_with("split: {test: 0.25, seed: 7}");
    let mut test = 0;
    for index in 0..2 {
        let report = etl::run(&config, &options(&fx, "out", Shard { index, count: 2 }))
            .await
            .unwrap();
        let rows = report.manifest.rows;
        let valid = rows.train + rows.test;
        assert_eq!(rows.test, (valid as f64 * 0.25).ceil() as u64);
        test += rows.test;
    }
    let merged = etl::merge(&config, &options(&fx, "out", Shard::default()), None)
        .await
        .unwrap()
        .manifest;
    // Less the copies of other shards' rows the merge removed.
    assert!(merged.rows.test <= test && merged.rows.balanced());
}

/// One Parquet file of 300 rows in row groups of 40: copies and repeated
/// ids across row groups, negative x. Its shards are row groups.
async fn one_parquet(fx: &Fixture) {
    use std::sync::Arc;

    use arrow::array::{Float64Array, Int64Array, RecordBatch, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use common::storage::{ParquetCompression, ParquetSink, ParquetWriteOptions};

    let mut ids = Vec::new();
    let mut xs = Vec::new();
    let mut labels = Vec::new();
    for i in 0..300i64 {
        let (id, x, label) = if i >= 40 && i % 13 == 0 {
            (
                (i - 40),
                (i - 40) as f64 + 0.5,
                ["a", "b"][((i - 40) % 2) as usize],
            ) // a copy
        } else if i >= 50 && i % 17 == 0 {
            (i - 50, 1000.0 + i as f64, "z") // an earlier id, other values
        } else if i % 11 == 0 {
            (i, -1.0, "a") // invalid
        } else {
            (i, i as f64 + 0.5, ["a", "b"][(i % 2) as usize])
        };
        ids.push(id);
        xs.push(x);
        labels.push(label);
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, true),
        Field::new("x", DataType::Float64, true),
        Field::new("label", DataType::Utf8, true),
    ]));
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            Arc::new(Int64Array::from(ids)),
            Arc::new(Float64Array::from(xs)),
            Arc::new(StringArray::from(labels)),
        ],
    )
    .unwrap();
    let options = ParquetWriteOptions {
        compression: ParquetCompression::Snappy,
        row_group_size: 40,
    };
    let location = fx.root().join("parquet/all.parquet").unwrap();
    let mut sink = ParquetSink::create(&location, schema, &options).unwrap();
    sink.write(&batch).await.unwrap();
    sink.finish().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_parquet_file_is_sharded_by_row_group() {
    let fx = Fixture::memory(&[]).await;
    one_parquet(&fx).await;
    let config = config(CONFIG);
    let at = |out: &str, shard| RunOptions {
        input: fx.root().join("parquet/all.parquet").unwrap().into(),
        ..options(&fx, out, shard)
    };
    let one = etl::run(&config, &at("one", Shard::default()))
        .await
        .unwrap()
        .manifest;
    assert!(one.rows.duplicates > 0 && one.quarantine_reasons.contains_key("unique(id)"));
    let expected = rows(&fx, "one", &one).await;
    for n in [2, 3, 5, 9] {
        let out = format!("rg-{n}");
        for index in 0..n {
            let report = etl::run(&config, &at(&out, Shard { index, count: n }))
                .await
                .unwrap();
            assert_eq!(report.manifest.shard.unwrap().row_groups, Some(8));
        }
        let merged = etl::merge(&config, &at(&out, Shard::default()), None)
            .await
            .unwrap()
            .manifest;
        assert_eq!(merged.rows, one.rows, "N = {n}");
        assert_eq!(merged.inputs, one.inputs, "N = {n}");
        assert_eq!(merged.quarantine_reasons, one.quarantine_reasons, "N = {n}");
        // Quarantined rows keep their row numbers in the whole file.
        assert_eq!(rows(&fx, &out, &merged).await, expected, "N = {n}");
    }
}

/// With `on_invalid: drop`, shard 1 dropped a copy of shard 0's row as a
/// repeated id, and keeps no quarantine to find it in: refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copies_a_shard_dropped_as_invalid_are_refused() {
    let fx = Fixture::memory(&[
        ("a.csv", b"id,x,label\n1,5.5,a\n"),
        ("b.csv", b"id,x,label\n1,9.5,z\n1,5.5,a\n"),
    ])
    .await;
    let config = config(
        "columns:\n  id: {type: int64}\n  x: {type: float64}\ndeduplicate: true\nunique: [id]\non_invalid: drop\nsplit: {test: 0.5, seed: 1, key: [id]}\nallow_empty: true\nmax_quarantined: 1\n",
    );
    for index in 0..2 {
        etl::run(&config, &options(&fx, "out", Shard { index, count: 2 }))
            .await
            .unwrap();
    }
    let e = etl::merge(&config, &options(&fx, "out", Shard::default()), None)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("cannot merge the shards: 1 copies of other shards' rows")
            && e.contains("on_invalid: quarantine"),
        "{e}"
    );
    let manifest = fx.root().join("out/_manifest.json").unwrap();
    assert!(!manifest.exists().await.unwrap(), "nothing published");
}
