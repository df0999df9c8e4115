//! Integration tests of the simulated cluster.

#![allow(clippy::unwrap_used)]

mod sim {
    pub mod capacity;
    pub mod dataset;
    pub mod determinism;
    pub mod faults;
    pub mod lookalikes;
    pub mod scenario;
    pub mod support;
}
