//! Simulator throughput on the 50-node, 1,000-pod cluster of the dataset benchmark: one step
//! alone, and one step written to a dataset. Criterion reports samples per second.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kubepulse_sim::dataset::DatasetWriter;
use kubepulse_sim::{SimConfig, Simulator};

fn cluster() -> Simulator {
    let cfg = SimConfig {
        nodes: 50,
        pods: 1000,
        ..SimConfig::default()
    };
    match Simulator::new(cfg, None, None) {
        Ok(s) => s,
        Err(e) => panic!("simulator: {e}"),
    }
}

fn bench(c: &mut Criterion) {
    let mut sim = cluster();
    let per_step = sim.step().samples.len() as u64;
    let mut g = c.benchmark_group("simulate_1000_pods");
    g.throughput(Throughput::Elements(per_step));
    g.sample_size(30);
    g.bench_function("step", |b| b.iter(|| sim.step()));
    let dir = std::env::temp_dir().join(format!("kubepulse-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut sim = cluster();
    let mut writer = match DatasetWriter::create(&dir, sim.config().step.ms()) {
        Ok(w) => w,
        Err(e) => panic!("writer: {e}"),
    };
    g.bench_function("step_and_write", |b| {
        b.iter(|| {
            let batch = sim.step();
            if let Err(e) = writer.write(&batch) {
                panic!("write: {e}");
            }
        })
    });
    g.finish();
    drop(writer);
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);
