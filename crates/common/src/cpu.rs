//! CPU work from async code, done the same way in every stage: the work runs
//! on the rayon pool (where its own parallel loops run too) and the calling
//! task waits without blocking a runtime thread. Blocking I/O (a `Read` over
//! a download, local file calls) goes to `tokio::task::spawn_blocking`
//! instead; tokio is for I/O only.

/// The work's thread died (it panicked) before giving its result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("internal error: a worker thread panicked while {0}")]
pub struct Panicked(pub &'static str);

/// Runs `work` on the rayon pool and waits for its result; `what` says what
/// it was doing (`"scoring a batch"`), for the error if it panics.
pub async fn run<T: Send + 'static>(
    what: &'static str,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Panicked> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    rayon::spawn(move || {
        // A panic inside `rayon::spawn` would abort the process: it is
        // caught and becomes the caller's error (the work's own state is
        // dropped with it, nothing is shared).
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
        let _ = tx.send(result);
    });
    match rx.await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(_)) | Err(_) => Err(Panicked(what)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn results_come_back_and_panics_are_errors() {
        assert_eq!(run("adding", || 2 + 2).await, Ok(4));
        let died = run("failing", || -> u8 { panic!("boom") }).await;
        assert_eq!(
            died.unwrap_err().to_string(),
            "internal error: a worker thread panicked while failing"
        );
    }
}
