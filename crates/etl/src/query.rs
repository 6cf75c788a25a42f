//! The SQL transform step (`etl.transform`): planned once over the cleaned
//! rows' schema by the `sql` crate (Apache DataFusion), then run on each
//! cleaned batch. Each output row keeps its input row's source line; rows
//! the query leaves out are counted as filtered; a row whose expression
//! fails is quarantined with DataFusion's message (rule `transform`).
//! Built without the `sql` feature, a config with a transform is refused.

use std::sync::Arc;

use arrow::datatypes::SchemaRef;

use crate::config::EtlConfig;
use crate::error::{Error, Result};
use crate::transform::Processed;

#[cfg(feature = "sql")]
pub use sql::Transform as Query;

/// Stand-in when built without the `sql` feature: never constructed.
#[cfg(not(feature = "sql"))]
#[derive(Debug)]
pub enum Query {}

#[cfg(not(feature = "sql"))]
impl Query {
    /// The output schema (never called: no `Query` exists).
    pub fn output_schema(&self) -> &SchemaRef {
        match *self {}
    }

    /// The record (never called: no `Query` exists).
    pub fn record(&self) -> &records::transform::Transform {
        match *self {}
    }
}

/// Plans `etl.transform` over `cleaned` (the cleaning's output schema);
/// `None` without a transform.
#[cfg(feature = "sql")]
pub async fn plan(config: &EtlConfig, cleaned: SchemaRef) -> Result<Option<Arc<Query>>> {
    let Some(transform) = &config.transform else {
        return Ok(None);
    };
    let mut tables = Vec::with_capacity(transform.tables.len());
    for (name, location) in &transform.tables {
        let at = common::storage::Location::parse(location).map_err(|e| {
            Error::Transform(sql::Error::Table {
                name: name.clone(),
                location: location.clone(),
                message: e.to_string(),
            })
        })?;
        tables.push(sql::TableSource::new(name.clone(), at));
    }
    let scope = if transform.whole_input {
        sql::Scope::WholeInput
    } else {
        sql::Scope::Rows
    };
    let query = Query::plan_scoped(&transform.sql, &tables, cleaned, scope).await?;
    Ok(Some(Arc::new(query)))
}

/// Refuses a transform in a build without DataFusion.
#[cfg(not(feature = "sql"))]
pub async fn plan(config: &EtlConfig, _cleaned: SchemaRef) -> Result<Option<Arc<Query>>> {
    match &config.transform {
        None => Ok(None),
        Some(_) => Err(Error::Internal(
            "etl.transform: this build of etl has no SQL transforms (built without the `sql` feature)".into(),
        )),
    }
}

/// Runs the query on a cleaned batch: the valid rows become the query's
/// rows, failing rows join the invalid ones (in source order), the rest
/// are counted as filtered.
#[cfg(feature = "sql")]
pub async fn apply(query: &Query, processed: Processed) -> Result<Processed> {
    let Processed {
        file,
        valid,
        valid_rows,
        mut invalid,
        filtered,
    } = processed;
    let rows = valid.num_rows();
    // The batch is shared (its columns are reference-counted).
    let applied = query.apply(valid.clone()).await?;
    quarantine(&valid, &valid_rows, file, &applied.failed, &mut invalid)?;
    Ok(Processed {
        file,
        filtered: filtered + applied.filtered(rows) as u64,
        valid_rows: applied.kept.iter().map(|&i| valid_rows[i]).collect(),
        valid: applied.batch,
        invalid,
    })
}

/// Adds the rows of `valid` that failed in the query (by index) to
/// `invalid`, in source order; the cleaned values are cast to text only
/// when a row failed.
#[cfg(feature = "sql")]
fn quarantine(
    valid: &arrow::array::RecordBatch,
    valid_rows: &[u64],
    file: usize,
    failed: &[(usize, String)],
    invalid: &mut Vec<crate::transform::Invalid>,
) -> Result<()> {
    use crate::reason::Reason;
    use crate::transform::{Invalid, Texts};
    if failed.is_empty() {
        return Ok(());
    }
    let texts = Texts::of(valid)?;
    for (i, message) in failed {
        invalid.push(Invalid {
            file,
            row: valid_rows[*i],
            reason: Reason::transform(message),
            values: texts.row(*i),
            raw: None,
        });
    }
    invalid.sort_by_key(|row| row.row);
    Ok(())
}

/// Never called without the `sql` feature (no `Query` exists).
#[cfg(not(feature = "sql"))]
pub async fn apply(query: &Query, _processed: Processed) -> Result<Processed> {
    match *query {}
}

/// Runs a whole-input query once over every cleaned batch (`parts`, in
/// input order) and gives each part back with the query's rows that came
/// from it; the rest of its rows are filtered.
#[cfg(feature = "sql")]
pub async fn apply_whole(query: &Query, parts: Vec<Processed>) -> Result<Vec<Processed>> {
    let batches: Vec<_> = parts.iter().map(|p| p.valid.clone()).collect();
    let applied = query.apply_whole(&batches).await?;
    let kept = &applied.kept;
    let mut out = Vec::with_capacity(parts.len());
    // `kept` and `failed` are in row order: each part takes the next run
    // of rows below its end.
    let (mut first, mut at, mut failed_at) = (0, 0, 0);
    for mut part in parts {
        let rows = part.valid.num_rows();
        let end = first + rows;
        let begin = at;
        at += kept[at..].partition_point(|&row| row < end);
        let failed_begin = failed_at;
        failed_at += applied.failed[failed_at..].partition_point(|(row, _)| *row < end);
        let failed: Vec<(usize, String)> = applied.failed[failed_begin..failed_at]
            .iter()
            .map(|(row, message)| (row - first, message.clone()))
            .collect();
        quarantine(
            &part.valid,
            &part.valid_rows,
            part.file,
            &failed,
            &mut part.invalid,
        )?;
        out.push(Processed {
            file: part.file,
            valid: applied.batch.slice(begin, at - begin),
            valid_rows: kept[begin..at]
                .iter()
                .map(|&row| part.valid_rows[row - first])
                .collect(),
            invalid: part.invalid,
            filtered: part.filtered + (rows - (at - begin) - failed.len()) as u64,
        });
        first = end;
    }
    Ok(out)
}

/// Never called without the `sql` feature (no `Query` exists).
#[cfg(not(feature = "sql"))]
pub async fn apply_whole(query: &Query, _parts: Vec<Processed>) -> Result<Vec<Processed>> {
    match *query {}
}
