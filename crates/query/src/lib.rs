//! PromQL for KubePulse: parsing into `promql-parser`'s AST with Prometheus' grammar and
//! errors, and evaluation over the store with Prometheus 2.53's semantics. This crate never
//! speaks HTTP.

pub mod parse;
pub mod promqltest;
pub mod value;
