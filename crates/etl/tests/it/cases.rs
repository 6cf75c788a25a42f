//! Input edge cases, each with exact counts and reasons.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use common::storage::{ParquetSink, ParquetWriteOptions};

use crate::helpers::{Fixture, s};

fn reasons(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

#[tokio::test]
async fn ragged_rows_are_quarantined_with_their_lines() {
    let fx = Fixture::memory(&[("x.csv", b"id,name\n1,a\n2\n3,c,extra\n4,d\n")]).await;
    let m = fx.run("").await.unwrap().manifest;
    assert_eq!((m.rows.input, m.rows.quarantined), (4, 2));
    assert_eq!(m.quarantine_reasons, reasons(&[("ragged", 2)]));
    let q = fx.quarantine(&m).await;
    assert_eq!(q[0], ("ragged".into(), "x.csv:3".into(), s(&["2", "∅"])));
    assert_eq!(q[1], ("ragged".into(), "x.csv:4".into(), s(&["3", "c"])));
    let raw = fx.rows(&m, "quarantine").await;
    assert_eq!(
        raw[1][5].as_deref(),
        Some("3,c,extra"),
        "the whole record is kept in _raw"
    );
    assert_eq!(fx.output_rows(&m).await, [s(&["1", "a"]), s(&["4", "d"])]);
}

#[tokio::test]
async fn values_that_do_not_cast_make_the_row_invalid() {
    let csv = b"age,score\n30,1.5\nthirty,2.0\n40,abc\n50,\n";
    let fx = Fixture::memory(&[("t.csv", csv)]).await;
    let yaml = "columns:\n  age: {type: int64}\n  score: {type: float64}\n";
    let m = fx.run(yaml).await.unwrap().manifest;
    assert_eq!((m.rows.input, m.rows.quarantined), (4, 2));
    assert_eq!(
        m.quarantine_reasons,
        reasons(&[("cast(age)", 1), ("cast(score)", 1)])
    );
    let rows = fx.rows(&m, "quarantine").await;
    assert_eq!(
        rows[0][2].as_deref(),
        Some("cast: column 'age': 'thirty' is not a valid int64")
    );
    assert_eq!(rows[0][..2], s(&["thirty", "2.0"]));
    assert_eq!(
        fx.output_rows(&m).await,
        [s(&["30", "1.5"]), s(&["50", "∅"])]
    );
}

#[tokio::test]
async fn quoted_fields_keep_delimiters_quotes_and_newlines() {
    let csv = b"id,text\n1,\"hello, world\"\n2,\"line one\nline two\"\n3,\"say \"\"hi\"\"\"\n4,plain\n5,\"\"\n";
    let fx = Fixture::memory(&[("q.csv", csv)]).await;
    let m = fx
        .run("columns:\n  text: {type: string, required: true}\n")
        .await
        .unwrap()
        .manifest;
    assert_eq!((m.rows.input, m.rows.quarantined), (5, 1));
    // Row 5 starts on line 7: the quoted newline shifts it by one.
    assert_eq!(fx.quarantine(&m).await[0].1, "q.csv:7");
    assert_eq!(
        fx.output_rows(&m).await,
        [
            s(&["1", "hello, world"]),
            s(&["2", "line one\nline two"]),
            s(&["3", "say \"hi\""]),
            s(&["4", "plain"])
        ]
    );
}

#[tokio::test]
async fn utf8_bom_is_not_part_of_the_first_column_name() {
    let fx = Fixture::memory(&[("bom.csv", b"\xEF\xBB\xBFid,name\n1,a\n")]).await;
    let m = fx
        .run("columns:\n  id: {type: int64, required: true}\n")
        .await
        .unwrap()
        .manifest;
    assert_eq!(m.schema[0].name, "id");
    assert_eq!(fx.output_rows(&m).await, [s(&["1", "a"])]);
}

#[tokio::test]
async fn crlf_line_ends_leave_no_carriage_returns() {
    let fx = Fixture::memory(&[("w.csv", b"id,name\r\n1,a\r\n2,b\r\n")]).await;
    let m = fx.run("trim: false\n").await.unwrap().manifest;
    assert_eq!(
        m.schema.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["id", "name"]
    );
    assert_eq!(fx.output_rows(&m).await, [s(&["1", "a"]), s(&["2", "b"])]);
}

#[tokio::test]
async fn empty_files_contribute_no_rows() {
    let fx = Fixture::memory(&[("a.csv", b"id,x\n1,2\n"), ("b.csv", b"")]).await;
    let m = fx.run("").await.unwrap().manifest;
    assert_eq!(m.rows.input, 1);
    assert_eq!(m.inputs.iter().map(|i| i.rows).collect::<Vec<_>>(), [1, 0]);

    let only_empty = Fixture::memory(&[("e.csv", b"")]).await;
    let m = only_empty
        .run("columns:\n  id: {type: int64}\n")
        .await
        .unwrap()
        .manifest;
    assert_eq!(m.rows.input, 0);
    assert_eq!(m.schema.len(), 1);
    assert_eq!(
        m.files("train").len(),
        1,
        "an empty part still carries the schema"
    );
}

#[tokio::test]
async fn header_only_file_gives_empty_datasets_with_its_columns() {
    let fx = Fixture::memory(&[("h.csv", b"id,name\n")]).await;
    let m = fx.run("").await.unwrap().manifest;
    assert_eq!(m.rows.input, 0);
    assert_eq!(
        m.schema.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["id", "name"]
    );
    assert_eq!(m.files("train")[0].rows, 0);
}

#[tokio::test]
async fn invalid_utf8_is_quarantined_not_fatal() {
    let fx = Fixture::memory(&[("u.csv", b"id,name\n1,caf\xe9\n2,ok\n")]).await;
    let m = fx.run("").await.unwrap().manifest;
    assert_eq!(m.quarantine_reasons, reasons(&[("utf8(name)", 1)]));
    let q = fx.quarantine(&m).await;
    assert_eq!(
        q[0],
        (
            "utf8(name)".into(),
            "u.csv:2".into(),
            s(&["1", "caf\u{FFFD}"])
        )
    );
    assert_eq!(fx.output_rows(&m).await, [s(&["2", "ok"])]);
}

#[tokio::test]
async fn out_of_range_and_disallowed_values() {
    let csv = b"x,species\n-1,Adelie\n5,adelie\n11,Gentoo\n10,Emperor\n7,Gentoo\n";
    let fx = Fixture::memory(&[("r.csv", csv)]).await;
    let yaml = "columns:\n  x: {type: float64, min: 0, max: 10}\n  species: {type: string, allowed: [Adelie, Gentoo]}\n";
    let m = fx.run(yaml).await.unwrap().manifest;
    assert_eq!(m.rows.input, 5);
    assert_eq!(
        m.quarantine_reasons,
        reasons(&[("min(x)", 1), ("max(x)", 1), ("allowed(species)", 2)])
    );
    let rows = fx.rows(&m, "quarantine").await;
    assert_eq!(
        rows[0][2].as_deref(),
        Some("min: column 'x': -1 is below the minimum 0")
    );
    assert_eq!(fx.output_rows(&m).await, [s(&["7.0", "Gentoo"])]);
}

#[tokio::test]
async fn required_pattern_max_length_and_fill_null() {
    let csv = b"code,name,n\nAB12,alice,1\nab12,bob,\nCD34,,3\nEF56,a-very-long-name,4\n";
    let fx = Fixture::memory(&[("p.csv", csv)]).await;
    let yaml = "columns:\n  code: {type: string, pattern: '[A-Z]{2}[0-9]{2}'}\n  \
                name: {type: string, required: true, max_length: 8}\n  n: {type: int64, fill_null: 0}\n";
    let m = fx.run(yaml).await.unwrap().manifest;
    assert_eq!(
        m.quarantine_reasons,
        reasons(&[
            ("pattern(code)", 1),
            ("required(name)", 1),
            ("max_length(name)", 1)
        ])
    );
    assert_eq!(fx.output_rows(&m).await, [s(&["AB12", "alice", "1"])]);
    let fx = Fixture::memory(&[("p.csv", b"code,name,n\nAB12,bob,\n")]).await;
    let m = fx.run(yaml).await.unwrap().manifest;
    assert_eq!(
        fx.output_rows(&m).await,
        [s(&["AB12", "bob", "0"])],
        "fill_null replaced the null"
    );
}

#[tokio::test]
async fn duplicates_exact_by_key_and_unique_rule() {
    let csv: &[u8] = b"id,v\n1,a\n1,a\n2,b\n1,a\n2,c\n";
    let fx = Fixture::memory(&[("d.csv", csv)]).await;
    let m = fx.run("").await.unwrap().manifest;
    assert_eq!((m.rows.input, m.rows.duplicates), (5, 2));
    assert_eq!(
        fx.output_rows(&m).await,
        [s(&["1", "a"]), s(&["2", "b"]), s(&["2", "c"])]
    );

    let fx = Fixture::memory(&[("d.csv", csv)]).await;
    let m = fx.run("dedup_key: [id]\n").await.unwrap().manifest;
    assert_eq!(m.rows.duplicates, 3);
    assert_eq!(fx.output_rows(&m).await, [s(&["1", "a"]), s(&["2", "b"])]);

    let fx = Fixture::memory(&[("d.csv", csv)]).await;
    let m = fx
        .run("deduplicate: false\nunique: [id]\n")
        .await
        .unwrap()
        .manifest;
    assert_eq!((m.rows.duplicates, m.rows.quarantined), (0, 3));
    let q = fx.quarantine(&m).await;
    let lines: Vec<&str> = q.iter().map(|(_, src, _)| src.as_str()).collect();
    assert_eq!(lines, ["d.csv:3", "d.csv:5", "d.csv:6"]);
    let detail = fx.rows(&m, "quarantine").await[2][2].clone().unwrap();
    assert!(
        detail.ends_with("key already seen at") || detail.contains("d.csv:4"),
        "{detail}"
    );

    let fx = Fixture::memory(&[("d.csv", csv)]).await;
    let m = fx.run("unique: [id]\n").await.unwrap().manifest;
    assert_eq!(
        (m.rows.duplicates, m.rows.quarantined),
        (2, 1),
        "exact copies are duplicates, not unique violations"
    );
}

#[tokio::test]
async fn missing_declared_columns_are_named_together() {
    let fx = Fixture::memory(&[("m.csv", b"a,x\n1,2\n")]).await;
    let yaml = "columns:\n  a: {type: int64}\n  b: {type: int64}\n  c: {type: string}\n";
    let err = fx.run(yaml).await.unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "{}/raw/m.csv: missing declared column(s) 'b', 'c'; the file has 'a', 'x'",
            fx.root()
        )
    );
    let m = fx
        .run(&format!("{yaml}missing_columns: fill_null\n"))
        .await
        .unwrap()
        .manifest;
    assert_eq!(
        m.schema.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["a", "x", "b", "c"]
    );
    assert_eq!(fx.output_rows(&m).await, [s(&["1", "2", "∅", "∅"])]);
}

