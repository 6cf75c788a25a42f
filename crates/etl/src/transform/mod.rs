//! Row-level cleaning and validation of one batch, independent of every other
//! batch so that batches run in parallel on rayon: map the file's columns to
//! the output columns, clean text, cast (a cell that does not cast makes its
//! row invalid), fill nulls, run the rules. Dataset-level steps (uniqueness,
//! de-duplication, split) run afterwards, in input order.

mod rules;

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, RecordBatch, new_null_array};
use arrow::compute::{cast, filter_record_batch};
use arrow::datatypes::{DataType, SchemaRef};
use ingest::types::cast_reporting;

pub use ingest::clean::Cleaner;
use rules::Rules;

use crate::config::EtlConfig;
use crate::error::Result;
use crate::plan::Plan;
use crate::read::RawBatch;
use crate::reason::Reason;

/// A row that failed, with its original values as text.
#[derive(Debug, Clone)]
pub struct Invalid {
    /// Index of the file in the plan.
    pub file: usize,
    /// Source line or row number.
    pub row: u64,
    /// Why.
    pub reason: Reason,
    /// Original values, one per output column (before cleaning and casting).
    pub values: Vec<Option<String>>,
    /// The whole record as text, for rows that could not be split into columns.
    pub raw: Option<String>,
}

/// The outcome of one batch.
#[derive(Debug)]
pub struct Processed {
    /// Index of the file in the plan.
    pub file: usize,
    /// Valid rows in the output schema.
    pub valid: RecordBatch,
    /// Source row of each valid row.
    pub valid_rows: Vec<u64>,
    /// Invalid rows, in source order.
    pub invalid: Vec<Invalid>,
    /// Valid rows the SQL transform left out (0 before it runs).
    pub filtered: u64,
}

/// Everything a batch needs, shared by all workers.
#[derive(Debug)]
pub struct Transform {
    schema: SchemaRef,
    types: Vec<DataType>,
    type_names: Vec<String>,
    rules: Vec<Option<Rules>>,
    cleaner: Cleaner,
    maps: Vec<Vec<Option<usize>>>,
}

impl Transform {
    /// Compiles the plan's columns and rules.
    pub fn new(config: &EtlConfig, plan: &Plan) -> Result<Self> {
        let rules = plan
            .columns
            .iter()
            .map(|c| {
                c.spec
                    .as_ref()
                    .map(|spec| Rules::compile(&c.name, spec))
                    .transpose()
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            schema: plan.schema(),
            types: plan.columns.iter().map(|c| c.data_type.clone()).collect(),
            type_names: plan
                .columns
                .iter()
                .map(|c| match &c.spec {
                    Some(spec) => spec.column_type.name().to_string(),
                    None => c.data_type.to_string(),
                })
                .collect(),
            rules,
            cleaner: Cleaner {
                trim: config.trim,
                null_tokens: config.null_tokens.clone(),
            },
            maps: plan.files.iter().map(|f| f.map.clone()).collect(),
        })
    }

