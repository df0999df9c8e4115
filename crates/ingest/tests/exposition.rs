//! Every fixture of Prometheus' parser tests (shared benchmark data) parses exactly: families,
//! samples, exemplars, timestamps, escapes and values, counted the way Prometheus 2.42 counts.

#![allow(clippy::unwrap_used)]

use kubepulse_ingest::exposition::{Format, NORMAL_NAN, format_of, parse};
use kubepulse_model::MetricType;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(kubepulse_testkit::data_dir().join("exposition").join(name)).unwrap()
}

#[test]
fn one_histogram_openmetrics() {
    let text = fixture("1histogram.om.txt");
    assert!(
        !text.ends_with('\n'),
        "the fixture ends without a newline after # EOF"
    );
    let e = parse(&text, Format::OpenMetrics).unwrap();
    assert_eq!(e.families.len(), 1);
    assert_eq!(e.families[0].kind, MetricType::Histogram);
    assert_eq!(e.samples.len(), 42);
    assert_eq!(
        e.samples
            .iter()
            .filter(|s| s.name.ends_with("_bucket"))
            .count(),
        36
    );
    let inf: Vec<_> = e
        .samples
        .iter()
        .filter(|s| s.labels.iter().any(|(n, v)| *n == "le" && v == "+Inf"))
        .collect();
    assert_eq!(inf.len(), 3);
    assert!(inf.iter().all(|s| s.value == 1.0));
}

#[test]
fn all_types_openmetrics() {
    let text = fixture("alltypes.5mfs.om.txt");
    let e = parse(&text, Format::OpenMetrics).unwrap();
    assert_eq!(e.families.len(), 5);
    assert_eq!(e.samples.len(), 53);
    assert_eq!(
        e.samples
            .iter()
            .filter(|s| s.name.ends_with("_created"))
            .count(),
        9
    );
    let kinds: Vec<MetricType> = e.families.iter().map(|f| f.kind).collect();
    assert_eq!(
        kinds,
        vec![
            MetricType::Gauge,
            MetricType::Counter,
            MetricType::Histogram,
            MetricType::Summary,
            MetricType::Counter
        ]
    );
    let ex: Vec<_> = e
        .samples
        .iter()
        .filter_map(|s| s.exemplar.as_ref())
        .collect();
    assert_eq!(ex.len(), 6);
    assert_eq!(ex[0].labels, vec![("dummyID", "17783")]);
    assert_eq!(ex[0].value, -0.0003825067330956884);
    assert_eq!(
        ex.iter().map(|x| x.timestamp.unwrap()).collect::<Vec<_>>(),
        vec![
            1726839814223,
            1726839814829,
            1726839815133,
            1726839814526,
            1726839813922,
            1726839814982
        ]
    );
    // Empty label values are parsed; the store drops them when it creates the series.
    assert_eq!(e.samples[0].labels.len(), 3);
    assert!(e.samples[0].labels.iter().all(|(_, v)| v.is_empty()));
    let created = e
        .samples
        .iter()
        .find(|s| s.name == "promhttp_metric_handler_errors_created")
        .unwrap();
    assert_eq!(created.value, 1.726839813016397e9);
    assert!(e.samples.iter().all(|s| s.timestamp.is_none()));
}

#[test]
fn all_types_prometheus_text() {
    let text = fixture("alltypes.237mfs.prom.txt");
    assert!(
        text.trim_end().ends_with("# EOF"),
        "the text format treats # EOF as a comment"
    );
    let e = parse(&text, Format::Prometheus).unwrap();
    assert_eq!(e.families.len(), 237);
    assert_eq!(e.samples.len(), 1857);
    let count = |k: MetricType| e.families.iter().filter(|f| f.kind == k).count();
    assert_eq!(
        (
            count(MetricType::Counter),
            count(MetricType::Gauge),
            count(MetricType::Histogram),
            count(MetricType::Summary)
        ),
        (112, 97, 15, 13)
    );
    assert_eq!(
        e.samples
            .iter()
            .filter(|s| s.value.to_bits() == NORMAL_NAN.to_bits())
            .count(),
        12
    );
    assert!(e.families.iter().all(|f| f.help.is_some()));
    let spaced = e
        .samples
        .iter()
        .filter(|s| s.labels.iter().any(|(_, v)| v.contains(' ')))
        .count();
    assert_eq!(spaced, 22);
    assert!(e.samples.iter().any(|s| {
        s.labels
            .iter()
            .any(|(n, v)| *n == "tags" && v == "netgo,builtinassets,stringlabels")
    }));
    let max = e
        .samples
        .iter()
        .find(|s| s.name == "process_virtual_memory_max_bytes")
        .unwrap();
    assert_eq!(max.value, 1.8446744073709552e19);
    // `le` values are kept as written.
    assert!(
        e.samples
            .iter()
            .any(|s| s.labels.iter().any(|(n, v)| *n == "le" && v == "1e+06"))
    );
    let distinct: std::collections::HashSet<String> = e
        .samples
        .iter()
        .map(|s| format!("{}{:?}", s.name, s.labels))
        .collect();
    assert_eq!(distinct.len(), 1857);
}

#[test]
fn format_follows_content_type() {
    assert_eq!(
        format_of(Some(
            "application/openmetrics-text; version=1.0.0; charset=utf-8"
        )),
        Format::OpenMetrics
    );
    assert_eq!(
        format_of(Some("text/plain; version=0.0.4")),
        Format::Prometheus
    );
    assert_eq!(format_of(None), Format::Prometheus);
    assert_eq!(format_of(Some("garbage;;")), Format::Prometheus);
}
