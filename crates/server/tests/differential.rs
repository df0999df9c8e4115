//! KubePulse's PromQL against the real Prometheus 2.42: the same samples remote-written into
//! both, a few hundred generated queries (selectors, rates, aggregations, joins, subqueries,
//! functions) evaluated instant and range in both, results equal within float tolerance.

#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use kubepulse_ingest::remote_write::encode::{Series, body};
use kubepulse_model::STALE_NAN;
use kubepulse_query::promqltest::almost_equal;
use kubepulse_testkit::{Peer, free_port};
use serde_json::Value;

const STEP: i64 = 15_000;
const POINTS: i64 = 240;

type Labels = Vec<(&'static str, String)>;
type Gen = Box<dyn Fn(i64) -> Option<f64>>;
type Points = BTreeMap<String, Vec<(f64, f64)>>;

/// The series and how each evolves: value at point `i`, or `None` for no sample.
fn series() -> Vec<(Labels, Gen)> {
    let mut out: Vec<(Labels, Gen)> = Vec::new();
    for (j, job) in ["api", "web"].iter().enumerate() {
        for inst in 0..3 {
            for (k, code) in ["200", "500"].iter().enumerate() {
                let rate = 1.0 + (j * 7 + inst * 3 + k * 11) as f64 * 0.37;
                let base = 10_000.0 + (inst * 977) as f64;
                let reset = j == 1 && inst == 2 && k == 0;
                out.push((
                    vec![
                        ("__name__", "http_requests_total".into()),
                        ("job", job.to_string()),
                        ("instance", format!("10.0.0.{inst}:80")),
                        ("code", code.to_string()),
                    ],
                    Box::new(move |i| {
                        let v = base + rate * i as f64 * 15.0;
                        Some(if reset && i >= 150 {
                            v - base - rate * 2000.0 + 17.0
                        } else {
                            v
                        })
                    }),
                ));
            }
            let m = (inst + 1) as f64 * 1.7 + j as f64;
            out.push((
                vec![
                    ("__name__", "memory_bytes".into()),
                    ("job", job.to_string()),
                    ("instance", format!("10.0.0.{inst}:80")),
                ],
                Box::new(move |i| {
                    if j == 0 && inst == 1 && (100..130).contains(&i) {
                        return None;
                    }
                    Some(1e8 * m + 3e6 * ((i as f64) / (9.0 + m)).sin())
                }),
            ));
        }
        for (b, le) in ["0.1", "0.5", "1", "+Inf"].iter().enumerate() {
            let share = [0.31, 0.74, 0.93, 1.0][b];
            let total = 2.3 + j as f64;
            out.push((
                vec![
                    ("__name__", "request_duration_seconds_bucket".into()),
                    ("job", job.to_string()),
                    ("le", le.to_string()),
                ],
                Box::new(move |i| Some((5000.0 + total * i as f64 * 15.0) * share)),
            ));
        }
    }
    out.push((
        vec![("__name__", "up".into()), ("job", "batch".into())],
        Box::new(|i| match i {
            _ if i < 60 => Some(1.0),
            60 => Some(STALE_NAN),
            _ if i < 200 => None,
            _ => Some(0.0),
        }),
    ));
    out.push((
        vec![("__name__", "temperature".into()), ("room", "a".into())],
        Box::new(|i| {
            Some(if i % 37 == 5 {
                f64::NAN
            } else {
                20.0 + (i % 13) as f64 * 0.25
            })
        }),
    ));
    out
}

/// Generated queries over the data.
fn queries() -> Vec<String> {
    let sel = [
        "http_requests_total",
        "http_requests_total{code=\"500\"}",
        "http_requests_total{job=~\"a.*\",code!=\"200\"}",
        "memory_bytes",
        "memory_bytes{instance=~\"10.0.0.[01]:80\"}",
        "up",
        "temperature",
        "{__name__=~\"memory_bytes|temperature\"}",
    ];
    let counters = ["http_requests_total", "http_requests_total{job=\"web\"}"];
    let ranges = ["1m", "5m", "10m"];
    let mut q: Vec<String> = Vec::new();
    for s in sel {
        q.push(s.to_string());
        q.push(format!("{s} offset 5m"));
        q.push(format!("{s} @ end()"));
        q.push(format!("timestamp({s})"));
        q.push(format!("count({s})"));
        q.push(format!("absent({s})"));
    }
    for c in counters {
        for r in ranges {
            for f in [
                "rate", "irate", "increase", "resets", "changes", "deriv", "delta", "idelta",
            ] {
                q.push(format!("{f}({c}[{r}])"));
            }
            q.push(format!("predict_linear({c}[{r}], 600)"));
            q.push(format!("rate({c}[{r}] offset 2m)"));
        }
    }
    for f in [
        "sum_over_time",
        "avg_over_time",
        "min_over_time",
        "max_over_time",
        "count_over_time",
        "last_over_time",
        "stddev_over_time",
        "stdvar_over_time",
        "present_over_time",
        "absent_over_time",
    ] {
        for s in ["memory_bytes", "temperature", "up"] {
            q.push(format!("{f}({s}[5m])"));
        }
    }
    q.push("quantile_over_time(0.9, memory_bytes[10m])".into());
    q.push("holt_winters(memory_bytes[10m], 0.3, 0.4)".into());
    for a in [
        "sum", "avg", "min", "max", "count", "group", "stddev", "stdvar",
    ] {
        q.push(format!("{a}(rate(http_requests_total[5m]))"));
        q.push(format!("{a} by (job) (rate(http_requests_total[5m]))"));
        q.push(format!("{a} without (instance) (http_requests_total)"));
        q.push(format!("{a} by (job, code) (memory_bytes)"));
    }
    for k in ["1", "2", "4"] {
        q.push(format!("topk({k}, rate(http_requests_total[5m]))"));
        q.push(format!("bottomk({k}, memory_bytes) by (job)"));
        q.push(format!("topk by (job) ({k}, memory_bytes)"));
    }
    for p in ["0", "0.5", "0.9", "1"] {
        q.push(format!("quantile({p}, rate(http_requests_total[5m]))"));
        q.push(format!("quantile by (code) ({p}, http_requests_total)"));
    }
    q.push("count_values(\"value\", up)".into());
    q.push("count_values by (job) (\"v\", round(memory_bytes / 1e8))".into());
    for p in ["0.5", "0.9", "0.99"] {
        q.push(format!(
            "histogram_quantile({p}, sum by (le) (rate(request_duration_seconds_bucket[5m])))"
        ));
        q.push(format!(
            "histogram_quantile({p}, rate(request_duration_seconds_bucket[5m]))"
        ));
    }
    for op in ["+", "-", "*", "/", "%", "^", "atan2"] {
        // Prometheus 2.42 keeps the metric name under `atan2` with a scalar; 2.53 drops it, as
        // KubePulse does, so only the vector-to-vector form is compared.
        if op != "atan2" {
            q.push(format!("memory_bytes {op} 3"));
            q.push(format!("2 {op} temperature"));
        }
        q.push(format!(
            "rate(http_requests_total[5m]) {op} on(job, instance) group_left memory_bytes"
        ));
        q.push(format!(
            "sum by (job) (memory_bytes) {op} sum by (job) (rate(http_requests_total[5m]))"
        ));
    }
    for op in ["==", "!=", ">", "<", ">=", "<="] {
        q.push(format!("memory_bytes {op} 2e8"));
        q.push(format!("memory_bytes {op} bool 2e8"));
        q.push(format!("3e8 {op} memory_bytes"));
        q.push(format!("temperature {op} bool 21"));
        q.push(format!(
            "rate(http_requests_total{{code=\"200\"}}[5m]) {op} ignoring(code) rate(http_requests_total{{code=\"500\"}}[5m])"
        ));
    }
    for op in ["and", "or", "unless"] {
        q.push(format!("memory_bytes {op} memory_bytes > 2e8"));
        q.push(format!(
            "http_requests_total {op} on(job) memory_bytes{{instance=\"10.0.0.1:80\"}}"
        ));
        q.push(format!("up {op} temperature"));
    }
    q.push(
        "memory_bytes / on(job, instance) group_left(code) http_requests_total{code=\"500\"}"
            .into(),
    );
    q.push("sum by (job) (rate(http_requests_total[5m])) / ignoring(code) group_right sum by (job, code) (rate(http_requests_total[5m]))".into());
    for sq in ["[10m:1m]", "[5m:30s]", "[10m:]", "[10m:1m] offset 3m"] {
        q.push(format!("max_over_time(rate(http_requests_total[1m]){sq})"));
        q.push(format!("avg_over_time(sum by (job) (memory_bytes){sq})"));
        q.push(format!("rate(sum(http_requests_total){sq})"));
    }
    for f in [
        "abs", "ceil", "floor", "exp", "ln", "log2", "log10", "sqrt", "sgn", "round", "sin", "cos",
        "deg", "rad",
    ] {
        q.push(format!("{f}(temperature)"));
        q.push(format!("{f}(rate(http_requests_total[1m]))"));
    }
    for f in [
        "hour",
        "minute",
        "day_of_week",
        "day_of_month",
        "day_of_year",
        "days_in_month",
        "month",
        "year",
    ] {
        q.push(format!("{f}()"));
        q.push(format!("{f}(up * 1e9)"));
    }
    q.push("clamp(temperature, 20.5, 22)".into());
    q.push("clamp_min(memory_bytes, 2e8)".into());
    q.push("clamp_max(memory_bytes, 2e8)".into());
    q.push("round(memory_bytes, 1e6)".into());
    q.push("scalar(sum(up))".into());
    q.push("vector(time()) - time()".into());
    q.push("time()".into());
    q.push("sum(memory_bytes) * scalar(count(up))".into());
    q.push("label_replace(memory_bytes, \"host\", \"$1\", \"instance\", \"(.*):.*\")".into());
    q.push("label_join(memory_bytes, \"id\", \"/\", \"job\", \"instance\")".into());
    q.push("sort(memory_bytes)".into());
    q.push("sort_desc(rate(http_requests_total[5m]))".into());
    q.push("-memory_bytes".into());
    q.push("(memory_bytes)".into());
    q.push("1 + 2 * 3 ^ 2 ^ 0.5".into());
    q.push("memory_bytes > 1e20".into());
    q
}

async fn query(client: &reqwest::Client, port: u16, path: &str, form: &[(&str, String)]) -> Value {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    client
        .post(format!("http://127.0.0.1:{port}{path}"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The result as comparable data: result type and, per series labels, points.
fn normalize(v: &Value) -> Result<(String, Points), String> {
    if v["status"] != "success" {
        return Err(v["errorType"].as_str().unwrap_or("?").to_string());
    }
    let ty = v["data"]["resultType"].as_str().unwrap_or("").to_string();
    let r = &v["data"]["result"];
    let num = |x: &Value| {
        x.as_str()
            .and_then(|s| s.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    let mut out = BTreeMap::new();
    match ty.as_str() {
        "scalar" | "string" => {
            out.insert(
                String::new(),
                vec![(r[0].as_f64().unwrap_or(0.0), num(&r[1]))],
            );
        }
        _ => {
            for s in r.as_array().cloned().unwrap_or_default() {
                let key = s["metric"].to_string();
                let points = match s.get("value") {
                    Some(p) => vec![(p[0].as_f64().unwrap_or(0.0), num(&p[1]))],
                    None => s["values"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                        .iter()
                        .map(|p| (p[0].as_f64().unwrap_or(0.0), num(&p[1])))
                        .collect(),
                };
                out.insert(key, points);
            }
        }
    }
    Ok((ty, out))
}

fn same(a: &Value, b: &Value) -> Result<(), String> {
    match (normalize(a), normalize(b)) {
        (Err(x), Err(y)) if x == y => Ok(()),
        (Ok((ta, ra)), Ok((tb, rb))) => {
            if ta != tb {
                return Err(format!("result types {ta} and {tb}"));
            }
            if ra.keys().ne(rb.keys()) {
                return Err(format!(
                    "series {:?} and {:?}",
                    ra.keys().collect::<Vec<_>>(),
                    rb.keys().collect::<Vec<_>>()
                ));
            }
            for (k, pa) in &ra {
                let pb = &rb[k];
                let eq = pa.len() == pb.len()
                    && pa
                        .iter()
                        .zip(pb)
                        .all(|(x, y)| x.0 == y.0 && almost_equal(x.1, y.1));
                if !eq {
                    return Err(format!("{k}: {pa:?} and {pb:?}"));
                }
            }
            Ok(())
        }
        (x, y) => Err(format!("{x:?} and {y:?}")),
    }
}

/// KubePulse and Prometheus side by side, holding the same samples.
struct Pair {
    _tmp: tempfile::TempDir,
    kp: support::Server,
    _prom: Peer,
    prom_port: u16,
    /// The time of the last sample, in milliseconds.
    now: i64,
    client: reqwest::Client,
}

/// Starts both and remote-writes [`series`] into each.
async fn pair() -> Pair {
    let tmp = tempfile::tempdir().unwrap();
    let kp = support::serve(support::QUIET, &tmp.path().join("data"));
    let prom_port = free_port();
    let prom_dir = tmp.path().join("prometheus");
    std::fs::create_dir_all(&prom_dir).unwrap();
    std::fs::write(
        prom_dir.join("prometheus.yml"),
        "global:\n  scrape_interval: 15s\n",
    )
    .unwrap();
    let args = vec![
        format!(
            "--config.file={}",
            prom_dir.join("prometheus.yml").display()
        ),
        format!("--storage.tsdb.path={}", prom_dir.join("data").display()),
        format!("--web.listen-address=127.0.0.1:{prom_port}"),
        "--web.enable-remote-write-receiver".to_string(),
    ];
    let mut prom = Peer::start("prometheus", "prometheus", &args).unwrap();
    prom.wait_port(prom_port, Duration::from_secs(30)).unwrap();
    let client = kubepulse_ingest::http_client().unwrap();
    // Listening is not ready: Prometheus answers 503 until its storage is open.
    for port in [kp.port, prom_port] {
        let mut tries = 0;
        loop {
            let url = format!("http://127.0.0.1:{port}/-/ready");
            match client.get(&url).send().await {
                Ok(r) if r.status().is_success() => break,
                _ if tries < 300 => tries += 1,
                other => panic!("{url} not ready: {other:?}"),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    let now = kubepulse_model::Clock::now_ms(&kubepulse_model::SystemClock) / 60_000 * 60_000;
    let start = now - (POINTS - 1) * STEP;
    let all = series();
    for i in 0..POINTS {
        let t = start + i * STEP;
        let batch: Vec<Series<&str>> = all
            .iter()
            .filter_map(|(l, f)| {
                f(i).map(|v| {
                    (
                        l.iter().map(|(n, v)| (*n, v.as_str())).collect(),
                        vec![(t, v)],
                    )
                })
            })
            .collect();
        let b = body(&batch);
        for port in [kp.port, prom_port] {
            let r = client
                .post(format!("http://127.0.0.1:{port}/api/v1/write"))
                .header("Content-Encoding", "snappy")
                .header("Content-Type", "application/x-protobuf")
                .header("X-Prometheus-Remote-Write-Version", "0.1.0")
                .body(b.clone())
                .send()
                .await
                .unwrap();
            assert!(
                r.status().is_success(),
                "{port}: {}",
                r.text().await.unwrap()
            );
        }
    }

    Pair {
        _tmp: tmp,
        kp,
        _prom: prom,
        prom_port,
        now,
        client,
    }
}

#[tokio::test]
async fn kubepulse_answers_like_prometheus() {
    let Pair {
        kp,
        prom_port,
        now,
        client,
        ..
    } = &pair().await;
    let (now, prom_port) = (*now, *prom_port);
    let qs = queries();
    assert!(qs.len() >= 300, "{} queries", qs.len());
    let secs = |ms: i64| format!("{}", ms as f64 / 1000.0);
    let mut failures = Vec::new();
    let mut compared = 0;
    for q in &qs {
        let mut forms: Vec<(&str, Vec<(&str, String)>)> = [now, now - 450_000, now - 1_200_000]
            .iter()
            .map(|t| {
                (
                    "/api/v1/query",
                    vec![("query", q.clone()), ("time", secs(*t))],
                )
            })
            .collect();
        forms.push((
            "/api/v1/query_range",
            vec![
                ("query", q.clone()),
                ("start", secs(now - 1_800_000)),
                ("end", secs(now)),
                ("step", "60".into()),
            ],
        ));
        for (path, form) in forms {
            let a = query(client, kp.port, path, &form).await;
            let b = query(client, prom_port, path, &form).await;
            compared += 1;
            if let Err(e) = same(&a, &b) {
                failures.push(format!("{path} {form:?}: {e}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {compared} evaluations differ from Prometheus:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Runs the real `promtool` with `args`, the server's URL inserted before the last `tail`
/// arguments; returns its exit status and output.
fn promtool(args: &[&str], port: u16, tail: &[&str]) -> (bool, String) {
    let out = std::process::Command::new("promtool")
        .args(args)
        .arg(format!("http://127.0.0.1:{port}"))
        .args(tail)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test]
async fn promtool_reads_kubepulse_as_it_reads_prometheus() {
    let p = pair().await;
    let secs = |ms: i64| format!("{}", ms / 1000);
    let (now, before) = (secs(p.now), secs(p.now - 900_000));
    let time = format!("--time={now}");
    let (start, end) = (format!("--start={before}"), format!("--end={now}"));
    let instant = |q: &'static str| (vec!["query", "instant", time.as_str()], vec![q]);
    let cases: Vec<(Vec<&str>, Vec<&str>)> = vec![
        instant("sum by (job) (rate(http_requests_total[5m]))"),
        instant("topk(3, memory_bytes)"),
        instant("histogram_quantile(0.9, sum by (le) (rate(request_duration_seconds_bucket[5m])))"),
        instant("scalar(sum(up))"),
        instant("count(http_requests_total) * 2"),
        instant("memory_bytes[1m]"),
        instant("absent(nothing_here)"),
        instant("nothing_here"),
        (
            vec!["query", "range", &start, &end, "--step=1m"],
            vec!["sum by (code) (increase(http_requests_total[2m]))"],
        ),
        (
            vec!["query", "range", &start, &end, "--step=90s"],
            vec!["memory_bytes / 1e6"],
        ),
        (
            vec!["query", "series", "--match=memory_bytes", "--match=up"],
            vec![],
        ),
        (vec!["query", "labels"], vec!["job"]),
        (vec!["query", "labels"], vec!["__name__"]),
        (
            vec!["query", "instant", "-o", "json", time.as_str()],
            vec!["sum(memory_bytes)"],
        ),
    ];
    let mut failures = Vec::new();
    for (args, tail) in &cases {
        let (ok_kp, kp) = promtool(args, p.kp.port, tail);
        let (ok_prom, prom) = promtool(args, p.prom_port, tail);
        // An empty vector prints nothing; everything else prints something.
        let empty = kp.trim().is_empty() && tail != &["nothing_here"];
        if !ok_kp || !ok_prom || kp != prom || empty {
            failures.push(format!(
                "promtool {args:?} {tail:?}\n  kubepulse ({ok_kp}): {kp}\n  prometheus ({ok_prom}): {prom}"
            ));
        }
    }
    // Errors come back the same way: a failed exit and Prometheus' message.
    for q in [
        "sum(",
        "rate(memory_bytes)",
        "no_such_function(up)",
        "up{job=",
        "1 > 2",
    ] {
        let (ok, kp) = promtool(&["query", "instant", &time], p.kp.port, &[q]);
        let (_, prom) = promtool(&["query", "instant", &time], p.prom_port, &[q]);
        if ok || kp != prom {
            failures.push(format!(
                "promtool on {q:?}\n  kubepulse: {kp}\n  prometheus: {prom}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
