//! The generated PromQL queries the differential test compares.

/// Generated queries over the data.
pub fn queries() -> Vec<String> {
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