#[tokio::test]
async fn one_broken_file_among_several_fails_the_run_and_keeps_the_previous_output() {
    let fx = Fixture::memory(&[("a.csv", b"id,v\n1,a\n"), ("b.csv", b"id,v\n2,b\n")]).await;
    let first = fx.run("").await.unwrap().manifest;
    assert_eq!(first.rows.input, 2);

    // A file with other columns.
    fx.root()
        .join("raw/c.csv")
        .unwrap()
        .put(&b"id,w\n3,c\n"[..])
        .await
        .unwrap();
    let err = fx.run("").await.unwrap_err().to_string();
    assert!(
        err.starts_with(&format!(
            "{}/raw/c.csv: columns differ from {}/raw/a.csv: missing 'v', extra 'w'",
            fx.root(),
            fx.root()
        )),
        "{err}"
    );
    fx.root().join("raw/c.csv").unwrap().delete().await.unwrap();

    // A corrupt Parquet file.
    fx.root()
        .join("raw/d.parquet")
        .unwrap()
        .put(&b"PAR1 this is not parquet"[..])
        .await
        .unwrap();
    let err = fx.run("").await.unwrap_err().to_string();
    assert!(
        err.starts_with(&format!("{}/raw/d.parquet: Parquet error: ", fx.root())),
        "{err}"
    );
    assert_eq!(err.matches("Parquet error").count(), 1, "{err}");

    assert_eq!(
        fx.manifest().await.unwrap(),
        first,
        "the published manifest is untouched"
    );
    let (runs, _) = fx
        .root()
        .join("processed/runs")
        .unwrap()
        .list_children()
        .await
        .unwrap();
    assert_eq!(
        runs,
        std::slice::from_ref(&first.run_id),
        "failed runs leave no folder behind"
    );
}

