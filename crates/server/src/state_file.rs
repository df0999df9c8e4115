//! State kept in the data directory between runs (the anomaly detectors, the log template
//! parser): zstd-compressed JSON, written to a temporary file, synced and renamed into place,
//! so that a crash leaves either the previous state or the new one.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Writes `value` to `path`.
pub fn save<T: Serialize + ?Sized>(path: &Path, value: &T) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    let file = std::fs::File::create(&tmp).with_context(|| format!("{}", tmp.display()))?;
    let mut enc = zstd::Encoder::new(std::io::BufWriter::new(file), 3)?;
    serde_json::to_writer(&mut enc, value)?;
    let mut w = enc.finish()?;
    w.flush()?;
    w.into_inner()
        .map_err(|e| anyhow::anyhow!("{}: {}", tmp.display(), e.error()))?
        .sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("{}", path.display()))?;
    Ok(())
}

/// Reads what [`save`] wrote; `None` when there is no file.
pub fn load<T: DeserializeOwned>(path: &Path) -> anyhow::Result<Option<T>> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("{}", path.display())),
    };
    let dec = zstd::Decoder::new(std::io::BufReader::new(file))?;
    let v = serde_json::from_reader(std::io::BufReader::new(dec))
        .with_context(|| format!("{}", path.display()))?;
    Ok(Some(v))
}
