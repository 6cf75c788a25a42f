//! The pipeline file as one stage reads it: the shared sections (`storage`,
//! `logging`), that stage's own section, typed and strict, and the other
//! stages' sections left to them. A stage names only its own section, so a
//! new stage is one more name in [`STAGE_SECTIONS`], not an edit to every
//! other stage; a typo anywhere (an unknown top-level key, an unknown key in
//! the stage's section) is still an error with file, line and column.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{DeserializeOwned, Error as _, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::sections::SharedSections;

/// The stages' sections of `pipeline_config.yaml`.
pub const STAGE_SECTIONS: &[&str] = &["etl", "inference"];

/// Every top-level key a pipeline file may have.
const KEYS: &[&str] = &["storage", "logging", "etl", "inference"];

/// A stage's own section type.
pub trait StageSection: DeserializeOwned + Default {
    /// Its key in the pipeline file (one of [`STAGE_SECTIONS`]).
    const NAME: &'static str;
}

/// The pipeline file as the stage owning `S` reads it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StageFile<S> {
    /// `storage` and `logging`.
    pub shared: SharedSections,
    /// The stage's section (its defaults when absent).
    pub section: S,
}

impl<'de, S: StageSection> Deserialize<'de> for StageFile<S> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(FileVisitor(PhantomData))
    }
}

struct FileVisitor<S>(PhantomData<S>);

impl<'de, S: StageSection> Visitor<'de> for FileVisitor<S> {
    type Value = StageFile<S>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a pipeline config with storage, logging and stage sections")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        debug_assert!(STAGE_SECTIONS.contains(&S::NAME) && KEYS.contains(&S::NAME));
        let mut file = StageFile {
            shared: SharedSections::default(),
            section: S::default(),
        };
        while let Some(Key(key)) = map.next_key::<Key>()? {
            match key {
                "storage" => file.shared.storage = map.next_value()?,
                "logging" => file.shared.logging = map.next_value()?,
                name if name == S::NAME => {
                    file.section = map.next_value::<Option<S>>()?.unwrap_or_default();
                }
                name if STAGE_SECTIONS.contains(&name) => {
                    map.next_value::<IgnoredAny>()?;
                }
                other => return Err(A::Error::unknown_field(other, KEYS)),
            }
        }
        Ok(file)
    }
}

/// A top-level key, refused while it is read if unknown, so that the error
/// points at the key's line and column.
struct Key(&'static str);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a section name")
            }
            fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<Key, E> {
                match KEYS.iter().find(|k| **k == key) {
                    Some(known) => Ok(Key(known)),
                    None => Err(E::unknown_field(key, KEYS)),
                }
            }
        }
        deserializer.deserialize_identifier(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Default, PartialEq, Deserialize)]
    #[serde(deny_unknown_fields, default)]
    struct Mine {
        size: u32,
    }

    impl StageSection for Mine {
        const NAME: &'static str = "etl";
    }

    fn load(text: &str) -> crate::Result<StageFile<Mine>> {
        crate::config::from_str_with_env(text, Path::new("p.yaml"), &|_| None)
    }

    #[test]
    fn a_stage_reads_its_section_and_leaves_the_others() {
        let file =
            load("storage: {raw: in}\netl: {size: 3}\ninference: {anything: [1]}\n").unwrap();
        assert_eq!(file.section, Mine { size: 3 });
        assert_eq!(file.shared.storage.raw, "in");
        assert_eq!(
            load("logging: {level: warn}\n").unwrap().section,
            Mine::default()
        );
    }

    #[test]
    fn typos_anywhere_name_their_place() {
        let err = load("etl:\n  sise: 3\n").unwrap_err().to_string();
        assert!(err.starts_with("p.yaml:2:3: unknown field 'sise'"), "{err}");
        let err = load("storage: {}\ninfrence: {}\n").unwrap_err().to_string();
        assert!(
            err.starts_with("p.yaml:2:1: unknown field 'infrence'"),
            "{err}"
        );
        assert!(err.contains("'inference'"), "{err}");
    }
}
