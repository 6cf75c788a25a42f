//! Backend-independent storage behaviour. Each function gets an empty location.

use std::io::Write;
use std::sync::Arc;

use arrow::array::{Array, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::compute::concat_batches;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use common::Error;
use common::checksum::{object_sha256, sha256_hex};
use common::storage::{
    Compression, Location, ParquetCompression, ParquetSink, ParquetSource, ParquetWriteOptions,
    select_inputs,
};
use futures::TryStreamExt;

pub async fn put_get_head_round_trip(root: &Location) {
    let object = root.join("a/b/hello.txt").unwrap();
    object.put(&b"hello, world"[..]).await.unwrap();
    assert_eq!(object.get().await.unwrap().as_ref(), b"hello, world");
    assert_eq!(object.head().await.unwrap().size, 12);
    assert_eq!(object.get_range(7..12).await.unwrap().as_ref(), b"world");
    assert!(object.exists().await.unwrap());
    // Overwrite replaces.
    object.put(&b"bye"[..]).await.unwrap();
    assert_eq!(object.get().await.unwrap().as_ref(), b"bye");
}

pub async fn missing_object_is_not_found(root: &Location) {
    let missing = root.join("nope/missing.bin").unwrap();
    let err = missing.get().await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert_eq!(err.to_string(), format!("{missing}: not found"));
    assert!(missing.head().await.unwrap_err().is_not_found());
    assert!(!missing.exists().await.unwrap());
}

pub async fn create_if_absent_twice_fails_the_second_time(root: &Location) {
    let claim = root.join("versioned/v1/_claim").unwrap();
    claim.put_if_absent(&b"first"[..]).await.unwrap();
    let err = claim.put_if_absent(&b"second"[..]).await.unwrap_err();
    assert!(matches!(err, Error::AlreadyExists { .. }), "{err:?}");
    assert_eq!(err.to_string(), format!("{claim}: already exists"));
    assert_eq!(claim.get().await.unwrap().as_ref(), b"first");
}

pub async fn concurrent_create_if_absent_has_exactly_one_winner(root: &Location) {
    let claim = root.join("race/claim").unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let claim = claim.clone();
            tokio::spawn(async move { claim.put_if_absent(format!("writer {i}")).await })
        })
        .collect();
    let mut winners = Vec::new();
    for (i, task) in tasks.into_iter().enumerate() {
        match task.await.unwrap() {
            Ok(_) => winners.push(i),
            Err(e) => assert!(e.is_already_exists(), "{e:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "winners: {winners:?}");
    let content = claim.get().await.unwrap();
    assert_eq!(
        content.as_ref(),
        format!("writer {}", winners[0]).as_bytes()
    );
}

pub async fn list_is_recursive_sorted_and_empty_for_missing_prefix(root: &Location) {
    for name in ["b/c/3.txt", "a/2.txt", "a/1.txt", "top.txt"] {
        root.join(name)
            .unwrap()
            .put(name.to_string())
            .await
            .unwrap();
    }
    let all: Vec<String> = root
        .list()
        .await
        .unwrap()
        .iter()
        .map(|m| root.relative(&m.location).unwrap())
        .collect();
    assert_eq!(all, ["a/1.txt", "a/2.txt", "b/c/3.txt", "top.txt"]);
    let under_a = root.join("a").unwrap().list().await.unwrap();
    assert_eq!(under_a.len(), 2);
    assert_eq!(under_a[0].size, 7);
    assert!(
        root.join("nothing/here")
            .unwrap()
            .list()
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn list_children_separates_folders_and_objects(root: &Location) {
    for name in [
        "versioned/v2/card.json",
        "versioned/v1/card.json",
        "latest/0001.json",
        "README",
    ] {
        root.join(name).unwrap().put(&b"x"[..]).await.unwrap();
    }
    let (folders, objects) = root.list_children().await.unwrap();
    assert_eq!(folders, ["latest", "versioned"]);
    assert_eq!(objects.len(), 1);
    let (versions, _) = root
        .join("versioned")
        .unwrap()
        .list_children()
        .await
        .unwrap();
    assert_eq!(versions, ["v1", "v2"]);
    let (none, nothing) = root.join("missing").unwrap().list_children().await.unwrap();
    assert!(none.is_empty() && nothing.is_empty());
}

pub async fn delete_is_idempotent(root: &Location) {
    let object = root.join("tmp/x").unwrap();
    object.put(&b"x"[..]).await.unwrap();
    object.delete().await.unwrap();
    assert!(!object.exists().await.unwrap());
    object.delete().await.unwrap();
}

pub async fn select_inputs_by_file_prefix_and_glob(root: &Location) {
    for name in [
        "raw/2026/01.csv",
        "raw/2026/02.csv.gz",
        "raw/2026/notes.txt",
        "raw/old/00.csv",
        "raw/_manifest.json",
        "raw/.hidden.csv",
        "raw/top.parquet",
    ] {
        root.join(name).unwrap().put(&b"x"[..]).await.unwrap();
    }
    let names = |files: Vec<common::storage::InputFile>| -> Vec<String> {
        files
            .iter()
            .map(|f| root.relative(f.location.path()).unwrap())
            .collect()
    };
    let base = root.as_str();

    let prefix = select_inputs(&format!("{base}/raw")).await.unwrap();
    assert_eq!(
        names(prefix),
        [
            "raw/2026/01.csv",
            "raw/2026/02.csv.gz",
            "raw/2026/notes.txt",
            "raw/old/00.csv",
            "raw/top.parquet"
        ]
    );

    let one = select_inputs(&format!("{base}/raw/2026/01.csv"))
        .await
        .unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].size, 1);
    assert_eq!(
        one[0].location.to_string(),
        format!("{base}/raw/2026/01.csv")
    );

    let glob = select_inputs(&format!("{base}/raw/*/*.csv")).await.unwrap();
    assert_eq!(names(glob), ["raw/2026/01.csv", "raw/old/00.csv"]);

    let deep = select_inputs(&format!("{base}/raw/**/*.{{csv,csv.gz}}"))
        .await
        .unwrap();
    assert_eq!(
        names(deep),
        [
            "raw/.hidden.csv",
            "raw/2026/01.csv",
            "raw/2026/02.csv.gz",
            "raw/old/00.csv"
        ]
    );

    let err = select_inputs(&format!("{base}/raw/*.ndjson"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NoInputs { .. }), "{err:?}");
    let err = select_inputs(&format!("{base}/absent")).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{base}/absent: no input files found")
    );
}

#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Manifest {
    format_version: u32,
    rows: u64,
}

