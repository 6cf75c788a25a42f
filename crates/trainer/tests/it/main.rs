//! Integration tests for the trainer: ETL output in, registered model out.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod config;
mod honest;
mod pipeline;
