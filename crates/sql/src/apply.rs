//! Running the planned transform on one batch: the batch, numbered by the
//! hidden row column, replaces the `input` scan of the plan; the result is
//! put back in input order and its row numbers say which input row each
//! output row came from. A batch whose execution fails is split in halves
//! until the failing rows are alone, so each is reported with its error
//! and every other row is transformed.
//!
//! A whole-input transform runs once over all the batches, numbered end to
//! end. Rows whose guarded cast or division failed ([`crate::guard`]) are
//! set aside as in a batch; any other failure fails the run, since the
//! query cannot be re-run on part of the input without changing its values.

use std::sync::Arc;

use arrow::array::{Array, AsArray, RecordBatch, UInt64Array};
use arrow::compute::{
    cast, concat_batches, filter_record_batch, is_null, sort_to_indices, take_record_batch,
};
use arrow::datatypes::DataType;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::datasource::{MemTable, provider_as_source};
use datafusion::logical_expr::{LogicalPlan, col};
use datafusion::physical_plan::collect;

use crate::ROW_ID;
use crate::error::{Error, Result};
use crate::guard::ERROR;
use crate::plan::{INPUT, Scope, Transform};

/// The outcome of one batch.
#[derive(Debug, Clone)]
pub struct Applied {
    /// The transformed rows, in input order, in the output schema.
    pub batch: RecordBatch,
    /// For each output row, the index of the input row it came from
    /// (strictly increasing).
    pub kept: Vec<usize>,
    /// Input rows whose expressions failed, with the error.
    pub failed: Vec<(usize, String)>,
}

impl Applied {
    /// Input rows the query left out (neither kept nor failed), of `rows`.
    pub fn filtered(&self, rows: usize) -> usize {
        rows - self.kept.len() - self.failed.len()
    }
}

/// Rows in input order, their input row numbers, and failed rows.
type Ordered = (RecordBatch, Vec<usize>, Vec<(usize, String)>);

impl Transform {
    /// Transforms one batch of the input schema (a row-local transform).
    pub async fn apply(&self, batch: RecordBatch) -> Result<Applied> {
        if self.scope == Scope::WholeInput {
            return Err(Error::Execution(
                "a whole-input transform runs with apply_whole, not batch by batch".into(),
            ));
        }
        let rows = batch.num_rows();
        let numbered = self.numbered(&batch, 0)?;
        let mut pieces = Vec::new();
        let mut failed = Vec::new();
        let mut pending = vec![(0, rows)];
        while let Some((offset, len)) = pending.pop() {
            match self.run(vec![numbered.slice(offset, len)]).await {
                Ok(out) => pieces.extend(out),
                Err(e) if len == 1 => failed.push((offset, e)),
                Err(_) => {
                    let half = len / 2;
                    pending.push((offset + half, len - half));
                    pending.push((offset, half));
                }
            }
        }
        let (batch, kept, flagged) = self.in_order(&pieces)?;
        failed.extend(flagged);
        failed.sort_by_key(|(row, _)| *row);
        Ok(Applied {
            batch,
            kept,
            failed,
        })
    }

    /// Transforms all of `batches` (of the input schema) at once; the
    /// result's row numbers count through the batches in order.
    pub async fn apply_whole(&self, batches: &[RecordBatch]) -> Result<Applied> {
        let mut numbered = Vec::with_capacity(batches.len());
        let mut first = 0;
        for batch in batches.iter().filter(|b| b.num_rows() > 0) {
            numbered.push(self.numbered(batch, first)?);
            first += batch.num_rows();
        }
        let pieces = self.run(numbered).await.map_err(|e| {
            Error::Execution(format!(
                "the whole-input query failed on the data (a whole-input transform cannot set a failing row aside; guard the expression, e.g. TRY_CAST or NULLIF): {e}"
            ))
        })?;
        let (batch, kept, failed) = self.in_order(&pieces)?;
        Ok(Applied {
            batch,
            kept,
            failed,
        })
    }

    /// `batch` with its rows numbered from `first` in the row column.
    fn numbered(&self, batch: &RecordBatch, first: usize) -> Result<RecordBatch> {
        let rows = batch.num_rows();
        let mut columns = batch.columns().to_vec();
        columns.push(Arc::new(UInt64Array::from_iter_values(
            first as u64..(first + rows) as u64,
        )));
        RecordBatch::try_new(Arc::clone(&self.input), columns)
            .map_err(|e| Error::Execution(format!("the batch does not fit the planned input: {e}")))
    }

