//! Seeded synthetic data for the benchmark: an `id`, eight numeric features
//! with ~2% nulls, two categorical features (5 and 20 levels, ~1% nulls), a
//! binary `target` with ~0.5% nulls and a learnable signal (linear terms, an
//! interaction and a square, so trees and linear models both have something
//! to find), and ~1% exact duplicate rows. The same seed gives the same bytes.
//! With `regression`, `target` is instead a number: ten times the same
//! signal plus Gaussian noise (sd 3), rounded to 0.01.

use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Builder, Int64Builder, RecordBatch, StringBuilder};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use common::storage::{FileFormat, Location, ParquetSink, ParquetWriteOptions};
use object_store::buffered::BufWriter;
use serde::Serialize;
use tokio::io::AsyncWriteExt;

use crate::rng::SplitMix;
use crate::{Error, Result};

/// Numeric feature columns.
pub const NUMERIC: usize = 8;
const CAT_A: [&str; 5] = ["red", "green", "blue", "amber", "violet"];
const CAT_A_EFFECT: [f64; 5] = [0.6, -0.4, 0.0, 0.3, -0.5];

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    /// Rows, duplicates included.
    pub rows: u64,
    /// Seed of every random choice.
    pub seed: u64,
    /// Rows per batch (and per Parquet row group write).
    pub batch_rows: usize,
    /// A numeric target instead of a binary one.
    pub regression: bool,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        Self {
            rows: 100_000,
            seed: 42,
            batch_rows: 65_536,
            regression: false,
        }
    }
}

/// What was written.
#[derive(Debug, Clone, Serialize)]
pub struct GenerateReport {
    /// The file.
    pub location: String,
    /// Rows written.
    pub rows: u64,
    /// Rows that repeat an earlier row exactly.
    pub duplicates: u64,
    /// Rows whose target is null.
    pub null_targets: u64,
    /// Bytes written.
    pub bytes: u64,
}

/// The schema of the generated data (`target` Int64, or Float64 for regression).
pub fn schema(regression: bool) -> SchemaRef {
    let mut fields = vec![Field::new("id", DataType::Int64, false)];
    fields.extend((0..NUMERIC).map(|j| Field::new(format!("x{j}"), DataType::Float64, true)));
    fields.push(Field::new("cat_a", DataType::Utf8, true));
    fields.push(Field::new("cat_b", DataType::Utf8, true));
    let target = if regression {
        DataType::Float64
    } else {
        DataType::Int64
    };
    fields.push(Field::new("target", target, true));
    Arc::new(Schema::new(fields))
}

/// One generated row.
#[derive(Debug, Clone)]
struct Row {
    id: i64,
    x: [Option<f64>; NUMERIC],
    cat_a: Option<usize>,
    cat_b: Option<usize>,
    target: Option<f64>,
}

fn row(id: i64, rng: &mut SplitMix, regression: bool) -> Row {
    let z: [f64; NUMERIC] = std::array::from_fn(|_| rng.normal());
    let a = rng.below(CAT_A.len());
    // Zipf-like frequencies over 20 levels: level k with weight 1/(k+1).
    let b = {
        let total: f64 = (1..=20).map(|k| 1.0 / k as f64).sum();
        let mut u = rng.uniform() * total;
        (0..20)
            .find(|&k| {
                u -= 1.0 / (k + 1) as f64;
                u <= 0.0
            })
            .unwrap_or(19)
    };
    let logit = 1.2 * z[0] - 0.9 * z[1]
        + 0.6 * z[2] * z[3]
        + 0.4 * (z[4] * z[4] - 1.0)
        + 0.3 * z[5]
        + CAT_A_EFFECT[a]
        + 0.08 * (b as f64 - 4.0);
    let target = if regression {
        ((10.0 * logit + 3.0 * rng.normal()) * 100.0).round() / 100.0
    } else {
        f64::from(u8::from(rng.uniform() < 1.0 / (1.0 + (-2.0 * logit).exp())))
    };
    // Features on different scales, as real data has.
    let x = std::array::from_fn(|j| {
        let value = 10.0 * j as f64 + (1.0 + j as f64) * z[j];
        (rng.uniform() >= 0.02).then_some(value)
    });
    Row {
        id,
        x,
        cat_a: (rng.uniform() >= 0.01).then_some(a),
        cat_b: (rng.uniform() >= 0.01).then_some(b),
        target: (rng.uniform() >= 0.005).then_some(target),
    }
}

