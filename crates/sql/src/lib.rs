//! Cauce's SQL transform: derived features and targets, filters and
//! lookups in reference tables, written as one query in the SQL every data
//! engineer knows and run by [Apache DataFusion](https://datafusion.apache.org)
//! (no engine of our own).
//!
//! The query reads the table `input` (etl's cleaned, typed rows) and any
//! reference tables it is given. It must be **row-local**: every output row
//! comes from one input row (projections, scalar functions, `CASE`,
//! `WHERE`, lookups by a unique key). So it runs batch by batch over a
//! stream of any size, on each shard alike, and inference can replay it on
//! raw rows. Aggregates, windows, `ORDER BY`, `LIMIT`, `DISTINCT`, unions
//! and joins that could match several reference rows are refused when the
//! transform is planned, naming what is not row-local.
//!
//! A hidden row number travels through the query, so each output row keeps
//! its input row's lineage (file and line), rows the query leaves out are
//! counted as filtered, and a row whose expression fails (a cast, a
//! division by zero) is reported with the error instead of failing the run.
//!
//! ```
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() -> Result<(), sql::Error> {
//! use std::sync::Arc;
//! use arrow::array::{Int64Array, RecordBatch, StringArray};
//! use arrow::datatypes::{DataType, Field, Schema};
//!
//! let airlines = common::storage::Location::parse("memory://sql-doc/airlines.csv")?;
//! airlines.put("carrier,name\nAA,American\nUA,United\n").await?;
//! let schema = Arc::new(Schema::new(vec![
//!     Field::new("carrier", DataType::Utf8, true),
//!     Field::new("delay", DataType::Int64, true),
//! ]));
//! let transform = sql::Transform::plan(
//!     "SELECT i.*, a.name AS airline, i.delay > 15 AS late FROM input i \
//!      LEFT JOIN airlines a ON i.carrier = a.carrier WHERE i.delay IS NOT NULL",
//!     &[sql::TableSource::new("airlines", airlines)],
//!     schema.clone(),
//! )
//! .await?;
//! let batch = RecordBatch::try_new(schema, vec![
//!     Arc::new(StringArray::from(vec!["UA", "AA", "XX"])),
//!     Arc::new(Int64Array::from(vec![Some(30), None, Some(3)])),
//! ])
//! .unwrap();
//! let applied = transform.apply(batch).await?;
//! assert_eq!(applied.kept, [0, 2]); // row 1 was filtered out
//! assert_eq!(applied.batch.num_columns(), 4);
//! # Ok(()) }
//! ```

mod apply;
mod error;
mod guard;
mod materialize;
mod message;
mod plan;
mod replay;
mod rowlocal;
mod tables;

pub use apply::Applied;
pub use error::{Error, Result};
pub use plan::{Scope, Transform};
pub use replay::TableCheck;
pub use tables::{ReferenceData, TableSource};

/// The hidden column that carries each input row's number through the
/// query; an input or reference column may not use this name.
pub const ROW_ID: &str = "_cauce_row";
