//! Datasets read back exactly what the simulator emitted.

use std::collections::HashMap;

use kubepulse_model::{K8sEvent, LogRecord, ObjectState, Span};
use kubepulse_sim::dataset::{DatasetReader, DatasetWriter};
use kubepulse_sim::{SimConfig, SimError, Simulator};

#[test]
fn round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ds");
    let cfg = SimConfig {
        nodes: 3,
        pods: 40,
        chaos_per_hour: 4.0,
        ..SimConfig::default()
    };
    let mut sim = Simulator::new(cfg.clone(), None, None).unwrap();
    let mut w = DatasetWriter::create(&dir, cfg.step.ms()).unwrap();
    let mut expected: HashMap<(u32, i64), f64> = HashMap::new();
    let (mut events, mut logs, mut spans, mut objects) = (0, 0, 0, 0);
    for _ in 0..(80 * 4) {
        let b = sim.step();
        for &(id, v) in &b.samples {
            expected.insert((id, b.t), v);
        }
        events += b.events.len();
        logs += b.logs.len();
        spans += b.spans.len();
        objects += b.objects.len();
        w.write(&b).unwrap();
    }
    let counts = w.finish(&cfg, None, sim.truth()).unwrap();
    let r = DatasetReader::open(&dir).unwrap();
    assert_eq!(r.manifest.counts, counts);
    assert_eq!(r.manifest.config, cfg);
    let series = r.series().unwrap();
    assert_eq!(series.len() as u64, counts.series);
    assert!(
        series
            .iter()
            .all(|s| s.labels.validate().is_ok() && s.labels.metric_name().is_some())
    );
    let mut got = 0usize;
    let blocks = r.block_paths().unwrap();
    assert_eq!(blocks.len(), 2, "80 minutes from midnight span two hours");
    for p in blocks {
        let b = r.block(&p).unwrap();
        for (id, cells) in &b.rows {
            for (t, v) in b.timestamps.iter().zip(cells) {
                if let Some(v) = v {
                    assert_eq!(expected.get(&(*id, *t)), Some(v));
                    got += 1;
                }
            }
        }
    }
    assert_eq!(got, expected.len());
    assert_eq!(
        r.jsonl::<K8sEvent>("events.jsonl.zst").unwrap().len(),
        events
    );
    assert_eq!(r.jsonl::<LogRecord>("logs.jsonl.zst").unwrap().len(), logs);
    assert_eq!(r.jsonl::<Span>("spans.jsonl.zst").unwrap().len(), spans);
    assert_eq!(
        r.jsonl::<ObjectState>("objects.jsonl.zst").unwrap().len(),
        objects
    );
    assert_eq!(&r.truth().unwrap(), sim.truth());
}

#[test]
fn refuses_non_empty_directories_and_foreign_manifests() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("x"), "x").unwrap();
    assert!(matches!(
        DatasetWriter::create(tmp.path(), 15_000),
        Err(SimError::Dataset { .. })
    ));
    std::fs::write(
        tmp.path().join("manifest.json"),
        r#"{"format":"other","version":1}"#,
    )
    .unwrap();
    assert!(DatasetReader::open(tmp.path()).is_err());
}
