//! Faults that ripen: their signature appears in the right series and events, at the right
//! time, and only there, with precursors before the failure.

use kubepulse_sim::FailureType;

use super::support::{Run, bad_rollout_run, only_failures_of, quiet, scenario, value_at};

#[test]
fn memory_leak_grows_the_working_set_until_oom_kill() {
    let run = Run::new(
        quiet(4, 60),
        Some(&scenario(
            "memory_leak",
            "namespace: shop, workload: cart",
            0.8,
            "2h",
        )),
        60,
    );
    let fault = &run.truth.faults[0];
    let target = fault.target.name.clone();
    let start = run.at(20.0);
    let ws = run.pod_values("container_memory_working_set_bytes", &target);
    let before = value_at(&ws, start).unwrap();
    let oom = only_failures_of(&run, FailureType::Oom);
    assert!(!oom.is_empty(), "the leak ends in an OOM kill");
    assert!(
        oom.iter()
            .all(|f| f.object.name == target && f.fault == Some(fault.id)),
        "only the target is OOM-killed: {oom:?}"
    );
    let first = oom[0].t;
    // Severity 0.8 means the limit is reached in about lerp(60, 6, 0.8) = 16.8 minutes.
    let minutes = (first - start) as f64 / 60_000.0;
    assert!(
        (12.0..=20.0).contains(&minutes),
        "OOM after {minutes} minutes"
    );
    let peak = ws
        .iter()
        .filter(|(t, _)| *t < first)
        .map(|x| x.1)
        .fold(0.0, f64::max);
    assert!(
        peak > before * 1.5,
        "working set grew from {before} to {peak}"
    );
    // The precursor is a steady climb: in the 10 minutes before the kill it rose step after step.
    let window: Vec<f64> = ws
        .iter()
        .filter(|(t, _)| *t < first && *t >= first - 600_000)
        .map(|x| x.1)
        .collect();
    let rises = window.windows(2).filter(|w| w[1] > w[0]).count();
    assert!(
        rises * 10 >= window.len() * 7,
        "{rises} rises in {} steps",
        window.len()
    );
    let reasons = run.select(
        "kube_pod_container_status_last_terminated_reason",
        &[("reason", "OOMKilled")],
    );
    assert_eq!(reasons.len(), 1);
    assert_eq!(reasons[0].0.get("pod"), Some(target.as_str()));
    let kills = run.events("OOMKilling");
    assert!(
        !kills.is_empty()
            && kills
                .iter()
                .all(|e| e.involved_object.kind == "Node" && e.first_timestamp >= start)
    );
    // Nothing of this before the fault.
    assert!(run.truth.failures.iter().all(|f| f.t >= start));
}

#[test]
fn cpu_hog_throttles_and_fails_probes_of_the_target_only() {
    let run = Run::new(
        quiet(4, 60),
        Some(&scenario(
            "cpu_hog",
            "namespace: shop, workload: catalog",
            1.0,
            "30m",
        )),
        45,
    );
    let target = run.truth.faults[0].target.name.clone();
    let start = run.at(20.0);
    let throttled = run.pod_values("container_cpu_cfs_throttled_periods_total", &target);
    let before = value_at(&throttled, start).unwrap_or(0.0);
    let first_part: Vec<f64> = throttled
        .iter()
        .filter(|(t, _)| *t <= start)
        .map(|x| x.1)
        .collect();
    assert!(
        first_part.windows(2).all(|w| w[1] - w[0] < 5.0),
        "little throttling before the fault"
    );
    let after = throttled
        .iter()
        .filter(|(t, _)| *t > start)
        .map(|x| x.1)
        .fold(0.0, f64::max);
    assert!(
        after - before > 500.0,
        "throttled periods rose by {}",
        after - before
    );
    let unhealthy = run.events("Unhealthy");
    assert!(!unhealthy.is_empty());
    assert!(
        unhealthy
            .iter()
            .all(|e| e.involved_object.name == target && e.first_timestamp > start)
    );
    let sat = only_failures_of(&run, FailureType::CpuSaturation);
    assert!(sat.iter().any(|f| f.object.name == target));
    // Other pods of the same service are not throttled.
    for (labels, s) in run.select(
        "container_cpu_cfs_throttled_periods_total",
        &[("namespace", "shop"), ("container", "catalog")],
    ) {
        if labels.get("pod") != Some(target.as_str()) {
            let v: Vec<f64> = s.iter().map(|x| x.1).collect();
            assert!(v.windows(2).all(|w| w[1] - w[0] < 20.0), "{labels}");
        }
    }
}

