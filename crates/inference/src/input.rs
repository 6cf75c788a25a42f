//! A unit's rows, made ready for the model. Parquet keeps its own types.
//! Text formats (CSV / TSV, NDJSON, gzip or not) are read by `ingest`, the
//! reader etl uses, and cleaned as the training data was (the [`Cleaning`]
//! recorded in the model card: CSV dialect, trim, null tokens, renames,
//! `fill_null`), and each column the model or the passthrough needs is cast
//! from text with etl's cast to the type the model was trained on: numeric features as Float64
//! (a fractional value in an integer feature is scored), other types as etl
//! wrote them for training (so categories of boolean, integer or date
//! columns spell as they did),
//! passthrough columns to the type etl infers from the file's first rows.
//!
//! Nothing in one row stops the run: a row that cannot be split into
//! columns (ragged, malformed JSON) or a cell that does not cast gets a null
//! prediction and an `_error` with its source line and the reason, in etl's
//! words. Only file-level problems (unreadable file, missing columns) fail.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, RecordBatch, StringArray};
use arrow::compute::interleave;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use common::storage::{BatchStream, FileFormat, ParquetSource};
use futures::StreamExt;
use futures::stream::BoxStream;
use ingest::clean::{Cleaner, Cleaning, fill_nulls};
use ingest::read::{self, Piece, RawBatch, SourceFile};
use ingest::types::{ColumnType, cast_reporting, infer};
use ingest::{CsvConfig, Reason};
use model::Model;

use crate::error::{Error, Result};

/// Rows ready to score.
#[derive(Debug)]
pub struct Prepared {
    /// The rows as read, every column of the file (quarantine keeps them).
    pub input: RecordBatch,
    /// The columns the model and the passthrough need, typed.
    pub typed: RecordBatch,
    /// Why a row cannot be scored, found while reading (empty: none).
    pub errors: Vec<Option<String>>,
}

impl Prepared {
    /// Rows ready to score; `errors` (one per row) is emptied when no row
    /// has one, so scoring skips it.
    pub fn new(input: RecordBatch, typed: RecordBatch, mut errors: Vec<Option<String>>) -> Self {
        if errors.iter().all(Option::is_none) {
            errors.clear();
        }
        Self {
            input,
            typed,
            errors,
        }
    }
}

/// A batch still to be made ready (the CPU work runs where it is prepared).
#[derive(Debug)]
pub enum Pending {
    /// A Parquet batch: ready as it is.
    Typed(RecordBatch),
    /// Text rows still to be parsed, cleaned and cast.
    Text(Piece, Arc<TextPlan>),
}

impl Pending {
    /// Parses, cleans and casts the rows.
    pub fn prepare(self) -> Result<Prepared> {
        match self {
            Pending::Typed(batch) => Ok(Prepared {
                input: batch.clone(),
                typed: batch,
                errors: Vec::new(),
            }),
            Pending::Text(piece, plan) => plan.prepare(piece.into_batch()?),
        }
    }
}

/// A unit's pending batches, and the schema of their typed rows.
pub type Pendings = BoxStream<'static, Result<Pending>>;

/// How a text file's columns become the typed columns.
#[derive(Debug)]
pub struct TextPlan {
    cleaner: Cleaner,
    /// The typed columns: their position in the file, type, and `fill_null`
    /// constant (as text) if they have one.
    columns: Vec<(usize, DataType, Option<String>)>,
    schema: SchemaRef,
}

