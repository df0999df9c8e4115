//! How faults end: the remedy at a fault's end leaves the cluster as an operator's would (a
//! leaking pod deleted and replaced, a rollout undone back to the ReplicaSet that ran before).

use kubepulse_sim::FailureType;

use super::support::{Run, bad_rollout_run, only_failures_of, quiet, scenario};

#[test]
fn a_leak_ends_with_its_pod_deleted_and_replaced() {
    // The leak starts at 20 min and is dealt with at 26 min, before it reaches the limit.
    let run = Run::new(
        quiet(4, 60),
        Some(&scenario(
            "memory_leak",
            "namespace: shop, workload: cart",
            0.5,
            "6m",
        )),
        35,
    );
    let target = run.truth.faults[0].target.name.clone();
    assert!(only_failures_of(&run, FailureType::Oom).is_empty());
    let killed = run.events("Killing");
    assert!(
        killed
            .iter()
            .any(|e| e.involved_object.name == target && e.first_timestamp >= run.at(25.0)),
        "{target} is deleted at the fault's end"
    );
    let ws = run.pod_values("container_memory_working_set_bytes", &target);
    assert!(
        ws.iter().all(|(t, _)| *t <= run.at(27.0)),
        "{target} reports nothing after its deletion"
    );
}

#[test]
fn a_leak_dealt_with_in_time_records_the_kill_it_averted() {
    // The same leak, dealt with after 6 minutes in one run and left to run in the other: the
    // averted OOM kill the first records comes about when the second's container is killed.
    let leak = |duration: &str| {
        Run::new(
            quiet(4, 60),
            Some(&scenario(
                "memory_leak",
                "namespace: shop, workload: cart",
                0.9,
                duration,
            )),
            50,
        )
    };
    let (fixed, left) = (leak("6m"), leak("30m"));
    let target = fixed.truth.faults[0].target.name.clone();
    assert!(only_failures_of(&fixed, FailureType::Oom).is_empty());
    let averted: Vec<_> = fixed.truth.averted.iter().collect();
    assert_eq!(averted.len(), 1, "{averted:?}");
    assert_eq!(averted[0].failure_type, FailureType::Oom);
    assert_eq!(averted[0].object.name, target);
    assert_eq!(averted[0].fault, Some(fixed.truth.faults[0].id));
    let killed = only_failures_of(&left, FailureType::Oom);
    let first = killed
        .iter()
        .filter(|f| f.object.name == target)
        .map(|f| f.t)
        .min();
    let Some(first) = first else {
        panic!("the leak left to run kills {target}: {killed:?}");
    };
    assert!(averted[0].t > fixed.at(26.0) && first > fixed.at(26.0));
    assert!(
        (averted[0].t - first).abs() <= 60_000,
        "averted at {}, killed at {first}",
        averted[0].t
    );
    assert!(left.truth.averted.iter().all(|f| f.object.name != target));
}

#[test]
fn a_disk_fill_dealt_with_in_time_records_the_pressure_it_averted() {
    let fill = |duration: &str| {
        Run::new(
            quiet(4, 60),
            Some(&scenario("disk_fill", "node: node-02", 0.9, duration)),
            50,
        )
    };
    let (fixed, left) = (fill("6m"), fill("30m"));
    assert!(only_failures_of(&fixed, FailureType::DiskPressure).is_empty());
    let averted: Vec<_> = fixed
        .truth
        .averted
        .iter()
        .filter(|f| f.object.kind == "Node")
        .collect();
    assert_eq!(averted.len(), 1, "{:?}", fixed.truth.averted);
    assert_eq!(averted[0].object.name, "node-02");
    let pressure = only_failures_of(&left, FailureType::DiskPressure);
    let Some(first) = pressure
        .iter()
        .filter(|f| f.object.kind == "Node" && f.object.name == "node-02")
        .map(|f| f.t)
        .min()
    else {
        panic!("the fill left to run brings disk pressure: {pressure:?}");
    };
    assert!(
        (averted[0].t - first).abs() <= 60_000,
        "averted at {}, pressure at {first}",
        averted[0].t
    );
}

#[test]
fn a_rollout_undone_in_time_records_the_crash_loops_it_averted() {
    // Undone after 2 minutes in one run and after 10 in the other: each crash loop the first
    // records as averted comes in the second, for the same pod, about when projected.
    let (fixed, left) = (bad_rollout_run("2m"), bad_rollout_run("10m"));
    let averted: Vec<_> = fixed
        .truth
        .averted
        .iter()
        .filter(|f| f.failure_type == FailureType::CrashLoop)
        .collect();
    assert!(!averted.is_empty(), "{:?}", fixed.truth.averted);
    let loops = only_failures_of(&left, FailureType::CrashLoop);
    for a in averted {
        let came = loops
            .iter()
            .filter(|f| f.object.name == a.object.name)
            .map(|f| f.t)
            .min();
        assert!(
            came.is_some_and(|t| (t - a.t).abs() <= 30_000),
            "{} averted at {}, came at {came:?}",
            a.object.name,
            a.t
        );
    }
}

#[test]
fn an_undone_rollout_brings_back_the_old_replica_set() {
    // The bad build rolls out at 20 min and is undone at 30 min.
    let run = bad_rollout_run("10m");
    let created = run.select("kube_replicaset_created", &[("namespace", "shop")]);
    let sets: Vec<(&str, f64)> = created
        .iter()
        .filter_map(|(l, s)| {
            let name = l.get("replicaset")?;
            let at = s.last()?.1;
            name.starts_with("recommendation-").then_some((name, at))
        })
        .collect();
    assert_eq!(
        sets.len(),
        2,
        "the first ReplicaSet and the bad build's: {sets:?}"
    );
    let first = sets.iter().map(|s| s.1).fold(f64::INFINITY, f64::min);
    let bad = sets.iter().map(|s| s.1).fold(f64::NEG_INFINITY, f64::max);
    assert!(
        bad * 1000.0 >= run.at(19.0) as f64 && first * 1000.0 < run.at(0.0) as f64,
        "{sets:?}"
    );
    let Some((old, _)) = sets.iter().find(|s| s.1 == first) else {
        panic!("{sets:?}");
    };
    // After the undo, the old ReplicaSet holds the replicas again.
    let end = run.at(44.0);
    for (name, want) in [
        (*old, true),
        (
            sets.iter().map(|s| s.0).find(|n| n != old).unwrap_or(""),
            false,
        ),
    ] {
        let replicas = run.select("kube_replicaset_spec_replicas", &[("replicaset", name)]);
        let last = replicas
            .iter()
            .filter_map(|(_, s)| s.last())
            .find(|x| x.0 >= end);
        assert_eq!(last.map(|x| x.1 > 0.0), Some(want), "{name}: {last:?}");
    }
}
