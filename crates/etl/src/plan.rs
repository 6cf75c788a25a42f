//! The plan of a run, made before any row is processed: which files, in which
//! format, with which columns, and the output schema. Everything that can be
//! wrong with the inputs' shape (missing declared columns, files that
//! disagree, unknown key columns) is reported here, all at once, so a run
//! either starts with a consistent schema or writes nothing. `--dry-run`
//! prints this plan.

use std::fmt;
use std::sync::Arc;

use arrow::array::AsArray;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use common::storage::{Compression, FileFormat, Location, Selection};
use futures::StreamExt;

use crate::config::{ColumnSpec, EtlConfig, MissingColumns};
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::query::Query;
use crate::read::{self, SourceFile};
use ingest::types::infer;

/// One column of the output.
#[derive(Debug, Clone)]
pub struct OutputColumn {
    /// Name after renaming.
    pub name: String,
    /// Arrow type written.
    pub data_type: DataType,
    /// Declared spec, if declared.
    pub spec: Option<ColumnSpec>,
}

/// Where each output column comes from in one input file.
#[derive(Debug, Clone)]
pub struct FileColumns {
    /// The file's own column names, as read.
    pub names: Vec<String>,
    /// For each output column, the index of the file column feeding it (None: filled with nulls).
    pub map: Vec<Option<usize>>,
}

/// Everything decided before reading data.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The input selection.
    pub input: Selection,
    /// The output root.
    pub output: Location,
    /// Files to read, in order.
    pub sources: Vec<SourceFile>,
    /// Files under the input that are not CSV, Parquet or NDJSON (skipped).
    pub skipped: Vec<String>,
    /// Column layout of each source, parallel to `sources`.
    pub files: Vec<FileColumns>,
    /// The cleaned rows' columns (the output's, without a transform).
    pub columns: Vec<OutputColumn>,
    /// The SQL transform, planned over the cleaned columns (`etl.transform`).
    pub query: Option<Arc<Query>>,
}

impl Plan {
    /// Selects the inputs and reads their headers (and a sample of the first file).
    pub async fn build(config: &EtlConfig, input: &Selection, output: &Location) -> Result<Self> {
        let output = output.clone();
        let (sources, skipped) = classify(config, input).await?;
        let mut files = Vec::with_capacity(sources.len());
        let mut sample: Option<arrow::array::RecordBatch> = None;
        let declared: Vec<String> = config.columns.keys().cloned().collect();
        for source in &sources {
            let hint =
                (source.format == FileFormat::Csv && !config.csv.header && !declared.is_empty())
                    .then(|| declared.clone());
            let (names, mut stream) = read::open(
                source,
                &config.csv,
                hint,
                config.infer_rows.max(1),
                read::UnknownKeys::Reject,
                Progress::hidden(),
            )
            .await?;
            if sample.is_none() && !names.is_empty() {
                sample = match stream.next().await {
                    Some(piece) => Some(piece?.into_batch()?.batch),
                    None => Some(arrow::array::RecordBatch::new_empty(Arc::new(Schema::new(
                        names
                            .iter()
                            .map(|n| Field::new(n, DataType::Utf8, true))
                            .collect::<Vec<_>>(),
                    )))),
                };
            }
            files.push(FileColumns {
                names,
                map: Vec::new(),
            });
        }
        let columns = output_columns(config, &sources, &mut files, sample.as_ref())?;
        let query = crate::query::plan(config, cleaned_schema(&columns)).await?;
        let names: Vec<String> = match &query {
            Some(query) => query
                .output_schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect(),
            None => columns.iter().map(|c| c.name.clone()).collect(),
        };
        check_key_columns(config, &names)?;
        Ok(Self {
            input: input.clone(),
            output,
            sources,
            skipped,
            files,
            columns,
            query,
        })
    }

    /// The cleaned rows' Arrow schema (what the SQL transform reads).
    pub fn schema(&self) -> SchemaRef {
        cleaned_schema(&self.columns)
    }

    /// Whether the transform runs once over the whole input.
    pub fn whole_input(&self) -> bool {
        self.query.as_ref().is_some_and(|q| q.record().whole_input)
    }

    /// The schema of the rows written: the transform's output, else the
    /// cleaned rows'.
    pub fn output_schema(&self) -> SchemaRef {
        match &self.query {
            Some(query) => Arc::clone(query.output_schema()),
            None => self.schema(),
        }
    }

    /// Total input bytes.
    pub fn input_bytes(&self) -> u64 {
        self.sources.iter().map(|s| s.file.size).sum()
    }
}

fn cleaned_schema(columns: &[OutputColumn]) -> SchemaRef {
    Arc::new(Schema::new(
        columns
            .iter()
            .map(|c| Field::new(&c.name, c.data_type.clone(), true))
            .collect::<Vec<_>>(),
    ))
}

