//! The artifact file: a fixed header, then the model in MessagePack
//! (`rmp-serde`, named fields).
//!
//! ```text
//! bytes 0..8    magic "CAUCEMDL"
//! bytes 8..12   artifact format version, u32 little-endian
//! bytes 12..16  header length H, u32 little-endian
//! bytes 16..16+H  header JSON: format_version, cauce_version, smartcore_version, body_bytes, body_sha256
//! then          body: the model, MessagePack
//! ```
//!
//! Loading checks each part and says which one is wrong: not an artifact,
//! another format version, truncated, altered. Nothing in the file depends on
//! time or thread count, so the same model gives the same bytes. Loading
//! never executes code: MessagePack is data only.

use serde::{Deserialize, Serialize};

use crate::Model;
use crate::error::{Error, Result};

/// File name of the artifact in a registry version.
pub const FILE_NAME: &str = "model.bin";

/// First bytes of every artifact.
pub const MAGIC: &[u8; 8] = b"CAUCEMDL";
/// The artifact format this build writes and reads. 2: trees and forests are
/// Cauce's histogram trees (1 held smartcore's), SVMs exist. 3: linear
/// models and kNN are Cauce's own. 4: `gradient_boosting` is Cauce's own
/// booster for both tasks (3 held smartcore's regressor). 5: `extra_trees`
/// is Cauce's own for both tasks (3 and 4 held smartcore's regressor).
/// Every other estimator's body is unchanged, so format 3 and 4 artifacts
/// of them still load.
pub const FORMAT_VERSION: u32 = 5;
/// The oldest format this build reads.
pub const OLDEST_READABLE: u32 = 3;
/// The smartcore release the estimators were built with (checked against
/// Cargo.lock by a test).
pub const SMARTCORE_VERSION: &str = "0.7.0";

/// The JSON header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// [`FORMAT_VERSION`].
    pub format_version: u32,
    /// Version of Cauce that wrote it.
    pub cauce_version: String,
    /// Version of smartcore that fitted it.
    pub smartcore_version: String,
    /// Length of the body.
    pub body_bytes: u64,
    /// SHA-256 of the body.
    pub body_sha256: String,
}

/// Serializes a model into artifact bytes.
pub fn to_bytes(model: &Model) -> Result<Vec<u8>> {
    let body = rmp_serde::to_vec_named(model)
        .map_err(|e| Error::Artifact(format!("cannot encode the model: {e}")))?;
    let header = Header {
        format_version: FORMAT_VERSION,
        cauce_version: env!("CARGO_PKG_VERSION").to_string(),
        smartcore_version: SMARTCORE_VERSION.to_string(),
        body_bytes: body.len() as u64,
        body_sha256: common::checksum::sha256_hex(&body),
    };
    let header = serde_json::to_vec(&header).map_err(|e| Error::Artifact(e.to_string()))?;
    let mut bytes = Vec::with_capacity(16 + header.len() + body.len());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    bytes.extend_from_slice(&(header.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&header);
    bytes.extend_from_slice(&body);
    Ok(bytes)
}

/// Reads the header only (e.g. to report versions).
pub fn header(bytes: &[u8]) -> Result<(Header, usize)> {
    let fail = |m: String| Err(Error::Artifact(m));
    if bytes.len() < 16 || &bytes[..8] != MAGIC {
        return fail("not a Cauce model artifact (bad magic bytes)".into());
    }
    let version = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
    if !(OLDEST_READABLE..=FORMAT_VERSION).contains(&version) {
        return fail(format!(
            "artifact format version {version}; this build of Cauce reads versions {OLDEST_READABLE} to {FORMAT_VERSION} (retrain, or use a matching Cauce release)"
        ));
    }
    let header_len = u32::from_le_bytes([bytes[12], bytes[13], bytes[14], bytes[15]]) as usize;
    let Some(header_bytes) = bytes.get(16..16 + header_len) else {
        return fail(format!(
            "truncated: the header needs {header_len} bytes, the file has {}",
            bytes.len() - 16
        ));
    };
    let header: Header = serde_json::from_slice(header_bytes)
        .map_err(|e| Error::Artifact(format!("unreadable header: {e}")))?;
    Ok((header, 16 + header_len))
}

/// Parses artifact bytes back into a model, checking every part.
pub fn from_bytes(bytes: &[u8]) -> Result<Model> {
    let (header, start) = header(bytes)?;
    let body = &bytes[start..];
    if (body.len() as u64) < header.body_bytes {
        return Err(Error::Artifact(format!(
            "truncated: the model needs {} bytes, the file has {}",
            header.body_bytes,
            body.len()
        )));
    }
    if body.len() as u64 != header.body_bytes {
        return Err(Error::Artifact(format!(
            "altered: {} bytes follow a {}-byte model",
            body.len() as u64 - header.body_bytes,
            header.body_bytes
        )));
    }
    let actual = common::checksum::sha256_hex(body);
    if actual != header.body_sha256 {
        return Err(Error::Artifact(format!(
            "altered: checksum {actual} does not match the header's {}",
            header.body_sha256
        )));
    }
    rmp_serde::from_slice(body).map_err(|e| {
        let message = e.to_string();
        // Estimators whose smartcore models older formats held.
        let hint = [
            (4, "GradientBoosting", "gradient_boosting", "booster"),
            (5, "ExtraTrees", "extra_trees", "extra trees"),
        ]
        .iter()
        .find(|(before, variant, ..)| {
            header.format_version < *before && message.contains(&format!("variant `{variant}`"))
        })
        .map_or(String::new(), |(_, _, name, what)| {
            format!(
                " (a format {} {name} model is smartcore's {what}, which this build no longer has: retrain it)",
                header.format_version
            )
        });
        Error::Artifact(format!(
            "cannot decode the model written by Cauce {} with smartcore {}: {e}{hint}",
            header.cauce_version, header.smartcore_version
        ))
    })
}
