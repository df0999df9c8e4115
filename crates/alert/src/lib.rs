//! KubePulse's alerting: Prometheus rule files loaded and validated as Prometheus validates
//! them, groups of recording and alerting rules evaluated over any PromQL [`Source`], alert state
//! (pending, firing, resolved, `keep_firing_for`) with the `ALERTS` and `ALERTS_FOR_STATE`
//! series, Go templates in labels and annotations, and rule unit tests in promtool's format.
//!
//! It reads samples through [`kubepulse_query::Source`] and hands its outputs to a [`Sink`]:
//! it never writes to the store or sends a notification itself.
//!
//! [`Source`]: kubepulse_query::Source

pub mod alerting;
pub mod builtin;
pub mod error;
pub mod group;
pub mod notify;
pub mod recording;
pub mod rulefile;
pub mod template;
pub mod unittest;

pub use alerting::{Alert, AlertState, AlertingState};
pub use error::{AlertError, ErrorKind, LoadErrors, Place};
pub use group::{EvalContext, Group, Health, RuleRun, Sink};
pub use rulefile::{Rule, RuleGroup, RuleKind};
