//! Log benchmarks: template mining throughput.

use std::path::Path;

use anyhow::Context;
use kubepulse_intel::templates::{Drain, Settings};
use kubepulse_model::clock::Stopwatch;

/// Every raw line of every LogHub system, `rounds` times through one parser on this thread.
pub fn templates(dir: &Path, rounds: usize) -> anyhow::Result<()> {
    let mut lines = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("{}", dir.display()))? {
        let path = entry?.path();
        let Some(system) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let log = path.join(format!("{system}_2k.log"));
        if log.is_file() {
            let text =
                std::fs::read_to_string(&log).with_context(|| format!("{}", log.display()))?;
            lines.extend(text.lines().map(str::to_string));
        }
    }
    anyhow::ensure!(
        !lines.is_empty(),
        "no <System>_2k.log under {}",
        dir.display()
    );
    let bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
    let mut drain = Drain::new(Settings::default());
    let mut sum = 0u64;
    let w = Stopwatch::start();
    for _ in 0..rounds {
        for l in &lines {
            sum += u64::from(drain.add(l));
        }
    }
    let secs = w.elapsed_secs();
    std::hint::black_box(sum);
    let n = (lines.len() * rounds) as f64;
    println!(
        "{} lines ({} rounds of {}, {:.1} MB) in {:.2} s: {:.2} M lines/s, {:.0} MB/s on one thread; {} templates",
        lines.len() * rounds,
        rounds,
        lines.len(),
        (bytes * rounds) as f64 / 1e6,
        secs,
        n / secs / 1e6,
        (bytes * rounds) as f64 / secs / 1e6,
        drain.len()
    );
    Ok(())
}
