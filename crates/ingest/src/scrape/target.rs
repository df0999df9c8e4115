//! One target's scrape loop: fetch with a timeout and a body limit, parse by Content-Type,
//! attach target labels (renaming clashes to `exported_*` unless `honor_labels`), apply metric
//! relabeling, store, mark series that disappeared stale, and record `up` and the other report
//! series.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use kubepulse_model::clock::Stopwatch;
use kubepulse_model::{Clock, MetricMeta, STALE_NAN};
use kubepulse_store::{Append, SeriesRef};
use tokio::sync::watch;
use tracing::debug;

use super::discovery::Target;
use super::relabel::{Relabel, apply_all};
use crate::IngestMetrics;
use crate::exposition::{ACCEPT, format_of, parse};

/// How one target is scraped.
#[derive(Debug, Clone)]
pub struct TargetSettings {
    /// Interval, ms.
    pub interval: i64,
    /// Timeout, ms.
    pub timeout: i64,
    /// Keep exposed labels that clash with target labels.
    pub honor_labels: bool,
    /// Use exposed timestamps.
    pub honor_timestamps: bool,
    /// Largest body, bytes (0: none).
    pub body_size_limit: usize,
    /// Most samples (0: none).
    pub sample_limit: usize,
    /// Metric relabeling.
    pub metric_relabel: Arc<Vec<Relabel>>,
}

impl TargetSettings {
    /// Settings of discovered targets scraped every `interval_ms`: a timeout of two thirds of
    /// the interval (at least 1 s), exposed timestamps honoured, bodies up to 64 MiB, no
    /// relabeling.
    pub fn discovered(interval_ms: i64, honor_labels: bool) -> Self {
        Self {
            interval: interval_ms,
            timeout: (interval_ms * 2 / 3).max(1000),
            honor_labels,
            honor_timestamps: true,
            body_size_limit: 64 << 20,
            sample_limit: 0,
            metric_relabel: Arc::new(Vec::new()),
        }
    }
}

/// Where a target's metrics are fetched from.
#[derive(Clone)]
pub enum Fetcher {
    /// Its URL, over HTTP.
    Http(reqwest::Client),
    /// Its URL as a path on the Kubernetes API server (the node proxy to a kubelet), with the
    /// client's credentials.
    Kube(kube::Client),
}

impl From<reqwest::Client> for Fetcher {
    fn from(c: reqwest::Client) -> Self {
        Self::Http(c)
    }
}

/// What a scrape produced, before storing.
struct Scraped {
    series: Vec<(BTreeMap<String, String>, i64, f64)>,
    scraped: usize,
    metadata: Vec<(String, MetricMeta)>,
}

/// The scrape loop of one target.
pub struct TargetLoop {
    /// The target.
    pub target: Target,
    settings: TargetSettings,
    store: Arc<dyn Append>,
    client: Fetcher,
    clock: Arc<dyn Clock>,
    metrics: IngestMetrics,
    previous: HashSet<SeriesRef>,
}

impl TargetLoop {
    /// A loop for `target`.
    pub fn new(
        target: Target,
        settings: TargetSettings,
        store: Arc<dyn Append>,
        client: impl Into<Fetcher>,
        clock: Arc<dyn Clock>,
        metrics: IngestMetrics,
    ) -> Self {
        Self {
            target,
            settings,
            store,
            client: client.into(),
            clock,
            metrics,
            previous: HashSet::new(),
        }
    }