#[tokio::test]
async fn an_ndjson_key_first_seen_late_is_found_by_raising_infer_rows() {
    let mut text = String::new();
    for i in 0..1_500 {
        match i {
            1_200 => text.push_str(&format!("{{\"id\": {i}, \"late\": 7}}\n")),
            _ => text.push_str(&format!("{{\"id\": {i}}}\n")),
        }
    }
    let fx = Fixture::memory(&[("late.ndjson", text.as_bytes())]).await;
    let declared = "columns:\n  late: {type: int64}\n";
    let err = fx.run(declared).await.unwrap_err().to_string();
    assert!(
        err.ends_with(
            "late.ndjson: missing declared column(s) 'late'; the file has 'id' (an NDJSON \
             file's columns are the keys of its first 1000 lines: raise etl.infer_rows to look further)"
        ),
        "{err}"
    );
    let m = fx
        .run(&format!("{declared}infer_rows: 2000\n"))
        .await
        .unwrap()
        .manifest;
    assert_eq!((m.rows.input, m.rows.quarantined), (1_500, 0));
    let late: Vec<_> = fx
        .output_rows(&m)
        .await
        .into_iter()
        .filter(|row| row[1].is_some())
        .collect();
    assert_eq!(late, [s(&["1200", "7"])]);
}

