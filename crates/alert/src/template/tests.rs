use kubepulse_model::Labels;

use super::funcs::{humanize, humanize_duration, humanize_timestamp, humanize1024};
use super::*;

fn run(text: &str, value: f64) -> String {
    let labels = Labels::from_pairs([("instance", "node-1:9100"), ("job", "node")]).unwrap();
    let ext = Labels::from_pairs([("cluster", "prod")]).unwrap();
    let data = TemplateData {
        labels: &labels,
        external_labels: &ext,
        external_url: "http://kp:9800",
        value,
    };
    expand("A", text, &data, None)
}

#[test]
fn prometheus_variables_and_functions() {
    assert_eq!(
        run("{{ $labels.job }}/{{ .Labels.instance }}", 1.0),
        "node/node-1:9100"
    );
    assert_eq!(
        run("{{ $externalLabels.cluster }} {{ $externalURL }}", 1.0),
        "prod http://kp:9800"
    );
    assert_eq!(run("{{ $labels.missing }}|", 1.0), "|");
    assert_eq!(run("{{ $value | humanize }}", 1234567.0), "1.235M");
    assert_eq!(run("{{ $labels.instance | stripPort }}", 0.0), "node-1");
    assert_eq!(
        run(
            "{{ reReplaceAll \"(.*):.*\" \"$1\" $labels.instance }}",
            0.0
        ),
        "node-1"
    );
    assert_eq!(
        run("{{ if match \"^node\" $labels.job }}yes{{ end }}", 0.0),
        "yes"
    );
    assert_eq!(
        run(
            "{{ toUpper \"a\" }}{{ toLower \"B\" }}{{ title \"c d\" }}",
            0.0
        ),
        "AbC D"
    );
    assert_eq!(run("{{ printf \"%.1f\" $value }}", 2.25), "2.2");
    assert_eq!(run("{{ \"90s\" | parseDuration }}", 0.0), "90");
    assert!(run("{{ query \"up\" }}", 0.0).starts_with("<error expanding template:"));
    assert_eq!(run("plain text", 0.0), "plain text");
    // A float printed alone reads as Go prints it.
    assert_eq!(
        run("{{ $value }} {{- $value -}} {{.Value}}", 536870912.0),
        "5.36870912e+085.36870912e+085.36870912e+08"
    );
    assert_eq!(run("{{ $value }}", 0.25), "0.25");
    assert_eq!(run("{{ $value }}", f64::INFINITY), "+Inf");
}

#[test]
fn unknown_functions_and_bad_syntax_are_refused_at_load() {
    assert!(check("A", "{{ $value | humanize }}").is_ok());
    let e = check("A", "{{ nosuch 1 }}").unwrap_err();
    assert!(e.contains("function \"nosuch\" not defined"), "{e}");
    assert!(check("A", "{{ if }}").is_err());
    assert!(check("A", "{{ .Labels").is_err());
}

#[test]
fn humanize_family_like_prometheus() {
    assert_eq!(humanize(0.0), "0");
    assert_eq!(humanize(999.0), "999");
    assert_eq!(humanize(1000.0), "1k");
    assert_eq!(humanize(0.0012), "1.2m");
    assert_eq!(humanize(-2.5e9), "-2.5G");
    assert_eq!(humanize(f64::INFINITY), "+Inf");
    assert_eq!(humanize1024(1.0), "1");
    assert_eq!(humanize1024(2048.0), "2ki");
    assert_eq!(humanize1024(5.0 * 1024.0 * 1024.0 * 1024.0), "5Gi");
    assert_eq!(humanize_duration(0.0), "0s");
    assert_eq!(humanize_duration(1.5), "1.5s");
    assert_eq!(humanize_duration(61.0), "1m 1s");
    assert_eq!(humanize_duration(90061.0), "1d 1h 1m 1s");
    assert_eq!(humanize_duration(-3600.0), "-1h 0m 0s");
    assert_eq!(humanize_duration(0.0123), "12.3ms");
    assert_eq!(humanize_timestamp(1.5), "1970-01-01 00:00:01.5 +0000 UTC");
    assert_eq!(
        humanize_timestamp(1_700_000_000.0),
        "2023-11-14 22:13:20 +0000 UTC"
    );
}

#[test]
fn query_reads_the_source_at_the_evaluation_time() {
    let mut m = kubepulse_query::MemSource::new();
    m.add(
        Labels::from_pairs([("__name__", "up"), ("job", "b")]).unwrap(),
        [(0, 1.0), (60_000, 2.0)],
    );
    m.add(
        Labels::from_pairs([("__name__", "up"), ("job", "a")]).unwrap(),
        [(0, 5.0)],
    );
    let ctx = QueryContext {
        engine: Engine::default(),
        source: Arc::new(m),
        t: 60_000,
    };
    let labels = Labels::empty();
    let data = TemplateData {
        labels: &labels,
        external_labels: &labels,
        external_url: "",
        value: 0.0,
    };
    let text = "{{ range query \"up\" | sortByLabel \"job\" }}{{ .Labels.job }}={{ .Value }} {{ end }}\
{{ with query \"sum(up)\" }}{{ . | first | value }}{{ end }}";
    assert_eq!(expand("A", text, &data, Some(&ctx)), "a=5 b=2 7");
}
