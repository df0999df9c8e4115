//! Writes a simulation's batches as a dataset.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use super::csv::push_value;
use super::{FORMAT, VERSION};
use crate::SimError;
use crate::config::SimConfig;
use crate::emit::SeriesDef;
use crate::engine::Batch;
use crate::truth::Truth;

const HOUR_MS: i64 = 3_600_000;
const ZSTD_LEVEL: i32 = 1;
/// Marks an empty cell in the block buffer; never a value the simulator emits.
const ABSENT: u64 = 0x7ff8_dead_beef_0001;

type Zst = zstd::stream::write::Encoder<'static, BufWriter<File>>;

/// Counts of what was written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Counts {
    /// Series with at least one sample.
    pub series: u64,
    /// Samples.
    pub samples: u64,
    /// Events.
    pub events: u64,
    /// Log records.
    pub logs: u64,
    /// Spans.
    pub spans: u64,
    /// Object states.
    pub objects: u64,
    /// Hourly metric blocks.
    pub blocks: u64,
}

/// Writes batches into a dataset directory.
pub struct DatasetWriter {
    dir: PathBuf,
    step_ms: i64,
    rows: usize,
    defs: Vec<Option<Arc<SeriesDef>>>,
    written: Vec<bool>,
    block: Option<i64>,
    /// The block's samples, one dense row per step (`ABSENT` where a series has none).
    matrix: Vec<Vec<f64>>,
    /// Whether a series has a sample in the current block.
    used: Vec<bool>,
    series: Zst,
    events: Zst,
    objects: Zst,
    logs: Zst,
    spans: Zst,
    counts: Counts,
    first: Option<i64>,
    last: i64,
    line: Vec<u8>,
}

impl std::fmt::Debug for DatasetWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatasetWriter")
            .field("dir", &self.dir)
            .field("counts", &self.counts)
            .finish()
    }
}

fn zst(path: &Path) -> Result<Zst, SimError> {
    let f = File::create(path).map_err(|e| SimError::io(path, e))?;
    zstd::stream::write::Encoder::new(BufWriter::with_capacity(1 << 20, f), ZSTD_LEVEL)
        .map_err(|e| SimError::io(path, e))
}

impl DatasetWriter {
    /// Creates the dataset directory `dir` (which must be empty or absent).
    pub fn create(dir: &Path, step_ms: i64) -> Result<Self, SimError> {
        if dir.exists()
            && std::fs::read_dir(dir)
                .map_err(|e| SimError::io(dir, e))?
                .next()
                .is_some()
        {
            return Err(SimError::Dataset {
                path: dir.display().to_string(),
                message: "output directory is not empty".into(),
            });
        }
        std::fs::create_dir_all(dir.join("metrics")).map_err(|e| SimError::io(dir, e))?;
        Ok(Self {
            dir: dir.to_path_buf(),
            step_ms,
            rows: (HOUR_MS / step_ms).max(1) as usize,
            defs: Vec::new(),
            written: Vec::new(),
            block: None,
            matrix: Vec::new(),
            used: Vec::new(),
            series: zst(&dir.join("metrics/series.jsonl.zst"))?,
            events: zst(&dir.join("events.jsonl.zst"))?,
            objects: zst(&dir.join("objects.jsonl.zst"))?,
            logs: zst(&dir.join("logs.jsonl.zst"))?,
            spans: zst(&dir.join("spans.jsonl.zst"))?,
            counts: Counts::default(),
            first: None,
            last: 0,
            line: Vec::with_capacity(1 << 16),
        })
    }

    /// Adds one step.
    pub fn write(&mut self, b: &Batch) -> Result<(), SimError> {
        self.first.get_or_insert(b.t);
        self.last = b.t;
        for d in &b.new_series {
            let i = d.id as usize;
            if self.defs.len() <= i {
                self.defs.resize(i + 1, None);
                self.written.resize(i + 1, false);
            }
            self.defs[i] = Some(d.clone());
        }
        let block = b.t.div_euclid(HOUR_MS);
        if self.block.is_some_and(|cur| cur != block) {
            self.flush_block()?;
        }
        self.block = Some(block);
        let row = ((b.t - block * HOUR_MS) / self.step_ms) as usize;
        if self.matrix.len() < self.rows {
            self.matrix.resize_with(self.rows, Vec::new);
        }
        let width = self.defs.len();
        self.used.resize(width, false);
        let cells = &mut self.matrix[row.min(self.rows - 1)];
        cells.clear();
        cells.resize(width, f64::from_bits(ABSENT));
        for &(id, v) in &b.samples {
            let i = id as usize;
            if let Some(c) = cells.get_mut(i) {
                *c = v;
                self.used[i] = true;
            }
            if !self.written.get(i).copied().unwrap_or(true) {
                self.written[i] = true;
                self.counts.series += 1;
                if let Some(d) = &self.defs[i] {
                    let line = serde_json::json!({"id": d.id, "labels": d.labels, "type": d.kind, "help": d.help});
                    writeln!(self.series, "{line}").map_err(|e| SimError::io(&self.dir, e))?;
                }
            }
        }
        self.counts.samples += b.samples.len() as u64;
        let dir = self.dir.clone();
        write_lines(&mut self.events, &b.events, &mut self.counts.events, &dir)?;
        write_lines(
            &mut self.objects,
            &b.objects,
            &mut self.counts.objects,
            &dir,
        )?;
        write_lines(&mut self.logs, &b.logs, &mut self.counts.logs, &dir)?;
        write_lines(&mut self.spans, &b.spans, &mut self.counts.spans, &dir)?;
        Ok(())
    }

