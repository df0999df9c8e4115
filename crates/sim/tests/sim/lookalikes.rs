//! Harmless look-alikes happen without failures.

use kubepulse_sim::truth::LookalikeKind;
use kubepulse_sim::{SimConfig, Simulator};

#[test]
fn look_alikes_occur_and_nothing_fails() {
    let cfg = SimConfig {
        seed: 3,
        nodes: 6,
        pods: 150,
        chaos_per_hour: 0.0,
        lookalikes: true,
        rollouts_per_day: 6.0,
        ..SimConfig::default()
    };
    let mut sim = Simulator::new(cfg, None, None).unwrap();
    let mut max_cache_ratio = 0.0f64;
    for _ in 0..(24 * 60 * 4) {
        sim.step();
        let c = &sim.world().cluster;
        for &p in &c.live {
            let pod = &c.pods[p];
            if pod.effects.cache_target > 0.0 && pod.template.limits.memory > 0.0 {
                max_cache_ratio =
                    max_cache_ratio.max(pod.usage.working_set / pod.template.limits.memory);
            }
        }
    }
    let t = sim.truth();
    for kind in [
        LookalikeKind::CacheGrowth,
        LookalikeKind::LoadSpike,
        LookalikeKind::Rollout,
        LookalikeKind::BatchCpu,
    ] {
        assert!(
            t.lookalikes.iter().any(|l| l.kind == kind),
            "{kind:?} missing"
        );
    }
    assert!(t.faults.is_empty());
    assert!(
        t.failures.is_empty(),
        "look-alikes must not fail: {:#?}",
        t.failures
    );
    // Caches climb high enough to look like leaks, yet stay under the limit.
    assert!(
        max_cache_ratio > 0.6 && max_cache_ratio < 1.0,
        "{max_cache_ratio}"
    );
}