#[test]
fn bad_rollout_crash_loops_the_new_replica_set() {
    let run = bad_rollout_run("1h");
    let start = run.at(20.0);
    let backoff = run.events("BackOff");
    assert!(!backoff.is_empty());
    assert!(backoff.iter().all(
        |e| e.involved_object.name.starts_with("recommendation-") && e.first_timestamp > start
    ));
    let crash = only_failures_of(&run, FailureType::CrashLoop);
    assert!(
        !crash.is_empty()
            && crash
                .iter()
                .all(|f| f.object.name.starts_with("recommendation-") && f.t > start)
    );
    // A crash loop lasts while the container keeps crashing: it ends at the last crash.
    assert!(
        crash.iter().any(|f| f.until.is_some_and(|u| u > f.t)),
        "{crash:?}"
    );
    assert!(
        crash
            .iter()
            .all(|f| f.until.is_none_or(|u| u <= run.at(45.0)))
    );
    let waiting = run.select(
        "kube_pod_container_status_waiting_reason",
        &[("reason", "CrashLoopBackOff")],
    );
    assert!(
        !waiting.is_empty()
            && waiting.iter().all(|(l, _)| l
                .get("pod")
                .is_some_and(|p| p.starts_with("recommendation-")))
    );
    let scaled = run.events("ScalingReplicaSet");
    assert!(
        scaled
            .iter()
            .any(|e| e.involved_object.name == "recommendation"
                && e.message.starts_with("Scaled up replica set"))
    );
    // The crashing build logs its fatal error before dying.
    assert!(
        run.logs
            .iter()
            .any(|l| l.labels.get("app") == Some("recommendation") && l.body.contains("Traceback"))
    );
    // New pods pass readiness before they crash, so the rollout goes on as Kubernetes would
    // without minReadySeconds: the old ReplicaSet is scaled down.
    assert!(
        scaled
            .iter()
            .any(|e| e.involved_object.name == "recommendation"
                && e.message.starts_with("Scaled down replica set"))
    );
}

#[test]
fn network_delay_slows_callers_and_shows_in_spans() {
    let run = Run::new(
        quiet(4, 60),
        Some(&scenario(
            "network_delay",
            "namespace: shop, service: catalog",
            0.9,
            "30m",
        )),
        45,
    );
    let start = run.at(20.0);
    // Mean latency of frontend requests over 10 minutes before and well after the start.
    let before = run.mean_latency("frontend", start - 600_000, start);
    let after = run.mean_latency("frontend", start + 900_000, start + 1_500_000);
    assert!(after > 5.0 * before, "frontend latency {before} -> {after}");
    // catalog-db's own server-side latency does not change: the delay is on the network.
    let db_before = run.mean_latency("catalog-db", start - 600_000, start);
    assert!(run.mean_latency("catalog-db", start + 900_000, start + 1_500_000) < 1.5 * db_before);
    // In traces, calls into catalog show a gap between the client span and the server span.
    let gap = run
        .spans
        .iter()
        .filter(|s| {
            s.start_ns > (start + 900_000) * 1_000_000
                && s.kind == kubepulse_model::SpanKind::Server
                && s.service == "catalog"
        })
        .filter_map(|server| {
            run.spans
                .iter()
                .find(|c| c.span_id == server.parent_span_id)
                .map(|client| (client.duration_ns() - server.duration_ns()) as f64 / 1e9)
        });
    let gaps: Vec<f64> = gap.collect();
    assert!(
        !gaps.is_empty() && gaps.iter().sum::<f64>() / gaps.len() as f64 > 0.5,
        "{gaps:?}"
    );
    let net = only_failures_of(&run, FailureType::NetworkDegradation);
    assert!(!net.is_empty() && net.iter().all(|f| f.t > start));
}

