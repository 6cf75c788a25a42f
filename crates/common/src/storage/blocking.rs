//! Blocking reads of whole objects, for parsers that run on a
//! `spawn_blocking` thread (the `csv` crate, line-by-line NDJSON). A local
//! file is read straight from disk through a large buffer; any other store
//! goes through its async byte stream. Going through the stream for a local
//! file would cost a cross-thread wake-up per 8 KiB chunk.

use std::io::{BufReader, Read};

use futures::TryStreamExt;
use object_store::{GetResultPayload, ObjectStoreExt};
use tokio_util::io::{StreamReader, SyncIoBridge};

use super::{Compression, Location};
use crate::error::Result;

/// Read buffer for local files and decompression.
const BUFFER: usize = 1 << 20;

impl Location {
    /// Opens the object for blocking reads, gunzipped when `compression`
    /// says so. Call from async code; read from a blocking thread (reading a
    /// remote object blocks on the runtime that opened it).
    pub async fn open_read(&self, compression: Compression) -> Result<Box<dyn Read + Send>> {
        let result = self
            .store()
            .get(self.path())
            .await
            .map_err(|e| self.err(e))?;
        let raw: Box<dyn Read + Send> = match result.payload {
            GetResultPayload::File(file, _) => Box::new(BufReader::with_capacity(BUFFER, file)),
            GetResultPayload::Stream(stream) => {
                let bytes = stream.map_err(std::io::Error::other);
                Box::new(SyncIoBridge::new(StreamReader::new(bytes)))
            }
        };
        Ok(match compression {
            Compression::None => raw,
            Compression::Gzip => Box::new(Gunzip::Pending(Some(raw))),
        })
    }
}

/// A gzip decoder made on the first read: making it reads the gzip header,
/// which must happen on the blocking thread, not in `open_read`.
enum Gunzip {
    Pending(Option<Box<dyn Read + Send>>),
    Ready(Box<BufReader<flate2::read::MultiGzDecoder<Box<dyn Read + Send>>>>),
}

impl Read for Gunzip {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if let Gunzip::Pending(raw) = self {
            let raw = raw
                .take()
                .ok_or_else(|| std::io::Error::other("gzip reader failed to start"))?;
            *self = Gunzip::Ready(Box::new(BufReader::with_capacity(
                BUFFER,
                flate2::read::MultiGzDecoder::new(raw),
            )));
        }
        match self {
            Gunzip::Ready(reader) => reader.read(buf),
            Gunzip::Pending(_) => Ok(0),
        }
    }
}
