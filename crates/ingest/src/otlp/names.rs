//! Prometheus' translation of OTLP metric names and attribute keys: names are split into
//! letter-and-digit tokens, the unit is appended (mapped to words, `/` becoming `per`), monotonic
//! sums end in `_total`, unit-`1` gauges in `_ratio`; attribute keys have every other character
//! replaced by `_`.

/// Kinds that affect naming.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    /// Gauge.
    Gauge,
    /// Monotonic sum (a counter).
    Counter,
    /// Anything else (non-monotonic sums, histograms, summaries).
    Other,
}

fn main_unit(u: &str) -> &str {
    match u {
        "d" => "days",
        "h" => "hours",
        "min" => "minutes",
        "s" => "seconds",
        "ms" => "milliseconds",
        "us" => "microseconds",
        "ns" => "nanoseconds",
        "By" => "bytes",
        "KiBy" => "kibibytes",
        "MiBy" => "mebibytes",
        "GiBy" => "gibibytes",
        "TiBy" => "tibibytes",
        "KBy" => "kilobytes",
        "MBy" => "megabytes",
        "GBy" => "gigabytes",
        "TBy" => "terabytes",
        "m" => "meters",
        "V" => "volts",
        "A" => "amperes",
        "J" => "joules",
        "W" => "watts",
        "g" => "grams",
        "Cel" => "celsius",
        "Hz" => "hertz",
        "1" => "",
        "%" => "percent",
        other => other,
    }
}

fn per_unit(u: &str) -> &str {
    match u {
        "s" => "second",
        "m" => "minute",
        "h" => "hour",
        "d" => "day",
        "w" => "week",
        "mo" => "month",
        "y" => "year",
        other => other,
    }
}

fn tokens(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

fn clean(s: &str) -> String {
    tokens(s).join("_")
}

/// The Prometheus name of an OTLP metric.
pub fn metric_name(name: &str, unit: &str, kind: NameKind) -> String {
    let mut t = tokens(name);
    let (main, per) = match unit.split_once('/') {
        Some((m, p)) => (m, Some(p)),
        None => (unit, None),
    };
    let main = main.trim();
    if !main.is_empty() && !main.contains(['{', '}']) {
        let u = clean(main_unit(main));
        if !u.is_empty() && !t.contains(&u) {
            t.push(u);
        }
    }
    if let Some(per) = per
        .map(str::trim)
        .filter(|p| !p.is_empty() && !p.contains(['{', '}']))
    {
        let u = clean(per_unit(per));
        if !u.is_empty() && !t.contains(&u) {
            t.push("per".into());
            t.push(u);
        }
    }
    if kind == NameKind::Counter {
        t.retain(|x| x != "total");
        t.push("total".into());
    }
    if unit == "1" && kind == NameKind::Gauge {
        t.retain(|x| x != "ratio");
        t.push("ratio".into());
    }
    let joined = t.join("_");
    if joined.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{joined}")
    } else {
        joined
    }
}

/// The Prometheus name of an OTLP attribute key.
pub fn label_name(key: &str) -> String {
    if key.is_empty() {
        return String::new();
    }
    let s: String = key
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '_' })
        .collect();
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        format!("key_{s}")
    } else if s.starts_with('_') && !s.starts_with("__") {
        format!("key{s}")
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use NameKind::*;

    #[test]
    fn names_match_prometheus() {
        let cases = [
            (
                "system.cpu.utilization",
                "1",
                Gauge,
                "system_cpu_utilization_ratio",
            ),
            ("my.counter", "1", Counter, "my_counter_total"),
            ("my.histogram", "1", Other, "my_histogram"),
            (
                "http.server.duration",
                "ms",
                Other,
                "http_server_duration_milliseconds",
            ),
            (
                "system.network.io",
                "By",
                Counter,
                "system_network_io_bytes_total",
            ),
            ("network.io.total", "By", Counter, "network_io_bytes_total"),
            ("cpu.seconds", "s", Counter, "cpu_seconds_total"),
            (
                "bigip.virtual_server.request.count",
                "{requests}",
                Counter,
                "bigip_virtual_server_request_count_total",
            ),
            (
                "mongodbatlas.process.asserts",
                "{assertions}/s",
                Gauge,
                "mongodbatlas_process_asserts_per_second",
            ),
            (
                "system.io",
                "foo/bar",
                Counter,
                "system_io_foo_per_bar_total",
            ),
            ("throughput", "By/s", Gauge, "throughput_bytes_per_second"),
            (
                "memcached.operation_hit_ratio",
                "%",
                Gauge,
                "memcached_operation_hit_ratio_percent",
            ),
            ("foo.ratio", "1", Gauge, "foo_ratio"),
            ("up.down", "{x}", Other, "up_down"),
            ("2xx.responses", "", Counter, "_2xx_responses_total"),
            ("foo__bar", "", Gauge, "foo_bar"),
        ];
        for (name, unit, kind, want) in cases {
            assert_eq!(metric_name(name, unit, kind), want, "{name} {unit}");
        }
    }

    #[test]
    fn labels_match_prometheus() {
        for (k, want) in [
            ("service.name", "service_name"),
            ("a..b", "a__b"),
            ("0foo", "key_0foo"),
            ("_foo", "key_foo"),
            (".foo", "key_foo"),
            ("__foo", "__foo"),
            ("ok", "ok"),
        ] {
            assert_eq!(label_name(k), want, "{k}");
        }
    }
}
