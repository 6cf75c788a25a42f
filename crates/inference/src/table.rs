//! Scoring tables already in memory, as a run scores a file: what the
//! Python package's `Model.predict` calls, and any Rust program may. The
//! model is loaded once (every checksum verified); each table is made ready
//! as a file's rows are ([`crate::input::prepare_table`]), goes through the
//! model's SQL transform when it has one (replayed, no row dropped), is
//! checked against the model's schema and scored. The result has the
//! columns a run writes: the passthrough, the prediction (and one
//! probability column per class), `model_version` and `_error`.

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::Field;
use ingest::clean::Cleaning;
use model::Model;

use crate::config::InferenceConfig;
use crate::error::{Error, Result};
use crate::input::{model_columns, prepare_table};
use crate::predict::predict;
use crate::replay::Replay;
use crate::run::{ModelRecord, applied_cleaning, load_model};

/// A loaded model, ready to score tables.
#[derive(Debug)]
pub struct Scorer {
    model: Arc<Model>,
    record: ModelRecord,
    cleaning: Arc<Cleaning>,
    /// The columns a table must give, with the types they are read as
    /// (the transform's inputs when there is one).
    wanted: Arc<Vec<Field>>,
    replay: Option<Arc<Replay>>,
    label: String,
}

impl Scorer {
    /// Loads `reference` (`latest`, `vN`, an alias, or a `model.bin` path)
    /// from `registry`; `config` says which cleaning and transform apply
    /// (the card's by default), as for a run.
    pub async fn load(
        reference: &str,
        registry: &common::storage::Location,
        config: &InferenceConfig,
    ) -> Result<Self> {
        let (model, record) = load_model(reference, registry).await?;
        let cleaning = applied_cleaning(config, &record).cleaning;
        let keep: Vec<String> = model.inputs().into_iter().map(|c| c.name).collect();
        let replay = Replay::for_model(config, &record, &keep)
            .await?
            .map(Arc::new);
        let wanted = match &replay {
            Some(replay) => replay.required(),
            None => model_columns(&model, &cleaning),
        };
        let label = record
            .version
            .clone()
            .unwrap_or_else(|| record.reference.clone());
        Ok(Self {
            model: Arc::new(model),
            record,
            cleaning: Arc::new(cleaning),
            wanted: Arc::new(wanted),
            replay,
            label,
        })
    }

    /// Tables (or slices of one) worth scoring at once: one per rayon
    /// thread and one more, as a run scores a file's batches.
    pub fn concurrency() -> usize {
        rayon::current_num_threads() + 1
    }

    /// The model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Where the model came from (what a prediction manifest records).
    pub fn record(&self) -> &ModelRecord {
        &self.record
    }

    /// Scores `batch` (`name` says what it is in messages); `passthrough`
    /// columns are copied beside the predictions.
    pub async fn score(
        &self,
        batch: RecordBatch,
        name: &str,
        passthrough: &[String],
    ) -> Result<RecordBatch> {
        let (cleaning, wanted) = (Arc::clone(&self.cleaning), Arc::clone(&self.wanted));
        let keep = passthrough.to_vec();
        let ready = common::cpu::run("preparing a table", move || {
            prepare_table(batch, &cleaning, &wanted, &keep)
        })
        .await
        .map_err(|e| Error::Internal(e.to_string()))??;
        let ready = match &self.replay {
            Some(replay) => {
                replay.check_input(&ready.typed.schema(), passthrough, name)?;
                replay.apply(ready, passthrough).await?
            }
            None => ready,
        };
        crate::schema::check(&self.model, &ready.typed.schema(), passthrough, name)?;
        let (model, label, keep) = (
            Arc::clone(&self.model),
            self.label.clone(),
            passthrough.to_vec(),
        );
        common::cpu::run("scoring a table", move || {
            predict(&model, &ready.typed, &label, &keep, &ready.errors)
        })
        .await
        .map_err(|e| Error::Internal(e.to_string()))?
    }
}