async fn classify(config: &EtlConfig, input: &Selection) -> Result<(Vec<SourceFile>, Vec<String>)> {
    let mut sources = Vec::new();
    let mut skipped = Vec::new();
    for file in input.files().await? {
        let name = file.location.file_name().to_string();
        let detected = FileFormat::from_name(&name);
        let (format, compression) = match (config.format, detected) {
            (Some(format), Some((_, compression))) => (format, compression),
            (Some(format), None) => (format, Compression::from_name(&name)),
            (None, Some(found)) => found,
            (None, None) => {
                log::warn!(
                    "skipping {}: not a .csv, .parquet or .ndjson file (set etl.format to read it)",
                    file.location
                );
                skipped.push(file.location.to_string());
                continue;
            }
        };
        let index = sources.len();
        sources.push(SourceFile {
            index,
            file,
            format,
            compression,
            row_groups: None,
        });
    }
    if sources.is_empty() {
        return Err(Error::File {
            file: input.to_string(),
            message: format!(
                "no CSV, Parquet or NDJSON files among the {} selected (skipped: {})",
                skipped.len(),
                skipped.join(", ")
            ),
        });
    }
    Ok((sources, skipped))
}

/// A file column's name after `rename`, or None when it is dropped.
fn output_name(config: &EtlConfig, name: &str) -> Option<String> {
    let renamed = config
        .rename
        .get(name)
        .cloned()
        .unwrap_or_else(|| name.to_string());
    let dropped = config.drop.iter().any(|d| d == name || *d == renamed);
    (!dropped).then_some(renamed)
}

fn output_columns(
    config: &EtlConfig,
    sources: &[SourceFile],
    files: &mut [FileColumns],
    sample: Option<&arrow::array::RecordBatch>,
) -> Result<Vec<OutputColumn>> {
    let fill = config.missing_columns == MissingColumns::FillNull;
    // The first file with columns fixes the column set; empty files have none.
    let Some(reference) = files.iter().position(|f| !f.names.is_empty()) else {
        // Nothing but empty files: the output has the declared columns only.
        return Ok(declared_only(config));
    };
    let reference_names: Vec<String> = files[reference]
        .names
        .iter()
        .filter_map(|n| output_name(config, n))
        .collect();
    let mut names = reference_names.clone();
    for (i, file) in files.iter().enumerate() {
        if file.names.is_empty() {
            continue;
        }
        let present: Vec<String> = file
            .names
            .iter()
            .filter_map(|n| output_name(config, n))
            .collect();
        let missing_declared: Vec<String> = config
            .columns
            .keys()
            .filter(|d| !present.contains(d))
            .cloned()
            .collect();
        if !missing_declared.is_empty() && !fill {
            let hints: Vec<String> = missing_declared
                .iter()
                .filter_map(|m| {
                    let close = common::suggest::closest(m, present.iter().map(String::as_str))?;
                    Some(format!("'{close}' for '{m}'"))
                })
                .collect();
            let hint = if hints.is_empty() {
                String::new()
            } else {
                format!(
                    " (did you mean {}? declare the file's name, or map it with etl.rename)",
                    hints.join(", ")
                )
            };
            let note = hint
                + &match sources[i].format {
                    FileFormat::Ndjson => format!(
                        " (an NDJSON file's columns are the keys of its first {} lines: \
                     raise etl.infer_rows to look further)",
                        config.infer_rows.max(read::NDJSON_DISCOVER_LINES)
                    ),
                    _ => String::new(),
                };
            return Err(Error::MissingColumns {
                file: sources[i].name(),
                columns: missing_declared,
                present,
                note,
            });
        }
        let missing: Vec<String> = reference_names
            .iter()
            .filter(|n| !present.contains(n))
            .cloned()
            .collect();
        let extra: Vec<String> = present
            .iter()
            .filter(|n| !reference_names.contains(n))
            .cloned()
            .collect();
        if !extra.is_empty() || (!missing.is_empty() && !fill) {
            return Err(Error::ColumnMismatch {
                file: sources[i].name(),
                reference: sources[reference].name(),
                missing,
                extra,
            });
        }
    }
    for declared in config.columns.keys() {
        if !names.contains(declared) {
            names.push(declared.clone());
        }
    }
    let columns: Vec<OutputColumn> = names
        .iter()
        .map(|name| {
            let spec = config.columns.get(name).cloned();
            let data_type = match &spec {
                Some(spec) => spec.column_type.data_type(),
                None => undeclared_type(
                    config,
                    &files[reference],
                    name,
                    sample,
                    sources[reference].format,
                )
                .map_err(|message| Error::File {
                    file: sources[reference].name(),
                    message,
                })?,
            };
            Ok(OutputColumn {
                name: name.clone(),
                data_type,
                spec,
            })
        })
        .collect::<Result<_>>()?;
    for file in files.iter_mut() {
        let renamed: Vec<Option<String>> =
            file.names.iter().map(|n| output_name(config, n)).collect();
        file.map = columns
            .iter()
            .map(|c| {
                renamed
                    .iter()
                    .position(|r| r.as_deref() == Some(c.name.as_str()))
            })
            .collect();
    }
    Ok(columns)
}

