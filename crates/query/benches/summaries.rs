//! Window summaries of one scoring step: the pod signal features of 10,000 pods from their
//! windows (30 signals over the long window), as live scoring computes them every interval.
//! Criterion reports pods per second.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kubepulse_query::features::{FeatureSpec, ObjectKind, signal_values_into, signals, window_len};

const PODS: usize = 10_000;

/// Windows like a cluster's: climbs with noise and a sawtooth, flat lines, some gaps, and a
/// third of the signals absent (no service, no dependency).
fn windows(pods: usize, spec: FeatureSpec) -> Vec<Vec<f64>> {
    let (n, len) = (signals(ObjectKind::Pod).len(), window_len(spec));
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..pods)
        .map(|_| {
            let mut w = Vec::with_capacity(n * len);
            for _ in 0..n {
                let (kind, level, slope) = (next(), next(), next() * 0.01);
                for i in 0..len {
                    let gap = kind < 0.3 || (kind < 0.4 && next() < 0.1);
                    let v = if gap {
                        f64::NAN
                    } else if kind < 0.6 {
                        level
                    } else {
                        level + slope * i as f64 + 0.05 * (i % 4) as f64 + 0.01 * next()
                    };
                    w.push(v);
                }
            }
            w
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let spec = FeatureSpec::default();
    let len = window_len(spec);
    let pods = windows(PODS, spec);
    let mut g = c.benchmark_group("window_summaries");
    g.throughput(Throughput::Elements(PODS as u64));
    g.sample_size(20);
    let mut values = Vec::new();
    g.bench_function("10000_pods", |b| {
        b.iter(|| {
            let mut present = 0;
            for w in &pods {
                let slices: Vec<&[f64]> = w.chunks_exact(len).collect();
                present += usize::from(signal_values_into(
                    ObjectKind::Pod,
                    &slices,
                    spec,
                    &mut values,
                ));
            }
            present
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
