//! Prometheus' PromQL test scripts, run against KubePulse's engine.

pub mod script;
