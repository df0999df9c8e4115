//! Query latency: typical dashboard queries against KubePulse and Prometheus holding the same
//! hours of data, results checked equal, medians compared.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use kubepulse_ingest::remote_write::encode;
use kubepulse_model::clock::Stopwatch;
use kubepulse_sim::rng::SimRng;
use serde_json::Value;

use crate::{load, servers};

const STEP: i64 = 15_000;
/// Samples per series in one request: a block of ten minutes.
const BLOCK: usize = 40;
const CODES: [(&str, f64); 4] = [("200", 40.0), ("404", 2.0), ("500", 0.4), ("503", 0.1)];
const LE: [&str; 12] = [
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf",
];

/// One benchmarked query: instant at the end of the data, or a range ending there.
pub struct Case {
    /// The expression.
    pub expr: &'static str,
    /// Range length in milliseconds; `None` for an instant query.
    pub range: Option<i64>,
}

/// The dashboard queries of `docs/BENCHMARKS.md`.
pub fn cases() -> Vec<Case> {
    let instant = |expr| Case { expr, range: None };
    let range = |expr, hours: i64| Case {
        expr,
        range: Some(hours * 3_600_000),
    };
    vec![
        instant("sum(rate(http_requests_total[5m]))"),
        instant("sum by (namespace) (rate(http_requests_total[5m]))"),
        instant(
            "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))",
        ),
        instant("topk(10, container_memory_working_set_bytes)"),
        instant("sum by (code) (increase(http_requests_total[1h]))"),
        range("sum by (namespace) (rate(http_requests_total[5m]))", 6),
        range("sum(container_memory_working_set_bytes) by (node)", 6),
        range(
            "histogram_quantile(0.9, sum by (le, namespace) (rate(http_request_duration_seconds_bucket[5m])))",
            1,
        ),
        range("topk(5, container_memory_working_set_bytes)", 1),
    ]
}

/// A series: labels and how its next value follows from the last.
struct Gen {
    labels: Vec<(String, String)>,
    kind: Kind,
    value: f64,
}

enum Kind {
    /// A counter growing by about this much per second.
    Counter(f64),
    /// A gauge wandering around its start.
    Gauge,
}

/// `pods` pods, each with four `http_requests_total` codes and a working-set gauge; the first
/// fifth also with a latency histogram of 12 buckets.
fn series(pods: usize) -> Vec<Gen> {
    let mut rng = SimRng::new(11);
    let mut out = Vec::new();
    for p in 0..pods {
        let ns = format!("team-{:02}", p % 24);
        let pod = format!("api-{:05}-{}", p, rng.k8s_suffix(5));
        let node = format!("node-{:03}", p % 60);
        let base = |name: &str| {
            vec![
                ("__name__".to_string(), name.to_string()),
                ("namespace".to_string(), ns.clone()),
                ("pod".to_string(), pod.clone()),
            ]
        };
        let load = rng.range(0.2, 3.0);
        for (code, share) in CODES {
            let mut l = base("http_requests_total");
            l.push(("code".into(), code.into()));
            l.push(("job".into(), "api".into()));
            out.push(Gen {
                labels: l,
                kind: Kind::Counter(share * load),
                // Counters of processes that have run a while: far from zero, so that the
                // extrapolation of rate() is the same in Prometheus 2.42 and 2.51+ (which
                // changed how it stops at zero).
                value: rng.range(1e5, 1e7).round(),
            });
        }
        let mut l = base("container_memory_working_set_bytes");
        l.push(("container".into(), "app".into()));
        l.push(("node".into(), node));
        out.push(Gen {
            labels: l,
            kind: Kind::Gauge,
            value: rng.range(5e7, 2e9).round(),
        });
        if p % 5 == 0 {
            let seen = rng.range(1e4, 1e6);
            let mut cum = 0.0;
            for (i, le) in LE.iter().enumerate() {
                cum += [
                    2.0, 5.0, 9.0, 14.0, 20.0, 22.0, 14.0, 8.0, 4.0, 1.5, 0.4, 0.1,
                ][i];
                let mut l = base("http_request_duration_seconds_bucket");
                l.push(("le".into(), le.to_string()));
                out.push(Gen {
                    labels: l,
                    kind: Kind::Counter(cum / 100.0 * 40.0 * load),
                    value: (cum / 100.0 * seen).round(),
                });
            }
        }
    }
    out
}