pub async fn json_documents_round_trip(root: &Location) {
    let doc = root.join("_manifest.json").unwrap();
    let manifest = Manifest {
        format_version: 1,
        rows: 42,
    };
    doc.write_json(&manifest).await.unwrap();
    assert_eq!(doc.read_json::<Manifest>().await.unwrap(), manifest);
    let text = String::from_utf8(doc.get().await.unwrap().to_vec()).unwrap();
    assert!(text.contains("\n  \"rows\": 42"), "pretty-printed: {text}");

    let card = root.join("card.json").unwrap();
    card.create_json(&manifest).await.unwrap();
    // The same bytes again: a retried request finding its own document.
    card.create_json(&manifest).await.unwrap();
    let other = Manifest {
        format_version: 1,
        rows: 43,
    };
    assert!(
        card.create_json(&other)
            .await
            .unwrap_err()
            .is_already_exists()
    );
    assert_eq!(card.read_json::<Manifest>().await.unwrap(), manifest);

    let bad = root.join("bad.json").unwrap();
    bad.put(&b"{not json"[..]).await.unwrap();
    let err = bad.read_json::<Manifest>().await.unwrap_err().to_string();
    assert!(err.starts_with(&format!("{bad}: invalid JSON")), "{err}");
}

fn wide_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("x", DataType::Float64, true),
        Field::new("label", DataType::Utf8, true),
    ]))
}

/// Deterministic, poorly compressible rows (a 64-bit LCG), `rows` of them from `start`.
fn wide_batch(start: i64, rows: usize) -> RecordBatch {
    let mut state = (start as u64)
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1);
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        state
    };
    let ids: Int64Array = (start..start + rows as i64).collect();
    let xs: Float64Array = (0..rows)
        .map(|i| (i % 97 != 0).then(|| (next() >> 11) as f64 / (1u64 << 53) as f64))
        .collect();
    let labels: StringArray = (0..rows)
        .map(|_| Some(format!("{:016x}", next())))
        .collect();
    RecordBatch::try_new(
        wide_schema(),
        vec![Arc::new(ids), Arc::new(xs), Arc::new(labels)],
    )
    .unwrap()
}