fn declared_only(config: &EtlConfig) -> Vec<OutputColumn> {
    config
        .columns
        .iter()
        .map(|(name, spec)| OutputColumn {
            name: name.clone(),
            data_type: spec.column_type.data_type(),
            spec: Some(spec.clone()),
        })
        .collect()
}

/// The type of an undeclared column: Parquet's own (flat types only), or
/// inferred from the text sample; the message names the column otherwise.
fn undeclared_type(
    config: &EtlConfig,
    reference: &FileColumns,
    name: &str,
    sample: Option<&arrow::array::RecordBatch>,
    format: FileFormat,
) -> std::result::Result<DataType, String> {
    let position = reference
        .names
        .iter()
        .position(|n| output_name(config, n).as_deref() == Some(name));
    let (Some(position), Some(sample)) = (position, sample) else {
        return Ok(DataType::Utf8);
    };
    let column = sample.column(position);
    if format == FileFormat::Parquet {
        return parquet_type(name, column.data_type());
    }
    let Some(strings) = column.as_string_opt::<i32>() else {
        return Ok(DataType::Utf8);
    };
    let values: Vec<&str> = strings
        .iter()
        .flatten()
        .map(|v| if config.trim { v.trim() } else { v })
        .filter(|v| !config.null_tokens.iter().any(|t| t == v))
        .collect();
    Ok(infer(values.iter().copied()).data_type())
}

/// The output type of an undeclared Parquet column of type `given`: flat
/// types as they are (text as `Utf8`, a dictionary as its values), Arrow's
/// null type (what pyarrow writes for an all-None column) as an all-null
/// text column, and nested types refused naming the column.
fn parquet_type(name: &str, given: &DataType) -> std::result::Result<DataType, String> {
    Ok(match given {
        DataType::LargeUtf8 | DataType::Utf8View | DataType::Null => DataType::Utf8,
        DataType::Dictionary(_, values) => parquet_type(name, values)?,
        DataType::Struct(_)
        | DataType::List(_)
        | DataType::LargeList(_)
        | DataType::ListView(_)
        | DataType::LargeListView(_)
        | DataType::FixedSizeList(_, _)
        | DataType::Map(_, _)
        | DataType::Union(_, _)
        | DataType::RunEndEncoded(_, _) => {
            return Err(format!(
                "column '{name}' is {given}: Cauce reads flat columns only; leave it out with etl.drop: [{name}], or flatten it first"
            ));
        }
        other => other.clone(),
    })
}

fn check_key_columns(config: &EtlConfig, columns: &[String]) -> Result<()> {
    let names: Vec<&str> = columns.iter().map(String::as_str).collect();
    for (key, list) in [
        ("etl.dedup_key", &config.dedup_key),
        ("etl.unique", &config.unique),
        ("etl.split.key", &config.split.key),
        (
            "etl.split.stratify",
            &config.split.stratify.iter().cloned().collect(),
        ),
    ] {
        let unknown: Vec<&String> = list
            .iter()
            .filter(|c| !names.contains(&c.as_str()))
            .collect();
        if !unknown.is_empty() {
            return Err(Error::UnknownColumns {
                key: key.to_string(),
                unknown: unknown.into_iter().cloned().collect(),
                available: names.iter().map(|c| c.to_string()).collect(),
            });
        }
    }
    Ok(())
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "input:  {} ({} files, {} bytes)",
            self.input,
            self.sources.len(),
            self.input_bytes()
        )?;
        for source in &self.sources {
            let gz = if source.compression == Compression::Gzip {
                ", gzip"
            } else {
                ""
            };
            writeln!(
                f,
                "  {} ({}{gz}, {} bytes)",
                source.name(),
                source.format.name(),
                source.file.size
            )?;
        }
        for skipped in &self.skipped {
            writeln!(f, "  {skipped} (skipped: unknown format)")?;
        }
        writeln!(f, "output: {}", self.output)?;
        writeln!(f, "columns:")?;
        for column in &self.columns {
            let origin = if column.spec.is_some() {
                "declared"
            } else {
                "inferred"
            };
            writeln!(
                f,
                "  {:<24} {:<28} {origin}",
                column.name,
                column.data_type.to_string()
            )?;
        }
        if let Some(query) = &self.query {
            let record = query.record();
            let scope = if record.whole_input {
                "whole input, not sharded, not replayed at inference"
            } else {
                "row-local"
            };
            writeln!(f, "transform (SQL, {scope}):")?;
            for line in record.sql.lines() {
                writeln!(f, "  {line}")?;
            }
            for table in &record.tables {
                writeln!(
                    f,
                    "  table {} = {} ({}, {} rows, sha256 {})",
                    table.name,
                    table.location,
                    table.format,
                    table.rows,
                    &table.sha256[..12.min(table.sha256.len())]
                )?;
            }
            writeln!(f, "written columns:")?;
            for column in &record.columns_after {
                writeln!(f, "  {:<24} {}", column.name, column.data_type)?;
            }
        }
        Ok(())
    }
}
