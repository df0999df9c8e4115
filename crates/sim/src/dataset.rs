//! Datasets on disk: one consumer of the simulator's batches writes them, and the training code
//! of later stages reads them back. Layout (version 1, see `docs/simulator.md`):
//!
//! ```text
//! manifest.json                 format, version, settings, time range, counts, files
//! labels.json                   ground truth: faults, failures, look-alikes
//! metrics/series.jsonl.zst      one JSON object per series: id, labels, type, help
//! metrics/NNNNNN.csv.zst        one block per hour: header `series_id,<t0 ms>,<t1 ms>,…`,
//!                               one row per series with samples in the block, empty = none
//! events.jsonl.zst              Kubernetes Event objects as the API serves them
//! objects.jsonl.zst             object states (pods, nodes, workloads, services)
//! logs.jsonl.zst                container log records
//! spans.jsonl.zst               trace spans
//! ```

mod csv;
mod reader;
mod writer;

pub use reader::{Block, DatasetReader, Manifest};
pub use writer::DatasetWriter;

/// The format name in `manifest.json`.
pub const FORMAT: &str = "kubepulse-dataset";
/// The format version this code writes and reads.
pub const VERSION: u32 = 1;
