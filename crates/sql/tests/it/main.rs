//! The transform on real-shaped data: lookups, derived columns, filters,
//! failing rows, and every error a user can cause.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use arrow::array::{Array, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use common::storage::Location;
use sql::{Scope, TableCheck, TableSource, Transform};

fn flights_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("carrier", DataType::Utf8, true),
        Field::new("tailnum", DataType::Utf8, true),
        Field::new("arr_delay", DataType::Float64, true),
        Field::new("dep_time", DataType::Int64, true),
        Field::new("code", DataType::Utf8, true),
    ]))
}

fn flights() -> RecordBatch {
    RecordBatch::try_new(
        flights_schema(),
        vec![
            Arc::new(StringArray::from(vec![
                Some("UA"),
                Some("AA"),
                Some("B6"),
                None,
                Some("UA"),
            ])),
            Arc::new(StringArray::from(vec![
                Some("N14228"),
                Some("N619AA"),
                Some("N804JB"),
                Some("N1"),
                None,
            ])),
            Arc::new(Float64Array::from(vec![
                Some(11.0),
                Some(20.0),
                None,
                Some(-3.0),
                Some(33.0),
            ])),
            Arc::new(Int64Array::from(vec![
                Some(517),
                Some(542),
                Some(544),
                Some(2359),
                None,
            ])),
            Arc::new(StringArray::from(vec![
                Some("1"),
                Some("2"),
                Some("x"),
                Some("4"),
                Some("5"),
            ])),
        ],
    )
    .unwrap()
}

async fn table(store: &str, name: &str, text: &str) -> TableSource {
    let location = Location::parse(&format!("memory://{store}/{name}")).unwrap();
    location.put(text.to_string()).await.unwrap();
    let table = name.split('.').next().unwrap().to_string();
    TableSource::new(table, location)
}

async fn airlines(store: &str) -> TableSource {
    table(
        store,
        "airlines.csv",
        "carrier,name\nUA,United Air Lines Inc.\nAA,American Airlines Inc.\nB6,JetBlue Airways\n",
    )
    .await
}

async fn plan(sql: &str, tables: &[TableSource]) -> Result<Transform, sql::Error> {
    Transform::plan(sql, tables, flights_schema()).await
}

/// `sql` (no reference tables) planned and applied to [`flights`].
async fn on_flights(sql: &str) -> sql::Applied {
    plan(sql, &[])
        .await
        .unwrap()
        .apply(flights())
        .await
        .unwrap()
}

