//! Integration tests for the ETL stage: one binary, one module per area.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cases;
mod cli;
mod e2e;
mod helpers;
mod property;
mod shard;
mod transform;
