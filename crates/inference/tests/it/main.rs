//! Integration tests for inference: the whole pipeline on local disk and S3,
//! schema enforcement, pinned versions, tampered artifacts, sharding.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cases;
mod drift;
mod pipeline;
mod skew;
mod transform;
