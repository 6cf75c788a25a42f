//! `Location`: a place in object storage (a prefix or one object), parsed from
//! the strings users write in config and on the command line.
//!
//! | written as | store |
//! | --- | --- |
//! | `data/raw`, `/abs/path`, `file:///abs/path` | local disk |
//! | `s3://bucket/prefix` | S3 or any S3-compatible server, configured by `AWS_*` variables |
//! | `memory://name/prefix` | process-wide in-memory store `name` (tests, embedding) |

use std::collections::HashMap;
use std::fmt;
use std::path::{Component, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::{Path, PathPart};

use crate::error::{Error, Result};

/// The kind of store a [`Location`] lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Local disk.
    Local,
    /// S3 or an S3-compatible server.
    S3,
    /// A process-wide in-memory store.
    Memory,
}

/// A store plus a path inside it. Cheap to clone.
///
/// A location may name a prefix ("folder") or a single object; [`Location::join`]
/// goes from the first to the second.
#[derive(Debug, Clone)]
pub struct Location {
    store: Arc<dyn ObjectStore>,
    path: Path,
    display: String,
    scheme: Scheme,
}

impl Location {
    /// Parses a location string (see the module docs for the accepted forms).
    ///
    /// S3 settings come from `AmazonS3Builder::from_env()`: `AWS_ENDPOINT_URL`
    /// (or `AWS_ENDPOINT`), `AWS_ALLOW_HTTP`, `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`.
    pub fn parse(location: &str) -> Result<Self> {
        let given = location.trim();
        let invalid = |reason: &str| Error::InvalidLocation {
            location: location.to_string(),
            reason: reason.to_string(),
        };
        if given.is_empty() {
            return Err(invalid("empty location"));
        }
        if let Some(rest) = given.strip_prefix("s3://") {
            Self::s3(given, rest)
        } else if let Some(rest) = given.strip_prefix("memory://") {
            let (name, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            Ok(Self {
                store: memory_store(name),
                path: parse_key(given, prefix)?,
                display: shown(given),
                scheme: Scheme::Memory,
            })
        } else if let Some(rest) = given.strip_prefix("file://") {
            if !rest.starts_with('/') {
                return Err(invalid("file:// locations must be absolute (file:///path)"));
            }
            Self::local(given, rest)
        } else if let Some((scheme, _)) = given.split_once("://") {
            Err(invalid(&format!(
                "unsupported scheme '{scheme}://' (use a local path, file://, s3:// or memory://)"
            )))
        } else {
            Self::local(given, given)
        }
    }

    /// Wraps an existing store (e.g. one built with custom options) at `path`.
    pub fn from_store(
        store: Arc<dyn ObjectStore>,
        scheme: Scheme,
        path: Path,
        display: impl Into<String>,
    ) -> Self {
        Self {
            store,
            path,
            display: display.into(),
            scheme,
        }
    }

    fn local(given: &str, fs_path: &str) -> Result<Self> {
        let invalid = |reason: String| Error::InvalidLocation {
            location: given.to_string(),
            reason,
        };
        let absolute = std::path::absolute(fs_path)
            .map_err(|e| invalid(format!("cannot resolve path: {e}")))?;
        let path =
            Path::from_absolute_path(normalize(&absolute)).map_err(|e| invalid(e.to_string()))?;
        let fsync = fsync_setting(std::env::var(FSYNC_ENV).ok().as_deref()).map_err(invalid)?;
        Ok(Self {
            // No automatic cleanup: it removes empty folders up to the file
            // system root, above the configured location (see `local`).
            // With fsync a write returns once the file and its folder entry
            // are on disk, so a manifest published after its data files never
            // survives a power cut that they do not (see `durable`).
            store: if fsync {
                Arc::new(super::durable::Durable::new(LocalFileSystem::new()))
            } else {
                Arc::new(LocalFileSystem::new())
            },
            path,
            display: shown(given),
            scheme: Scheme::Local,
        })
    }

    fn s3(given: &str, rest: &str) -> Result<Self> {
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(Error::InvalidLocation {
                location: given.to_string(),
                reason: "missing bucket name (expected s3://bucket/prefix)".into(),
            });
        }
        let store = AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .build()
            .map_err(|e| Error::InvalidLocation {
                location: given.to_string(),
                reason: e.to_string(),
            })?;
        Ok(Self {
            store: Arc::new(store),
            path: parse_key(given, prefix)?,
            display: shown(given),
            scheme: Scheme::S3,
        })
    }

