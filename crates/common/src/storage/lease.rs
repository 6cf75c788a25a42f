//! Leases: proof that a writer is still alive. A writer whose files must not
//! be taken by another process's cleanup (a run folder being filled, a
//! registry version being uploaded) puts a small lease object beside them
//! first and rewrites it every quarter of the lease timeout until it is done;
//! cleaners leave alone anything whose lease was renewed within the timeout,
//! whatever grace period they were given. A writer killed with `kill -9`
//! stops renewing, so its leftovers become collectable once its lease is
//! older than the timeout.
//!
//! The timeout is [`LEASE_ENV`] seconds (default 120). Freshness is the
//! lease object's last-modified time as the store reports it, against this
//! machine's clock: clocks must agree to well within the timeout.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use object_store::ObjectMeta;
use serde::Serialize;
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

use super::Location;
use crate::error::Result;

/// Environment variable with the lease timeout in seconds.
pub const LEASE_ENV: &str = "CAUCE_LEASE_SECONDS";

/// The lease timeout when [`LEASE_ENV`] is unset.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// How long a lease stays valid without renewal ([`LEASE_ENV`]).
pub fn lease_timeout() -> Duration {
    std::env::var(LEASE_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .map_or(DEFAULT_TIMEOUT, Duration::from_secs_f64)
}

/// Whether a lease object (as listed or headed) was renewed within the timeout.
pub fn lease_is_live(meta: &ObjectMeta) -> bool {
    let age = Utc::now() - meta.last_modified;
    age.to_std().map_or(true, |age| age < lease_timeout())
}

/// What a lease object holds (for people looking at it; cleaners read only
/// its age).
#[derive(Debug, Clone, Serialize)]
struct Record {
    holder: String,
    pid: u32,
    acquired_at: DateTime<Utc>,
    renewed_at: DateTime<Utc>,
}

/// A held lease, renewed in the background until [`release`](Self::release)
/// or drop.
#[derive(Debug)]
pub struct Lease {
    location: Location,
    /// True once released; held while a renewal is being written, so that
    /// releasing waits for it and no renewal lands after the delete.
    stopped: Arc<Mutex<bool>>,
    renewer: JoinHandle<()>,
}

impl Lease {
    /// Writes the lease at `location` and starts renewing it.
    pub async fn acquire(location: Location) -> Result<Self> {
        let holder = crate::ids::write_token();
        let acquired_at = Utc::now();
        let record = move |renewed_at| Record {
            holder: holder.clone(),
            pid: std::process::id(),
            acquired_at,
            renewed_at,
        };
        location.write_json(&record(acquired_at)).await?;
        let stopped = Arc::new(Mutex::new(false));
        let (at, flag) = (location.clone(), stopped.clone());
        let renewer = tokio::spawn(async move {
            let every = lease_timeout() / 4;
            loop {
                tokio::time::sleep(every).await;
                let stopped = flag.lock().await;
                if *stopped {
                    return;
                }
                if let Err(e) = at.write_json(&record(Utc::now())).await {
                    log::warn!("renewing lease {at}: {e}");
                }
            }
        });
        Ok(Self {
            location,
            stopped,
            renewer,
        })
    }

    /// Where the lease is.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// Stops renewing (waiting for a renewal in flight) and deletes the lease.
    pub async fn release(self) -> Result<()> {
        *self.stopped.lock().await = true;
        self.renewer.abort();
        self.location.delete().await
    }

    /// Stops renewing without deleting the lease (it goes stale by itself),
    /// for a writer about to delete the whole folder the lease is in.
    pub async fn stop(self) {
        *self.stopped.lock().await = true;
        self.renewer.abort();
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.renewer.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(age: chrono::Duration) -> ObjectMeta {
        ObjectMeta {
            location: object_store::path::Path::from("runs/x/_lease.json"),
            last_modified: Utc::now() - age,
            size: 10,
            e_tag: None,
            version: None,
        }
    }

    #[test]
    fn a_lease_is_live_until_the_timeout() {
        assert!(lease_is_live(&meta(chrono::Duration::seconds(1))));
        assert!(
            lease_is_live(&meta(chrono::Duration::seconds(-5))),
            "clock ahead"
        );
        assert!(!lease_is_live(&meta(chrono::Duration::hours(1))));
    }

    #[tokio::test]
    async fn release_deletes_the_lease() {
        let location = Location::parse("memory://lease-test/runs/x/_lease.json").unwrap();
        let lease = Lease::acquire(location.clone()).await.unwrap();
        let record: serde_json::Value = location.read_json().await.unwrap();
        assert_eq!(record["pid"], std::process::id());
        assert!(lease_is_live(&location.head().await.unwrap()));
        lease.release().await.unwrap();
        assert!(!location.exists().await.unwrap());
    }
}
