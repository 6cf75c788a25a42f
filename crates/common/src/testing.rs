//! Test backends for storage conformance suites, shared by every crate's tests
//! (enable the `testing` feature in `[dev-dependencies]`).
//!
//! [`TestStore::s3`] needs a real S3-compatible server: `make test` starts one
//! (`scripts/s3-test-server.sh`) and exports its settings. Without them the
//! test fails with instructions; it is never skipped.

// Test-only code: a misconfigured test environment should stop the test loudly.
#![allow(clippy::panic, clippy::expect_used)]

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::storage::Location;

/// Environment variable naming the bucket S3 tests write into.
pub const S3_BUCKET_ENV: &str = "CAUCE_TEST_S3_BUCKET";

/// A fresh, empty location on one backend, cleaned up when dropped (local disk).
#[derive(Debug)]
pub struct TestStore {
    location: Location,
    _dir: Option<tempfile::TempDir>,
}

impl TestStore {
    /// An empty temporary directory on local disk.
    pub fn local() -> Self {
        let dir = tempfile::tempdir().expect("create temp dir");
        let path = dir
            .path()
            .to_str()
            .expect("temp dir path is UTF-8")
            .to_string();
        Self {
            location: Location::parse(&path).expect("temp dir is a valid location"),
            _dir: Some(dir),
        }
    }

    /// An empty in-memory store of its own.
    pub fn memory() -> Self {
        Self {
            location: Location::parse(&format!("memory://{}/root", unique_name()))
                .expect("memory location"),
            _dir: None,
        }
    }

    /// An empty prefix in the S3 test bucket. Panics with instructions if no
    /// S3 test server is configured.
    pub fn s3() -> Self {
        let bucket = std::env::var(S3_BUCKET_ENV).ok();
        let endpoint = std::env::var("AWS_ENDPOINT_URL")
            .or_else(|_| std::env::var("AWS_ENDPOINT"))
            .ok();
        let (Some(bucket), Some(_)) = (bucket, endpoint) else {
            panic!(
                "no S3 test server configured ({S3_BUCKET_ENV} and AWS_ENDPOINT_URL are not set). \
                 Run the tests with `make test`, which starts one, or start it yourself: \
                 `eval \"$(scripts/s3-test-server.sh start)\"` then `cargo test`"
            );
        };
        Self {
            location: Location::parse(&format!("s3://{bucket}/{}", unique_name()))
                .expect("S3 test location"),
            _dir: None,
        }
    }

    /// The backend named `local`, `memory` or `s3`.
    pub fn named(backend: &str) -> Self {
        match backend {
            "local" => Self::local(),
            "memory" => Self::memory(),
            "s3" => Self::s3(),
            other => panic!("unknown test backend '{other}'"),
        }
    }

    /// The empty location to test in.
    pub fn location(&self) -> &Location {
        &self.location
    }
}

/// A name unique across processes and calls: `t-<pid>-<nanos>-<counter>`.
fn unique_name() -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "t-{}-{nanos}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}