/// Opens `source`: the schema of the typed rows and the pending batches.
/// Text is read and cleaned as `cleaning` says (the training data's, by
/// default); `passthrough` columns are named as in the file or as renamed.
pub async fn open(
    source: &SourceFile,
    row_groups: Option<Vec<usize>>,
    batch_size: usize,
    cleaning: &Cleaning,
    passthrough: &[String],
    wanted: &[Field],
) -> Result<(SchemaRef, Pendings)> {
    if source.format == FileFormat::Parquet {
        let parquet = ParquetSource::open(&source.file.location).await?;
        let stream: BatchStream = parquet.stream(batch_size, row_groups)?;
        let pending = stream.map(|batch| Ok(Pending::Typed(batch?)));
        return Ok((parquet.schema(), pending.boxed()));
    }
    let (names, mut pieces) = read::open(
        source,
        &cleaning.csv,
        None,
        batch_size,
        read::UnknownKeys::Ignore,
        ingest::progress::Progress::hidden(),
    )
    .await?;
    // The first rows decide the passthrough columns' types, as etl's first
    // rows decide undeclared ones.
    let first = match pieces.next().await {
        Some(piece) => {
            let parse = common::cpu::run("parsing the first rows", move || piece?.into_batch());
            Some(parse.await.map_err(|e| Error::Internal(e.to_string()))??)
        }
        None => None,
    };
    let plan = Arc::new(TextPlan::new(
        &names,
        wanted,
        passthrough,
        cleaning,
        first.as_ref(),
    )?);
    let schema = Arc::clone(&plan.schema);
    let first = first.map(|raw| Ok(Piece::Batch(raw)));
    let pending = futures::stream::iter(first)
        .chain(pieces)
        .map(move |piece| Ok(Pending::Text(piece?, Arc::clone(&plan))));
    Ok((schema, pending.boxed()))
}

/// The columns `model` reads, with the types they are read as: what etl
/// wrote for training (the cleaning's types), else the model's.
pub fn model_columns(model: &Model, cleaning: &Cleaning) -> Vec<Field> {
    model
        .inputs()
        .into_iter()
        .map(|input| {
            let trained = match cleaning.types.get(&input.name) {
                Some(t) => Some(t.data_type()),
                None => input.data_type.parse().ok(),
            };
            Field::new(&input.name, model_type(&input.kind, trained), true)
        })
        .collect()
}

/// The type a model input is read as (see the module doc).
fn model_type(kind: &str, trained: Option<DataType>) -> DataType {
    match (kind, trained) {
        ("numeric", Some(t)) if !t.is_numeric() => t,
        ("numeric", _) => DataType::Float64,
        (_, Some(t))
            if !matches!(
                t,
                DataType::Utf8
                    | DataType::LargeUtf8
                    | DataType::Utf8View
                    | DataType::Dictionary(..)
            ) =>
        {
            t
        }
        _ => DataType::Utf8,
    }
}

impl TextPlan {
    fn new(
        names: &[String],
        wanted: &[Field],
        passthrough: &[String],
        cleaning: &Cleaning,
        first: Option<&RawBatch>,
    ) -> Result<Self> {
        // Columns by the name they have after cleaning (renamed), and by the
        // file's own name for passthrough columns named that way.
        let mut position: HashMap<&str, usize> = HashMap::new();
        for (i, name) in names.iter().enumerate() {
            if let Some(output) = cleaning.output_name(name) {
                position.insert(output, i);
            }
        }
        let cleaner = ingest::clean::cleaner(cleaning);
        let mut columns: Vec<(usize, DataType, Option<String>)> = Vec::new();
        let mut fields = Vec::new();
        let mut add = |name: &str, i: Option<usize>, data_type: DataType| {
            if let Some(i) = i
                && !columns.iter().any(|(j, _, _)| *j == i)
            {
                let fill = cleaning.fill_null.get(name).cloned();
                columns.push((i, data_type.clone(), fill));
                fields.push(Field::new(name, data_type, true));
            }
        };
        for field in wanted {
            let i = position.get(field.name().as_str()).copied();
            add(field.name(), i, field.data_type().clone());
        }
        for name in passthrough {
            let i = (position.get(name.as_str()).copied())
                .or_else(|| names.iter().position(|n| n == name));
            let sample = match (first, i) {
                (Some(raw), Some(i)) => Some(cleaner.clean(raw.batch.column(i))?),
                _ => None,
            };
            let inferred = sample.as_ref().map_or(ColumnType::String, |column| {
                infer(column.as_string::<i32>().iter().flatten())
            });
            add(name, i, inferred.data_type());
        }
        Ok(Self {
            cleaner,
            columns,
            schema: Arc::new(Schema::new(fields)),
        })
    }

