//! `etl.transform`: a SQL query over the cleaned penguins with a derived
//! feature, a lookup in a reference table and a filter, on memory, local
//! disk and S3; every row accounted for (`filtered` included); a failing
//! row quarantined with its error; sharded equal to unsharded; a changed
//! reference table reruns; every error a user can make named in one line.

use std::path::Path;

use common::shard::Shard;
use etl::Manifest;

use crate::helpers::{Fixture, config};

const ISLANDS: &str = "island,area_km2\nBiscoe,67.5\nDream,5.1\nTorgersen,0.3\n";

const TRANSFORM: &str = r#"
columns:
  species: {type: string, required: true}
  island: {type: string}
  bill_length_mm: {type: float64}
  bill_depth_mm: {type: float64}
  year: {type: int64}
null_tokens: ["", "NA"]
transform:
  sql: |
    SELECT p.species, p.island, p.year,
           p.bill_length_mm / p.bill_depth_mm AS bill_ratio,
           i.area_km2
    FROM input p LEFT JOIN islands i ON p.island = i.island
    WHERE p.year >= 2008
  tables:
    islands: ROOT/ref/islands.csv
split: {test: 0.25, seed: 3, stratify: species}
"#;

fn penguins() -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/raw/penguins.csv"))
        .unwrap()
}

async fn put_islands(fx: &Fixture) {
    let at = fx.root().join("ref/islands.csv").unwrap();
    at.put(ISLANDS).await.unwrap();
}

async fn fixture(backend: &str) -> Fixture {
    let csv = penguins();
    let fx = Fixture::new(backend, &[("penguins.csv", &csv)]).await;
    put_islands(&fx).await;
    fx
}

fn yaml(fx: &Fixture, body: &str) -> String {
    body.replace("ROOT", &fx.root().to_string())
}

async fn transformed(backend: &str) -> (Fixture, Manifest) {
    let fx = fixture(backend).await;
    let report = fx.run(&yaml(&fx, TRANSFORM)).await.unwrap();
    (fx, report.manifest)
}

