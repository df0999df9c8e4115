//! KubePulse's embedded store.
//!
//! Metrics go through a write-ahead log into an in-memory head (Gorilla XOR chunks), are flushed
//! to per-day fjall keyspaces, and are compacted into pco chunks; retention drops whole days.
//! Kubernetes events and object history are kept by time and by object. Writers use [`Append`],
//! readers [`Read`]; nothing outside this crate knows the on-disk layout (`docs/formats.md`).
//!
//! The store must never know about PromQL or models: it stores and selects samples.

pub mod append;
pub mod chunk;
mod config;
mod db;
pub mod disk;
mod error;
pub mod events;
pub mod head;
pub mod index;
pub mod logs;
mod matcher;
pub mod metadata;
pub mod metrics;
pub mod wal;

use kubepulse_model::{K8sEvent, Labels, MetricMeta, ObjectRef, ObjectState, Sample};

pub use append::InvalidSeries;
pub use config::StoreConfig;
pub use db::{Db, MaintenanceReport};
pub use error::{ErrorKind, StoreError};
pub use events::EventQuery;
pub use index::SeriesRef;
pub use logs::{LogEntry, LogQuery, LogStream};
pub use matcher::{MatchOp, Matcher};
pub use metrics::StoreMetrics;

/// Milliseconds in a day: the unit of on-disk partitioning and retention.
pub const DAY_MS: i64 = 86_400_000;

/// Samples of one series to append.
#[derive(Debug, Clone)]
pub struct SeriesWrite<'a> {
    /// Labels (validated by the store; sorted by name is cheapest).
    pub labels: &'a [(&'a str, &'a str)],
    /// Samples: timestamp in ms, value.
    pub samples: &'a [(i64, f64)],
}

/// What an append did, per outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AppendReport {
    /// Samples stored (in order or inside the out-of-order window).
    pub appended: u64,
    /// Of those, samples older than their series' newest.
    pub out_of_order: u64,
    /// Exact duplicates, ignored.
    pub duplicates: u64,
    /// Refused: older than the out-of-order window.
    pub too_old: u64,
    /// Refused: same timestamp as a stored sample with another value.
    pub conflicts: u64,
    /// Series created.
    pub new_series: u64,
}

impl AppendReport {
    /// Samples refused.
    pub fn rejected(&self) -> u64 {
        self.too_old + self.conflicts
    }
}

/// The write side of the store.
pub trait Append: Send + Sync {
    /// Appends samples of series given by labels. The whole batch is validated first: an
    /// invalid series refuses the batch and changes nothing. Returns once the batch is in the WAL.
    fn append(&self, batch: &[SeriesWrite<'_>]) -> Result<AppendReport, StoreError>;
    /// Resolves (creating if needed) the series with these labels, for writers that keep refs.
    fn resolve(&self, labels: &[(&str, &str)]) -> Result<SeriesRef, StoreError>;
    /// Appends samples of resolved series.
    fn append_refs(&self, samples: &[(SeriesRef, i64, f64)]) -> Result<AppendReport, StoreError>;
    /// Stores Kubernetes events.
    fn append_events(&self, events: &[K8sEvent]) -> Result<(), StoreError>;
    /// Stores object states.
    fn append_objects(&self, states: &[ObjectState]) -> Result<(), StoreError>;
    /// Records metric metadata by family name.
    fn append_metadata(&self, entries: &[(String, MetricMeta)]);
    /// Stores log lines in one atomic batch, durable once this returns; an invalid line
    /// refuses the batch and changes nothing.
    fn append_logs(&self, records: &[kubepulse_model::LogRecord]) -> Result<(), StoreError>;
}

/// One selected series.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesSamples {
    /// Labels.
    pub labels: Labels,
    /// Samples in time order.
    pub samples: Vec<Sample>,
}

/// The read side of the store.
pub trait Read: Send + Sync {
    /// Series matching every matcher, with their samples in `[mint, maxt]`; series without
    /// samples in the range are left out.
    fn select(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<SeriesSamples>, StoreError>;
    /// Labels of series matching every matcher that have data overlapping `[mint, maxt]`.
    fn series(&self, matchers: &[Matcher], mint: i64, maxt: i64)
    -> Result<Vec<Labels>, StoreError>;
    /// Changes whenever a series is created: refs and labels read before stay valid.
    fn generation(&self) -> u64;
    /// Labels of the series created since `generation` (as [`Read::generation`] gave it).
    fn series_since(&self, generation: u64) -> Result<Vec<Labels>, StoreError>;
    /// Refs and labels of series matching every matcher that may have data overlapping
    /// `[mint, maxt]`, sorted by labels.
    fn series_refs(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<(SeriesRef, Labels)>, StoreError>;
    /// Samples of each series of `refs` in `[mint, maxt]` in time order (only the newest with
    /// `newest`), appended to `out`; after each series, the length of `out` is pushed to
    /// `ends`. Unknown refs have no samples.
    fn read_refs(
        &self,
        refs: &[SeriesRef],
        mint: i64,
        maxt: i64,
        newest: bool,
        out: &mut Vec<Sample>,
        ends: &mut Vec<usize>,
    ) -> Result<(), StoreError>;
    /// Label names of matching series (all series when `matchers` is empty), sorted.
    fn label_names(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<String>, StoreError>;
    /// Values of label `name` among matching series, sorted.
    fn label_values(
        &self,
        name: &str,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<String>, StoreError>;
    /// Events matching the query, newest first.
    fn events(&self, q: &EventQuery) -> Result<Vec<K8sEvent>, StoreError>;
    /// One object's states in `[start, end]`, oldest first.
    fn object_history(
        &self,
        object: &ObjectRef,
        start: i64,
        end: i64,
    ) -> Result<Vec<ObjectState>, StoreError>;
    /// The newest state of every live object of `kind` (all kinds when empty).
    fn objects(&self, kind: &str) -> Result<Vec<ObjectState>, StoreError>;
    /// Metric metadata by family name.
    fn metadata(&self) -> std::collections::BTreeMap<String, Vec<MetricMeta>>;
    /// Log lines of the matching streams.
    fn select_logs(&self, q: &LogQuery<'_>) -> Result<Vec<LogStream>, StoreError>;
    /// Labels of the log streams matching every matcher with lines in `[start_ns, end_ns]`.
    fn log_streams(
        &self,
        matchers: &[Matcher],
        start_ns: i64,
        end_ns: i64,
    ) -> Result<Vec<Labels>, StoreError>;
}
