//! Reads datasets back: the manifest, the series, the metric blocks (by hour), and the JSON-lines
//! streams.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use kubepulse_model::{Labels, MetricType};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::csv::parse_value;
use super::writer::Counts;
use super::{FORMAT, VERSION};
use crate::SimError;
use crate::config::SimConfig;
use crate::truth::Truth;

/// `manifest.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct Manifest {
    /// Always `kubepulse-dataset`.
    pub format: String,
    /// Format version.
    pub version: u32,
    /// Simulator settings.
    pub config: SimConfig,
    /// Scenario file, if any.
    pub scenario: Option<String>,
    /// First step, epoch milliseconds.
    pub start: i64,
    /// Last step.
    pub end: i64,
    /// Step, milliseconds.
    pub step_ms: i64,
    /// What was written.
    pub counts: Counts,
}

/// One series of `series.jsonl`.
#[derive(Debug, Clone, Deserialize)]
pub struct SeriesEntry {
    /// Id used in metric blocks.
    pub id: u32,
    /// Labels.
    pub labels: Labels,
    /// Family type.
    #[serde(rename = "type")]
    pub kind: MetricType,
    /// Help text.
    #[serde(default)]
    pub help: String,
}

/// One hourly block of metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    /// Timestamps of the block's columns.
    pub timestamps: Vec<i64>,
    /// Series with samples in the block: id and one cell per timestamp.
    pub rows: Vec<(u32, Vec<Option<f64>>)>,
}

/// An open dataset.
#[derive(Debug)]
pub struct DatasetReader {
    dir: PathBuf,
    /// The manifest.
    pub manifest: Manifest,
}

fn bad(path: &Path, message: impl Into<String>) -> SimError {
    SimError::Dataset {
        path: path.display().to_string(),
        message: message.into(),
    }
}

fn open_zst(
    path: &Path,
) -> Result<BufReader<zstd::stream::read::Decoder<'static, BufReader<File>>>, SimError> {
    let f = File::open(path).map_err(|e| SimError::io(path, e))?;
    Ok(BufReader::new(
        zstd::stream::read::Decoder::new(f).map_err(|e| SimError::io(path, e))?,
    ))
}

impl DatasetReader {
    /// Opens the dataset in `dir`, checking its format and version.
    pub fn open(dir: &Path) -> Result<Self, SimError> {
        let path = dir.join("manifest.json");
        let text = std::fs::read_to_string(&path).map_err(|e| SimError::io(&path, e))?;
        let manifest: Manifest =
            serde_json::from_str(&text).map_err(|e| bad(&path, e.to_string()))?;
        if manifest.format != FORMAT {
            return Err(bad(
                &path,
                format!("format {:?} is not {FORMAT:?}", manifest.format),
            ));
        }
        if manifest.version != VERSION {
            return Err(bad(
                &path,
                format!(
                    "version {} is not supported (this build reads version {VERSION})",
                    manifest.version
                ),
            ));
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            manifest,
        })
    }

    /// Every series with at least one sample.
    pub fn series(&self) -> Result<Vec<SeriesEntry>, SimError> {
        self.jsonl("metrics/series.jsonl.zst")
    }

    /// Ground truth.
    pub fn truth(&self) -> Result<Truth, SimError> {
        let path = self.dir.join("labels.json");
        let text = std::fs::read_to_string(&path).map_err(|e| SimError::io(&path, e))?;
        serde_json::from_str(&text).map_err(|e| bad(&path, e.to_string()))
    }

    /// All records of a JSON-lines file (`events.jsonl.zst`, `logs.jsonl.zst`, …).
    pub fn jsonl<T: DeserializeOwned>(&self, name: &str) -> Result<Vec<T>, SimError> {
        let path = self.dir.join(name);
        let mut out = Vec::new();
        for (i, line) in open_zst(&path)?.lines().enumerate() {
            let line = line.map_err(|e| SimError::io(&path, e))?;
            out.push(
                serde_json::from_str(&line)
                    .map_err(|e| bad(&path, format!("line {}: {e}", i + 1)))?,
            );
        }
        Ok(out)
    }

    /// Paths of the metric blocks, in time order.
    pub fn block_paths(&self) -> Result<Vec<PathBuf>, SimError> {
        let dir = self.dir.join("metrics");
        let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map_err(|e| SimError::io(&dir, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.ends_with(".csv.zst"))
            })
            .collect();
        v.sort();
        Ok(v)
    }

    /// Reads one metric block.
    pub fn block(&self, path: &Path) -> Result<Block, SimError> {
        let mut lines = open_zst(path)?.lines();
        let header = lines
            .next()
            .ok_or_else(|| bad(path, "empty block"))?
            .map_err(|e| SimError::io(path, e))?;
        let mut cells = header.split(',');
        if cells.next() != Some("series_id") {
            return Err(bad(path, "header must start with series_id"));
        }
        let timestamps = cells
            .map(|c| {
                c.parse::<i64>()
                    .map_err(|_| bad(path, format!("bad timestamp {c:?}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut rows = Vec::new();
        for (n, line) in lines.enumerate() {
            let line = line.map_err(|e| SimError::io(path, e))?;
            let mut cells = line.split(',');
            let id = cells
                .next()
                .and_then(|c| c.parse::<u32>().ok())
                .ok_or_else(|| bad(path, format!("line {}: bad series id", n + 2)))?;
            let values = cells
                .map(|c| {
                    if c.is_empty() {
                        Ok(None)
                    } else {
                        parse_value(c)
                            .map(Some)
                            .ok_or_else(|| bad(path, format!("line {}: bad value {c:?}", n + 2)))
                    }
                })
                .collect::<Result<Vec<_>, _>>()?;
            if values.len() != timestamps.len() {
                return Err(bad(
                    path,
                    format!(
                        "line {}: {} cells for {} timestamps",
                        n + 2,
                        values.len(),
                        timestamps.len()
                    ),
                ));
            }
            rows.push((id, values));
        }
        Ok(Block { timestamps, rows })
    }
}
