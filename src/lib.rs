//! planelint: a policy-as-code linter for the data-plane configuration of
//! Union.ai BYOC and Flyte deployments.
//!
//! Pipeline: discover -> load (spanned YAML) -> model -> evaluate (CEL) -> report.
//! The library never prints: only `main.rs` touches stdout and stderr.
#![deny(clippy::print_stdout, clippy::print_stderr)]
// Input-derived data is never indexed: `.get()` and iterators cannot panic.
// Unit tests may index what they just built.
#![deny(clippy::indexing_slicing)]
#![cfg_attr(test, allow(clippy::indexing_slicing))]

pub mod audit;
pub mod baseline;
pub mod check;
pub mod config;
pub mod date;
pub mod diagnostic;
pub mod discover;
pub mod engine;
pub mod exit;
pub mod expect;
pub mod field;
pub mod init;
pub mod load;
pub mod model;
pub mod parallel;
pub mod policy;
pub mod policytest;
pub mod registry;
pub mod report;
pub mod schema;
pub mod source;
pub mod suppress;
pub mod workspace;
pub mod yaml;