    /// The location `relative` (a `/`-separated path) below this one.
    ///
    /// Empty segments, `.` and `..` are rejected, so a name read from user
    /// input can never escape this location.
    pub fn join(&self, relative: &str) -> Result<Self> {
        let relative = relative.trim_matches('/');
        if relative.is_empty() {
            return Ok(self.clone());
        }
        let mut parts: Vec<PathPart<'_>> = self.path.parts().collect();
        for segment in relative.split('/') {
            if segment.is_empty() || segment == "." || segment == ".." {
                return Err(Error::InvalidLocation {
                    location: self.below(relative),
                    reason: format!("invalid path segment '{segment}'"),
                });
            }
            parts.push(PathPart::from(segment.to_string()));
        }
        Ok(Self {
            store: Arc::clone(&self.store),
            path: Path::from_iter(parts),
            display: self.below(relative),
            scheme: self.scheme,
        })
    }

    /// How `relative` below this location is shown.
    fn below(&self, relative: &str) -> String {
        format!("{}/{relative}", self.display.trim_end_matches('/'))
    }

    /// The location of an object found by listing this one.
    pub fn child_for(&self, object: &Path) -> Self {
        let display = match self.relative(object) {
            Some(rel) if !rel.is_empty() => self.below(&rel),
            _ => object.to_string(),
        };
        Self {
            store: Arc::clone(&self.store),
            path: object.clone(),
            display,
            scheme: self.scheme,
        }
    }

    /// `object`'s path relative to this location, if it lies below it.
    pub fn relative(&self, object: &Path) -> Option<String> {
        let rest: Vec<_> = object.prefix_match(&self.path)?.collect();
        Some(
            rest.iter()
                .map(|p| p.as_ref())
                .collect::<Vec<_>>()
                .join("/"),
        )
    }

    /// The last path segment (file name), empty for a bucket or store root.
    pub fn file_name(&self) -> &str {
        self.path.filename().unwrap_or("")
    }

    /// The underlying store.
    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// The path inside the store.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Which kind of store this is.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The location as the user wrote it (extended by joins), for messages.
    pub fn as_str(&self) -> &str {
        &self.display
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display)
    }
}

/// A location as shown in messages: as written, without a trailing `/`
/// (but `/` itself stays `/`, never an empty name).
fn shown(given: &str) -> String {
    match given.trim_end_matches('/') {
        "" => "/".to_string(),
        trimmed => trimmed.to_string(),
    }
}

/// Parses the key part of an `s3://` or `memory://` location.
fn parse_key(given: &str, key: &str) -> Result<Path> {
    Path::parse(key.trim_matches('/')).map_err(|e| Error::InvalidLocation {
        location: given.to_string(),
        reason: e.to_string(),
    })
}

/// Resolves `.` and `..` lexically (the path may not exist yet, so no canonicalize).
fn normalize(path: &std::path::Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Environment variable that turns off fsync of local writes (`0`).
pub const FSYNC_ENV: &str = "CAUCE_FSYNC";

/// Whether local writes are fsynced, from [`FSYNC_ENV`]'s value: on unless
/// it says otherwise.
fn fsync_setting(value: Option<&str>) -> std::result::Result<bool, String> {
    match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        None | Some("" | "1" | "true" | "on" | "yes") => Ok(true),
        Some("0" | "false" | "off" | "no") => Ok(false),
        Some(other) => Err(format!(
            "{FSYNC_ENV}='{other}' is not one of 1, 0, true, false, on, off, yes, no"
        )),
    }
}

