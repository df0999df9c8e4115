//! Pods never exceed node capacity: requests fit allocatable resources and no node holds more
//! than its pod limit, through chaos, rollouts and evictions, on many seeds and sizes.

use kubepulse_sim::{SimConfig, Simulator};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    #[test]
    fn requests_never_exceed_allocatable(seed in 0u64..1000, nodes in 2u32..8, extra in 0u32..400) {
        let pods = nodes * 3 + 20 + extra;
        let cfg = SimConfig { seed, nodes, pods, chaos_per_hour: 20.0, rollouts_per_day: 24.0, ..SimConfig::default() };
        let mut sim = Simulator::new(cfg, None, None).unwrap();
        for _ in 0..(3 * 60 * 4) {
            sim.step();
            let c = &sim.world().cluster;
            for n in 0..c.nodes.len() {
                let used = c.requested_on(n);
                let node = &c.nodes[n];
                prop_assert!(used.cpu <= node.alloc_cpu + 1e-9, "{} cpu {} > {}", node.name, used.cpu, node.alloc_cpu);
                prop_assert!(used.memory <= node.alloc_memory + 1e-3, "{} memory", node.name);
                prop_assert!(c.pod_count_on(n) <= node.max_pods);
            }
        }
    }
}

#[test]
fn oversubscribed_clusters_leave_pods_pending() {
    // Far more pods than two nodes can hold: the rest wait with FailedScheduling.
    let cfg = SimConfig {
        nodes: 2,
        pods: 400,
        chaos_per_hour: 0.0,
        ..SimConfig::default()
    };
    let mut sim = Simulator::new(cfg, None, None).unwrap();
    let mut reasons = Vec::new();
    for _ in 0..8 {
        reasons.extend(
            sim.step()
                .events
                .into_iter()
                .filter(|e| e.reason == "FailedScheduling")
                .map(|e| e.message),
        );
    }
    let c = &sim.world().cluster;
    let pending = c.live.iter().filter(|&&p| c.pods[p].node.is_none()).count();
    assert!(pending > 100, "{pending} pending");
    assert!(
        c.live.iter().all(|&p| c.pods[p].node.is_none()
            || c.pods[p].holds_resources()
            || c.pods[p].finished())
    );
    assert!(
        reasons
            .iter()
            .any(|m| m.starts_with("0/2 nodes are available:")
                && (m.contains("Insufficient") || m.contains("Too many pods"))),
        "{reasons:?}"
    );
}
