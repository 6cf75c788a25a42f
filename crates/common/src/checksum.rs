//! SHA-256 content checksums, as lower-case hex (the form `sha256sum` prints),
//! for manifests and model cards.

use futures::StreamExt;
use sha2::{Digest, Sha256};

use crate::error::Result;
use crate::storage::{Location, hex};

/// SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Size and SHA-256 of a stored object, streamed (never held whole in memory).
pub async fn object_sha256(location: &Location) -> Result<(u64, String)> {
    let mut stream = location.get_stream().await?;
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        size += chunk.len() as u64;
        hasher.update(&chunk);
    }
    Ok((size, hex(&hasher.finalize())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digest() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
