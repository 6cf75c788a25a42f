//! JSON documents in storage (manifests, model cards, promotion records):
//! pretty-printed on write, parse errors name the object.

use serde::{Serialize, de::DeserializeOwned};

use super::Location;
use crate::error::{Error, Result};

impl Location {
    /// Reads and parses the JSON document at this location.
    pub async fn read_json<T: DeserializeOwned>(&self) -> Result<T> {
        let bytes = self.get().await?;
        serde_json::from_slice(&bytes).map_err(|source| self.json_err(source))
    }

    /// Writes `value` as pretty JSON, replacing any previous document.
    pub async fn write_json<T: Serialize>(&self, value: &T) -> Result<()> {
        self.put(self.to_json(value)?).await.map(drop)
    }

    /// Writes `value` as pretty JSON only if nothing is there yet
    /// ([`Error::AlreadyExists`] otherwise).
    ///
    /// A document with exactly these bytes already in place counts as
    /// written: the S3 client retries a request after a server error even
    /// when its first attempt landed, and that retry then finds our own
    /// document. Claims made with this therefore carry something unique to
    /// the writer (time, host, process), so that two writers never produce
    /// the same bytes.
    pub async fn create_json<T: Serialize>(&self, value: &T) -> Result<()> {
        let bytes = self.to_json(value)?;
        match self.put_if_absent(bytes.clone()).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_already_exists() => match self.get().await {
                Ok(existing) if existing.as_ref() == bytes.as_slice() => {
                    log::debug!("{self}: already holds this document (retried write)");
                    Ok(())
                }
                _ => Err(e),
            },
            Err(e) => Err(e),
        }
    }

    fn to_json<T: Serialize>(&self, value: &T) -> Result<Vec<u8>> {
        let mut bytes = serde_json::to_vec_pretty(value).map_err(|source| self.json_err(source))?;
        bytes.push(b'\n');
        Ok(bytes)
    }

    fn json_err(&self, source: serde_json::Error) -> Error {
        Error::Json {
            location: self.to_string(),
            source,
        }
    }
}