    /// The output schema.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// Cleans, casts and validates one batch.
    pub fn process(&self, raw: RawBatch) -> Result<Processed> {
        let map = &self.maps[raw.file];
        let rows = raw.batch.num_rows();
        let mut reasons: Vec<Option<Reason>> = vec![None; rows];
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(self.types.len());
        let names = self.schema.fields();
        for (j, target) in self.types.iter().enumerate() {
            let Some(source) = map[j] else {
                let nulls = new_null_array(target, rows);
                let nulls = match &self.rules[j] {
                    Some(rules) => rules.fill(nulls)?,
                    None => nulls,
                };
                if let Some(rules) = &self.rules[j] {
                    rules.check(&nulls, &mut reasons)?;
                }
                columns.push(nulls);
                continue;
            };
            let cleaned = self.cleaner.clean(raw.batch.column(source))?;
            let (typed, failed) = cast_reporting(&cleaned, target)?;
            if !failed.is_empty() {
                let text = cast(&cleaned, &DataType::Utf8)?;
                let text = text.as_string::<i32>();
                for i in failed {
                    if reasons[i].is_none() {
                        reasons[i] = Some(Reason::cast(
                            names[j].name(),
                            text.value(i),
                            &self.type_names[j],
                        ));
                    }
                }
            }
            let typed = match &self.rules[j] {
                Some(rules) => {
                    let filled = rules.fill(typed)?;
                    rules.check(&filled, &mut reasons)?;
                    filled
                }
                None => typed,
            };
            columns.push(typed);
        }
        let options = arrow::array::RecordBatchOptions::new().with_row_count(Some(rows));
        let batch = RecordBatch::try_new_with_options(Arc::clone(&self.schema), columns, &options)?;

        let mut invalid = Vec::new();
        let (valid, valid_rows) = if reasons.iter().all(Option::is_none) {
            (batch, raw.rows.clone())
        } else {
            let keep: BooleanArray = reasons.iter().map(|r| Some(r.is_none())).collect();
            let originals = self.original_text(&raw, map)?;
            for (i, reason) in reasons.into_iter().enumerate() {
                if let Some(reason) = reason {
                    invalid.push(Invalid {
                        file: raw.file,
                        row: raw.rows[i],
                        reason,
                        values: originals
                            .iter()
                            .map(|c| c.as_ref().and_then(|c| text_at(c, i)))
                            .collect(),
                        raw: None,
                    });
                }
            }
            let valid_rows = raw
                .rows
                .iter()
                .zip(keep.iter())
                .filter(|(_, k)| k.unwrap_or(false))
                .map(|(r, _)| *r)
                .collect();
            (filter_record_batch(&batch, &keep)?, valid_rows)
        };
        for rejected in raw.rejected {
            invalid.push(Invalid {
                file: raw.file,
                row: rejected.row,
                reason: rejected.reason,
                values: map
                    .iter()
                    .map(|source| source.and_then(|s| rejected.values.get(s).cloned().flatten()))
                    .collect(),
                raw: Some(rejected.raw),
            });
        }
        invalid.sort_by_key(|i| i.row);
        Ok(Processed {
            file: raw.file,
            valid,
            valid_rows,
            invalid,
            filtered: 0,
        })
    }

    /// The file's original values as text, per output column.
    fn original_text(
        &self,
        raw: &RawBatch,
        map: &[Option<usize>],
    ) -> Result<Vec<Option<ArrayRef>>> {
        map.iter()
            .map(|source| match source {
                Some(s) => Ok(Some(cast(raw.batch.column(*s), &DataType::Utf8)?)),
                None => Ok(None),
            })
            .collect()
    }
}

fn text_at(column: &ArrayRef, i: usize) -> Option<String> {
    let text = column.as_string::<i32>();
    text.is_valid(i).then(|| text.value(i).to_string())
}

/// A batch's cells as text: the values of a row quarantined after its
/// cells were cast (the `unique` rule, in a run or in a merge).
pub struct Texts(Vec<arrow::array::ArrayRef>);

impl Texts {
    /// Casts every column of `batch` to text.
    pub fn of(batch: &RecordBatch) -> Result<Self> {
        Ok(Self(
            batch
                .columns()
                .iter()
                .map(|c| arrow::compute::cast(c, &arrow::datatypes::DataType::Utf8))
                .collect::<Result<_, _>>()?,
        ))
    }

    /// Row `i`'s cells (null stays null).
    pub fn row(&self, i: usize) -> Vec<Option<String>> {
        use arrow::array::{Array, AsArray};
        self.0
            .iter()
            .map(|c| {
                let c = c.as_string::<i32>();
                c.is_valid(i).then(|| c.value(i).to_string())
            })
            .collect()
    }
}

/// Keeps the rows of `batch` where `mask` is true (re-exported for the run step).
pub fn take_rows(batch: &RecordBatch, mask: &BooleanArray) -> Result<RecordBatch> {
    Ok(filter_record_batch(batch, mask)?)
}