#[tokio::test]
async fn ndjson_rows_with_bad_json_are_quarantined_and_keys_become_columns() {
    let text = b"{\"id\": 1, \"tags\": [\"a\"], \"ok\": true}\n{\"id\": 2, \"ok\": false}\n{\"id\": 3,\n[1, 2]\n\n{\"id\": 4, \"ok\": true, \"late\": 1}\n{\"id\": 5, \"ok\": null}\n";
    let fx = Fixture::memory(&[("e.ndjson", text)]).await;
    let m = fx.run("").await.unwrap().manifest;
    assert_eq!((m.rows.input, m.rows.quarantined), (6, 2));
    assert_eq!(m.quarantine_reasons, reasons(&[("json", 2)]));
    let columns: Vec<(&str, &str)> = m
        .schema
        .iter()
        .map(|c| (c.name.as_str(), c.data_type.as_str()))
        .collect();
    assert_eq!(
        columns,
        [
            ("id", "Int64"),
            ("tags", "Utf8"),
            ("ok", "Boolean"),
            ("late", "Int64")
        ]
    );
    assert_eq!(
        fx.output_rows(&m).await,
        [
            s(&["1", "[\"a\"]", "true", "∅"]),
            s(&["2", "∅", "false", "∅"]),
            s(&["4", "∅", "true", "1"]),
            s(&["5", "∅", "∅", "∅"])
        ]
    );
    let lines: Vec<String> = fx.quarantine(&m).await.into_iter().map(|q| q.1).collect();
    assert_eq!(lines, ["e.ndjson:3", "e.ndjson:4"]);

    // The same file in chunks of two lines (parsed in parallel): same rows,
    // same lines.
    let whole = fx.output_rows(&m).await;
    let small = fx.run("batch_size: 2\n").await.unwrap().manifest;
    assert_eq!((small.rows.input, small.rows.quarantined), (6, 2));
    assert_eq!(fx.output_rows(&small).await, whole);
    let lines: Vec<String> = fx
        .quarantine(&small)
        .await
        .into_iter()
        .map(|q| q.1)
        .collect();
    assert_eq!(lines, ["e.ndjson:3", "e.ndjson:4"]);

    // A key the first file does not have is a column mismatch, like in CSV.
    let fx = Fixture::memory(&[
        ("a.ndjson", b"{\"id\": 1}\n"),
        ("b.ndjson", b"{\"id\": 2, \"extra\": 3}\n"),
    ])
    .await;
    let err = fx.run("").await.unwrap_err().to_string();
    assert!(
        err.contains("b.ndjson: columns differ") && err.contains("extra 'extra'"),
        "{err}"
    );
}

