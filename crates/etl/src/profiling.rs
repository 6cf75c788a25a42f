//! The training split's profile, built on its own task from the batches
//! the run writes, so the run's loop (de-duplication, splitting) goes on
//! with the next batch meanwhile.

use arrow::array::RecordBatch;
use records::profile::{Profile, ProfileBuilder};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::error::{Error, Result};

/// Batches waiting to be profiled.
const QUEUE: usize = 4;

/// A profile being built on its own task.
pub struct Profiler {
    batches: mpsc::Sender<RecordBatch>,
    task: JoinHandle<Result<ProfileBuilder>>,
}

impl Profiler {
    /// Profiles the batches given to [`Profiler::add`] with `builder`.
    pub fn new(builder: ProfileBuilder) -> Self {
        let (batches, mut queue) = mpsc::channel::<RecordBatch>(QUEUE);
        let task = tokio::spawn(async move {
            let mut builder = builder;
            while let Some(batch) = queue.recv().await {
                builder
                    .add(&batch)
                    .map_err(|e| Error::Internal(format!("profiling the training split: {e}")))?;
            }
            Ok(builder)
        });
        Self { batches, task }
    }

    /// Queues `batch` (rows of the training split).
    pub async fn add(&mut self, batch: RecordBatch) -> Result<()> {
        if self.batches.send(batch).await.is_ok() {
            return Ok(());
        }
        // The task ended early: it failed, and says why.
        Err(match (&mut self.task).await {
            Ok(Err(e)) => e,
            Ok(Ok(_)) => Error::Internal("the profile stopped taking batches".into()),
            Err(e) => Error::Internal(format!("profiling the training split: {e}")),
        })
    }

    /// The profile of every batch added.
    pub async fn finish(self) -> Result<Profile> {
        drop(self.batches);
        let builder = self
            .task
            .await
            .map_err(|e| Error::Internal(format!("profiling the training split: {e}")))??;
        Ok(builder.finish())
    }
}