/// Batch `index` of the data: rows `first..first+n`, seeded by (seed, index).
fn batch(
    options: &GenerateOptions,
    index: u64,
    first: u64,
    n: usize,
) -> Result<(RecordBatch, u64, u64)> {
    let mut rng = SplitMix::new(options.seed ^ index.wrapping_mul(0xD1B5_4A32_D192_ED03));
    let mut rows: Vec<Row> = Vec::with_capacity(n);
    let mut duplicates = 0;
    for i in 0..n {
        if !rows.is_empty() && rng.uniform() < 0.01 {
            let earlier = rows[rng.below(rows.len())].clone();
            rows.push(earlier);
            duplicates += 1;
        } else {
            rows.push(row((first + i as u64) as i64, &mut rng, options.regression));
        }
    }
    let mut id = Int64Builder::with_capacity(n);
    let mut x: Vec<Float64Builder> = (0..NUMERIC)
        .map(|_| Float64Builder::with_capacity(n))
        .collect();
    let mut cat_a = StringBuilder::new();
    let mut cat_b = StringBuilder::new();
    let mut labels = Int64Builder::with_capacity(n);
    let mut values = Float64Builder::with_capacity(n);
    let mut null_targets = 0;
    for r in &rows {
        id.append_value(r.id);
        for (builder, value) in x.iter_mut().zip(r.x) {
            builder.append_option(value);
        }
        cat_a.append_option(r.cat_a.map(|a| CAT_A[a]));
        cat_b.append_option(r.cat_b.map(|b| format!("b{b:02}")));
        if options.regression {
            values.append_option(r.target);
        } else {
            labels.append_option(r.target.map(|t| t as i64));
        }
        null_targets += u64::from(r.target.is_none());
    }
    let mut columns: Vec<ArrayRef> = vec![Arc::new(id.finish())];
    columns.extend(x.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
    columns.push(Arc::new(cat_a.finish()));
    columns.push(Arc::new(cat_b.finish()));
    columns.push(if options.regression {
        Arc::new(values.finish())
    } else {
        Arc::new(labels.finish())
    });
    let batch = RecordBatch::try_new(schema(options.regression), columns).map_err(|source| {
        Error::Arrow {
            context: "building a generated batch".into(),
            source,
        }
    })?;
    Ok((batch, duplicates, null_targets))
}

/// Writes `options.rows` rows to `output` as CSV (with a header) or Parquet.
pub async fn generate(
    output: &Location,
    format: FileFormat,
    options: &GenerateOptions,
) -> Result<GenerateReport> {
    if options.batch_rows == 0 {
        return Err(Error::Invalid("batch rows must be at least 1".into()));
    }
    let mut writer = match format {
        FileFormat::Parquet => Writer::Parquet(Box::new(ParquetSink::create(
            output,
            schema(options.regression),
            &ParquetWriteOptions::default(),
        )?)),
        FileFormat::Csv => Writer::Csv {
            out: Box::new(BufWriter::new(
                Arc::clone(output.store()),
                output.path().clone(),
            )),
            header: true,
            bytes: 0,
        },
        other => {
            return Err(Error::Invalid(format!(
                "{output}: cannot generate {other:?}; use .csv or .parquet"
            )));
        }
    };
    let mut report = GenerateReport {
        location: output.to_string(),
        rows: 0,
        duplicates: 0,
        null_targets: 0,
        bytes: 0,
    };
    let mut index = 0;
    while report.rows < options.rows {
        let n = (options.rows - report.rows).min(options.batch_rows as u64) as usize;
        let (data, duplicates, null_targets) = batch(options, index, report.rows, n)?;
        writer.write(output, &data).await?;
        report.rows += n as u64;
        report.duplicates += duplicates;
        report.null_targets += null_targets;
        index += 1;
    }
    report.bytes = writer.finish(output).await?;
    Ok(report)
}

enum Writer {
    Parquet(Box<ParquetSink>),
    Csv {
        out: Box<BufWriter>,
        header: bool,
        bytes: u64,
    },
}

impl Writer {
    async fn write(&mut self, location: &Location, batch: &RecordBatch) -> Result<()> {
        match self {
            Writer::Parquet(sink) => Ok(sink.write(batch).await?),
            Writer::Csv { out, header, bytes } => {
                let mut text = Vec::new();
                let mut csv = arrow::csv::WriterBuilder::new()
                    .with_header(*header)
                    .build(&mut text);
                csv.write(batch).map_err(|source| Error::Arrow {
                    context: format!("{location}: encoding CSV"),
                    source,
                })?;
                drop(csv);
                *header = false;
                *bytes += text.len() as u64;
                out.write_all(&text).await.map_err(|source| Error::Write {
                    location: location.to_string(),
                    source,
                })
            }
        }
    }

    async fn finish(self, location: &Location) -> Result<u64> {
        match self {
            Writer::Parquet(sink) => Ok(sink.finish().await?.bytes),
            Writer::Csv { mut out, bytes, .. } => {
                out.shutdown().await.map_err(|source| Error::Write {
                    location: location.to_string(),
                    source,
                })?;
                Ok(bytes)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn formats_other_than_csv_and_parquet_are_refused_by_name() {
        let out = Location::parse("memory://bench/data.ndjson").unwrap();
        let err = generate(&out, FileFormat::Ndjson, &GenerateOptions::default())
            .await
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "memory://bench/data.ndjson: cannot generate Ndjson; use .csv or .parquet"
        );
        let options = GenerateOptions {
            batch_rows: 0,
            ..GenerateOptions::default()
        };
        let err = generate(&out, FileFormat::Csv, &options).await.unwrap_err();
        assert_eq!(err.to_string(), "batch rows must be at least 1");
    }

    #[test]
    fn same_seed_same_batch_and_the_advertised_rates() {
        let options = GenerateOptions::default();
        let (a, duplicates, null_targets) = batch(&options, 0, 0, 50_000).unwrap();
        let (b, ..) = batch(&options, 0, 0, 50_000).unwrap();
        assert_eq!(a, b);
        let rate = |n: u64| n as f64 / 50_000.0;
        assert!((0.007..0.013).contains(&rate(duplicates)), "{duplicates}");
        assert!(
            (0.003..0.008).contains(&rate(null_targets)),
            "{null_targets}"
        );
        let x0 = a.column(1).null_count() as f64 / 50_000.0;
        assert!((0.015..0.025).contains(&x0), "{x0}");
        let positives = a
            .column(11)
            .as_any()
            .downcast_ref::<arrow::array::Int64Array>()
            .unwrap()
            .iter()
            .flatten()
            .filter(|&v| v == 1)
            .count() as f64
            / 50_000.0;
        assert!((0.3..0.7).contains(&positives), "{positives}");
    }
}