#[tokio::test]
async fn parquet_input_keeps_its_types_and_casts_declared_ones() {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("x", DataType::Float64, true),
        Field::new("label", DataType::Utf8, true),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int64Array::from(vec![1, 2, 3])),
            Arc::new(Float64Array::from(vec![Some(0.5), None, Some(99.0)])),
            Arc::new(StringArray::from(vec![" a ", "NA", "c"])),
        ],
    )
    .unwrap();
    let fx = Fixture::memory(&[]).await;
    let mut sink = ParquetSink::create(
        &fx.root().join("raw/in.parquet").unwrap(),
        schema,
        &ParquetWriteOptions::default(),
    )
    .unwrap();
    sink.write(&batch).await.unwrap();
    sink.finish().await.unwrap();
    let m = fx
        .run("columns:\n  x: {type: float64, max: 10}\n")
        .await
        .unwrap()
        .manifest;
    assert_eq!(m.quarantine_reasons, reasons(&[("max(x)", 1)]));
    assert_eq!(fx.quarantine(&m).await[0].1, "in.parquet:3");
    assert_eq!(
        fx.output_rows(&m).await,
        [s(&["1", "0.5", "a"]), s(&["2", "∅", "∅"])]
    );
}

#[tokio::test]
async fn gzip_csv_renames_and_drops() {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(b"ID,secret,Name\n1,s1,a\n2,s2,b\n").unwrap();
    let bytes = gz.finish().unwrap();
    let fx = Fixture::memory(&[("people.csv.gz", &bytes)]).await;
    let yaml = "rename: {ID: id, Name: name}\ndrop: [secret]\ncolumns:\n  id: {type: int64}\n";
    let m = fx.run(yaml).await.unwrap().manifest;
    assert_eq!(
        m.schema.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["id", "name"]
    );
    assert_eq!(fx.output_rows(&m).await, [s(&["1", "a"]), s(&["2", "b"])]);
}

#[tokio::test]
async fn on_invalid_fail_names_the_first_bad_row_and_drop_writes_no_quarantine() {
    let csv = b"n\n1\nx\n3\ny\n";
    let fx = Fixture::memory(&[("f.csv", csv)]).await;
    let yaml = "columns:\n  n: {type: int64}\n";
    let err = fx
        .run(&format!("{yaml}on_invalid: fail\n"))
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        format!(
            "{}/raw/f.csv:3: invalid row: cast: column 'n': 'x' is not a valid int64 (etl.on_invalid is 'fail')",
            fx.root()
        )
    );
    assert!(fx.manifest().await.is_none());
    let m = fx
        .run(&format!("{yaml}on_invalid: drop\n"))
        .await
        .unwrap()
        .manifest;
    assert_eq!((m.rows.input, m.rows.quarantined), (4, 2));
    assert!(!m.outputs.contains_key("quarantine"));
}

#[tokio::test]
async fn unknown_key_columns_are_rejected_before_reading_rows() {
    let fx = Fixture::memory(&[("k.csv", b"id,v\n1,a\n")]).await;
    let err = fx
        .run("split: {key: [user_id]}\n")
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "etl.split.key: unknown column(s) 'user_id'; the output columns are 'id', 'v'"
    );
}

#[tokio::test]
async fn every_row_is_accounted_for_in_a_validation_split() {
    let mut csv = String::from("id,x\n");
    for i in 0..2000 {
        csv.push_str(&format!(
            "{i},{}\n",
            if i % 50 == 0 {
                "bad".to_string()
            } else {
                (i % 7).to_string()
            }
        ));
    }
    let fx = Fixture::memory(&[("v.csv", csv.as_bytes())]).await;
    let m = fx.run("columns:\n  x: {type: int64}\nsplit: {test: 0.2, validation: 0.1, seed: 3}\nbatch_size: 128\nmax_rows_per_file: 500\n").await.unwrap().manifest;
    assert_eq!(m.rows.input, 2000);
    assert_eq!(m.rows.quarantined, 40);
    assert!(m.rows.balanced());
    // The split is exact (issue 28.10): 20% and 10% of the 1,960 valid rows.
    assert_eq!((m.rows.test, m.rows.validation), (392, 196), "{:?}", m.rows);
    assert_eq!(m.files("train").len() as u64, m.rows.train.div_ceil(500));
    let files_total: u64 = ["train", "test", "validation"]
        .iter()
        .flat_map(|d| m.files(d))
        .map(|f| f.rows)
        .sum();
    assert_eq!(files_total, m.rows.train + m.rows.test + m.rows.validation);
}

