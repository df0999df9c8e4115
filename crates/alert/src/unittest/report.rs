//! promtool's wording of unit test failures: label sets as Go prints them, samples with
//! `%E` values, alert lists indented as promtool indents them.

use std::collections::BTreeMap;

use kubepulse_model::Labels;

/// An alert as the comparison sees it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Expected {
    /// Labels, `alertname` included.
    pub labels: Labels,
    /// Annotations.
    pub annotations: BTreeMap<String, String>,
}

impl Expected {
    /// An expected alert of `alertname`, which promtool adds to the labels the test gives.
    pub fn new(
        alertname: &str,
        mut labels: BTreeMap<String, String>,
        annotations: BTreeMap<String, String>,
    ) -> Self {
        labels.insert("alertname".into(), alertname.into());
        let labels = Labels::from_pairs(
            labels
                .iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| (k.as_str(), v.as_str())),
        )
        .unwrap_or_default();
        let annotations = annotations
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .collect();
        Self {
            labels,
            annotations,
        }
    }
}

/// Go's `strconv.Quote` for the characters label values hold.
fn quote(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn pairs_string<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let mut s = String::from("{");
    for (i, (k, v)) in pairs.enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str(k);
        s.push('=');
        quote(v, &mut s);
    }
    s.push('}');
    s
}

/// Go's `labels.Labels.String()`: `{__name__="up", job="x"}`.
pub fn labels_string(l: &Labels) -> String {
    pairs_string(l.iter().map(|l| (l.name.as_str(), l.value.as_str())))
}

impl Expected {
    fn render(&self) -> String {
        format!(
            "Labels:{}\nAnnotations:{}",
            labels_string(&self.labels),
            pairs_string(
                self.annotations
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
            )
        )
    }
}

fn indent(lines: &str, by: &str) -> String {
    lines
        .split('\n')
        .collect::<Vec<_>>()
        .join(&format!("\n{by}"))
}

fn list_string(v: &[Expected]) -> String {
    if v.is_empty() {
        return "[]".into();
    }
    let mut s = String::from("[");
    for (i, a) in v.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&format!("\n{i}:"));
        s.push_str(&indent(&format!("\n{}", a.render()), "  "));
    }
    s.push_str("\n]");
    s
}

/// promtool's message when the firing alerts differ from the expected ones; `None` when equal.
pub fn compare_alerts(
    alertname: &str,
    eval_time: &str,
    mut exp: Vec<Expected>,
    mut got: Vec<Expected>,
) -> Option<String> {
    exp.sort();
    got.sort();
    if exp == got {
        return None;
    }
    let pad = "            ";
    Some(format!(
        "    alertname: {alertname}, time: {}, \n        exp:{}, \n        got:{}",
        kubepulse_model::format_duration(kubepulse_model::parse_duration(eval_time).unwrap_or(0)),
        indent(&list_string(&exp), pad),
        indent(&list_string(&got), pad)
    ))
}

/// Go's `strconv.FormatFloat(v, 'E', -1, 64)`.
fn float_e(v: f64) -> String {
    kubepulse_model::gofloat::format_e(v)
        .to_uppercase()
        .replace("INF", "Inf")
        .replace("NAN", "NaN")
}

/// promtool's list of samples: `{…} 1E+00, {…} 2E+00`, or `nil`.
pub fn samples_string(v: &[(Labels, f64)]) -> String {
    if v.is_empty() {
        return "nil".into();
    }
    v.iter()
        .map(|(l, x)| format!("{} {}", labels_string(l), float_e(*x)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A series written `name{a="b"}` or `{a="b"}`, as `exp_samples` give them.
pub fn parse_metric(s: &str) -> Result<Labels, String> {
    let line = kubepulse_query::promqltest::script::series_line(s)?;
    if !line.points.is_empty() {
        return Err(format!("unexpected values after the series in {s:?}"));
    }
    Ok(line.labels)
}

/// Go's `time.Duration.String()` for whole milliseconds: `5m0s`, `1h0m0s`, `0s`, `1.5s`.
pub fn go_duration(ms: i64) -> String {
    if ms == 0 {
        return "0s".into();
    }
    let neg = ms < 0;
    let ms = ms.unsigned_abs();
    let (h, m, s, frac) = (
        ms / 3_600_000,
        (ms / 60_000) % 60,
        (ms / 1000) % 60,
        ms % 1000,
    );
    let secs = if frac == 0 {
        format!("{s}s")
    } else {
        let f = format!("{frac:03}");
        format!("{s}.{}s", f.trim_end_matches('0'))
    };
    let body = if h > 0 {
        format!("{h}h{m}m{secs}")
    } else if m > 0 {
        format!("{m}m{secs}")
    } else if s == 0 && frac > 0 {
        let f = frac.to_string();
        format!("{f}ms")
    } else {
        secs
    };
    if neg { format!("-{body}") } else { body }
}
