//! The real `promtool query` against KubePulse and Prometheus 2.42 holding the same samples:
//! instant, range, series and labels queries print the same, and bad queries fail the same way.

#![allow(clippy::unwrap_used)]

#[path = "differential/pair.rs"]
mod pair;
mod support;

use pair::pair;

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
