//! Integration tests for `common`: one binary (one link), one module per area.
//!
//! The storage and run-lifecycle conformance suites run on local disk, memory and a real
//! S3-compatible server; run it with `make test`, which starts the server.

#![allow(clippy::unwrap_used, clippy::expect_used)]

/// One test per backend (`local`, `memory`, `s3`) for each conformance
/// test named, each on a fresh, empty location of that backend; the suites
/// (`storage::suite`, `lifecycle::suite`) are `async fn`s taking it.
macro_rules! backend {
    ($backend:ident: $($test:ident),*) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let Some(store) =
                        common::testing::TestStore::unless_skipped(stringify!($backend))
                    else {
                        return;
                    };
                    super::suite::$test(store.location()).await;
                }
            )*
        }
    };
}

/// Every test named, on local disk, memory and S3.
macro_rules! conformance {
    ($($test:ident),* $(,)?) => {
        backend!(local: $($test),*);
        backend!(memory: $($test),*);
        backend!(s3: $($test),*);
    };
}

mod config;
mod lifecycle;
mod logging;
mod storage;
