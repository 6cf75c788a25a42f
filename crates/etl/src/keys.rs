//! The keys a shard kept, for the merge's cross-shard check.
//!
//! `dedup_key`, `deduplicate` and `unique` are exact within a shard: a
//! shard cleans its files in input order and keeps the first row of each
//! key, as an unsharded run does. Across shards they need every shard's
//! keys, so each shard writes the keys it kept, with where each was first
//! seen, to `keys-<rule>.bin` in its run folder. When no key is in two
//! shards, every shard kept exactly the rows an unsharded run keeps: a row
//! an unsharded run drops repeats an earlier row, and if that earlier row is
//! in another shard, both shards kept the key. Keys in two shards are
//! settled by the merge ([`crate::reconcile`]). This costs 28 bytes per kept
//! key in the shard and in the merge.
//!
//! File layout: records of 28 bytes, little-endian — the key's 128-bit
//! hash, the input file's index in the plan (u32), the row (u64) — sorted
//! by hash.

use std::collections::BTreeMap;

use bytes::Bytes;
use common::storage::{Location, WrittenFile};

pub use crate::dataset::KeyAt;
use crate::error::{Error, Result};
use crate::manifest::OutputFile;

/// Bytes per record.
const RECORD: usize = 28;

/// Writes each rule's keys to `keys-<rule>.bin` under `run_root`; returns
/// the files, relative to `output`, by rule.
pub async fn write(
    keys: BTreeMap<String, Vec<KeyAt>>,
    run_root: &Location,
    output: &Location,
) -> Result<BTreeMap<String, OutputFile>> {
    let mut files = BTreeMap::new();
    for (rule, kept) in keys {
        let location = run_root.join(&format!("keys-{rule}.bin"))?;
        let written = WrittenFile::put(&location, encode(kept)).await?;
        files.insert(rule, written.relative_to(output));
    }
    Ok(files)
}

/// The records of `keys`, sorted by hash.
pub fn encode(mut keys: Vec<KeyAt>) -> Bytes {
    keys.sort_unstable();
    let mut out = Vec::with_capacity(keys.len() * RECORD);
    for key in keys {
        out.extend_from_slice(&key.hash.to_le_bytes());
        out.extend_from_slice(&key.file.to_le_bytes());
        out.extend_from_slice(&key.row.to_le_bytes());
    }
    Bytes::from(out)
}

/// Reads a keys file back, checking its length and order.
pub fn decode(bytes: &[u8], location: &str) -> Result<Vec<KeyAt>> {
    let corrupt = |message: &str| Error::File {
        file: location.to_string(),
        message: format!("not a keys file written by a shard: {message}"),
    };
    if !bytes.len().is_multiple_of(RECORD) {
        return Err(corrupt("its length is not a multiple of 28"));
    }
    let keys: Vec<KeyAt> = bytes
        .chunks_exact(RECORD)
        .map(|r| {
            let mut hash = [0u8; 16];
            let mut file = [0u8; 4];
            let mut row = [0u8; 8];
            hash.copy_from_slice(&r[..16]);
            file.copy_from_slice(&r[16..20]);
            row.copy_from_slice(&r[20..]);
            KeyAt {
                hash: u128::from_le_bytes(hash),
                file: u32::from_le_bytes(file),
                row: u64::from_le_bytes(row),
            }
        })
        .collect();
    if keys.windows(2).any(|w| w[0].hash >= w[1].hash) {
        return Err(corrupt("its keys are not sorted and distinct"));
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(hash: u128, file: u32, row: u64) -> KeyAt {
        KeyAt { hash, file, row }
    }

    #[test]
    fn keys_round_trip_sorted() {
        let keys = vec![key(9, 0, 1), key(3, 2, 7), key(u128::MAX, 1, u64::MAX)];
        let bytes = encode(keys.clone());
        assert_eq!(bytes.len(), 3 * RECORD);
        let mut sorted = keys;
        sorted.sort();
        assert_eq!(decode(&bytes, "k").unwrap(), sorted);
        assert!(decode(&bytes[..30], "k").is_err());
        let mut swapped = bytes[RECORD..2 * RECORD].to_vec();
        swapped.extend_from_slice(&bytes[..RECORD]);
        let e = decode(&swapped, "keys-dedup.bin").unwrap_err().to_string();
        assert!(e.contains("keys-dedup.bin") && e.contains("sorted"), "{e}");
    }
}
