//! Feedback on alerts (`important` or `noise`), appended one JSON line per verdict to a file in
//! the data directory, with the alert's labels and context, for the triage model to learn from.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

use kubepulse_api::alertmanager::Feedback;

/// The feedback file.
pub struct FeedbackLog {
    path: PathBuf,
    lock: Mutex<()>,
}

impl FeedbackLog {
    /// The log at `path`.
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            lock: Mutex::new(()),
        }
    }

    /// Appends and syncs one record.
    pub fn append(&self, f: &Feedback) -> Result<(), String> {
        let _g = self.lock.lock().map_err(|_| "feedback log poisoned")?;
        let mut line = serde_json::to_string(f).map_err(|e| e.to_string())?;
        line.push('\n');
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| format!("{}: {e}", self.path.display()))?;
        file.write_all(line.as_bytes())
            .and_then(|()| file.sync_data())
            .map_err(|e| format!("{}: {e}", self.path.display()))
    }

    /// Every record; a damaged line (a torn write) is skipped.
    pub fn all(&self) -> Vec<Feedback> {
        let Ok(_g) = self.lock.lock() else {
            return Vec::new();
        };
        std::fs::read_to_string(&self.path)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}
