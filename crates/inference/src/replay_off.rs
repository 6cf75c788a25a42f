//! Without the `sql` feature there is no SQL engine to replay a model's
//! transform with: a model that has one is refused (unless
//! `inference.transform: none`), naming the feature.

use arrow::datatypes::{Field, Schema, SchemaRef};
use records::prediction::{AppliedTransform, ModelRecord};

use crate::config::{InferenceConfig, TransformSource};
use crate::error::{Error, Result};
use crate::input::Prepared;

/// Never constructed in a build without the `sql` feature.
#[derive(Debug)]
pub enum Replay {}

impl Replay {
    /// Refuses a model with a transform to replay.
    pub async fn for_model(
        config: &InferenceConfig,
        record: &ModelRecord,
        _keep: &[String],
    ) -> Result<Option<Self>> {
        if record.transform.is_some() && config.transform == TransformSource::Model {
            return Err(Error::Config {
                key: "inference.transform".into(),
                message: "the model has a SQL transform, and this build of inference has no SQL engine (built without the `sql` feature)".into(),
            });
        }
        Ok(None)
    }

    /// Never called.
    pub fn applied(&self) -> &AppliedTransform {
        match *self {}
    }

    /// Never called.
    pub fn required(&self) -> Vec<Field> {
        match *self {}
    }

    /// Never called.
    pub fn check_input(
        &self,
        _schema: &Schema,
        _passthrough: &[String],
        _file: &str,
    ) -> Result<()> {
        match *self {}
    }

    /// Never called.
    pub fn model_schema(&self, _input: &Schema, _passthrough: &[String]) -> SchemaRef {
        match *self {}
    }

    /// Never called.
    pub async fn apply(&self, _ready: Prepared, _passthrough: &[String]) -> Result<Prepared> {
        match *self {}
    }
}