#[test]
fn packet_loss_drops_packets_of_the_target_service_only() {
    let run = Run::new(
        quiet(4, 60),
        Some(&scenario(
            "packet_loss",
            "namespace: shop, service: cart",
            0.8,
            "30m",
        )),
        40,
    );
    let start = run.at(20.0);
    for (labels, s) in run.select(
        "container_network_receive_packets_dropped_total",
        &[("namespace", "shop")],
    ) {
        let pod = labels.get("pod").unwrap_or("");
        let grew = s.last().map(|x| x.1).unwrap_or(0.0) - value_at(s, start).unwrap_or(0.0);
        if pod.starts_with("cart-") && !pod.starts_with("cart-cache") {
            assert!(grew > 0.0, "{pod} drops packets");
        } else {
            assert_eq!(grew, 0.0, "{pod} drops no packets");
        }
        assert_eq!(
            value_at(s, start).unwrap_or(0.0),
            0.0,
            "{pod} dropped nothing before the fault"
        );
    }
    let net = only_failures_of(&run, FailureType::NetworkDegradation);
    assert!(
        !net.is_empty(),
        "callers breach their SLO through loss: {:?}",
        run.truth.failures
    );
}

#[test]
fn disk_fill_brings_disk_pressure_and_evictions_on_one_node() {
    let run = Run::new(
        quiet(4, 60),
        Some(&scenario("disk_fill", "node: node-02", 0.9, "2h")),
        50,
    );
    let start = run.at(20.0);
    let avail = run.select("node_filesystem_avail_bytes", &[("node", "node-02")]);
    let s = avail[0].1;
    assert!(value_at(s, start + 600_000).unwrap() < value_at(s, start).unwrap() * 0.8);
    for other in ["node-01", "node-03", "node-04"] {
        let s = run.select("node_filesystem_avail_bytes", &[("node", other)])[0].1;
        let (lo, hi) = s
            .iter()
            .fold((f64::MAX, 0.0f64), |(lo, hi), x| (lo.min(x.1), hi.max(x.1)));
        assert!(lo > hi * 0.9, "{other} disk stays put");
    }
    let pressure = run.select(
        "kube_node_status_condition",
        &[("condition", "DiskPressure"), ("status", "true")],
    );
    for (labels, s) in pressure {
        let max = s.iter().map(|x| x.1).fold(0.0, f64::max);
        assert_eq!(
            max,
            if labels.get("node") == Some("node-02") {
                1.0
            } else {
                0.0
            },
            "{labels}"
        );
    }
    let evicted = run.events("Evicted");
    assert!(
        !evicted.is_empty()
            && evicted
                .iter()
                .all(|e| e.source.host == "node-02" && e.message.contains("ephemeral-storage"))
    );
    let dp = only_failures_of(&run, FailureType::DiskPressure);
    assert!(
        dp.iter()
            .any(|f| f.object.kind == "Node" && f.object.name == "node-02")
    );
    // Severity 0.9: the threshold is reached in about lerp(60, 8, 0.9) = 13 minutes.
    let first = dp.iter().map(|f| f.t).min().unwrap();
    assert!((9.0..=18.0).contains(&((first - start) as f64 / 60_000.0)));
}

