//! Property tests of both text parsers: any input is refused or parsed without a panic, and any
//! exposition written by the rules of each format parses back to exactly what was written.

#![allow(clippy::unwrap_used)]

use kubepulse_ingest::exposition::{NORMAL_NAN, parse_openmetrics, parse_prometheus};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Sample {
    name: String,
    labels: Vec<(String, String)>,
    value: f64,
    /// Whole non-negative seconds, which both formats write exactly (the text format has no
    /// negative timestamps).
    seconds: Option<i64>,
}

fn escape(v: &str) -> String {
    v.replace('\\', r"\\")
        .replace('"', "\\\"")
        .replace('\n', r"\n")
}

fn value_text(v: f64) -> String {
    kubepulse_model::gofloat::special(v).map_or_else(|| format!("{v:e}"), str::to_string)
}

fn line(s: &Sample, openmetrics: bool) -> String {
    let mut out = s.name.clone();
    if !s.labels.is_empty() {
        let pairs: Vec<String> = s
            .labels
            .iter()
            .map(|(n, v)| format!("{n}=\"{}\"", escape(v)))
            .collect();
        out.push_str(&format!("{{{}}}", pairs.join(",")));
    }
    out.push(' ');
    out.push_str(&value_text(s.value));
    if let Some(t) = s.seconds {
        if openmetrics {
            out.push_str(&format!(" {t}"));
        } else {
            out.push_str(&format!(" {}", t * 1000));
        }
    }
    out
}

fn sample() -> impl Strategy<Value = Sample> {
    let value = prop_oneof![
        any::<f64>(),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        (-1000i64..1000).prop_map(|i| i as f64),
    ];
    (
        "[a-zA-Z_:][a-zA-Z0-9_:]{0,20}",
        prop::collection::btree_map("[a-zA-Z_][a-zA-Z0-9_]{0,10}", ".{0,12}", 0..5),
        value,
        prop::option::of(0i64..4_000_000_000),
    )
        .prop_map(|(name, labels, value, seconds)| Sample {
            name,
            labels: labels.into_iter().collect(),
            value,
            seconds,
        })
}

fn check(written: &[Sample], parsed: &kubepulse_ingest::exposition::Exposition<'_>) {
    assert_eq!(parsed.samples.len(), written.len());
    for (w, p) in written.iter().zip(&parsed.samples) {
        assert_eq!(p.name, w.name);
        let labels: Vec<(String, String)> = p
            .labels
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        assert_eq!(labels, w.labels);
        let want = if w.value.is_nan() {
            NORMAL_NAN
        } else {
            w.value
        };
        assert_eq!(p.value.to_bits(), want.to_bits(), "{}", value_text(w.value));
        assert_eq!(p.timestamp, w.seconds.map(|s| s * 1000));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,400}") {
        let _ = parse_prometheus(&text);
        let _ = parse_openmetrics(&text);
    }

    #[test]
    fn arbitrary_lines_never_panic(lines in prop::collection::vec(
        "(# (TYPE|HELP|UNIT|EOF) )?[a-z_{}=\",\\\\ 0-9.eE+#-]{0,40}", 0..8)
    ) {
        let text = lines.join("\n");
        let _ = parse_prometheus(&text);
        let _ = parse_openmetrics(&text);
    }

    #[test]
    fn prometheus_text_round_trips(samples in prop::collection::vec(sample(), 1..20)) {
        let text: String = samples.iter().map(|s| line(s, false) + "\n").collect();
        let parsed = parse_prometheus(&text).unwrap();
        check(&samples, &parsed);
    }

    #[test]
    fn openmetrics_round_trips(samples in prop::collection::vec(sample(), 1..20)) {
        let mut text: String = samples.iter().map(|s| line(s, true) + "\n").collect();
        text.push_str("# EOF\n");
        let parsed = parse_openmetrics(&text).unwrap();
        check(&samples, &parsed);
    }
}
