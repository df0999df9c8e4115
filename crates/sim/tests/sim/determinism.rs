//! The same seed and scenario give byte-identical datasets; another seed gives another dataset.

use std::collections::BTreeMap;
use std::path::Path;

use kubepulse_sim::dataset::DatasetWriter;
use kubepulse_sim::{Scenario, SimConfig, Simulator};

const SCENARIO: &str = "faults:\n  - kind: memory_leak\n    at: 5m\n    target: {namespace: shop, workload: cart}\n    severity: 0.9\n";

fn write(dir: &Path, seed: u64) {
    let cfg = SimConfig {
        seed,
        nodes: 4,
        pods: 60,
        chaos_per_hour: 6.0,
        ..SimConfig::default()
    };
    let sc = Scenario::parse("s.yaml", SCENARIO).unwrap();
    let mut sim = Simulator::new(cfg.clone(), Some(&sc), None).unwrap();
    let mut w = DatasetWriter::create(dir, cfg.step.ms()).unwrap();
    for _ in 0..(90 * 4) {
        w.write(&sim.step()).unwrap();
    }
    w.finish(&cfg, Some("s.yaml"), sim.truth()).unwrap();
}

fn contents(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for sub in ["", "metrics"] {
        for e in std::fs::read_dir(dir.join(sub)).unwrap() {
            let p = e.unwrap().path();
            if p.is_file() {
                out.insert(
                    format!("{sub}/{}", p.file_name().unwrap().to_string_lossy()),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    out
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        tmp.path().join("a"),
        tmp.path().join("b"),
        tmp.path().join("c"),
    );
    write(&a, 7);
    write(&b, 7);
    write(&c, 8);
    let (ca, cb, cc) = (contents(&a), contents(&b), contents(&c));
    assert!(ca.len() >= 9, "{:?}", ca.keys());
    assert_eq!(ca.keys().collect::<Vec<_>>(), cb.keys().collect::<Vec<_>>());
    for (name, bytes) in &ca {
        assert!(
            bytes == &cb[name],
            "{name} differs between two runs with the same seed"
        );
    }
    assert_ne!(ca["/labels.json"], cc["/labels.json"]);
    assert_ne!(
        ca["metrics/series.jsonl.zst"],
        cc["metrics/series.jsonl.zst"]
    );
}
