//! A set of running target loops kept equal to the targets wanted now: loops start for targets
//! that appear and stop (marking their series stale) for targets that go away. Discovery from a
//! watched cluster re-computes the wanted set and calls [`Loops::sync`].

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use tokio::sync::watch;
use tracing::info;

use super::discovery::Target;
use super::target::TargetLoop;

/// The running loops.
#[derive(Default)]
pub struct Loops {
    running: HashMap<Target, watch::Sender<bool>>,
}

impl Loops {
    /// Starts loops (made by `start`) for new targets and stops those no longer wanted.
    pub fn sync(&mut self, wanted: BTreeSet<Target>, start: impl Fn(Target) -> TargetLoop) {
        self.running.retain(|t, tx| {
            let keep = wanted.contains(t);
            if !keep {
                info!(target = %t.url, "target gone: stopping its scrapes");
                let _ = tx.send(true);
            }
            keep
        });
        for t in wanted {
            if self.running.contains_key(&t) {
                continue;
            }
            info!(target = %t.url, job = t.labels.get("job").map_or("", String::as_str), "scraping discovered target");
            let (tx, rx) = watch::channel(false);
            tokio::spawn(start(t.clone()).run(rx));
            self.running.insert(t, tx);
        }
    }

    /// Stops every loop.
    pub fn stop_all(&mut self) {
        for (_, tx) in self.running.drain() {
            let _ = tx.send(true);
        }
    }

    /// Targets being scraped.
    pub fn len(&self) -> usize {
        self.running.len()
    }

    /// True when nothing is scraped.
    pub fn is_empty(&self) -> bool {
        self.running.is_empty()
    }
}

/// Calls `f` every `every` until `stop` turns true.
pub async fn every(every: Duration, stop: &mut watch::Receiver<bool>, mut f: impl FnMut()) {
    loop {
        f();
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            break;
        }
    }
}

/// Keeps loops (made by `make`) running for the targets `wanted` returns, looked at every
/// `resync`, until `stop` turns true; then stops them all.
pub async fn keep_scraping(
    resync: Duration,
    mut stop: watch::Receiver<bool>,
    wanted: impl Fn() -> BTreeSet<Target>,
    make: impl Fn(Target) -> TargetLoop,
) {
    let mut loops = Loops::default();
    every(resync, &mut stop, || loops.sync(wanted(), &make)).await;
    loops.stop_all();
}
