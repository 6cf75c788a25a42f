//! Fixtures: raw files in a fresh location, a config from YAML, and readers
//! for what a run wrote.

use std::sync::Arc;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use common::storage::{Location, ParquetSource};
use common::testing::TestStore;
use etl::{EtlConfig, EtlReport, Manifest, RunOptions};
use futures::TryStreamExt;

/// A fresh store with raw files written under `raw/`.
pub struct Fixture {
    pub store: TestStore,
}

impl Fixture {
    pub async fn new(backend: &str, files: &[(&str, &[u8])]) -> Self {
        let store = TestStore::named(backend);
        for (name, bytes) in files {
            store
                .location()
                .join(&format!("raw/{name}"))
                .unwrap()
                .put(bytes.to_vec())
                .await
                .unwrap();
        }
        Self { store }
    }

    pub async fn memory(files: &[(&str, &[u8])]) -> Self {
        Self::new("memory", files).await
    }

    pub fn root(&self) -> &Location {
        self.store.location()
    }

    pub fn options(&self) -> RunOptions {
        RunOptions::new(
            self.root().join("raw").unwrap(),
            self.root().join("processed").unwrap(),
        )
    }

    /// Runs with `yaml` as the `etl` section. These fixtures are a few rows,
    /// whose training split may well be empty and whose invalid rows are
    /// most of them, so `allow_empty` is on and `max_quarantined` is 1
    /// unless `yaml` sets them.
    pub async fn run(&self, yaml: &str) -> Result<EtlReport, etl::Error> {
        let mut yaml = yaml.to_string();
        for (key, lenient) in [
            ("allow_empty", "allow_empty: true"),
            ("max_quarantined", "max_quarantined: 1"),
        ] {
            if !yaml.contains(key) {
                yaml = format!("{lenient}\n{yaml}");
            }
        }
        etl::run(&config(&yaml), &self.options()).await
    }

    pub async fn manifest(&self) -> Option<Manifest> {
        let location = self.root().join("processed/_manifest.json").unwrap();
        match location.read_json().await {
            Ok(m) => Some(m),
            Err(e) if e.is_not_found() => None,
            Err(e) => panic!("{e}"),
        }
    }

    /// Every row of a dataset (`train`, `test`, `quarantine`, …) as text, in file order.
    pub async fn rows(&self, manifest: &Manifest, dataset: &str) -> Vec<Vec<Option<String>>> {
        self.rows_in("processed", manifest, dataset).await
    }

    /// The same for a manifest of the output `folder` (under the root).
    pub async fn rows_in(
        &self,
        folder: &str,
        manifest: &Manifest,
        dataset: &str,
    ) -> Vec<Vec<Option<String>>> {
        let mut rows = Vec::new();
        for file in manifest.files(dataset) {
            let location = self.root().join(folder).unwrap().join(&file.path).unwrap();
            let source = ParquetSource::open(&location).await.unwrap();
            let batches: Vec<RecordBatch> = source
                .stream(1024, None)
                .unwrap()
                .try_collect()
                .await
                .unwrap();
            for batch in batches {
                rows.extend(text_rows(&batch));
            }
        }
        rows
    }

    /// train + test + validation rows, sorted.
    pub async fn output_rows(&self, manifest: &Manifest) -> Vec<Vec<Option<String>>> {
        let mut rows = Vec::new();
        for dataset in ["train", "test", "validation"] {
            rows.extend(self.rows(manifest, dataset).await);
        }
        rows.sort();
        rows
    }

    /// Quarantined rows as (rule key, source suffix after the file name, values).
    pub async fn quarantine(
        &self,
        manifest: &Manifest,
    ) -> Vec<(String, String, Vec<Option<String>>)> {
        let width = manifest
            .transform
            .as_ref()
            .map_or(manifest.schema.len(), |t| t.columns_before.len());
        self.rows(manifest, "quarantine")
            .await
            .into_iter()
            .map(|row| {
                let source = row[width + 2].clone().unwrap();
                let line = source.rsplit(':').next().unwrap().to_string();
                let file = source.rsplit('/').next().unwrap().to_string();
                let file = file.split(':').next().unwrap().to_string();
                (
                    row[width + 1].clone().unwrap(),
                    format!("{file}:{line}"),
                    row[..width].to_vec(),
                )
            })
            .collect()
    }
}

pub fn config(yaml: &str) -> EtlConfig {
    let config: EtlConfig = if yaml.trim().is_empty() {
        EtlConfig::default()
    } else {
        common::config::from_str(yaml, "test.yaml".as_ref()).unwrap()
    };
    config.validate("test.yaml".as_ref()).unwrap();
    config
}

pub fn text_rows(batch: &RecordBatch) -> Vec<Vec<Option<String>>> {
    let columns: Vec<Arc<dyn Array>> = batch
        .columns()
        .iter()
        .map(|c| cast(c, &DataType::Utf8).unwrap())
        .collect();
    (0..batch.num_rows())
        .map(|i| {
            columns
                .iter()
                .map(|c| {
                    let c = c.as_string::<i32>();
                    c.is_valid(i).then(|| c.value(i).to_string())
                })
                .collect()
        })
        .collect()
}

pub fn s(values: &[&str]) -> Vec<Option<String>> {
    values
        .iter()
        .map(|v| {
            if *v == "∅" {
                None
            } else {
                Some(v.to_string())
            }
        })
        .collect()
}