pub async fn parquet_streaming_round_trip_of_20_mb(root: &Location) {
    let file = root.join("train/part-00000.parquet").unwrap();
    let options = ParquetWriteOptions {
        compression: ParquetCompression::None,
        row_group_size: 200_000,
    };
    let mut sink = ParquetSink::create(&file, wide_schema(), &options).unwrap();
    let (batches, rows_per_batch) = (20, 37_000);
    for i in 0..batches {
        sink.write(&wide_batch(i * rows_per_batch as i64, rows_per_batch))
            .await
            .unwrap();
    }
    let written = sink.finish().await.unwrap();
    let total_rows = batches as u64 * rows_per_batch as u64;
    assert_eq!(written.rows, total_rows);
    assert!(
        written.bytes > 20 << 20,
        "only {} bytes: not multipart",
        written.bytes
    );
    assert_eq!(
        object_sha256(&file).await.unwrap(),
        (written.bytes, written.sha256.clone())
    );

    let source = ParquetSource::open(&file).await.unwrap();
    assert_eq!(source.num_rows(), total_rows);
    assert_eq!(source.size(), written.bytes);
    assert_eq!(source.num_row_groups(), 4);
    let read: Vec<RecordBatch> = source
        .stream(65_536, None)
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let read = concat_batches(&wide_schema(), &read).unwrap();
    for i in 0..batches {
        let expected = wide_batch(i * rows_per_batch as i64, rows_per_batch);
        assert_eq!(
            read.slice(i as usize * rows_per_batch, rows_per_batch),
            expected,
            "batch {i}"
        );
    }
}

pub async fn parquet_sink_is_invisible_until_finished_and_abort_leaves_nothing(root: &Location) {
    let options = ParquetWriteOptions {
        compression: ParquetCompression::None,
        row_group_size: 50_000,
    };
    let file = root.join("out/part-0.parquet").unwrap();
    let mut sink = ParquetSink::create(&file, wide_schema(), &options).unwrap();
    // ~14 MB: more than one 10 MiB upload part has left the process.
    for i in 0..8 {
        sink.write(&wide_batch(i * 50_000, 50_000)).await.unwrap();
    }
    assert!(
        !file.exists().await.unwrap(),
        "half-written file is visible"
    );
    sink.finish().await.unwrap();
    assert!(file.exists().await.unwrap());

    let aborted = root.join("out/part-1.parquet").unwrap();
    let mut sink = ParquetSink::create(&aborted, wide_schema(), &options).unwrap();
    for i in 0..8 {
        sink.write(&wide_batch(i * 50_000, 50_000)).await.unwrap();
    }
    sink.abort().await.unwrap();
    assert!(!aborted.exists().await.unwrap());
    let listed = root.join("out").unwrap().list().await.unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
}

pub async fn parquet_row_group_selection(root: &Location) {
    let file = root.join("groups.parquet").unwrap();
    let options = ParquetWriteOptions {
        compression: ParquetCompression::Zstd,
        row_group_size: 1000,
    };
    let mut sink = ParquetSink::create(&file, wide_schema(), &options).unwrap();
    sink.write(&wide_batch(0, 3500)).await.unwrap();
    let written = sink.finish().await.unwrap();
    assert_eq!(written.sha256, sha256_hex(&file.get().await.unwrap()));
    let source = ParquetSource::open(&file).await.unwrap();
    assert_eq!(source.num_row_groups(), 4);
    let batches: Vec<RecordBatch> = source
        .stream(4096, Some(vec![3, 1]))
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<i64> = batches
        .iter()
        .flat_map(|b| {
            let col = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
            col.values().to_vec()
        })
        .collect();
    let expected: Vec<i64> = (3000..3500).chain(1000..2000).collect();
    assert_eq!(ids, expected);
}

/// A CSV with quoting, nulls in several spellings and enough rows for many batches.
fn penguin_csv(rows: usize) -> String {
    let mut text = String::from("id,species,bill_length_mm,island,male\n");
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
        let male = if i % 3 == 0 { "true" } else { "false" };
        text.push_str(&format!("{i},Adelie,{bill},{island},{male}\n"));
    }
    text
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

pub async fn blocking_reads_plain_and_gzip(root: &Location) {
    let text = penguin_csv(20_000);
    let plain = root.join("raw/plain.csv").unwrap();
    plain.put(text.clone().into_bytes()).await.unwrap();
    let zipped = root.join("raw/zipped.csv.gz").unwrap();
    let split = text[..text.len() / 3].rfind('\n').unwrap() + 1;
    let mut bytes = gzip(&text.as_bytes()[..split]);
    bytes.extend(gzip(&text.as_bytes()[split..]));
    zipped.put(bytes).await.unwrap();
    for (location, compression) in [(plain, Compression::None), (zipped, Compression::Gzip)] {
        let mut reader = location.open_read(compression).await.unwrap();
        let read = tokio::task::spawn_blocking(move || {
            let mut out = String::new();
            std::io::Read::read_to_string(&mut reader, &mut out).map(|_| out)
        })
        .await
        .unwrap()
        .unwrap();
        assert_eq!(read, text, "{location}");
    }
    let missing = root.join("raw/missing.csv").unwrap();
    let err = missing.open_read(Compression::None).await.err().unwrap();
    assert!(err.is_not_found(), "{err}");
}
