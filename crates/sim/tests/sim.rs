//! Integration tests of the simulated cluster.

#![allow(clippy::unwrap_used)]

mod sim {
    pub mod capacity;
    pub mod dataset;
    pub mod determinism;
    pub mod lookalikes;
    pub mod remedies;
    pub mod ripening;
    pub mod scenario;
    pub mod sudden;
    pub mod support;
}