    fn prepare(&self, raw: RawBatch) -> Result<Prepared> {
        let (input, lines, mut errors) = with_rejected(raw)?;
        let mut typed: Vec<ArrayRef> = Vec::with_capacity(self.columns.len());
        for (field, (i, data_type, fill)) in self.schema.fields().iter().zip(&self.columns) {
            let cast = Cast {
                cleaner: &self.cleaner,
                name: field.name(),
                data_type,
                fill: fill.as_deref(),
            };
            typed.push(cast.apply(input.column(*i), &mut errors, |row| {
                format!("line {}", lines[row])
            })?);
        }
        let options =
            arrow::array::RecordBatchOptions::new().with_row_count(Some(input.num_rows()));
        let typed = RecordBatch::try_new_with_options(Arc::clone(&self.schema), typed, &options)?;
        Ok(Prepared::new(input, typed, errors))
    }
}

/// How one text column becomes a typed one: cleaned (trim, null tokens),
/// its nulls filled, cast with etl's cast; a cell that does not cast gives
/// its row an error (the first one a row gets is kept).
struct Cast<'a> {
    cleaner: &'a Cleaner,
    name: &'a str,
    data_type: &'a DataType,
    fill: Option<&'a str>,
}

impl Cast<'_> {
    /// `column` cleaned and cast; `at` says where a row is, for its error.
    fn apply(
        &self,
        column: &ArrayRef,
        errors: &mut [Option<String>],
        at: impl Fn(usize) -> String,
    ) -> Result<ArrayRef> {
        let mut cleaned = self.cleaner.clean(column)?;
        if let Some(value) = self.fill {
            cleaned = fill_nulls(cleaned, value);
        }
        let (column, failed) = cast_reporting(&cleaned, self.data_type)?;
        if !failed.is_empty() {
            let text = cleaned.as_string::<i32>();
            let type_name = ColumnType::of(self.data_type).map_or("number", ColumnType::name);
            for row in failed {
                if errors[row].is_none() {
                    let reason = Reason::cast(self.name, text.value(row), type_name);
                    errors[row] = Some(format!("{}: {reason}", at(row)));
                }
            }
        }
        Ok(column)
    }
}

/// A table already in memory (from Python, or any program embedding the
/// crate), made ready as the files are: a column the model reads is found
/// by its cleaned name (a renamed column also by its name in the raw
/// data); a text column the model reads as another type is cleaned and
/// cast as a text file's (a cell that does not cast gives its row, counted
/// from 1, an `_error`); a typed column is taken as a Parquet file's is.
/// `passthrough` columns are kept as they are.
pub fn prepare_table(
    batch: RecordBatch,
    cleaning: &Cleaning,
    wanted: &[Field],
    passthrough: &[String],
) -> Result<Prepared> {
    let schema = batch.schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let find = |name: &str| {
        names.iter().position(|n| *n == name).or_else(|| {
            names
                .iter()
                .position(|n| cleaning.output_name(n) == Some(name))
        })
    };
    let cleaner = ingest::clean::cleaner(cleaning);
    let mut errors = vec![None; batch.num_rows()];
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for field in wanted {
        let Some(i) = find(field.name()) else {
            continue;
        };
        let column = batch.column(i);
        let text = matches!(
            column.data_type(),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
        );
        let column = if text {
            let cast = Cast {
                cleaner: &cleaner,
                name: field.name(),
                data_type: field.data_type(),
                fill: cleaning.fill_null.get(field.name()).map(String::as_str),
            };
            cast.apply(column, &mut errors, |row| format!("row {}", row + 1))?
        } else {
            Arc::clone(column)
        };
        fields.push(Field::new(field.name(), column.data_type().clone(), true));
        columns.push(column);
    }
    for name in passthrough {
        if fields.iter().any(|f| f.name() == name) {
            continue;
        }
        if let Some(i) = find(name) {
            let column = Arc::clone(batch.column(i));
            fields.push(Field::new(name, column.data_type().clone(), true));
            columns.push(column);
        }
    }
    let options = arrow::array::RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
    let typed =
        RecordBatch::try_new_with_options(Arc::new(Schema::new(fields)), columns, &options)?;
    Ok(Prepared::new(batch, typed, errors))
}