/// One in-memory store per name, shared by the whole process, so that a writer
/// and a reader given the same `memory://name` see the same objects.
fn memory_store(name: &str) -> Arc<dyn ObjectStore> {
    static STORES: OnceLock<Mutex<HashMap<String, Arc<InMemory>>>> = OnceLock::new();
    let stores = STORES.get_or_init(Default::default);
    // A poisoned lock only means another thread panicked mid-insert; the map is still usable.
    let mut stores = stores.lock().unwrap_or_else(|e| e.into_inner());
    let store = stores
        .entry(name.to_string())
        .or_insert_with(|| Arc::new(InMemory::new()));
    Arc::clone(store) as Arc<dyn ObjectStore>
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_writes_are_fsynced_unless_turned_off() {
        // The durable wrapper shows in the store's Debug output. The tests
        // run without CAUCE_FSYNC, so this is the default.
        let store = format!("{:?}", Location::parse("data/raw").unwrap().store());
        assert!(store.starts_with("Durable {"), "{store}");
        assert_eq!(fsync_setting(None), Ok(true));
        assert_eq!(fsync_setting(Some(" On ")), Ok(true));
        assert_eq!(fsync_setting(Some("0")), Ok(false));
        assert_eq!(fsync_setting(Some("FALSE")), Ok(false));
        assert_eq!(
            fsync_setting(Some("maybe")),
            Err("CAUCE_FSYNC='maybe' is not one of 1, 0, true, false, on, off, yes, no".into())
        );
    }

    #[test]
    fn relative_local_paths_become_absolute() {
        let loc = Location::parse("data/raw/").unwrap();
        assert_eq!(loc.scheme(), Scheme::Local);
        assert_eq!(loc.as_str(), "data/raw");
        let cwd = std::env::current_dir().unwrap();
        let expected = Path::from_absolute_path(cwd.join("data/raw")).unwrap();
        assert_eq!(loc.path(), &expected);
    }

    /// Regression (issue 27.15): `--registry /` was shown as an empty name
    /// (`error: : read error`).
    #[test]
    fn the_root_is_shown_as_a_slash() {
        assert_eq!(Location::parse("/").unwrap().to_string(), "/");
        assert_eq!(Location::parse("///").unwrap().to_string(), "/");
        let x = Location::parse("/").unwrap().join("x").unwrap();
        assert_eq!(x.to_string(), "/x");
    }

    #[test]
    fn dot_dot_is_resolved_lexically() {
        let loc = Location::parse("/tmp/a/../b/./c").unwrap();
        assert_eq!(loc.path().as_ref(), "tmp/b/c");
    }

    #[test]
    fn file_urls_must_be_absolute() {
        assert_eq!(
            Location::parse("file:///tmp/x").unwrap().path().as_ref(),
            "tmp/x"
        );
        let err = Location::parse("file://tmp/x").unwrap_err().to_string();
        assert!(err.contains("must be absolute"), "{err}");
    }

    #[test]
    fn s3_location_splits_bucket_and_prefix() {
        let loc = Location::parse("s3://my-bucket/raw/2026/").unwrap();
        assert_eq!(loc.scheme(), Scheme::S3);
        assert_eq!(loc.path().as_ref(), "raw/2026");
        assert_eq!(loc.to_string(), "s3://my-bucket/raw/2026");
        let err = Location::parse("s3:///x").unwrap_err().to_string();
        assert!(err.contains("missing bucket name"), "{err}");
    }

    #[test]
    fn unknown_scheme_lists_supported_ones() {
        let err = Location::parse("gs://b/x").unwrap_err().to_string();
        assert_eq!(
            err,
            "invalid storage location 'gs://b/x': unsupported scheme 'gs://' \
             (use a local path, file://, s3:// or memory://)"
        );
    }

    #[test]
    fn join_rejects_path_tricks() {
        let loc = Location::parse("memory://join-test/models").unwrap();
        assert_eq!(
            loc.join("versioned/v1").unwrap().path().as_ref(),
            "models/versioned/v1"
        );
        for bad in ["../secrets", "a//b", "a/./b", "v1/.."] {
            let err = loc.join(bad).unwrap_err().to_string();
            assert!(err.contains("invalid path segment"), "{bad}: {err}");
        }
    }

    #[test]
    fn relative_and_child_for_round_trip() {
        let base = Location::parse("memory://rel-test/root").unwrap();
        let file = base.join("train/part-0.parquet").unwrap();
        assert_eq!(
            base.relative(file.path()).as_deref(),
            Some("train/part-0.parquet")
        );
        let again = base.child_for(file.path());
        assert_eq!(
            again.to_string(),
            "memory://rel-test/root/train/part-0.parquet"
        );
        assert_eq!(again.file_name(), "part-0.parquet");
        assert_eq!(base.relative(&Path::from("elsewhere/x")), None);
    }

    #[test]
    fn memory_stores_are_shared_by_name() {
        let a = Location::parse("memory://shared-name/x").unwrap();
        let b = Location::parse("memory://shared-name/y").unwrap();
        let c = Location::parse("memory://other-name/x").unwrap();
        assert!(Arc::ptr_eq(a.store(), b.store()));
        assert!(!Arc::ptr_eq(a.store(), c.store()));
    }
}