/// The next block of samples of every series, `batch` series per request body.
fn block(gens: &mut [Gen], rng: &mut SimRng, t0: i64, batch: usize) -> Vec<Vec<u8>> {
    let mut samples: Vec<Vec<(i64, f64)>> = Vec::with_capacity(gens.len());
    for g in gens.iter_mut() {
        let mut v = Vec::with_capacity(BLOCK);
        for k in 0..BLOCK {
            g.value = match g.kind {
                Kind::Counter(rate) => g.value + (rate * 15.0 * rng.range(0.5, 1.5)).round(),
                Kind::Gauge => (g.value * (1.0 + 0.01 * rng.normal())).round().max(1e6),
            };
            v.push((t0 + k as i64 * STEP, g.value));
        }
        samples.push(v);
    }
    let all: Vec<encode::Series<&str>> = gens
        .iter()
        .zip(samples)
        .map(|(g, s)| {
            (
                g.labels
                    .iter()
                    .map(|(a, b)| (a.as_str(), b.as_str()))
                    .collect(),
                s,
            )
        })
        .collect();
    all.chunks(batch).map(encode::body).collect()
}

/// Runs the benchmark: `pods` pods over `hours` hours, each query `reps` times per system.
pub async fn run(
    bin: &Path,
    dir: &Path,
    client: &reqwest::Client,
    pods: usize,
    hours: i64,
    reps: usize,
) -> anyhow::Result<()> {
    let mut gens = series(pods);
    let end = crate::now_ms() / 60_000 * 60_000;
    let blocks = (hours * 3_600_000 / STEP) as usize / BLOCK;
    let start = end - (blocks * BLOCK - 1) as i64 * STEP;
    let kp_dir = dir.join("query-kubepulse");
    let prom_dir = dir.join("query-prometheus");
    for d in [&kp_dir, &prom_dir] {
        let _ = std::fs::remove_dir_all(d);
        std::fs::create_dir_all(d)?;
    }
    // Maintenance every minute, so that after the load the data is on disk; the compaction
    // window is the default.
    let kp = servers::kubepulse(bin, &kp_dir, "  flush_interval: 1m\n")?;
    let prom = servers::prometheus(&prom_dir)?;
    for s in [&kp, &prom] {
        servers::wait_ready(
            client,
            &s.ready_url,
            Stopwatch::start(),
            Duration::from_secs(60),
        )
        .await?;
    }
    eprintln!(
        "loading {} series × {} samples into both",
        gens.len(),
        blocks * BLOCK
    );
    let mut rng = SimRng::new(5);
    let batch = 500;
    for b in 0..blocks {
        let bodies = Arc::new(block(
            &mut gens,
            &mut rng,
            start + (b * BLOCK) as i64 * STEP,
            batch,
        ));
        let n = bodies.len();
        let (a, p) = tokio::join!(
            load::send(client, &kp.write_url, bodies.clone(), n, 2),
            load::send(client, &prom.write_url, bodies, n, 2)
        );
        a?;
        p?;
    }
    // After two flushes KubePulse holds the last hour (its memory window) in memory and the
    // rest on disk; Prometheus compacts its head every minute.
    eprintln!("letting both settle for 150 s (KubePulse flushes twice, Prometheus compacts)");
    tokio::time::sleep(Duration::from_secs(150)).await;

    println!(
        "| query | range | KubePulse median | Prometheus median | KubePulse p90 | Prometheus p90 | KubePulse / Prometheus |"
    );
    println!("|---|---|---|---|---|---|---|");
    let mut ratios = Vec::new();
    for c in cases() {
        let secs = |ms: i64| format!("{}", ms as f64 / 1000.0);
        let (path, params) = match c.range {
            None => (
                "query",
                vec![("query", c.expr.to_string()), ("time", secs(end))],
            ),
            Some(r) => (
                "query_range",
                vec![
                    ("query", c.expr.to_string()),
                    ("start", secs(end - r)),
                    ("end", secs(end)),
                    ("step", "15".into()),
                ],
            ),
        };
        let urls = [kp.port, prom.port].map(|p| format!("http://127.0.0.1:{p}/api/v1/{path}"));
        let first = [
            post(client, &urls[0], &params).await?,
            post(client, &urls[1], &params).await?,
        ];
        if let Err(e) = same(&first[0].1, &first[1].1) {
            anyhow::bail!("{}: results differ: {e}", c.expr);
        }
        let mut times = [Vec::new(), Vec::new()];
        for _ in 0..reps {
            for (i, url) in urls.iter().enumerate() {
                times[i].push(post(client, url, &params).await?.0);
            }
        }
        let [kp_t, prom_t] = times.map(|mut t| {
            t.sort_by(f64::total_cmp);
            (t[t.len() / 2], t[(t.len() * 9 / 10).min(t.len() - 1)])
        });
        ratios.push(kp_t.0 / prom_t.0);
        let range = c.range.map_or("instant".to_string(), |r| {
            format!("{} h at 15 s", r / 3_600_000)
        });
        println!(
            "| `{}` | {range} | {} | {} | {} | {} | {:.2} |",
            c.expr,
            ms(kp_t.0),
            ms(prom_t.0),
            ms(kp_t.1),
            ms(prom_t.1),
            kp_t.0 / prom_t.0
        );
    }
    ratios.sort_by(f64::total_cmp);
    println!(
        "\n{} queries; KubePulse's median latency over Prometheus': median ratio {:.2}, worst {:.2}",
        ratios.len(),
        ratios[ratios.len() / 2],
        ratios.last().copied().unwrap_or(f64::NAN)
    );
    drop(kp);
    drop(prom);
    Ok(())
}

