//! The detectors' state on disk: zstd-compressed JSON, written to a temporary file and renamed
//! into place, so a crash leaves either the previous state or the new one. State saved under
//! other detector settings is not restored (the detectors would not mean the same thing).

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use anyhow::Context;
use kubepulse_intel::anomaly::Settings;
use serde::{Deserialize, Serialize};

use super::{Key, Tracked};

/// Bumped when the layout changes.
const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Saved {
    version: u32,
    settings: Settings,
    series: Vec<(Key, Tracked)>,
}

/// Writes `series` to `path`.
pub fn save(path: &Path, settings: &Settings, series: &[(Key, Tracked)]) -> anyhow::Result<()> {
    #[derive(Serialize)]
    struct SavedRef<'a> {
        version: u32,
        settings: &'a Settings,
        series: &'a [(Key, Tracked)],
    }
    let tmp = path.with_extension("tmp");
    let file = std::fs::File::create(&tmp).with_context(|| format!("{}", tmp.display()))?;
    let mut enc = zstd::Encoder::new(std::io::BufWriter::new(file), 3)?;
    serde_json::to_writer(
        &mut enc,
        &SavedRef {
            version: VERSION,
            settings,
            series,
        },
    )?;
    let mut w = enc.finish()?;
    w.flush()?;
    w.into_inner()
        .map_err(|e| anyhow::anyhow!("{}: {}", tmp.display(), e.error()))?
        .sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("{}", path.display()))?;
    Ok(())
}

/// Reads the state at `path`: none when there is no file, or when it was saved by another
/// layout or under other settings.
pub fn load(path: &Path, settings: &Settings) -> anyhow::Result<Option<HashMap<Key, Tracked>>> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("{}", path.display())),
    };
    let dec = zstd::Decoder::new(std::io::BufReader::new(file))?;
    let saved: Saved = serde_json::from_reader(std::io::BufReader::new(dec))
        .with_context(|| format!("{}", path.display()))?;
    if saved.version != VERSION || saved.settings != *settings {
        return Ok(None);
    }
    Ok(Some(saved.series.into_iter().collect()))
}