#[tokio::test]
async fn dates_timestamps_and_booleans_are_parsed_or_quarantined() {
    let csv = b"day,at,flag\n2026-01-31,2026-01-31T10:00:00Z,true\n2026-02-30,2026-01-31 11:00:00,no\n2026-03-01,yesterday,false\n";
    let fx = Fixture::memory(&[("t.csv", csv)]).await;
    let yaml = "columns:\n  day: {type: date}\n  at: {type: timestamp}\n  flag: {type: bool}\n";
    let m = fx.run(yaml).await.unwrap().manifest;
    assert_eq!(
        m.quarantine_reasons,
        reasons(&[("cast(day)", 1), ("cast(at)", 1)])
    );
    let types: Vec<&str> = m.schema.iter().map(|c| c.data_type.as_str()).collect();
    assert_eq!(types, ["Date32", "Timestamp(µs, \"+00:00\")", "Boolean"]);
    assert_eq!(
        fx.output_rows(&m).await,
        [s(&["2026-01-31", "2026-01-31T10:00:00Z", "true"])]
    );
}

/// Issue 11.7: 178 rows with `test: 0.2` gave 25 test rows; now 36, as
/// scikit-learn's `train_test_split`, and stratified by a column on request.
#[tokio::test]
async fn exact_split_sizes_and_stratification() {
    let mut csv = String::from("id,class\n");
    for i in 0..178 {
        let class = if i < 59 {
            "a"
        } else if i < 130 {
            "b"
        } else {
            "c"
        };
        csv.push_str(&format!("{i},{class}\n"));
    }
    let fx = Fixture::memory(&[("wine.csv", csv.as_bytes())]).await;
    for seed in 1..=5 {
        let m = fx
            .run(&format!("split: {{test: 0.2, seed: {seed}}}\n"))
            .await
            .unwrap()
            .manifest;
        assert_eq!((m.rows.train, m.rows.test), (142, 36), "seed {seed}");
    }
    let m = fx
        .run("split: {test: 0.2, validation: 0.1, stratify: class}\n")
        .await
        .unwrap()
        .manifest;
    assert_eq!(
        (m.rows.train, m.rows.test, m.rows.validation),
        (124, 36, 18)
    );
    let test = fx.rows(&m, "test").await;
    let per_class = |class: &str| {
        test.iter()
            .filter(|r| r[1].as_deref() == Some(class))
            .count()
    };
    // 59, 71 and 48 rows × 0.2 = 11.8, 14.2, 9.6.
    assert_eq!(
        (per_class("a"), per_class("b"), per_class("c")),
        (12, 14, 10)
    );
    let err = fx
        .run("split: {stratify: klass}\n")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("etl.split.stratify") && err.contains("klass"),
        "{err}"
    );
}

