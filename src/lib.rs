//! ferry: migrate Kafka clusters the way Terraform manages infrastructure.
//!
//! Data flows one way: config -> desired model -> snapshot -> diff -> plan -> render or apply.

pub mod allocator;
pub mod apply;
pub mod bounded_file;
pub mod ckafka;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod copy;
pub mod diff;
pub mod domain;
pub mod drift;
pub mod error;
pub mod hcl_format;
pub mod init;
pub mod limits;
pub mod masking;
pub mod plan;
pub mod platform;
pub mod render;
pub mod run;
pub mod snapshot;
pub mod state;
pub mod stop_signal;
pub mod targeting;