#[test]
fn noisy_neighbour_saturates_one_node() {
    let run = Run::new(
        quiet(4, 60),
        Some(&scenario("noisy_neighbour", "node: node-01", 1.0, "30m")),
        45,
    );
    let start = run.at(20.0);
    let idle = |node: &str, from: i64, to: i64| -> f64 {
        run.select(
            "node_cpu_seconds_total",
            &[("node", node), ("mode", "idle")],
        )
        .iter()
        .map(|(_, s)| value_at(s, to).unwrap() - value_at(s, from).unwrap())
        .sum::<f64>()
            / ((to - from) as f64 / 1000.0)
    };
    let (before, during) = (
        idle("node-01", start - 600_000, start),
        idle("node-01", start + 900_000, start + 1_500_000),
    );
    assert!(
        during < 0.1 * before,
        "node-01 idle cores {before} -> {during}"
    );
    let other = (
        idle("node-02", start - 600_000, start),
        idle("node-02", start + 900_000, start + 1_500_000),
    );
    assert!(other.1 > 0.8 * other.0, "node-02 unaffected: {other:?}");
    let hog = run.select(
        "container_cpu_usage_seconds_total",
        &[("namespace", "batch")],
    );
    assert!(hog.iter().any(
        |(l, _)| l.get("pod").is_some_and(|p| p.starts_with("data-export-"))
            && l.get("node") == Some("node-01")
    ));
}

#[test]
fn failing_dependency_raises_errors_of_it_and_its_callers() {
    let run = Run::new(
        quiet(4, 60),
        Some(&scenario(
            "failing_dependency",
            "namespace: shop, service: catalog-db",
            0.9,
            "30m",
        )),
        40,
    );
    let start = run.at(20.0);
    let grew = |code: &str, svc: &str| -> f64 {
        run.select("http_requests_total", &[("code", code), ("service", svc)])
            .iter()
            .map(|(_, s)| s.last().map(|x| x.1).unwrap_or(0.0) - value_at(s, start).unwrap_or(0.0))
            .sum()
    };
    let names = [
        "frontend",
        "cart",
        "catalog",
        "recommendation",
        "currency",
        "ad",
        "checkout",
        "payment",
        "shipping",
        "email",
        "cart-cache",
        "catalog-db",
    ];
    let services: std::collections::BTreeSet<&str> = names
        .into_iter()
        .filter(|s| grew("500", s) > 0.02 * grew("200", s))
        .collect();
    for s in ["catalog-db", "catalog", "frontend"] {
        assert!(services.contains(s), "{s} in {services:?}");
    }
    for s in [
        "payment",
        "shipping",
        "email",
        "currency",
        "ad",
        "cart-cache",
    ] {
        assert!(!services.contains(s), "{s} stays healthy: {services:?}");
    }
    let dep = only_failures_of(&run, FailureType::DependencyFailure);
    assert!(!dep.is_empty() && dep.iter().all(|f| f.t > start && f.fault.is_some()));

    // The service graph counts the failing calls on the edges into catalog-db only.
    let edge = |name: &str, client: &str, server: &str| -> f64 {
        run.select(name, &[("client", client), ("server", server)])
            .iter()
            .map(|(_, s)| s.last().map(|x| x.1).unwrap_or(0.0) - value_at(s, start).unwrap_or(0.0))
            .sum()
    };
    let total = "traces_service_graph_request_total";
    let failed = "traces_service_graph_request_failed_total";
    let (calls, fails) = (
        edge(total, "catalog", "catalog-db"),
        edge(failed, "catalog", "catalog-db"),
    );
    assert!(calls > 0.0 && fails > 0.3 * calls, "{fails} of {calls}");
    let (calls, fails) = (
        edge(total, "checkout", "payment"),
        edge(failed, "checkout", "payment"),
    );
    assert!(calls > 0.0 && fails < 0.01 * calls, "{fails} of {calls}");
    let (sum, count) = (
        edge(
            "traces_service_graph_request_server_seconds_sum",
            "catalog",
            "catalog-db",
        ),
        edge(
            "traces_service_graph_request_server_seconds_count",
            "catalog",
            "catalog-db",
        ),
    );
    assert!(
        count > 0.0 && sum / count > 0.0 && sum / count < 2.0,
        "{sum} / {count}"
    );
}
