//! Input file formats and how to recognise them from a file name.

use serde::{Deserialize, Serialize};

/// A tabular file format Cauce reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileFormat {
    /// Comma- (or otherwise) separated values.
    Csv,
    /// Apache Parquet.
    Parquet,
    /// Newline-delimited JSON, one object per line.
    Ndjson,
}

/// Byte-level compression wrapped around a text file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Compression {
    /// Plain bytes.
    #[default]
    None,
    /// gzip (`.gz`), including multi-member files.
    Gzip,
}

impl FileFormat {
    /// Recognises `name`'s format from its extension: `.csv`, `.tsv`, `.txt`,
    /// `.parquet`, `.pq`, `.ndjson`, `.jsonl`, `.json`, each optionally
    /// followed by `.gz` (except Parquet, which compresses internally).
    pub fn from_name(name: &str) -> Option<(FileFormat, Compression)> {
        let lower = name.to_ascii_lowercase();
        let (stem, compression) = match lower.strip_suffix(".gz") {
            Some(stem) => (stem, Compression::Gzip),
            None => (lower.as_str(), Compression::None),
        };
        let extension = stem.rsplit_once('.').map(|(_, ext)| ext)?;
        let format = match extension {
            "csv" | "tsv" | "txt" => FileFormat::Csv,
            "parquet" | "pq" if compression == Compression::None => FileFormat::Parquet,
            "ndjson" | "jsonl" | "json" => FileFormat::Ndjson,
            _ => return None,
        };
        Some((format, compression))
    }

    /// Lower-case name, as written in config.
    pub fn name(self) -> &'static str {
        match self {
            FileFormat::Csv => "csv",
            FileFormat::Parquet => "parquet",
            FileFormat::Ndjson => "ndjson",
        }
    }
}

impl Compression {
    /// Compression implied by a `.gz` suffix.
    pub fn from_name(name: &str) -> Compression {
        if name.to_ascii_lowercase().ends_with(".gz") {
            Compression::Gzip
        } else {
            Compression::None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_formats_and_gzip() {
        use Compression::*;
        use FileFormat::*;
        assert_eq!(FileFormat::from_name("a/penguins.csv"), Some((Csv, None)));
        assert_eq!(FileFormat::from_name("x.CSV.GZ"), Some((Csv, Gzip)));
        assert_eq!(
            FileFormat::from_name("part-0.parquet"),
            Some((Parquet, None))
        );
        assert_eq!(
            FileFormat::from_name("events.jsonl.gz"),
            Some((Ndjson, Gzip))
        );
        assert_eq!(FileFormat::from_name("part.parquet.gz"), Option::None);
        assert_eq!(FileFormat::from_name("README"), Option::None);
        assert_eq!(FileFormat::from_name("image.png"), Option::None);
    }
}