    /// Runs the plan on `batches` (numbered); a failure is one line.
    async fn run(
        &self,
        batches: Vec<RecordBatch>,
    ) -> std::result::Result<Vec<RecordBatch>, String> {
        // The rows are in row-number order: declared, so a lookup's hash
        // join keeps that order and the result needs no sorting.
        let table = MemTable::try_new(Arc::clone(&self.input), vec![batches])
            .map_err(|e| e.to_string())?
            .with_sort_order(vec![vec![col(ROW_ID).sort(true, false)]]);
        let source = provider_as_source(Arc::new(table));
        let plan = self
            .plan
            .clone()
            .transform_up(|node| match node {
                LogicalPlan::TableScan(mut scan) if scan.table_name.table() == INPUT => {
                    scan.source = Arc::clone(&source);
                    Ok(Transformed::yes(LogicalPlan::TableScan(scan)))
                }
                other => Ok(Transformed::no(other)),
            })
            .map_err(|e| e.to_string())?
            .data;
        let physical = self
            .state
            .query_planner()
            .create_physical_plan(&plan, &self.state)
            .await
            .map_err(|e| one_line(&e.to_string()))?;
        collect(physical, self.state.task_ctx())
            .await
            .map_err(|e| one_line(&e.to_string()))
    }

    /// The pieces' rows sorted by row number, without the row and error
    /// columns, their row numbers, and the rows the error column marks as
    /// failed. The rows are copied only when the pieces are several or out
    /// of order, or a row failed.
    fn in_order(&self, pieces: &[RecordBatch]) -> Result<Ordered> {
        let internal = |e: arrow::error::ArrowError| Error::Execution(e.to_string());
        let plan_schema = Arc::new(self.plan.schema().as_arrow().clone());
        let all = match pieces {
            [one] => one.clone(),
            _ => concat_batches(&plan_schema, pieces).map_err(internal)?,
        };
        let at = plan_schema
            .index_of(ROW_ID)
            .map_err(|_| Error::Execution("the row number was lost".into()))?;
        let lost = || Error::Execution("the row number is not UInt64".into());
        let ids = all
            .column(at)
            .as_any()
            .downcast_ref::<UInt64Array>()
            .ok_or_else(lost)?;
        let sorted = if ids.values().is_sorted() {
            all
        } else {
            let order = sort_to_indices(all.column(at), None, None).map_err(internal)?;
            take_record_batch(&all, &order).map_err(internal)?
        };
        let ids = sorted
            .column(at)
            .as_any()
            .downcast_ref::<UInt64Array>()
            .ok_or_else(lost)?;
        let mut kept: Vec<usize> = ids.values().iter().map(|&id| id as usize).collect();
        if let Some(pair) = kept.windows(2).find(|w| w[0] == w[1]) {
            return Err(Error::Lookup(format!(
                "input row {} came out of the query more than once: a lookup matched several reference rows",
                pair[0]
            )));
        }
        let error_at = plan_schema.index_of(ERROR).ok();
        let mut failed = Vec::new();
        let sorted = match error_at.map(|e| sorted.column(e)) {
            Some(errors) if errors.null_count() < errors.len() => {
                let errors = cast(errors, &DataType::Utf8).map_err(internal)?;
                let errors = errors.as_string::<i32>();
                for (i, error) in errors.iter().enumerate() {
                    if let Some(error) = error {
                        failed.push((kept[i], error.to_string()));
                    }
                }
                let fine = is_null(errors).map_err(internal)?;
                kept = kept
                    .iter()
                    .zip(fine.values().iter())
                    .filter_map(|(&row, fine)| fine.then_some(row))
                    .collect();
                filter_record_batch(&sorted, &fine).map_err(internal)?
            }
            _ => sorted,
        };
        let columns: Vec<Arc<dyn Array>> = sorted
            .columns()
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != at && Some(*i) != error_at)
            .map(|(_, c)| Arc::clone(c))
            .collect();
        let batch = RecordBatch::try_new(Arc::clone(&self.output), columns).map_err(internal)?;
        Ok((batch, kept, failed))
    }
}

fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}
