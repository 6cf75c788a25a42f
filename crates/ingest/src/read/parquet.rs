//! Parquet input: the file's own column types, streamed by row group (all
//! of them, or a shard's).

use common::storage::ParquetSource;
use futures::StreamExt;

use super::{Piece, RawBatch, RawStream, SourceFile};
use crate::error::Result;
use crate::progress::Progress;

pub(super) async fn open(
    source: &SourceFile,
    batch_size: usize,
    progress: Progress,
) -> Result<(Vec<String>, RawStream)> {
    let parquet = ParquetSource::open(&source.file.location).await?;
    let names = parquet
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let total_rows = parquet.num_rows().max(1);
    let size = parquet.size();
    let file = source.index;
    // One stream per row group read, each numbering its rows from the
    // group's first row in the whole file.
    let counts = parquet.row_group_rows();
    let starts: Vec<u64> = counts
        .iter()
        .scan(1u64, |next, n| {
            let start = *next;
            *next += n;
            Some(start)
        })
        .collect();
    let groups: Vec<usize> = match &source.row_groups {
        Some(groups) => groups.clone(),
        None => (0..counts.len()).collect(),
    };
    let mut streams = Vec::with_capacity(groups.len());
    for group in groups {
        let mut next_row = starts.get(group).copied().unwrap_or(1);
        let progress = progress.clone();
        streams.push(
            parquet
                .stream(batch_size, Some(vec![group]))?
                .map(move |batch| {
                    let batch = batch?;
                    let n = batch.num_rows() as u64;
                    let rows = (next_row..next_row + n).collect();
                    next_row += n;
                    progress.advance(size * n / total_rows);
                    Ok(Piece::Batch(RawBatch {
                        file,
                        batch,
                        rows,
                        rejected: Vec::new(),
                    }))
                }),
        );
    }
    Ok((names, futures::stream::iter(streams).flatten().boxed()))
}
