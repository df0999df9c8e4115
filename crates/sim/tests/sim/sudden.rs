//! Sudden faults: their signature appears in the right series and events, at the right time,
//! and only there.

use kubepulse_sim::FailureType;

use super::support::{Run, only_failures_of, quiet, scenario, value_at};

#[test]
fn image_pull_failure_backs_off_pulling() {
    let run = Run::new(
        quiet(4, 60),
        Some(&scenario(
            "image_pull_failure",
            "namespace: shop, workload: currency",
            0.5,
            "1h",
        )),
        30,
    );
    let start = run.at(20.0);
    let failed: Vec<_> = run
        .events("Failed")
        .into_iter()
        .filter(|e| e.message.starts_with("Failed to pull image"))
        .collect();
    assert!(!failed.is_empty());
    assert!(
        failed
            .iter()
            .all(|e| e.involved_object.name.starts_with("currency-") && e.first_timestamp > start)
    );
    assert!(
        run.events("BackOff")
            .iter()
            .all(|e| e.message.starts_with("Back-off pulling image"))
    );
    let pulls = only_failures_of(&run, FailureType::ImagePull);
    assert!(!pulls.is_empty() && pulls.iter().all(|f| f.object.name.starts_with("currency-")));
    let waiting = run.select(
        "kube_pod_container_status_waiting_reason",
        &[("reason", "ImagePullBackOff")],
    );
    assert!(!waiting.is_empty());
}

#[test]
fn node_failure_goes_not_ready_then_evicts_by_taint() {
    let run = Run::new(
        quiet(4, 60),
        Some(&scenario("node_failure", "node: node-03", 1.0, "20m")),
        50,
    );
    let start = run.at(20.0);
    let nr = run.events("NodeNotReady");
    let node_events: Vec<_> = nr
        .iter()
        .filter(|e| e.involved_object.kind == "Node")
        .collect();
    assert_eq!(node_events.len(), 1);
    assert_eq!(node_events[0].involved_object.name, "node-03");
    let delay = node_events[0].first_timestamp - start;
    assert!(
        (30_000..=60_000).contains(&delay),
        "NotReady after {delay} ms (node monitor grace period is 40 s)"
    );
    let unknown = run.select(
        "kube_node_status_condition",
        &[
            ("node", "node-03"),
            ("condition", "Ready"),
            ("status", "unknown"),
        ],
    );
    assert_eq!(value_at(unknown[0].1, start + 120_000), Some(1.0));
    // node-exporter goes silent while the node is down.
    let cpu = run.select("node_load1", &[("node", "node-03")]);
    assert!(
        cpu[0]
            .1
            .iter()
            .all(|(t, _)| *t < start || *t >= start + 20 * 60_000)
    );
    assert!(
        cpu[0].1.iter().any(|(t, _)| *t > start + 20 * 60_000),
        "node-exporter is back after the node recovers"
    );
    // The scrape of node-exporter fails: `up` is 0 from the first scrape after the crash.
    let up = run.select("up", &[("node", "node-03"), ("job", "node-exporter")]);
    assert_eq!(up.len(), 1);
    assert_eq!(value_at(up[0].1, start - 15_000), Some(1.0));
    assert_eq!(value_at(up[0].1, start + 15_000), Some(0.0));
    assert_eq!(value_at(up[0].1, start + 19 * 60_000), Some(0.0));
    assert_eq!(value_at(up[0].1, start + 22 * 60_000), Some(1.0));
    let taint = run.events("TaintManagerEviction");
    assert!(!taint.is_empty());
    let first = taint.iter().map(|e| e.first_timestamp).min().unwrap();
    assert!(
        first - node_events[0].first_timestamp >= 300_000,
        "pods are evicted after the 5-minute toleration"
    );
    assert!(
        run.events("NodeReady")
            .iter()
            .any(|e| e.involved_object.name == "node-03")
    );
    let nf = only_failures_of(&run, FailureType::NodeFailure);
    assert_eq!(nf.len(), 1);
}

#[test]
fn unschedulable_rollout_leaves_pods_pending() {
    let run = Run::new(
        quiet(4, 60),
        Some(&scenario(
            "unschedulable",
            "namespace: shop, workload: ad",
            0.5,
            "1h",
        )),
        30,
    );
    let fs = run.events("FailedScheduling");
    assert!(!fs.is_empty());
    assert!(fs.iter().all(
        |e| e.involved_object.name.starts_with("ad-") && e.message.contains("Insufficient cpu")
    ));
    let pending = run.select("kube_pod_status_phase", &[("phase", "Pending")]);
    let stuck: Vec<_> = pending
        .iter()
        .filter(|(_, s)| s.last().map(|x| x.1) == Some(1.0))
        .collect();
    assert!(
        !stuck.is_empty()
            && stuck
                .iter()
                .all(|(l, _)| l.get("pod").is_some_and(|p| p.starts_with("ad-")))
    );
    assert!(
        only_failures_of(&run, FailureType::Unschedulable)
            .iter()
            .all(|f| f.object.name.starts_with("ad-"))
    );
}
