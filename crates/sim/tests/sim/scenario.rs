//! Scenario files: shipped examples load and run; malformed ones are refused with the file,
//! line and field at fault.

use kubepulse_sim::{Scenario, SimConfig, SimError, Simulator};

fn err(src: &str) -> (u64, String, String) {
    let sc = Scenario::parse("bad.yaml", src);
    let e = match sc {
        Ok(sc) => Simulator::new(
            SimConfig {
                nodes: 4,
                pods: 60,
                ..SimConfig::default()
            },
            Some(&sc),
            None,
        )
        .map(|_| ())
        .unwrap_err(),
        Err(e) => e,
    };
    match e {
        SimError::Scenario {
            file,
            line,
            field,
            message,
            ..
        } => {
            assert_eq!(file, "bad.yaml");
            (line, field, message)
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn errors_name_file_line_and_field() {
    let cases: [(&str, u64, &str, &str); 8] = [
        (
            "faults:\n  - kind: memory_leek\n    at: 1m\n",
            2,
            "faults[0].kind",
            "unknown variant",
        ),
        (
            "faults:\n  - kind: cpu_hog\n    at: soon\n    target: {namespace: shop, workload: cart}\n",
            3,
            "faults[0].at",
            "invalid duration",
        ),
        (
            "faults:\n  - kind: cpu_hog\n    at: 1m\n    target: {namespace: shop, workload: cart}\n    severity: 3\n",
            5,
            "faults[0].severity",
            "outside",
        ),
        (
            "faults:\n  - kind: cpu_hog\n    at: 1m\n    target: {namespace: shop, workload: cart}\n  - kind: disk_fill\n    at: 2m\n    target: {namespace: shop}\n",
            7,
            "faults[1].target",
            "needs `node`",
        ),
        (
            "faults:\n  - kind: disk_fill\n    at: 2m\n    target: {node: node-99}\n",
            4,
            "faults[0].target.node",
            "no node named",
        ),
        (
            "faults:\n  - kind: cpu_hog\n    at: 2m\n    target: {namespace: shop, workload: nope}\n",
            4,
            "faults[0].target.workload",
            "no workload",
        ),
        (
            "faults:\n  - kind: cpu_hog\n    at: 2m\n    sevrity: 0.5\n",
            4,
            "faults[0].sevrity",
            "unknown field",
        ),
        (
            "faults:\n  - kind: cpu_hog\n    target: {namespace: shop, workload: cart}\n",
            3,
            "faults[0].at",
            "missing field",
        ),
    ];
    for (src, line, field, msg) in cases {
        let (l, f, m) = err(src);
        assert_eq!((l, f.as_str()), (line, field), "{src}");
        assert!(m.contains(msg), "{m:?} should contain {msg:?}");
    }
    let (l, _, m) = err("faults: [\n");
    assert_eq!(l, 1);
    assert!(!m.is_empty());
}

#[test]
fn shipped_scenarios_load_and_run() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/scenarios");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        let sc = Scenario::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut sim = Simulator::new(
            SimConfig {
                nodes: 4,
                pods: 60,
                ..SimConfig::default()
            },
            Some(&sc),
            None,
        )
        .unwrap();
        for _ in 0..8 {
            sim.step();
        }
        n += 1;
    }
    assert!(n >= 3);
}
