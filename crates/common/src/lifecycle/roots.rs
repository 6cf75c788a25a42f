//! Output roots that must be refused before a run writes anything: one
//! that overlaps an input (the run would read back its own parts, or write
//! into the user's raw data), the model registry, the file system root or
//! the home folder. Local paths are compared after resolving symbolic links,
//! so a link to the input folder is the input folder.

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::storage::{Location, Scheme, Selection};

/// Something an output root must stay clear of.
#[derive(Debug, Clone, Copy)]
pub enum Guarded<'a> {
    /// An input selection: a file, a prefix or a glob.
    Input(&'a Selection),
    /// The model registry's root.
    Registry(&'a Location),
}

/// Refuses `output` when it equals, contains or lies inside anything in
/// `guarded`, or is `/`, or is or contains the home folder. For a glob
/// input only its base folder counts, and an output below that base only
/// when the pattern can reach below it (`**` or a `/`).
pub fn check_output(output: &Location, guarded: &[Guarded<'_>]) -> Result<()> {
    let refuse = |message: String| Error::Unsafe {
        location: format!("output {output}"),
        message,
    };
    let out = Identity::of(output);
    if output.scheme() == Scheme::Local && out.parts.is_empty() {
        return Err(refuse("the file system root cannot be an output".into()));
    }
    if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty())
        && let Ok(home) = Location::parse(&home.to_string_lossy())
    {
        let home = Identity::of(&home);
        if home.within(&out) {
            return Err(refuse(format!(
                "it is or contains the home folder {}; choose a folder of its own",
                home.shown()
            )));
        }
    }
    for item in guarded {
        match *item {
            Guarded::Input(spec) => {
                let deep = spec.reaches_below();
                let input = Identity::of(spec.base());
                if out == input {
                    return Err(refuse(format!(
                        "it is the input {spec}; the run would read its own output back"
                    )));
                }
                if input.within(&out) {
                    return Err(refuse(format!(
                        "it contains the input {spec}; choose an output folder beside the input, not around it"
                    )));
                }
                if deep && out.within(&input) {
                    return Err(refuse(format!(
                        "it is inside the input {spec}; the next run would read this run's files as input"
                    )));
                }
            }
            Guarded::Registry(spec) => {
                let registry = Identity::of(spec);
                if out == registry || out.within(&registry) || registry.within(&out) {
                    return Err(refuse(format!(
                        "it overlaps the model registry {spec}; keep outputs and the registry apart"
                    )));
                }
            }
        }
    }
    Ok(())
}

/// A location reduced to what decides overlap: its store and its path
/// segments (local paths with links resolved).
#[derive(Debug, PartialEq, Eq)]
struct Identity {
    store: String,
    parts: Vec<String>,
}

impl Identity {
    fn of(location: &Location) -> Self {
        let shown = location.as_str();
        let store = match location.scheme() {
            Scheme::Local => "file".to_string(),
            Scheme::S3 | Scheme::Memory => {
                let rest = shown.split_once("://").map_or(shown, |(_, r)| r);
                let bucket = rest.split('/').next().unwrap_or_default();
                format!("{:?}:{bucket}", location.scheme())
            }
        };
        let parts = match location.scheme() {
            Scheme::Local => resolved(&PathBuf::from(format!("/{}", location.path())))
                .components()
                .filter_map(|c| match c {
                    std::path::Component::Normal(p) => Some(p.to_string_lossy().into_owned()),
                    _ => None,
                })
                .collect(),
            _ => location
                .path()
                .parts()
                .map(|p| p.as_ref().to_string())
                .collect(),
        };
        Self { store, parts }
    }

    /// Whether this is `other` or lies below it.
    fn within(&self, other: &Identity) -> bool {
        self.store == other.store && self.parts.starts_with(&other.parts)
    }

    fn shown(&self) -> String {
        format!("/{}", self.parts.join("/"))
    }
}

/// `path` with the links of its longest existing ancestor resolved.
fn resolved(path: &std::path::Path) -> PathBuf {
    let mut existing = path.to_path_buf();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = existing.canonicalize() {
            return rest.into_iter().rev().fold(real, |p, part| p.join(part));
        }
        match (
            existing.file_name().map(|n| n.to_os_string()),
            existing.parent(),
        ) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                existing = parent.to_path_buf();
            }
            _ => return path.to_path_buf(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(output: &str, guarded: &[Guarded<'_>]) -> std::result::Result<(), String> {
        check_output(&Location::parse(output).unwrap(), guarded).map_err(|e| e.to_string())
    }

    fn sel(spec: &str) -> Selection {
        Selection::parse(spec).unwrap()
    }

    /// Regression (issue 27.3): outputs that overlap their inputs, the
    /// registry, `/` or the home folder were accepted.
    #[test]
    fn overlapping_outputs_are_refused_naming_both() {
        let tmp = tempfile::tempdir().unwrap();
        let raw = tmp.path().join("raw");
        std::fs::create_dir_all(&raw).unwrap();
        let raw = raw.to_str().unwrap();
        let raw_input = sel(raw);
        let input = [Guarded::Input(&raw_input)];
        let e = check(raw, &input).unwrap_err();
        assert!(e.contains("is the input") && e.contains(raw), "{e}");
        let e = check(&format!("{raw}/out"), &input).unwrap_err();
        assert!(e.contains("inside the input"), "{e}");
        let e = check(tmp.path().to_str().unwrap(), &input).unwrap_err();
        assert!(e.contains("contains the input"), "{e}");
        assert!(check(&format!("{}/processed", tmp.path().display()), &input).is_ok());
        // A one-level glob never reaches into a subfolder.
        let glob = sel(&format!("{raw}/*.csv"));
        assert!(check(&format!("{raw}/out"), &[Guarded::Input(&glob)]).is_ok());
        let deep = sel(&format!("{raw}/**/*.csv"));
        assert!(check(&format!("{raw}/out"), &[Guarded::Input(&deep)]).is_err());
        // A link to the input is the input.
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(raw, &link).unwrap();
        let e = check(&format!("{}/out", link.display()), &input).unwrap_err();
        assert!(e.contains("inside the input"), "{e}");

        let models = format!("{}/models", tmp.path().display());
        let models_root = Location::parse(&models).unwrap();
        let registry = [Guarded::Registry(&models_root)];
        for bad in [
            models.clone(),
            format!("{models}/x"),
            tmp.path().display().to_string(),
        ] {
            let e = check(&bad, &registry).unwrap_err();
            assert!(e.contains("model registry") && e.contains(&models), "{e}");
        }
        let e = check("/", &[]).unwrap_err();
        assert!(e.contains("file system root"), "{e}");
        let home = std::env::var("HOME").unwrap();
        let e = check(&home, &[]).unwrap_err();
        assert!(e.contains("home folder"), "{e}");
        assert!(check(&format!("{home}/project-out"), &[]).is_ok());
        let s3_raw = sel("s3://bucket/raw");
        assert!(check("s3://bucket/out", &[Guarded::Input(&s3_raw)]).is_ok());
        assert!(check("s3://bucket/raw/o", &[Guarded::Input(&s3_raw)]).is_err());
        assert!(check("s3://other/raw/o", &[Guarded::Input(&s3_raw)]).is_ok());
    }
}
