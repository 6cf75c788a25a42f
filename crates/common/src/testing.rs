//! Test backends for storage conformance suites, shared by every crate's tests
//! (enable the `testing` feature in `[dev-dependencies]`).
//!
//! [`TestStore::s3`] needs a real S3-compatible server: `make test` starts one
//! (`scripts/s3-test-server.sh`), exports its settings and sets
//! `CAUCE_TEST_S3=1`. As object_store's `TEST_INTEGRATION` does, a plain
//! `cargo test` without a server skips the S3 tests, saying so once per test
//! binary on stderr with how to run them ([`skip_s3`]); with `CAUCE_TEST_S3=1`
//! a missing server fails the test with instructions, so `make test` and CI
//! never skip them.

// Test-only code: a misconfigured test environment should stop the test loudly.
#![allow(clippy::panic, clippy::expect_used)]

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::storage::Location;

/// Environment variable naming the bucket S3 tests write into.
pub const S3_BUCKET_ENV: &str = "CAUCE_TEST_S3_BUCKET";

/// Environment variable that makes a missing S3 test server a failure.
pub const REQUIRE_S3_ENV: &str = "CAUCE_TEST_S3";

/// Whether an S3 test server is configured (bucket and endpoint set).
fn s3_configured() -> bool {
    std::env::var_os(S3_BUCKET_ENV).is_some()
        && (std::env::var_os("AWS_ENDPOINT_URL").is_some()
            || std::env::var_os("AWS_ENDPOINT").is_some())
}

/// Whether a test on `backend` should be skipped: only `s3`, only when no
/// server is configured and `CAUCE_TEST_S3` is not `1`. The first skip in a
/// test binary says so on stderr (written past the test harness's capture,
/// so a passing run shows it).
pub fn skip(backend: &str) -> bool {
    if backend != "s3" || s3_configured() || std::env::var(REQUIRE_S3_ENV).as_deref() == Ok("1") {
        return false;
    }
    static SAID: std::sync::Once = std::sync::Once::new();
    SAID.call_once(|| {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "note: S3 tests skipped (no S3 test server). Run them with `make test`, or \
             `eval \"$(scripts/s3-test-server.sh start)\"` then `CAUCE_TEST_S3=1 cargo test`"
        );
    });
    true
}

/// [`skip`] for the S3 backend.
pub fn skip_s3() -> bool {
    skip("s3")
}

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
    /// S3 test server is configured (tests call [`skip_s3`] first).
    pub fn s3() -> Self {
        let bucket = std::env::var(S3_BUCKET_ENV).ok();
        let (Some(bucket), true) = (bucket, s3_configured()) else {
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

    /// The backend named `backend`, or `None` when its tests are skipped
    /// ([`skip`]): what a conformance macro's test starts with.
    pub fn unless_skipped(backend: &str) -> Option<Self> {
        (!skip(backend)).then(|| Self::named(backend))
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