    /// Scrapes on every interval, offset by a hash of the URL so that targets spread out, until
    /// `stop` turns true; then marks every series of the target stale.
    pub async fn run(mut self, mut stop: watch::Receiver<bool>) {
        let interval = self.settings.interval.max(1);
        let offset = (hash(&self.target.url) % interval as u64) as i64;
        loop {
            let now = self.clock.now_ms();
            let next = now - now.rem_euclid(interval) + offset;
            let next = if next <= now { next + interval } else { next };
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis((next - now) as u64)) => {}
                _ = stop.changed() => break,
            }
            if *stop.borrow() {
                break;
            }
            self.scrape_once().await;
        }
        let t = self.clock.now_ms();
        let stale: Vec<(SeriesRef, i64, f64)> =
            self.previous.drain().map(|r| (r, t, STALE_NAN)).collect();
        let _ = self.store.append_refs(&stale);
    }

    /// Scrapes once and stores the result. Returns whether the target was up.
    pub async fn scrape_once(&mut self) -> bool {
        let start = self.clock.now_ms();
        let watch = Stopwatch::start();
        let result = self
            .fetch()
            .await
            .and_then(|(ct, body)| self.process(&ct, &body, start));
        let duration = watch.elapsed_secs();
        let (up, scraped, kept) = match &result {
            Ok(s) => (1.0, s.scraped as f64, s.series.len() as f64),
            Err(e) => {
                debug!(target = %self.target.url, error = %e, "scrape failed");
                (0.0, 0.0, 0.0)
            }
        };
        let (series, metadata) = result.map(|s| (s.series, s.metadata)).unwrap_or_default();
        let store = self.store.clone();
        let previous = std::mem::take(&mut self.previous);
        let labels = self.target.labels.clone();
        let metrics = self.metrics.clone();
        let task = tokio::task::spawn_blocking(move || {
            store.append_metadata(&metadata);
            store_scrape(
                &*store,
                &metrics,
                &labels,
                series,
                previous,
                start,
                [up, duration, scraped, kept],
            )
        });
        match task.await {
            Ok(current) => self.previous = current,
            Err(e) => debug!(error = %e, "scrape storage task failed"),
        }
        up == 1.0
    }

    async fn fetch(&self) -> Result<(String, Vec<u8>), String> {
        let timeout = Duration::from_millis(self.settings.timeout.max(1) as u64);
        let client = match &self.client {
            Fetcher::Http(c) => c,
            Fetcher::Kube(k) => return self.fetch_kube(k, timeout).await,
        };
        let req = client
            .get(&self.target.url)
            .header(reqwest::header::ACCEPT, ACCEPT)
            .header(
                "X-Prometheus-Scrape-Timeout-Seconds",
                format!("{}", timeout.as_secs_f64()),
            )
            .timeout(timeout);
        let mut resp = req
            .send()
            .await
            .map_err(|e| format!("request failed: {e}"))?;
        if resp.status() != reqwest::StatusCode::OK {
            return Err(format!("server returned HTTP status {}", resp.status()));
        }
        let ct = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let limit = self.settings.body_size_limit;
        let mut body = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| format!("reading body: {e}"))?
        {
            body.extend_from_slice(&chunk);
            if limit > 0 && body.len() > limit {
                return Err(format!("body size exceeds the limit of {limit} bytes"));
            }
        }
        Ok((ct, body))
    }

    /// Fetches the target's path from the API server; the text is Prometheus' text format.
    async fn fetch_kube(
        &self,
        k: &kube::Client,
        timeout: Duration,
    ) -> Result<(String, Vec<u8>), String> {
        let req = http::Request::get(self.target.url.as_str())
            .header(http::header::ACCEPT, "text/plain;version=0.0.4")
            .body(Vec::new())
            .map_err(|e| format!("request: {e}"))?;
        let text = tokio::time::timeout(timeout, k.request_text(req))
            .await
            .map_err(|_| format!("timed out after {} s", timeout.as_secs_f64()))?
            .map_err(|e| format!("request failed: {e}"))?;
        let limit = self.settings.body_size_limit;
        if limit > 0 && text.len() > limit {
            return Err(format!("body size exceeds the limit of {limit} bytes"));
        }
        Ok(("text/plain; version=0.0.4".into(), text.into_bytes()))
    }

    fn process(&self, content_type: &str, body: &[u8], start: i64) -> Result<Scraped, String> {
        let text = std::str::from_utf8(body).map_err(|e| format!("body is not UTF-8: {e}"))?;
        let exposition =
            parse(text, format_of(Some(content_type))).map_err(|e| format!("parsing: {e}"))?;
        let s = &self.settings;
        if s.sample_limit > 0 && exposition.samples.len() > s.sample_limit {
            return Err(format!(
                "{} samples exceed sample_limit {}",
                exposition.samples.len(),
                s.sample_limit
            ));
        }
        let mut series = Vec::with_capacity(exposition.samples.len());
        let mut seen = HashSet::new();
        for sample in &exposition.samples {
            let mut l: BTreeMap<String, String> = BTreeMap::new();
            l.insert("__name__".into(), sample.name.to_string());
            for (n, v) in &sample.labels {
                l.insert(n.to_string(), v.to_string());
            }
            for (n, v) in &self.target.labels {
                match l.get(n) {
                    Some(existing) if s.honor_labels && !existing.is_empty() => {}
                    Some(existing) if !existing.is_empty() => {
                        let exported = format!("exported_{n}");
                        let old = existing.clone();
                        l.insert(exported, old);
                        l.insert(n.clone(), v.clone());
                    }
                    _ => {
                        l.insert(n.clone(), v.clone());
                    }
                }
            }
            if !apply_all(&s.metric_relabel, &mut l) {
                continue;
            }
            l.retain(|_, v| !v.is_empty());
            let t = if s.honor_timestamps {
                sample.timestamp.unwrap_or(start)
            } else {
                start
            };
            // The first of two identical series wins, as in Prometheus 2.x.
            if seen.insert(l.clone()) {
                series.push((l, t, sample.value));
            }
        }
        let metadata = exposition
            .families
            .iter()
            .map(|f| {
                (
                    f.name.to_string(),
                    MetricMeta {
                        kind: f.kind,
                        help: f.help.as_deref().unwrap_or("").to_string(),
                        unit: f.unit.unwrap_or("").to_string(),
                    },
                )
            })
            .collect();
        Ok(Scraped {
            series,
            scraped: exposition.samples.len(),
            metadata,
        })
    }
}