/// Regression (issue 12.7): NaN passed `min`/`max` (94 NaN rows reached
/// train). Non-finite values fail range rules, and the spellings of
/// infinity and NaN parse alike in CSV and NDJSON.
#[tokio::test]
async fn non_finite_values_fail_range_rules() {
    let csv = b"x\n5\nNaN\nnan\ninf\n-inf\nInfinity\n-Infinity\n1e400\n3\n";
    let ndjson = b"{\"x\": 5}\n{\"x\": \"NaN\"}\n{\"x\": \"Infinity\"}\n{\"x\": 3}\n";
    let yaml = "columns:\n  x: {type: float64, min: 0, max: 10}\n";
    for (name, bytes, bad) in [("r.csv", &csv[..], 7), ("r.ndjson", &ndjson[..], 2)] {
        let fx = Fixture::memory(&[(name, bytes)]).await;
        let m = fx.run(yaml).await.unwrap().manifest;
        assert_eq!(
            m.rows.quarantined, bad,
            "{name}: {:?}",
            m.quarantine_reasons
        );
        assert_eq!(m.rows.train + m.rows.test + m.rows.validation, 2, "{name}");
        let rows = fx.rows(&m, "quarantine").await;
        for row in &rows {
            let reason = row[m.schema.len()].as_deref().unwrap();
            assert!(
                reason.contains("is not a finite number in [0, 10]"),
                "{name}: {reason}"
            );
        }
        // Without a range rule a non-finite value is data (a missing value
        // for the trainer), not an error.
        let fx = Fixture::memory(&[(name, bytes)]).await;
        let m = fx
            .run("columns:\n  x: {type: float64}\n")
            .await
            .unwrap()
            .manifest;
        assert_eq!(m.rows.quarantined, 0, "{name}: {:?}", m.quarantine_reasons);
    }
}

/// Regression (issue 12.14): empty, header-only or all-invalid input replaced
/// good processed data with 0 rows, exit 0, no warning.
#[tokio::test]
async fn an_empty_training_split_is_not_published_unless_allowed() {
    let fx = Fixture::memory(&[("in.csv", b"id,x\n1,2\n2,3\n3,4\n4,5\n")]).await;
    let good = fx.run("allow_empty: false\n").await.unwrap().manifest;
    for bytes in [&b""[..], b"id,x\n", b"id,x\n1,a\n2,b\n"] {
        fx.root()
            .join("raw/in.csv")
            .unwrap()
            .put(bytes.to_vec())
            .await
            .unwrap();
        let yaml = "allow_empty: false\ncolumns:\n  x: {type: int64}\n";
        let err = fx.run(yaml).await.unwrap_err().to_string();
        assert!(
            err.contains("not publishing an empty training split"),
            "{err}"
        );
        assert!(err.contains("etl.allow_empty: true"), "{err}");
        assert_eq!(
            fx.manifest().await.unwrap(),
            good,
            "the previous output stays"
        );
        assert_eq!(fx.output_rows(&good).await.len(), 4);
    }
}

/// Regression (issue 12.15): an unterminated quote swallowed the rest of the
/// file into one quarantined record without saying so.
#[tokio::test]
async fn an_unclosed_quote_says_how_many_lines_it_swallowed() {
    let fx = Fixture::memory(&[("q.csv", b"a,b,c\n1,2,3\n3,\"x,1\n4,5,6\n6,7,8\n")]).await;
    let m = fx.run("").await.unwrap().manifest;
    let rows = fx.rows(&m, "quarantine").await;
    assert_eq!(rows.len(), 1);
    let reason = rows[0][3].as_deref().unwrap();
    assert!(
        reason.contains("spans 3 lines inside a quoted field (an unclosed quote?)"),
        "{reason}"
    );
}

/// Regression (issue 27.11): `Age: {type: int64}` over ages written `29.0`
/// quarantined most rows, exit 0, no warning; the model trained on the
/// rest. Above `etl.max_quarantined` the run is refused, naming the reason
/// with an example, and the previous output stays.
#[tokio::test]
async fn most_rows_invalid_is_refused_above_max_quarantined() {
    let mut csv = String::from("Name,Age\n");
    for i in 0..40 {
        let age = if i % 4 == 0 {
            format!("{i}")
        } else {
            format!("{i}.0")
        };
        csv.push_str(&format!("p{i},{age}\n"));
    }
    let fx = Fixture::memory(&[("people.csv", csv.as_bytes())]).await;
    let before = fx.run("max_quarantined: 1\n").await.unwrap().manifest;
    let yaml = "columns:\n  Age: {type: int64}\n";
    let err = fx
        .run(&format!("max_quarantined: 0.05\n{yaml}"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("not publishing: 30 of 40 rows (75.0%) are invalid, above etl.max_quarantined (5.0%): cast(Age) 30 (e.g. ")
            && err.contains("people.csv:3: cast: column 'Age': '1.0'"),
        "{err}"
    );
    assert_eq!(
        fx.manifest().await.unwrap().run_id,
        before.run_id,
        "the previous output stays"
    );
    // The default is 5%; a limit above the share publishes, with the count.
    let m = fx
        .run(&format!("max_quarantined: 0.8\n{yaml}"))
        .await
        .unwrap()
        .manifest;
    assert_eq!(m.rows.quarantined, 30);
    assert_eq!(m.quarantine_examples.len(), 1);
    assert!((etl::EtlConfig::default().max_quarantined - 0.05).abs() < 1e-12);
}

/// Regression (issue 27.11): a declared column missing from the data had
/// no did-you-mean (the trainer has one).
#[tokio::test]
async fn a_missing_declared_column_suggests_the_close_one() {
    let fx = Fixture::memory(&[("people.csv", b"Name,Age\np,3\n")]).await;
    let err = fx
        .run("columns:\n  age: {type: int64}\n")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("missing declared column(s) 'age'")
            && err.contains(
                "(did you mean 'Age' for 'age'? declare the file's name, or map it with etl.rename)"
            ),
        "{err}"
    );
}

