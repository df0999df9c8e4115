//! PromQL for KubePulse: parsing into `promql-parser`'s AST with Prometheus' grammar and
//! errors, and evaluation over the store with Prometheus 2.53's semantics. This crate never
//! speaks HTTP.

mod engine;
mod error;
mod eval;
pub mod features;
pub mod functions;
pub mod logql;
pub mod parse;
pub mod plan;
pub mod promqltest;
mod source;
pub mod value;

pub use engine::{Cancel, Engine, EngineOptions, QueryResult, QueryValue, Sample};
pub use error::{ErrorKind, QueryError};
pub use source::{IdSource, MemSource, Source, StoreSource};
pub use value::{Series, Steps, Value};
