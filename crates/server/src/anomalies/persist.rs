//! The detectors' state on disk ([`crate::state_file`]). State saved by another layout or
//! under other detector settings is not restored (the detectors would not mean the same thing).

use std::collections::HashMap;
use std::path::Path;

use kubepulse_intel::anomaly::Settings;
use serde::{Deserialize, Serialize};

use super::{Key, Tracked};

/// Bumped when the layout changes.
const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Saved<S> {
    version: u32,
    settings: Settings,
    series: S,
}

/// Writes `series` to `path`.
pub fn save(path: &Path, settings: &Settings, series: &[(Key, Tracked)]) -> anyhow::Result<()> {
    crate::state_file::save(
        path,
        &Saved {
            version: VERSION,
            settings: *settings,
            series,
        },
    )
}

/// Reads the state at `path`: none when there is no file, or when it was saved by another
/// layout or under other settings.
pub fn load(path: &Path, settings: &Settings) -> anyhow::Result<Option<HashMap<Key, Tracked>>> {
    let Some(saved) = crate::state_file::load::<Saved<Vec<(Key, Tracked)>>>(path)? else {
        return Ok(None);
    };
    if saved.version != VERSION || saved.settings != *settings {
        return Ok(None);
    }
    Ok(Some(saved.series.into_iter().collect()))
}
