//! The simulated Kubernetes cluster.
//!
//! A deterministic, seeded simulation of nodes, workloads, services and their load, with
//! Kubernetes behaviour (scheduling, rollouts, OOM kills, crash-loop back-off, probes, evictions,
//! node failures), chaos faults that ripen with realistic precursors, harmless look-alikes, and
//! ground truth of every fault and failure. It emits what real exporters emit: cAdvisor,
//! kube-state-metrics and node-exporter series, application request metrics, Kubernetes events,
//! object states, container logs and trace spans, one [`Batch`] per step.
//!
//! The simulator is a source: it must never depend on the store or the server. The dataset
//! writer is one consumer of its batches; the live server is another.

pub mod catalog;
pub mod chaos;
pub mod cluster;
pub mod config;
pub mod controllers;
pub mod cron;
pub mod dataset;
pub mod dynamics;
pub mod emit;
pub mod engine;
pub mod error;
pub mod faults;
pub mod health;
pub mod kubelet;
pub mod load;
pub mod lookalikes;
pub mod nodes;
pub mod pods;
pub mod profile;
pub mod record;
pub mod rng;
pub mod scenario;
pub mod scheduler;
pub mod topology;
pub mod truth;
pub mod world;

pub use config::SimConfig;
pub use engine::{Batch, Simulator};
pub use error::{ErrorKind, SimError};
pub use faults::{FaultKind, FaultSpec, Target};
pub use scenario::Scenario;
pub use truth::{FailureRecord, FailureType, FaultRecord, Truth};
