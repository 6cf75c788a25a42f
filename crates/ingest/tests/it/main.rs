//! The reader layer on every backend (`local::*`, `memory::*` and `s3::*`, a
//! real S3-compatible server): CSV and NDJSON, plain and gzip, read in
//! parallel chunks give every row with its source line, rejected rows with
//! theirs, and the same rows whatever the compression.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;

use arrow::array::{Array, AsArray};
use common::storage::{FileFormat, Location, select_inputs};
use futures::StreamExt;
use ingest::CsvConfig;
use ingest::clean::Cleaner;
use ingest::progress::Progress;
use ingest::read::{self, RawBatch, SourceFile};

macro_rules! backend {
    ($backend:ident: $($test:ident),*) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let Some(store) =
                        common::testing::TestStore::unless_skipped(stringify!($backend))
                    else {
                        return;
                    };
                    super::$test(store.location()).await;
                }
            )*
        }
    };
}

macro_rules! conformance {
    ($($test:ident),* $(,)?) => {
        backend!(local: $($test),*);
        backend!(memory: $($test),*);
        backend!(s3: $($test),*);
    };
}

conformance!(
    csv_plain_and_gzip_give_every_row_with_its_line,
    ndjson_plain_and_gzip_set_bad_lines_aside,
    a_missing_file_is_named,
);

/// A CSV with quoted delimiters, nulls in two spellings and a ragged row.
fn penguin_csv(rows: usize) -> String {
    let mut text = String::from("id,species,bill_length_mm,island\n");
    for i in 0..rows {
        let bill = match i % 10 {
            3 => "NA".to_string(),
            7 => String::new(),
            _ => format!("{:.1}", 30.0 + (i % 200) as f64 / 10.0),
        };
        let island = if i % 4 == 0 {
            "\"Torgersen, North\""
        } else {
            "Biscoe"
        };
        match i {
            777 => text.push_str("777,Adelie,ragged\n"),
            _ => text.push_str(&format!("{i},Adelie,{bill},{island}\n")),
        }
    }
    text
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Reads `location` (one file) in batches of `batch_size` rows.
async fn read_all(location: &Location, batch_size: usize) -> (Vec<String>, Vec<RawBatch>) {
    let file = select_inputs(&location.to_string())
        .await
        .unwrap()
        .remove(0);
    let name = file.location.file_name().to_string();
    let (format, compression) = FileFormat::from_name(&name).unwrap();
    let source = SourceFile {
        index: 0,
        file,
        format,
        compression,
        row_groups: None,
    };
    let (names, pieces) = read::open(
        &source,
        &CsvConfig::default(),
        None,
        batch_size,
        read::UnknownKeys::Reject,
        Progress::hidden(),
    )
    .await
    .unwrap();
    let batches = pieces
        .map(|piece| piece.unwrap().into_batch().unwrap())
        .collect()
        .await;
    (names, batches)
}

/// Every row's line and cells, then every rejected row's line and reason.
type Rows = (Vec<(u64, Vec<Option<String>>)>, Vec<(u64, String)>);

fn rows(batches: &[RawBatch]) -> Rows {
    let mut out = Rows::default();
    for batch in batches {
        for (i, &line) in batch.rows.iter().enumerate() {
            let cells = batch
                .batch
                .columns()
                .iter()
                .map(|c| {
                    let c = c.as_string::<i32>();
                    c.is_valid(i).then(|| c.value(i).to_string())
                })
                .collect();
            out.0.push((line, cells));
        }
        out.1
            .extend(batch.rejected.iter().map(|r| (r.row, r.reason.to_string())));
    }
    out
}

pub async fn csv_plain_and_gzip_give_every_row_with_its_line(root: &Location) {
    let text = penguin_csv(50_000);
    let plain = root.join("raw/penguins.csv").unwrap();
    plain.put(text.clone()).await.unwrap();
    let packed = root.join("gz/penguins.csv.gz").unwrap();
    packed.put(gzip(text.as_bytes())).await.unwrap();

    let (names, batches) = read_all(&plain, 4096).await;
    assert_eq!(names, ["id", "species", "bill_length_mm", "island"]);
    assert!(batches.len() > 10, "read in many batches");
    let (good, rejected) = rows(&batches);
    assert_eq!(good.len(), 49_999);
    assert_eq!(
        good[0],
        (
            2,
            vec![
                Some("0".into()),
                Some("Adelie".into()),
                Some("30.0".into()),
                Some("Torgersen, North".into())
            ]
        )
    );
    assert_eq!(good.last().unwrap().0, 50_001, "source lines");
    assert_eq!(
        rejected,
        [(779, "ragged: expected 4 fields, found 3".to_string())]
    );
    // Text stays text; the cleaner makes null tokens nulls.
    assert_eq!(good[3].1[2].as_deref(), Some("NA"));
    let cleaner = Cleaner {
        trim: true,
        null_tokens: vec![String::new(), "NA".into()],
    };
    let bills = cleaner.clean(batches[0].batch.column(2)).unwrap();
    assert!(bills.is_null(3) && bills.is_null(7) && !bills.is_null(8));

    let (_, unpacked) = read_all(&packed, 1000).await;
    assert_eq!(rows(&unpacked), (good, rejected), "gzip reads like plain");
    // Strict reading stops at the first rejected row.
    let strict: Result<Vec<RawBatch>, _> = batches
        .into_iter()
        .map(|b| b.strict("penguins.csv"))
        .collect();
    assert_eq!(
        strict.unwrap_err().to_string(),
        "penguins.csv: line 779: ragged: expected 4 fields, found 3"
    );
}

pub async fn ndjson_plain_and_gzip_set_bad_lines_aside(root: &Location) {
    let mut text = String::new();
    for i in 0..3000 {
        match i {
            1500 => text.push_str("{\"id\": 1500, \"x\": \n"),
            2000 => text.push_str("[1, 2]\n"),
            _ => text.push_str(&format!(
                "{{\"id\": {i}, \"x\": \"v{i}\", \"n\": {{\"k\": {i}}}}}\n"
            )),
        }
    }
    let plain = root.join("raw/rows.ndjson").unwrap();
    plain.put(text.clone()).await.unwrap();
    let packed = root.join("gz/rows.ndjson.gz").unwrap();
    packed.put(gzip(text.as_bytes())).await.unwrap();

    let (names, batches) = read_all(&plain, 700).await;
    assert_eq!(names, ["id", "x", "n"]);
    let (good, rejected) = rows(&batches);
    assert_eq!(good.len(), 2998);
    assert_eq!(
        good[0],
        (
            1,
            vec![
                Some("0".into()),
                Some("v0".into()),
                Some(r#"{"k":0}"#.into())
            ]
        )
    );
    let lines: Vec<u64> = rejected.iter().map(|r| r.0).collect();
    assert_eq!(lines, [1501, 2001]);
    assert!(
        rejected[1]
            .1
            .contains("expected a JSON object, found an array"),
        "{rejected:?}"
    );
    let (_, unpacked) = read_all(&packed, 700).await;
    assert_eq!(rows(&unpacked), (good, rejected), "gzip reads like plain");
}

pub async fn a_missing_file_is_named(root: &Location) {
    let missing = root.join("raw/absent.csv").unwrap();
    let err = select_inputs(&missing.to_string()).await.unwrap_err();
    assert!(err.to_string().contains("absent.csv"), "{err}");
}
