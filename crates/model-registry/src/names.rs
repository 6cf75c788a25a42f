//! Version and alias names, validated before they touch a path: a version is
//! `v` + digits, an alias `[a-z0-9_-]+` (and not `versioned`), a file name
//! has no `/`, no leading `.` or `_`, so nothing can escape the registry.
//! The names of the files the registry itself writes are here too.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// File name of the card inside `versioned/vN/`.
pub const CARD_FILE: &str = "model_card.json";
/// File name of the model report inside a version.
pub const REPORT_FILE: &str = "report.html";
/// File name of the overview at the registry's root.
pub const INDEX_FILE: &str = "index.html";
/// File name of a deleted version's tombstone.
pub(crate) const TOMBSTONE_FILE: &str = "_deleted.json";

/// A version number, shown as `v7`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct Version(pub u64);

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.0)
    }
}

impl FromStr for Version {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let invalid = |reason: &str| Error::InvalidName {
            kind: "version",
            name: s.to_string(),
            reason: reason.to_string(),
        };
        let digits = s
            .strip_prefix('v')
            .ok_or_else(|| invalid("expected 'v' followed by a number, e.g. v3"))?;
        if digits.is_empty()
            || !digits.bytes().all(|b| b.is_ascii_digit())
            || digits.starts_with('0')
        {
            return Err(invalid(
                "expected 'v' followed by a number without leading zeros, e.g. v3",
            ));
        }
        digits
            .parse()
            .map(Version)
            .map_err(|_| invalid("number too large"))
    }
}

/// The production alias.
pub const LATEST: &str = "latest";

/// Checks an alias name.
pub fn alias(name: &str) -> Result<&str> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        && name != "versioned";
    if valid {
        Ok(name)
    } else {
        Err(Error::InvalidName {
            kind: "alias",
            name: name.to_string(),
            reason: "use 1-64 of a-z, 0-9, '_' and '-' (and not 'versioned')".into(),
        })
    }
}

/// Checks the name of an artifact file inside a version.
pub fn file_name(name: &str) -> Result<&str> {
    let valid = !name.is_empty()
        && !name.contains('/')
        && !name.contains('\\')
        && !name.starts_with('.')
        && !name.starts_with('_')
        && name != CARD_FILE;
    if valid {
        Ok(name)
    } else {
        Err(Error::InvalidName {
            kind: "file name",
            name: name.to_string(),
            reason: format!(
                "must be a plain name without '/', not starting with '.' or '_', and not '{}'",
                CARD_FILE
            ),
        })
    }
}

/// What a reference (`latest`, `v3`, `staging`) names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    /// A version number.
    Version(Version),
    /// An alias's current version.
    Alias(String),
}

impl FromStr for Reference {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        if s.starts_with('v') && s[1..].bytes().all(|b| b.is_ascii_digit()) && s.len() > 1 {
            Ok(Reference::Version(s.parse()?))
        } else {
            Ok(Reference::Alias(alias(s)?.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!("v12".parse::<Version>().unwrap(), Version(12));
        assert_eq!(Version(3).to_string(), "v3");
        for bad in ["12", "v", "v01", "v1a", "V1", "v-1", "../v1"] {
            assert!(bad.parse::<Version>().is_err(), "{bad}");
        }
    }

    #[test]
    fn aliases_and_files_cannot_escape() {
        assert!(alias("staging").is_ok() && alias("champion_2").is_ok());
        for bad in ["", "../latest", "Latest", "a/b", "versioned", "a b"] {
            assert!(alias(bad).is_err(), "{bad}");
        }
        assert!(file_name("model.bin").is_ok());
        for bad in ["../x", "a/b", ".hidden", "_claim", "model_card.json", ""] {
            assert!(file_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn references() {
        assert_eq!(
            "v2".parse::<Reference>().unwrap(),
            Reference::Version(Version(2))
        );
        assert_eq!(
            "latest".parse::<Reference>().unwrap(),
            Reference::Alias("latest".into())
        );
        assert_eq!(
            "vip".parse::<Reference>().unwrap(),
            Reference::Alias("vip".into())
        );
        assert!(
            "v0x".parse::<Reference>().is_ok(),
            "an alias may start with v"
        );
        assert!("v01".parse::<Reference>().is_err());
    }
}
