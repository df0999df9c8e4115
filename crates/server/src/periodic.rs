//! The loop the live parts share: a job run on a blocking thread every interval until the
//! server stops, its state (if it keeps any) saved every few minutes and once more at the end.
//! A failed or panicking run is logged and the loop goes on.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tracing::warn;

/// A job's work: run and, for jobs that keep state between runs of the server, save.
pub trait Job: Send + Sync + 'static {
    /// What it is, for logs (`anomaly scoring`, …).
    fn name(&self) -> &'static str;
    /// One run.
    fn run(&self) -> anyhow::Result<()>;
    /// Saves its state; nothing by default.
    fn save(&self) -> anyhow::Result<()> {
        Ok(())
    }
}

/// How often state is saved while running.
const SAVE_EVERY: Duration = Duration::from_secs(300);

async fn blocking(job: &Arc<dyn Job>, save: bool) {
    let j = job.clone();
    let what = if save { "saving" } else { "run" };
    let result = tokio::task::spawn_blocking(move || if save { j.save() } else { j.run() }).await;
    match result {
        Ok(Err(e)) => warn!(job = job.name(), error = %e, "{what} failed"),
        Err(e) => warn!(job = job.name(), error = %e, "{what} panicked"),
        Ok(Ok(())) => {}
    }
}

/// Runs `job` every `interval` until `stop` turns true; saves every few minutes and at the end.
pub async fn every(job: Arc<dyn Job>, interval: Duration, mut stop: watch::Receiver<bool>) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut saved = tokio::time::Instant::now();
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.changed() => break,
        }
        if *stop.borrow() {
            break;
        }
        blocking(&job, false).await;
        if saved.elapsed() >= SAVE_EVERY {
            saved = tokio::time::Instant::now();
            blocking(&job, true).await;
        }
    }
    blocking(&job, true).await;
}