fn check(m: &Manifest) {
    // 344 penguins; 110 are from 2007; two lack every measurement but keep
    // their year, so bill_ratio is null for them, not an error.
    assert_eq!(m.rows.input, 344);
    assert_eq!(m.rows.filtered, 110, "{:?}", m.rows);
    assert!(m.rows.balanced(), "{:?}", m.rows);
    assert_eq!(m.rows.train + m.rows.test, 344 - 110 - m.rows.duplicates);
    let names: Vec<&str> = m.schema.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["species", "island", "year", "bill_ratio", "area_km2"]
    );
    let transform = m.transform.as_ref().expect("the transform is recorded");
    assert!(transform.sql.contains("bill_ratio"));
    assert_eq!(transform.tables.len(), 1);
    assert_eq!(transform.tables[0].name, "islands");
    assert_eq!(transform.tables[0].rows, 3);
    assert_eq!(
        transform.tables[0].sha256,
        common::checksum::sha256_hex(ISLANDS.as_bytes())
    );
    assert_eq!(
        transform.columns_before.len(),
        8,
        "declared and inferred columns"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transform_derives_looks_up_and_filters_on_every_backend() {
    let (fx, m) = transformed("memory").await;
    check(&m);
    let rows = fx.output_rows(&m).await;
    let biscoe = rows
        .iter()
        .find(|r| r[1].as_deref() == Some("Biscoe"))
        .unwrap();
    assert_eq!(biscoe[4].as_deref(), Some("67.5"));
    assert!(rows.iter().all(|r| r[2].as_deref() != Some("2007")));
    let ratio: f64 = rows[0][3].as_deref().unwrap().parse().unwrap();
    assert!(ratio > 1.0 && ratio < 4.0, "{ratio}");
    let mut expected = rows;
    for backend in ["local", "s3"] {
        if common::testing::skip(backend) {
            continue;
        }
        let (other, m) = transformed(backend).await;
        check(&m);
        let mut got = other.output_rows(&m).await;
        got.sort();
        expected.sort();
        assert_eq!(got, expected, "{backend}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_the_sql_cannot_compute_is_quarantined_with_the_error() {
    let csv = "id,code\n1,10\n2,x7\n3,30\n4,\n";
    let fx = Fixture::memory(&[("codes.csv", csv.as_bytes())]).await;
    let m = fx
        .run("columns: {id: {type: int64}, code: {type: string}}\ntransform:\n  sql: SELECT id, CAST(code AS BIGINT) AS code FROM input\nsplit: {test: 0.5, seed: 1}\n")
        .await
        .unwrap()
        .manifest;
    assert_eq!(m.rows.input, 4);
    assert_eq!(m.rows.quarantined, 1);
    assert!(m.rows.balanced());
    assert_eq!(
        m.quarantine_reasons.get("transform"),
        Some(&1),
        "{:?}",
        m.quarantine_reasons
    );
    let quarantined = fx.quarantine(&m).await;
    assert_eq!(quarantined.len(), 1);
    assert_eq!(quarantined[0].0, "transform");
    assert_eq!(quarantined[0].1, "codes.csv:3");
    assert_eq!(quarantined[0].2, [Some("2".into()), Some("x7".into())]);
    let example = &m.quarantine_examples["transform"];
    assert!(
        example.contains("code = CAST(code AS BIGINT): cannot cast to Int64: 'x7'"),
        "the reason names the SQL expression and the value: {example}"
    );
}

/// The penguins in two files, a.csv and b.csv, with the islands table.
async fn halves() -> Fixture {
    let text = String::from_utf8(penguins()).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().to_string();
    let body: Vec<&str> = lines.collect();
    let (a, b) = body.split_at(body.len() / 2);
    let halves: Vec<Vec<u8>> = [a, b]
        .iter()
        .map(|part| format!("{header}\n{}\n", part.join("\n")).into_bytes())
        .collect();
    let fx = Fixture::memory(&[("a.csv", &halves[0]), ("b.csv", &halves[1])]).await;
    put_islands(&fx).await;
    fx
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sharded_transform_equals_the_unsharded_one() {
    let fx = halves().await;
    let body = yaml(&fx, TRANSFORM).replace(
        "stratify: species",
        "key: [species, island, year, bill_ratio]",
    );
    let yaml = format!("allow_empty: true\nmax_quarantined: 1\n{body}");
    let config = config(&yaml);
    let whole = etl::run(&config, &fx.options()).await.unwrap().manifest;
    let sharded = |out: &str, shard| {
        let mut options = fx.options().with_shard(shard);
        options.output = fx.root().join(out).unwrap();
        options
    };
    for index in 0..2 {
        etl::run(&config, &sharded("sharded", Shard { index, count: 2 }))
            .await
            .unwrap();
    }
    let merged = etl::merge(&config, &sharded("sharded", Shard::default()), None)
        .await
        .unwrap()
        .manifest;
    assert_eq!(merged.rows, whole.rows);
    assert_eq!(merged.transform, whole.transform);
    for dataset in ["train", "test"] {
        let mut a = fx.rows(&whole, dataset).await;
        let mut b = fx.rows_in("sharded", &merged, dataset).await;
        a.sort();
        b.sort();
        assert_eq!(a, b, "{dataset}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_reference_table_reruns_and_an_unchanged_one_does_not() {
    let fx = fixture("memory").await;
    let yaml = yaml(&fx, TRANSFORM);
    let first = fx.run(&yaml).await.unwrap();
    assert!(!first.up_to_date);
    assert!(fx.run(&yaml).await.unwrap().up_to_date);
    let edited = ISLANDS.replace("67.5", "68.0");
    fx.root()
        .join("ref/islands.csv")
        .unwrap()
        .put(edited.clone())
        .await
        .unwrap();
    let again = fx.run(&yaml).await.unwrap();
    assert!(!again.up_to_date, "the table's checksum changed");
    let recorded = &again.manifest.transform.unwrap().tables[0].sha256;
    assert_eq!(*recorded, common::checksum::sha256_hex(edited.as_bytes()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transform_errors_name_the_key_the_column_or_the_table() {
    let fx = fixture("memory").await;
    let root = fx.root().to_string();
    for (body, says) in [
        (
            "transform: {sql: 'SELECT specie FROM input'}",
            "etl.transform.sql: ",
        ),
        (
            "transform: {sql: 'SELECT species FROM input i JOIN island j ON i.island = j.island', tables: {islands: ROOT/ref/islands.csv}}",
            "did you mean 'islands'",
        ),
        (
            "transform: {sql: 'SELECT species FROM input', tables: {islands: ROOT/ref/absent.csv}}",
            "etl.transform.tables.islands: ",
        ),
        (
            "transform: {sql: 'SELECT island, COUNT(*) AS n FROM input GROUP BY island'}",
            "not row-local",
        ),
        (
            "transform: {sql: 'SELECT species FROM input'}\nsplit: {stratify: island}",
            "etl.split.stratify",
        ),
    ] {
        let body = body.replace("ROOT", &root);
        let err = fx.run(&body).await.unwrap_err().to_string();
        assert!(err.contains(says), "{body}: {err}");
        assert!(!err.contains('\n'), "{err}");
        assert!(fx.manifest().await.is_none(), "nothing published");
    }
    let err = fx
        .run("transform: {sql: 'SELECT specie FROM input'}")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("Did you mean 'input.species'") || err.contains("species"),
        "{err}"
    );
    for (yaml, says) in [
        (
            "transform: {sql: 'SELECT species FROM input', tables: {Input: x.csv}}",
            "test.yaml: etl.transform.tables.Input: ",
        ),
        (
            "transform: {sql: ' '}",
            "test.yaml: etl.transform.sql: is empty",
        ),
        ("transform: {sql: 'SELECT 1', table: {}}", "table"),
    ] {
        let err = common::config::from_str::<etl::EtlConfig>(yaml, "test.yaml".as_ref())
            .map_err(|e| e.to_string())
            .and_then(|c| c.validate("test.yaml".as_ref()).map_err(|e| e.to_string()))
            .unwrap_err();
        assert!(err.contains(says), "{yaml}: {err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_input_transform_computes_over_every_file_and_refuses_shards() {
    let fx = halves().await;
    let body = r#"
columns:
  species: {type: string, required: true}
  island: {type: string}
  bill_length_mm: {type: float64}
null_tokens: ["", "NA"]
deduplicate: false
transform:
  whole_input: true
  sql: |
    SELECT p.species, p.island, p.bill_length_mm,
           AVG(p.bill_length_mm) OVER (PARTITION BY p.species) AS species_mean,
           n.penguins AS island_penguins
    FROM input p
    JOIN (SELECT island, COUNT(*) AS penguins FROM input GROUP BY island) n
      ON p.island = n.island
    WHERE p.bill_length_mm IS NOT NULL
split: {test: 0.25, seed: 3}
"#;
    let report = fx.run(body).await.unwrap();
    let m = report.manifest;
    assert_eq!(m.rows.input, 344);
    assert_eq!(m.rows.filtered, 2, "the two penguins without measurements");
    assert!(m.rows.balanced(), "{:?}", m.rows);
    assert!(m.transform.as_ref().unwrap().whole_input);
    let mut rows = fx.rows(&m, "train").await;
    rows.extend(fx.rows(&m, "test").await);
    assert_eq!(rows.len(), 342);
    let number = |v: &Option<String>| v.as_deref().unwrap().parse::<f64>().unwrap();
    for species in ["Adelie", "Chinstrap", "Gentoo"] {
        let of: Vec<_> = rows
            .iter()
            .filter(|r| r[0].as_deref() == Some(species))
            .collect();
        let mean = of.iter().map(|r| number(&r[2])).sum::<f64>() / of.len() as f64;
        for row in &of {
            assert!((number(&row[3]) - mean).abs() < 1e-9, "{species}: {row:?}");
        }
    }
    // The counts span both files and the rows the WHERE left out.
    for (island, count) in [("Biscoe", "168"), ("Dream", "124"), ("Torgersen", "52")] {
        let row = rows
            .iter()
            .find(|r| r[1].as_deref() == Some(island))
            .unwrap();
        assert_eq!(row[4].as_deref(), Some(count), "{island}");
    }
    let mut options = fx.options().with_shard(Shard { index: 0, count: 2 });
    options.output = fx.root().join("sharded").unwrap();
    let refused = etl::run(&config(&format!("allow_empty: true\n{body}")), &options)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("etl.transform.whole_input") && refused.contains("shard 0/2"),
        "{refused}"
    );
}
