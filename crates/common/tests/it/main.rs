//! Integration tests for `common`: one binary (one link), one module per area.
//!
//! The storage and run-lifecycle conformance suites run on local disk, memory and a real
//! S3-compatible server; run it with `make test`, which starts the server.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod config;
mod lifecycle;
mod logging;
mod storage;