fn strings(batch: &RecordBatch, name: &str) -> Vec<Option<String>> {
    let column = batch.column_by_name(name).unwrap();
    (0..column.len())
        .map(|i| {
            column
                .is_valid(i)
                .then(|| arrow::util::display::array_value_to_string(column, i).unwrap())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn derived_columns_lookups_and_filters_keep_each_rows_lineage() {
    let tables = [airlines("t1").await];
    let transform = plan(
        "SELECT i.*, a.name AS airline, CAST(i.arr_delay > 15 AS INT) AS late, i.dep_time / 100 AS dep_hour \
         FROM input i LEFT JOIN airlines a ON i.carrier = a.carrier WHERE i.arr_delay IS NOT NULL",
        &tables,
    )
    .await
    .unwrap();
    let names: Vec<_> = transform
        .output_schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(
        names,
        [
            "carrier",
            "tailnum",
            "arr_delay",
            "dep_time",
            "code",
            "airline",
            "late",
            "dep_hour"
        ]
    );
    let applied = transform.apply(flights()).await.unwrap();
    assert_eq!(applied.kept, [0, 1, 3, 4]);
    assert_eq!(applied.filtered(5), 1);
    assert!(applied.failed.is_empty());
    assert_eq!(
        strings(&applied.batch, "airline"),
        [
            Some("United Air Lines Inc.".into()),
            Some("American Airlines Inc.".into()),
            None,
            Some("United Air Lines Inc.".into())
        ]
    );
    assert_eq!(
        strings(&applied.batch, "late"),
        [
            Some("0".into()),
            Some("1".into()),
            Some("0".into()),
            Some("1".into())
        ]
    );
    assert_eq!(
        strings(&applied.batch, "dep_hour"),
        [Some("5".into()), Some("5".into()), Some("23".into()), None]
    );
    let record = transform.record();
    assert_eq!(record.tables[0].name, "airlines");
    assert_eq!(record.tables[0].rows, 3);
    assert_eq!(record.tables[0].sha256.len(), 64);
    assert_eq!(record.columns_before.len(), 5);
    assert_eq!(record.columns_after.len(), 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_whose_expression_fails_is_reported_and_the_others_are_transformed() {
    let transform = plan(
        "SELECT carrier, CAST(code AS BIGINT) AS code_number FROM input",
        &[],
    )
    .await
    .unwrap();
    let applied = transform.apply(flights()).await.unwrap();
    assert_eq!(applied.kept, [0, 1, 3, 4]);
    assert_eq!(
        applied.failed,
        [(
            2,
            "code_number = CAST(code AS BIGINT): cannot cast to Int64: 'x'".to_string()
        )]
    );
    assert_eq!(
        strings(&applied.batch, "code_number"),
        [
            Some("1".into()),
            Some("2".into()),
            Some("4".into()),
            Some("5".into())
        ]
    );
    // An integer division by zero fails its row, naming the expression.
    let divided = on_flights("SELECT carrier, 1000 / (dep_time - 542) AS speed FROM input").await;
    assert_eq!(divided.kept, [0, 2, 3, 4], "row 4's null divisor is null");
    assert_eq!(divided.failed.len(), 1);
    assert_eq!(divided.failed[0].0, 1);
    assert_eq!(
        divided.failed[0].1,
        "speed = (1000 / (dep_time - 542)): division by zero"
    );
    // A cast the query guards itself fails no row.
    let guarded =
        on_flights("SELECT CASE WHEN code <> 'x' THEN CAST(code AS BIGINT) END AS n FROM input")
            .await;
    assert_eq!(guarded.kept, [0, 1, 2, 3, 4]);
    // A failure outside the result's expressions (here in the WHERE) is
    // found by re-running the batch in halves, with DataFusion's message.
    let filtered = on_flights("SELECT carrier FROM input WHERE CAST(code AS BIGINT) > 1").await;
    assert_eq!(filtered.kept, [1, 3, 4]);
    assert_eq!(filtered.failed.len(), 1);
    assert!(
        filtered.failed[0].1.contains("'x'"),
        "{:?}",
        filtered.failed
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_that_are_not_row_local_are_refused_naming_what() {
    let tables = [airlines("t2").await];
    for (sql, says) in [
        (
            "SELECT carrier, COUNT(*) AS n FROM input GROUP BY carrier",
            "an aggregate",
        ),
        ("SELECT * FROM input ORDER BY arr_delay", "ORDER BY"),
        (
            "SELECT *, ROW_NUMBER() OVER (ORDER BY arr_delay) AS r FROM input",
            "window",
        ),
        ("SELECT * FROM input LIMIT 3", "LIMIT"),
        ("SELECT DISTINCT carrier FROM input", "not row-local"),
        (
            "SELECT a.carrier FROM input a JOIN input b ON a.tailnum = b.tailnum",
            "reading input twice",
        ),
        (
            "SELECT i.carrier, a.name FROM input i FULL JOIN airlines a ON i.carrier = a.carrier",
            "FULL",
        ),
        ("SELECT * FROM airlines", "does not read the table input"),
        ("CREATE TABLE t AS SELECT * FROM input", "only a SELECT"),
    ] {
        let err = plan(sql, &tables).await.unwrap_err().to_string();
        assert!(err.starts_with("etl.transform.sql: "), "{sql}: {err}");
        assert!(err.contains(says), "{sql}: {err}");
        assert!(!err.contains('\n'), "{err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lookup_key_that_is_not_unique_is_refused_naming_the_key_and_a_value() {
    let tables = [table(
        "t3",
        "planes.csv",
        "tailnum,year\nN14228,1999\nN619AA,1990\nN14228,2004\n",
    )
    .await];
    let err = plan(
        "SELECT i.*, p.year FROM input i LEFT JOIN planes p ON i.tailnum = p.tailnum",
        &tables,
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("not unique in planes"), "{err}");
    assert!(err.contains("N14228") && err.contains("2 rows"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_errors_name_the_position_the_column_or_the_table() {
    let tables = [airlines("t4").await];
    let syntax = plan("SELECT carrier FROM input WHER x", &tables)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        syntax.contains("Line: 1") && syntax.contains("Column"),
        "{syntax}"
    );
    let column = plan("SELECT carier FROM input", &tables)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        column.contains("carier") && column.contains("carrier"),
        "{column}"
    );
    assert!(!column.contains("_cauce_row"), "{column}");
    let missing = plan(
        "SELECT * FROM input i JOIN airline a ON i.carrier = a.carrier",
        &tables,
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        missing.contains("airline") && missing.contains("the tables are input, airlines"),
        "{missing}"
    );
    assert!(missing.contains("did you mean 'airlines'"), "{missing}");
    let twice = plan(
        "SELECT i.carrier, a.carrier FROM input i JOIN airlines a ON i.carrier = a.carrier",
        &tables,
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(twice.contains("two columns named 'carrier'"), "{twice}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reference_tables_are_read_from_csv_ndjson_and_parquet_or_named_when_unreadable() {
    let csv = table("t5", "a.csv", "carrier,rank\nUA,1\nAA,NA\nB6,\n").await;
    let ndjson = table(
        "t5",
        "b.ndjson",
        "{\"carrier\": \"UA\", \"hub\": \"ORD\"}\n{\"carrier\": \"AA\", \"hub\": \"DFW\"}\n",
    )
    .await;
    let parquet_location = Location::parse("memory://t5/c.parquet").unwrap();
    {
        let schema = Arc::new(Schema::new(vec![
            Field::new("carrier", DataType::Utf8, false),
            Field::new("fleet", DataType::Int64, false),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(vec!["UA", "B6"])),
                Arc::new(Int64Array::from(vec![900, 300])),
            ],
        )
        .unwrap();
        let mut bytes = Vec::new();
        let mut writer = parquet::arrow::ArrowWriter::try_new(&mut bytes, schema, None).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
        parquet_location.put(bytes).await.unwrap();
    }
    let tables = [csv, ndjson, TableSource::new("c", parquet_location)];
    let transform = plan(
        "SELECT i.carrier, a.rank, b.hub, c.fleet FROM input i LEFT JOIN a ON i.carrier = a.carrier \
         LEFT JOIN b ON i.carrier = b.carrier LEFT JOIN c ON i.carrier = c.carrier",
        &tables,
    )
    .await
    .unwrap();
    let applied = transform.apply(flights()).await.unwrap();
    assert_eq!(applied.kept, [0, 1, 2, 3, 4]);
    assert_eq!(strings(&applied.batch, "hub")[1], Some("DFW".into()));
    assert_eq!(strings(&applied.batch, "fleet")[2], Some("300".into()));
    assert_eq!(strings(&applied.batch, "rank")[4], Some("1".into()));
    assert_eq!(
        strings(&applied.batch, "rank")[1],
        None,
        "NA is null, and rank a number"
    );
    assert_eq!(
        transform
            .output_schema()
            .field_with_name("rank")
            .unwrap()
            .data_type(),
        &DataType::Int64
    );

    let absent = TableSource::new("planes", Location::parse("memory://t5/absent.csv").unwrap());
    let err = plan("SELECT * FROM input", &[absent])
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("etl.transform.tables.planes: memory://t5/absent.csv: "),
        "{err}"
    );
    let garbage = table("t5", "bad.parquet", "not parquet").await;
    let err = plan("SELECT * FROM input", &[garbage])
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("not readable as Parquet"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_keeps_every_row_and_reads_only_what_the_kept_columns_need() {
    let tables = [airlines("t6").await];
    let sql = "SELECT i.carrier, i.dep_time / 100 AS dep_hour, a.name AS airline, \
               CAST(i.arr_delay > 15 AS INT) AS late \
               FROM input i JOIN airlines a ON i.carrier = a.carrier \
               WHERE i.arr_delay IS NOT NULL AND i.code IN (SELECT '1' UNION SELECT '2')";
    let etl = plan(sql, &tables).await.unwrap();
    let applied = etl.apply(flights()).await.unwrap();
    assert_eq!(
        applied.kept,
        [0, 1],
        "inner join, filter and IN leave two rows"
    );

    let keep = ["dep_hour".to_string(), "airline".to_string()];
    let replay = Transform::replay(etl.record(), sql::TableCheck::Recorded, &keep)
        .await
        .unwrap();
    let mut required = replay.required_inputs().to_vec();
    required.sort();
    assert_eq!(
        required,
        ["carrier", "dep_time"],
        "not the target's arr_delay, not code"
    );
    let names: Vec<_> = replay
        .output_schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(names, ["dep_hour", "airline"]);
    let applied = replay.apply(flights()).await.unwrap();
    assert_eq!(applied.kept, [0, 1, 2, 3, 4], "every row, matched or not");
    assert_eq!(
        strings(&applied.batch, "airline"),
        [
            Some("United Air Lines Inc.".into()),
            Some("American Airlines Inc.".into()),
            Some("JetBlue Airways".into()),
            None,
            Some("United Air Lines Inc.".into())
        ]
    );
}

async fn plan_whole(sql: &str, tables: &[TableSource]) -> Result<Transform, sql::Error> {
    Transform::plan_scoped(sql, tables, flights_schema(), Scope::WholeInput).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_input_transform_sees_every_batch_and_keeps_each_rows_lineage() {
    let tables = [airlines("t7").await];
    let transform = plan_whole(
        "SELECT i.carrier, i.arr_delay, a.name AS airline, \
                AVG(i.arr_delay) OVER (PARTITION BY i.carrier) AS carrier_mean, s.flights \
         FROM input i \
         LEFT JOIN airlines a ON i.carrier = a.carrier \
         JOIN (SELECT carrier, COUNT(*) AS flights FROM input GROUP BY carrier) s ON i.carrier = s.carrier \
         WHERE i.dep_time IS NOT NULL \
         ORDER BY i.arr_delay DESC LIMIT 3",
        &tables,
    )
    .await
    .unwrap();
    assert_eq!(transform.scope(), Scope::WholeInput);
    assert!(transform.record().whole_input);
    let all = flights();
    // Two batches: the windows and the counts span both.
    let applied = transform
        .apply_whole(&[all.slice(0, 2), all.slice(2, 3)])
        .await
        .unwrap();
    // Kept: rows with a carrier and a departure, the 3 latest arrivals
    // (row 2's delay is null: last under DESC), in input order.
    assert_eq!(applied.kept, [0, 1, 2]);
    assert_eq!(
        strings(&applied.batch, "carrier_mean"),
        [Some("11.0".into()), Some("20.0".into()), None],
        "the window sees the rows the WHERE kept (UA's row 4 has no departure)"
    );
    // The subquery counts every input row, across the two batches: UA's
    // rows 0 and 4.
    assert_eq!(
        strings(&applied.batch, "flights"),
        [Some("2".into()), Some("1".into()), Some("1".into())]
    );
    assert!(
        transform.apply(all.clone()).await.is_err(),
        "a whole-input transform does not run batch by batch"
    );
    // A failing cast fails its row only: the others' windows are whole.
    let failing = plan_whole(
        "SELECT carrier, CAST(code AS BIGINT) AS n, COUNT(*) OVER () AS rows FROM input",
        &[],
    )
    .await
    .unwrap()
    .apply_whole(&[all.slice(0, 2), all.slice(2, 3)])
    .await
    .unwrap();
    assert_eq!(failing.kept, [0, 1, 3, 4]);
    assert_eq!(failing.failed.len(), 1);
    assert_eq!(failing.failed[0].0, 2);
    assert_eq!(
        failing.failed[0].1,
        "n = CAST(code AS BIGINT): cannot cast to Int64: 'x'"
    );
    assert_eq!(strings(&failing.batch, "rows")[0], Some("5".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_input_transform_still_refuses_rows_without_one_input_row() {
    for (sql, says) in [
        (
            "SELECT carrier, COUNT(*) AS n FROM input GROUP BY carrier",
            "an aggregate",
        ),
        ("SELECT DISTINCT carrier FROM input", "DISTINCT"),
        (
            "SELECT a.carrier FROM input a JOIN input b ON a.tailnum = b.tailnum",
            "self-join",
        ),
    ] {
        let err = plan_whole(sql, &[]).await.unwrap_err().to_string();
        assert!(err.contains(says), "{sql}: {err}");
        assert!(err.contains("even for a whole-input transform"), "{err}");
    }
    // Row-local refusals point at the opt-in.
    let err = plan("SELECT * FROM input ORDER BY arr_delay", &[])
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("whole_input: true"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scalar_subquery_over_a_reference_table_is_row_local() {
    let tables = [airlines("t8").await];
    let transform = plan(
        "SELECT carrier, (SELECT COUNT(*) FROM airlines) AS airlines FROM input",
        &tables,
    )
    .await
    .unwrap();
    let applied = transform.apply(flights()).await.unwrap();
    assert_eq!(applied.kept, [0, 1, 2, 3, 4]);
    assert_eq!(strings(&applied.batch, "airlines")[3], Some("3".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_input_transform_is_not_replayed() {
    let transform = plan_whole(
        "SELECT *, AVG(arr_delay) OVER () AS mean_delay FROM input",
        &[],
    )
    .await
    .unwrap();
    let err = Transform::replay(transform.record(), TableCheck::Recorded, &[])
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("whole-input") && err.contains("inference.transform: none"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_row_whose_expression_fails_names_it_and_the_others_are_scored() {
    let etl = plan(
        "SELECT carrier, CAST(code AS BIGINT) AS n, dep_time / 0 AS never FROM input WHERE dep_time > 600",
        &[],
    )
    .await
    .unwrap();
    // The model needs n only: the division it does not need fails nothing.
    let replay = Transform::replay(etl.record(), TableCheck::Recorded, &["n".to_string()])
        .await
        .unwrap();
    let applied = replay.apply(flights()).await.unwrap();
    assert_eq!(applied.kept, [0, 1, 3, 4], "the WHERE is not applied");
    assert_eq!(
        applied.failed,
        [(
            2,
            "n = CAST(code AS BIGINT): cannot cast to Int64: 'x'".to_string()
        )]
    );
}