/// The rows of `raw` with its rejected rows put back in source order (their
/// fields as far as they were read, nulls after), each row's source line,
/// and the rejected rows' reasons.
fn with_rejected(raw: RawBatch) -> Result<(RecordBatch, Vec<u64>, Vec<Option<String>>)> {
    let RawBatch {
        batch,
        rows,
        rejected,
        ..
    } = raw;
    if rejected.is_empty() {
        let errors = vec![None; rows.len()];
        return Ok((batch, rows, errors));
    }
    let width = batch.num_columns();
    let set_aside: Vec<ArrayRef> = (0..width)
        .map(|c| {
            let values: StringArray = rejected
                .iter()
                .map(|r| r.values.get(c).cloned().flatten())
                .collect();
            Arc::new(values) as ArrayRef
        })
        .collect();
    // Merge by source line: (0, i) is the batch's row i, (1, j) rejected row j.
    let mut order: Vec<(u64, usize, usize)> =
        rows.iter().enumerate().map(|(i, &l)| (l, 0, i)).collect();
    order.extend(rejected.iter().enumerate().map(|(j, r)| (r.row, 1, j)));
    order.sort_unstable();
    let indices: Vec<(usize, usize)> = order.iter().map(|&(_, side, i)| (side, i)).collect();
    let columns = (0..width)
        .map(|c| {
            let text = arrow::compute::cast(batch.column(c), &DataType::Utf8)?;
            Ok(interleave(
                &[text.as_ref(), set_aside[c].as_ref()],
                &indices,
            )?)
        })
        .collect::<Result<Vec<_>>>()?;
    let schema = Arc::new(Schema::new(
        batch
            .schema()
            .fields()
            .iter()
            .map(|f| Field::new(f.name(), DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ));
    let options = arrow::array::RecordBatchOptions::new().with_row_count(Some(order.len()));
    let merged = RecordBatch::try_new_with_options(schema, columns, &options)?;
    let lines = order.iter().map(|&(line, _, _)| line).collect();
    let errors = order
        .iter()
        .map(|&(line, side, j)| (side == 1).then(|| format!("line {line}: {}", rejected[j].reason)))
        .collect();
    Ok((merged, lines, errors))
}

/// Whether a text column (of `CsvConfig` dialect) can be read; re-checked
/// here so that a bad `inference.csv` is a config error naming its key.
pub fn check_csv(csv: &CsvConfig) -> Result<()> {
    match csv.problem() {
        Some((key, message)) => Err(Error::Config {
            key: format!("inference.{key}"),
            message,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use arrow::array::{Array, Int64Array};

    use super::*;

    /// A table's text column the model reads as a number is cleaned and
    /// cast (a bad cell gives its row an error naming it); a renamed raw
    /// column is found by its raw name; typed and passthrough columns stay
    /// as they are.
    #[test]
    fn a_table_is_cleaned_and_cast_as_a_file_is() {
        let schema = Schema::new(vec![
            Field::new("Bill", DataType::Utf8, true),
            Field::new("mass", DataType::Int64, true),
            Field::new("id", DataType::Utf8, true),
        ]);
        let batch = RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(StringArray::from(vec![
                    Some(" 1.5 "),
                    Some("NA"),
                    Some("x7"),
                ])),
                Arc::new(Int64Array::from(vec![10, 20, 30])),
                Arc::new(StringArray::from(vec!["a", "b", "c"])),
            ],
        )
        .unwrap();
        let cleaning = Cleaning {
            rename: [("Bill".to_string(), "bill".to_string())].into(),
            ..Cleaning::default()
        };
        let wanted = [
            Field::new("bill", DataType::Float64, true),
            Field::new("mass", DataType::Float64, true),
        ];
        let ready = prepare_table(batch, &cleaning, &wanted, &["id".into()]).unwrap();
        let names: Vec<&str> = ready
            .typed
            .schema_ref()
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        assert_eq!(names, ["bill", "mass", "id"]);
        let bill = ready
            .typed
            .column(0)
            .as_primitive::<arrow::datatypes::Float64Type>();
        assert_eq!(bill.value(0), 1.5);
        assert!(bill.is_null(1) && bill.is_null(2));
        assert_eq!(ready.typed.column(1).data_type(), &DataType::Int64);
        assert_eq!(ready.errors[0], None);
        assert_eq!(ready.errors[1], None);
        let error = ready.errors[2].as_deref().unwrap();
        assert!(
            error.starts_with("row 3: ") && error.contains("'x7'"),
            "{error}"
        );
    }
}