fn ms(secs: f64) -> String {
    format!("{:.1} ms", secs * 1000.0)
}

/// Posts a form; returns the seconds it took and the answer.
pub async fn post(
    client: &reqwest::Client,
    url: &str,
    params: &[(&str, String)],
) -> anyhow::Result<(f64, Value)> {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())))
        .finish();
    let clock = Stopwatch::start();
    let r = client
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await?;
    let status = r.status();
    let body = r.bytes().await?;
    let secs = clock.elapsed_secs();
    if !status.is_success() {
        anyhow::bail!("{url}: {status}: {}", String::from_utf8_lossy(&body));
    }
    Ok((secs, serde_json::from_slice(&body)?))
}

/// The result as series labels → values, for comparison.
fn points(v: &Value) -> BTreeMap<String, Vec<f64>> {
    let mut out = BTreeMap::new();
    for s in v["data"]["result"].as_array().into_iter().flatten() {
        let key = s["metric"].to_string();
        let num = |p: &Value| p[1].as_str().and_then(|x| x.parse::<f64>().ok());
        let vals: Vec<f64> = match s.get("values").and_then(Value::as_array) {
            Some(vs) => vs.iter().filter_map(num).collect(),
            None => num(&s["value"]).into_iter().collect(),
        };
        out.insert(key, vals);
    }
    out
}

fn same(a: &Value, b: &Value) -> Result<(), String> {
    let (a, b) = (points(a), points(b));
    if a.keys().ne(b.keys()) {
        return Err(format!("{} series and {} series", a.len(), b.len()));
    }
    for ((k, x), y) in a.iter().zip(b.values()) {
        if x.len() != y.len() {
            return Err(format!("{k}: {} points and {} points", x.len(), y.len()));
        }
        let differ = x
            .iter()
            .zip(y)
            .position(|(p, q)| !kubepulse_query::promqltest::almost_equal(*p, *q));
        if let Some(i) = differ {
            return Err(format!("{k}: point {i} is {} and {}", x[i], y[i]));
        }
    }
    Ok(())
}
