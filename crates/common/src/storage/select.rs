//! Selecting input files: one object, a glob (`data/raw/*.csv`,
//! `s3://b/raw/**/*.parquet`), or every data file under a prefix.

use chrono::{DateTime, Utc};
use globset::GlobBuilder;

use super::Location;
use crate::error::{Error, Result};

/// One selected input file with what a manifest records about it.
#[derive(Debug, Clone)]
pub struct InputFile {
    /// Where the file is.
    pub location: Location,
    /// Size in bytes.
    pub size: u64,
    /// Last modification time reported by the store.
    pub last_modified: DateTime<Utc>,
    /// The store's ETag, when it has one.
    pub e_tag: Option<String>,
}

/// Characters that make a selection a glob.
const GLOB_CHARS: &[char] = &['*', '?', '[', '{'];

/// Resolves `spec` to a sorted list of input files.
///
/// - With glob characters (`* ? [ {`), the part before the first segment that
///   has one is the base location, the rest a pattern matched against paths
///   below it (`*` stays within a segment, `**` crosses segments).
/// - Otherwise, if `spec` is an object, that object alone.
/// - Otherwise, every object below `spec` whose path has no segment starting
///   with `_` or `.` (so `_manifest.json`, `_SUCCESS` and hidden files are skipped).
///
/// Selecting nothing is an error ([`Error::NoInputs`]), never an empty run.
pub async fn select_inputs(spec: &str) -> Result<Vec<InputFile>> {
    let files = match spec.find(GLOB_CHARS) {
        Some(first_glob) => select_glob(spec, first_glob).await?,
        None => select_plain(spec).await?,
    };
    if files.is_empty() {
        return Err(Error::NoInputs {
            location: spec.to_string(),
        });
    }
    Ok(files)
}

async fn select_glob(spec: &str, first_glob: usize) -> Result<Vec<InputFile>> {
    let (base, pattern) = match spec[..first_glob].rfind('/') {
        Some(0) => ("/", &spec[1..]),
        Some(slash) => (&spec[..slash], &spec[slash + 1..]),
        None => (".", spec),
    };
    // `s3://` or `memory://` with the glob in the bucket/store name is not supported.
    if base.ends_with(':') || base.ends_with(":/") {
        return Err(Error::InvalidLocation {
            location: spec.to_string(),
            reason: "a glob cannot match bucket names".into(),
        });
    }
    let matcher = GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .map_err(|e| Error::InvalidLocation {
            location: spec.to_string(),
            reason: format!("invalid glob: {e}"),
        })?
        .compile_matcher();
    let base = Location::parse(base)?;
    let mut files = Vec::new();
    for meta in base.list().await? {
        let Some(relative) = base.relative(&meta.location) else {
            continue;
        };
        if matcher.is_match(&relative) {
            files.push(input_file(&base, meta));
        }
    }
    Ok(files)
}

async fn select_plain(spec: &str) -> Result<Vec<InputFile>> {
    let location = Location::parse(spec)?;
    // An empty path is a bucket or store root: never a single object.
    if !location.path().as_ref().is_empty() {
        match location.head().await {
            Ok(meta) => {
                return Ok(vec![InputFile {
                    location,
                    size: meta.size,
                    last_modified: meta.last_modified,
                    e_tag: meta.e_tag,
                }]);
            }
            Err(Error::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    let files = location
        .list()
        .await?
        .into_iter()
        .filter(|meta| {
            location.relative(&meta.location).is_some_and(|rel| {
                !rel.split('/')
                    .any(|part| part.starts_with('_') || part.starts_with('.'))
            })
        })
        .map(|meta| input_file(&location, meta))
        .collect();
    Ok(files)
}

fn input_file(base: &Location, meta: object_store::ObjectMeta) -> InputFile {
    InputFile {
        location: base.child_for(&meta.location),
        size: meta.size,
        last_modified: meta.last_modified,
        e_tag: meta.e_tag,
    }
}