/// Writes one batch as `raw/in.parquet`.
async fn parquet_input(fx: &Fixture, batch: &RecordBatch) {
    let mut sink = ParquetSink::create(
        &fx.root().join("raw/in.parquet").unwrap(),
        batch.schema(),
        &ParquetWriteOptions::default(),
    )
    .unwrap();
    sink.write(batch).await.unwrap();
    sink.finish().await.unwrap();
}

/// Regression (issue 27.14): a Parquet column of Arrow's null type (what
/// pyarrow and pandas write for an all-None column) quarantined every row;
/// an undeclared timezone-aware timestamp failed the run in profiling; a
/// struct column failed naming neither file nor column.
#[tokio::test]
async fn null_typed_tz_timestamp_and_nested_parquet_columns() {
    use arrow::array::{NullArray, StructArray, TimestampMicrosecondArray};
    let n = 8;
    let ts = TimestampMicrosecondArray::from(
        (0..n as i64).map(|i| i * 3_600_000_000).collect::<Vec<_>>(),
    )
    .with_timezone("UTC");
    let batch = RecordBatch::try_from_iter_with_nullable([
        (
            "id",
            Arc::new(Int64Array::from_iter_values(0..n as i64)) as _,
            true,
        ),
        ("empty", Arc::new(NullArray::new(n)) as _, true),
        ("ts", Arc::new(ts) as _, true),
    ])
    .unwrap();
    let fx = Fixture::memory(&[]).await;
    parquet_input(&fx, &batch).await;
    let m = fx.run("max_quarantined: 0\n").await.unwrap().manifest;
    assert_eq!((m.rows.input, m.rows.quarantined), (8, 0));
    let types: Vec<(&str, &str)> = m
        .schema
        .iter()
        .map(|c| (c.name.as_str(), c.data_type.as_str()))
        .collect();
    assert_eq!(
        types,
        [
            ("id", "Int64"),
            ("empty", "Utf8"),
            ("ts", "Timestamp(µs, \"UTC\")")
        ]
    );
    // Declared, the null column is all null of its declared type.
    let m = fx
        .run("max_quarantined: 0\ncolumns:\n  empty: {type: float64}\n")
        .await
        .unwrap()
        .manifest;
    assert_eq!(m.rows.quarantined, 0);

    let inner = StructArray::from(vec![(
        Arc::new(Field::new("a", DataType::Int64, false)),
        Arc::new(Int64Array::from_iter_values(0..n as i64)) as _,
    )]);
    let nested = RecordBatch::try_from_iter([
        (
            "id",
            Arc::new(Int64Array::from_iter_values(0..n as i64)) as _,
        ),
        ("s", Arc::new(inner) as _),
    ])
    .unwrap();
    let fx = Fixture::memory(&[]).await;
    parquet_input(&fx, &nested).await;
    let err = fx.run("").await.unwrap_err().to_string();
    assert!(
        err.ends_with("raw/in.parquet: column 's' is Struct(\"a\": non-null Int64): Cauce reads flat columns only; leave it out with etl.drop: [s], or flatten it first"),
        "{err}"
    );
    let m = fx.run("drop: [s]\n").await.unwrap().manifest;
    assert_eq!(m.schema.len(), 1);
}
