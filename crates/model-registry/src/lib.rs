//! Cauce's model registry: versioned models on plain object storage (local
//! disk or S3), no database, no server.
//!
//! - `versioned/vN/` holds a version's files and its `model_card.json`
//!   (size and SHA-256 of every file). Numbers are claimed with
//!   create-if-absent, so concurrent publishers never collide; the card is
//!   written last, so a half-published version is invisible.
//! - `<alias>/` (`latest/`, `staging/`, …) holds immutable, numbered promotion
//!   records; an alias points at the version of its newest record.
//! - [`Registry::resolve`] returns a version's card and bytes only after every
//!   checksum matches.
//!
//! The registry stores opaque bytes: it knows nothing of the model format.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> model_registry::Result<()> {
//! use model_registry::{CardInput, Registry};
//!
//! let registry = Registry::open("memory://registry-doc/models")?;
//! let mut card = CardInput { name: "penguins".into(), ..CardInput::default() };
//! card.metrics.insert("accuracy".into(), 0.97);
//! let v1 = registry.publish(card, vec![("model.bin".into(), "weights".into())]).await?;
//! registry.promote(v1.version, "latest", Some("first model".into())).await?;
//!
//! let production = registry.resolve("latest").await?;
//! assert_eq!(production.card.version.to_string(), "v1");
//! assert_eq!(production.files["model.bin"].as_ref(), b"weights");
//! # Ok(()) }
//! ```

mod alias;
mod card;
mod compare;
mod delete;
mod error;
mod names;
mod pages;
mod publish;
mod registry;

pub use alias::{Action, GateDecision, Promotion};
pub use card::{Better, CARD_FILE, CardInput, FileEntry, ModelCard, actor};
pub use compare::{Comparison, compare};
pub use error::{Error, Result};
pub use names::{LATEST, Reference, Version};
pub use pages::{
    INDEX_FILE, ModelReport, REPORT_FILE, TIME, higher_is_better, model_record, model_report,
    overview, version_info,
};
pub use publish::PendingVersion;
pub use registry::{GcReport, Registry, Resolved, VerifyReport};
