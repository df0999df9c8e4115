//! `kubepulse evaluate nab DIR`: the streaming anomaly detector run over the Numenta Anomaly
//! Benchmark's files with one configuration for all, scored with NAB v1.1 for its three cost
//! profiles; a table per file, and the per-point scores in NAB's results layout.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use kubepulse_intel::anomaly::{Detector, Settings};
use kubepulse_intel::nab::{File, PROFILES, file_score, score_corpus};
use kubepulse_model::parse_rfc3339;

/// NAB's timestamps (`2014-04-01 00:00:00`, optionally with fractions) as epoch ms.
fn parse_time(s: &str) -> Option<i64> {
    let t = s.trim().replacen(' ', "T", 1);
    parse_rfc3339(&format!("{t}Z"))
}

/// One data file, read.
struct Series {
    /// `category/name.csv`.
    key: String,
    times: Vec<i64>,
    raw_times: Vec<String>,
    values: Vec<f64>,
}

fn read_series(dir: &Path, key: &str) -> anyhow::Result<Series> {
    let path = dir.join("data").join(key);
    let text = std::fs::read_to_string(&path).with_context(|| format!("{}", path.display()))?;
    let mut s = Series {
        key: key.to_string(),
        times: Vec::new(),
        raw_times: Vec::new(),
        values: Vec::new(),
    };
    for (i, line) in text.lines().enumerate().skip(1) {
        let (t, v) = line
            .split_once(',')
            .with_context(|| format!("{}:{}: expected timestamp,value", path.display(), i + 1))?;
        let ms = parse_time(t)
            .with_context(|| format!("{}:{}: bad timestamp {t:?}", path.display(), i + 1))?;
        let v: f64 = v
            .trim()
            .parse()
            .with_context(|| format!("{}:{}: bad value {v:?}", path.display(), i + 1))?;
        s.times.push(ms);
        s.raw_times.push(t.to_string());
        s.values.push(v);
    }
    Ok(s)
}

/// Runs the evaluation; returns the report.
pub fn run(dir: &Path, out: Option<&Path>) -> anyhow::Result<String> {
    let labels = dir.join("labels/combined_windows.json");
    let windows: BTreeMap<String, Vec<[String; 2]>> = serde_json::from_str(
        &std::fs::read_to_string(&labels).with_context(|| format!("{}", labels.display()))?,
    )
    .with_context(|| format!("{}", labels.display()))?;
    let settings = Settings::default();
    let mut files = Vec::new();
    let mut series = Vec::new();
    for (key, ws) in &windows {
        let s = read_series(dir, key)?;
        let mut d = Detector::new(settings);
        let scores: Vec<f64> = s
            .times
            .iter()
            .zip(&s.values)
            .map(|(t, v)| d.update(*t, *v).score)
            .collect();
        let mut rows = Vec::new();
        for [a, b] in ws {
            let (Some(a), Some(b)) = (parse_time(a), parse_time(b)) else {
                anyhow::bail!("{}: {key}: bad window [{a}, {b}]", labels.display());
            };
            let first = s.times.partition_point(|t| *t < a);
            let last = s.times.partition_point(|t| *t <= b).saturating_sub(1);
            if first <= last && last < s.times.len() {
                rows.push((first, last));
            }
        }
        files.push(File {
            name: key.clone(),
            scores,
            windows: rows,
        });
        series.push(s);
    }
    let mut report = format!(
        "# NAB v1.1 scores of the KubePulse detector\n\n{} files, {} windows, one configuration for every file.\n\n| profile | threshold | raw score | NAB score |\n|---|---|---|---|\n",
        files.len(),
        files.iter().map(|f| f.windows.len()).sum::<usize>()
    );
    let mut thresholds = Vec::new();
    for p in &PROFILES {
        let s = score_corpus(&files, p);
        let _ = writeln!(
            report,
            "| {} | {:.4} | {:.2} | **{:.2}** |",
            p.name, s.threshold, s.raw, s.normalised
        );
        thresholds.push(s.threshold);
    }
    let _ = writeln!(
        report,
        "\nPer file (standard profile, at the corpus threshold):\n\n| file | rows | windows | score |\n|---|---|---|---|"
    );
    for f in &files {
        let _ = writeln!(
            report,
            "| {} | {} | {} | {:.3} |",
            f.name,
            f.scores.len(),
            f.windows.len(),
            file_score(f, thresholds[0], &PROFILES[0])
        );
    }
    if let Some(out) = out {
        write_results(out, &series, &files)?;
    }
    Ok(report)
}

/// Per-point scores as NAB's results: `<out>/kubepulse/<category>/kubepulse_<name>.csv` with
/// `timestamp,value,anomaly_score,label`.
fn write_results(out: &Path, series: &[Series], files: &[File]) -> anyhow::Result<()> {
    for (s, f) in series.iter().zip(files) {
        let (category, name) = s.key.split_once('/').unwrap_or(("", s.key.as_str()));
        let dir: PathBuf = out.join("kubepulse").join(category);
        std::fs::create_dir_all(&dir).with_context(|| format!("{}", dir.display()))?;
        let mut text = String::from("timestamp,value,anomaly_score,label\n");
        for (i, ((t, v), score)) in s.raw_times.iter().zip(&s.values).zip(&f.scores).enumerate() {
            let label = u8::from(f.windows.iter().any(|&(a, b)| i >= a && i <= b));
            let _ = writeln!(text, "{t},{v},{score},{label}");
        }
        let path = dir.join(format!("kubepulse_{name}"));
        std::fs::write(&path, text).with_context(|| format!("{}", path.display()))?;
    }
    Ok(())
}
