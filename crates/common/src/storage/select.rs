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

/// What a stage reads: one object, every data file under a prefix, or the
/// files a glob pattern matches below a base location.
///
/// Parsed from the strings users write ([`Selection::parse`]), or built
/// from a [`Location`] an embedder made with its own object store
/// ([`Selection::from`] for a file or prefix, [`Selection::glob`] for a
/// pattern below it).
#[derive(Debug, Clone)]
pub struct Selection {
    base: Location,
    pattern: Option<String>,
    display: String,
}

impl Selection {
    /// Parses `spec`. With glob characters (`* ? [ {`), the part before the
    /// first segment that has one is the base location, the rest a pattern
    /// matched against paths below it (`*` stays within a segment, `**`
    /// crosses segments); otherwise `spec` is a file or a prefix.
    pub fn parse(spec: &str) -> Result<Self> {
        let Some(first_glob) = spec.find(GLOB_CHARS) else {
            return Ok(Self::from(Location::parse(spec)?));
        };
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
        let mut selection = Self::glob(Location::parse(base)?, pattern)?;
        selection.display = spec.to_string();
        Ok(selection)
    }

    /// The files below `base` whose relative path matches `pattern`.
    pub fn glob(base: Location, pattern: &str) -> Result<Self> {
        let display = format!("{}/{pattern}", base.as_str().trim_end_matches('/'));
        matcher(pattern, &display)?;
        Ok(Self {
            base,
            pattern: Some(pattern.to_string()),
            display,
        })
    }

    /// The base location (the file or prefix itself when there is no pattern).
    pub fn base(&self) -> &Location {
        &self.base
    }

    /// The glob pattern below the base, if any.
    pub fn pattern(&self) -> Option<&str> {
        self.pattern.as_deref()
    }

    /// Whether files below the base's direct children can be selected: a
    /// plain prefix reaches everything below it, a pattern only with `**`
    /// or a `/`.
    pub fn reaches_below(&self) -> bool {
        self.pattern
            .as_deref()
            .is_none_or(|p| p.contains('/') || p.contains("**"))
    }

    /// Resolves the selection to a sorted list of input files.
    ///
    /// - With a pattern, the files below the base that match it.
    /// - Otherwise, if the base is an object, that object alone.
    /// - Otherwise, every object below the base whose path has no segment
    ///   starting with `_` or `.` (so `_manifest.json`, `_SUCCESS` and
    ///   hidden files are skipped).
    ///
    /// Selecting nothing is an error ([`Error::NoInputs`]), never an empty run.
    pub async fn files(&self) -> Result<Vec<InputFile>> {
        let files = match &self.pattern {
            Some(pattern) => select_glob(&self.base, pattern, &self.display).await?,
            None => select_plain(&self.base).await?,
        };
        if files.is_empty() {
            return Err(Error::NoInputs {
                location: self.display.clone(),
            });
        }
        Ok(files)
    }
}

impl From<Location> for Selection {
    fn from(location: Location) -> Self {
        Self {
            display: location.to_string(),
            base: location,
            pattern: None,
        }
    }
}

impl std::fmt::Display for Selection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.display)
    }
}

/// Resolves `spec` (see [`Selection::parse`] and [`Selection::files`]).
pub async fn select_inputs(spec: &str) -> Result<Vec<InputFile>> {
    Selection::parse(spec)?.files().await
}

fn matcher(pattern: &str, shown: &str) -> Result<globset::GlobMatcher> {
    Ok(GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .map_err(|e| Error::InvalidLocation {
            location: shown.to_string(),
            reason: format!("invalid glob: {e}"),
        })?
        .compile_matcher())
}

async fn select_glob(base: &Location, pattern: &str, shown: &str) -> Result<Vec<InputFile>> {
    let matcher = matcher(pattern, shown)?;
    let mut files = Vec::new();
    for meta in base.list().await? {
        let Some(relative) = base.relative(&meta.location) else {
            continue;
        };
        if matcher.is_match(&relative) {
            files.push(input_file(base, meta));
        }
    }
    Ok(files)
}

async fn select_plain(location: &Location) -> Result<Vec<InputFile>> {
    // An empty path is a bucket or store root: never a single object.
    if !location.path().as_ref().is_empty() {
        match location.head().await {
            Ok(meta) => {
                return Ok(vec![InputFile {
                    location: location.clone(),
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
        .map(|meta| input_file(location, meta))
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