    fn flush_block(&mut self) -> Result<(), SimError> {
        let Some(block) = self.block else {
            return Ok(());
        };
        let path = self.dir.join(format!("metrics/{block:06}.csv.zst"));
        let mut out = zst(&path)?;
        let io = |e| SimError::io(&path, e);
        self.line.clear();
        self.line.extend_from_slice(b"series_id");
        for r in 0..self.rows {
            self.line.push(b',');
            push_value(
                &mut self.line,
                (block * HOUR_MS + r as i64 * self.step_ms) as f64,
            );
        }
        self.line.push(b'\n');
        out.write_all(&self.line).map_err(io)?;
        // Transpose in tiles of series so that reads stay within a few cache lines per row.
        const TILE: usize = 256;
        let absent = f64::from_bits(ABSENT);
        let mut tile = vec![absent; TILE * self.rows];
        for start in (0..self.used.len()).step_by(TILE) {
            let end = (start + TILE).min(self.used.len());
            if !self.used[start..end].iter().any(|u| *u) {
                continue;
            }
            for (r, row) in self.matrix.iter().enumerate() {
                for i in start..end {
                    tile[(i - start) * self.rows + r] = row.get(i).copied().unwrap_or(absent);
                }
            }
            for i in start..end {
                if !self.used[i] {
                    continue;
                }
                self.line.clear();
                push_value(&mut self.line, i as f64);
                for v in &tile[(i - start) * self.rows..(i - start + 1) * self.rows] {
                    self.line.push(b',');
                    if v.to_bits() != ABSENT {
                        push_value(&mut self.line, *v);
                    }
                }
                self.line.push(b'\n');
                out.write_all(&self.line).map_err(io)?;
            }
        }
        self.used.iter_mut().for_each(|u| *u = false);
        for row in &mut self.matrix {
            row.clear();
        }
        out.finish().and_then(|mut w| w.flush()).map_err(io)?;
        self.counts.blocks += 1;
        Ok(())
    }

    /// Flushes everything and writes `labels.json` and `manifest.json`.
    pub fn finish(
        mut self,
        cfg: &SimConfig,
        scenario: Option<&str>,
        truth: &Truth,
    ) -> Result<Counts, SimError> {
        self.flush_block()?;
        for z in [
            self.series,
            self.events,
            self.objects,
            self.logs,
            self.spans,
        ] {
            z.finish()
                .and_then(|mut w| w.flush())
                .map_err(|e| SimError::io(&self.dir, e))?;
        }
        let labels = self.dir.join("labels.json");
        let json = serde_json::to_vec_pretty(truth).map_err(|e| SimError::Dataset {
            path: labels.display().to_string(),
            message: e.to_string(),
        })?;
        std::fs::write(&labels, json).map_err(|e| SimError::io(&labels, e))?;
        let manifest = serde_json::json!({
            "format": FORMAT,
            "version": VERSION,
            "config": cfg,
            "scenario": scenario,
            "start": self.first.unwrap_or(0),
            "end": self.last,
            "step_ms": self.step_ms,
            "counts": self.counts,
        });
        let path = self.dir.join("manifest.json");
        let text = serde_json::to_string_pretty(&manifest).map_err(|e| SimError::Dataset {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        std::fs::write(&path, text).map_err(|e| SimError::io(&path, e))?;
        Ok(self.counts)
    }
}

fn write_lines<T: Serialize>(
    z: &mut Zst,
    items: &[T],
    count: &mut u64,
    dir: &Path,
) -> Result<(), SimError> {
    for it in items {
        serde_json::to_writer(&mut *z, it).map_err(|e| SimError::Dataset {
            path: dir.display().to_string(),
            message: e.to_string(),
        })?;
        z.write_all(b"\n").map_err(|e| SimError::io(dir, e))?;
    }
    *count += items.len() as u64;
    Ok(())
}