/// Stores a scrape: the series, stale markers for series gone since `previous`, and the report
/// series. Returns the refs of this scrape.
fn store_scrape(
    store: &dyn Append,
    metrics: &IngestMetrics,
    target: &BTreeMap<String, String>,
    series: Vec<(BTreeMap<String, String>, i64, f64)>,
    previous: HashSet<SeriesRef>,
    start: i64,
    report: [f64; 4],
) -> HashSet<SeriesRef> {
    let mut samples = Vec::with_capacity(series.len() + 8);
    let mut current = HashSet::with_capacity(series.len());
    let mut refused = 0u64;
    for (labels, t, v) in &series {
        let l: Vec<(&str, &str)> = labels
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        match store.resolve(&l) {
            Ok(r) => {
                current.insert(r);
                samples.push((r, *t, *v));
            }
            Err(_) => refused += 1,
        }
    }
    metrics.rejected_samples("scrape", "invalid_series", refused);
    let new = current.difference(&previous).count() as f64;
    samples.extend(
        previous
            .difference(&current)
            .map(|&r| (r, start, STALE_NAN)),
    );
    let names = [
        "up",
        "scrape_duration_seconds",
        "scrape_samples_scraped",
        "scrape_samples_post_metric_relabeling",
        "scrape_series_added",
    ];
    let values = [report[0], report[1], report[2], report[3], new];
    for (name, value) in names.iter().zip(values) {
        let mut l: Vec<(&str, &str)> = target
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        l.push(("__name__", name));
        if let Ok(r) = store.resolve(&l) {
            samples.push((r, start, value));
        }
    }
    match store.append_refs(&samples) {
        Ok(r) => metrics.samples("scrape", r.appended),
        Err(e) => debug!(error = %e, "storing scrape failed"),
    }
    current
}

fn hash(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}
