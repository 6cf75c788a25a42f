//! Parquet input: the file's own column types, streamed by row group.

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
    let mut next_row = 1u64;
    let stream = parquet.stream(batch_size, None)?.map(move |batch| {
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
    });
    Ok((names, stream.boxed()))
}
