//! Training data for failure prediction: a simulated or recorded cluster's series as a query
//! source, its failures attributed to the pods and nodes that features describe (a service's
//! failure to the pods serving it at the time), and labelled feature windows.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use kubepulse_intel::labels::{Failure, FailureClass, Horizon, Labeller};
use kubepulse_model::Labels;
use kubepulse_model::parse_duration;
use kubepulse_query::features::{FeatureSpec, ObjectKind, compute, service_members};
use kubepulse_query::{Engine, MemSource};
use kubepulse_sim::dataset::DatasetReader;
use kubepulse_sim::{FailureType, SimConfig, Simulator, Truth};
use tracing::info;

use crate::cli::EpisodeArgs;
use crate::config::Config;

/// A stretch of a cluster's life: its series, what failed, and when it ran.
pub struct Episode {
    /// The series.
    pub src: MemSource,
    /// Ground truth.
    pub truth: Truth,
    /// First step (ms).
    pub start: i64,
    /// Last step (ms).
    pub end: i64,
}

impl Episode {
    /// Runs the simulator for `minutes`.
    pub fn simulate(cfg: SimConfig, minutes: i64) -> anyhow::Result<Self> {
        let mut sim = Simulator::new(cfg, None, None)?;
        let step = sim.config().step.ms();
        let mut labels: BTreeMap<u32, Labels> = BTreeMap::new();
        let mut samples: BTreeMap<u32, Vec<(i64, f64)>> = BTreeMap::new();
        let start = sim.now() + step;
        for _ in 0..(minutes * 60_000 / step) {
            let b = sim.step();
            for d in b.new_series {
                let pairs = d.labels.iter().map(|l| (l.name.clone(), l.value.clone()));
                labels.insert(d.id, Labels::from_pairs(pairs)?);
            }
            for (id, v) in b.samples {
                samples.entry(id).or_default().push((b.t, v));
            }
        }
        let mut src = MemSource::new();
        for (id, s) in samples {
            if let Some(l) = labels.get(&id) {
                src.add(l.clone(), s);
            }
        }
        Ok(Self {
            src,
            truth: sim.truth().clone(),
            start,
            end: sim.now(),
        })
    }

    /// Reads a dataset written by `kubepulse simulate`.
    pub fn from_dataset(dir: &Path) -> anyhow::Result<Self> {
        let r = DatasetReader::open(dir)?;
        let labels: BTreeMap<u32, Labels> =
            r.series()?.into_iter().map(|s| (s.id, s.labels)).collect();
        let mut samples: BTreeMap<u32, Vec<(i64, f64)>> = BTreeMap::new();
        let (mut start, mut end) = (i64::MAX, i64::MIN);
        for path in r.block_paths()? {
            let b = r.block(&path)?;
            if let (Some(first), Some(last)) = (b.timestamps.first(), b.timestamps.last()) {
                start = start.min(*first);
                end = end.max(*last);
            }
            for (id, cells) in b.rows {
                let s = samples.entry(id).or_default();
                s.extend(
                    b.timestamps
                        .iter()
                        .zip(cells)
                        .filter_map(|(t, v)| v.map(|v| (*t, v))),
                );
            }
        }
        let mut src = MemSource::new();
        for (id, s) in samples {
            let l = labels
                .get(&id)
                .with_context(|| format!("{}: series {id} has no labels", dir.display()))?;
            src.add(l.clone(), s);
        }
        Ok(Self {
            src,
            truth: r.truth()?,
            start,
            end,
        })
    }
}

/// The episodes `args` name, and a sentence saying what they are.
pub fn load(cfg: &Config, args: &EpisodeArgs) -> anyhow::Result<(Vec<Episode>, String)> {
    if args.simulate {
        let minutes = parse_duration(&args.duration)
            .map_err(|e| anyhow::anyhow!("--duration: {e}"))?
            / 60_000;
        if minutes <= 0 {
            anyhow::bail!("--duration: must be at least a minute");
        }
        let mut sc = cfg.simulator.cluster.clone();
        sc.seed = args.seed;
        sc.nodes = args.nodes;
        sc.pods = args.pods;
        sc.chaos_per_hour = args.chaos_per_hour;
        sc.validate()?;
        info!(
            seed = sc.seed,
            nodes = sc.nodes,
            pods = sc.pods,
            minutes,
            "simulating"
        );
        let what = format!(
            "simulated: seed {}, {} nodes, {} pods, {} min, {} faults/h",
            sc.seed, sc.nodes, sc.pods, minutes, sc.chaos_per_hour
        );
        return Ok((vec![Episode::simulate(sc, minutes)?], what));
    }
    if args.data.is_empty() {
        anyhow::bail!("give --data DIR (repeatable) or --simulate");
    }
    let mut eps = Vec::new();
    for d in &args.data {
        info!(dataset = %d.display(), "reading");
        eps.push(Episode::from_dataset(d)?);
    }
    let names: Vec<String> = args.data.iter().map(|d| d.display().to_string()).collect();
    Ok((eps, format!("datasets: {}", names.join(", "))))
}

/// The class a failure type trains; `None` for failures nothing can announce or that the
/// classes leave out (a missing image).
pub fn class_of(t: FailureType) -> Option<FailureClass> {
    Some(match t {
        FailureType::Oom => FailureClass::Oom,
        FailureType::CrashLoop => FailureClass::CrashLoop,
        FailureType::CpuSaturation => FailureClass::CpuSaturation,
        FailureType::DiskPressure => FailureClass::DiskPressure,
        FailureType::NodeFailure => FailureClass::NodeFailure,
        FailureType::NetworkDegradation => FailureClass::NetworkDegradation,
        FailureType::Unschedulable => FailureClass::Unschedulable,
        FailureType::DependencyFailure => FailureClass::DependencyFailure,
        FailureType::ImagePull => return None,
    })
}

/// The episode's failures as objects of `kind` name them (`namespace/pod`, or the node).
pub fn failures(ep: &Episode, engine: &Engine, kind: ObjectKind) -> anyhow::Result<Vec<Failure>> {
    let members = service_members(engine, &ep.src, ep.start, ep.end, 60_000)?;
    let mut out = Vec::new();
    for f in &ep.truth.failures {
        let Some(class) = class_of(f.failure_type) else {
            continue;
        };
        let o = &f.object;
        match (kind, o.kind.as_str()) {
            (ObjectKind::Pod, "Pod") => out.push(Failure {
                t: f.t,
                object: format!("{}/{}", o.namespace, o.name),
                class,
            }),
            (ObjectKind::Pod, "Service") => {
                let key = (o.namespace.clone(), o.name.clone());
                for m in members.get(&key).into_iter().flatten() {
                    if m.from <= f.t && f.t <= m.to + 60_000 {
                        out.push(Failure {
                            t: f.t,
                            object: format!("{}/{}", o.namespace, m.pod),
                            class,
                        });
                    }
                }
            }
            (ObjectKind::Node, "Node") => out.push(Failure {
                t: f.t,
                object: o.name.clone(),
                class,
            }),
            _ => {}
        }
    }
    out.sort_by_key(|f| f.t);
    Ok(out)
}

/// Labelled feature windows of one kind of object.
#[derive(Debug, Default)]
pub struct Windows {
    /// Object of each row.
    pub objects: Vec<String>,
    /// End of each row's window (ms).
    pub times: Vec<i64>,
    /// Features.
    pub rows: Vec<Vec<f64>>,
    /// Class index of each row.
    pub labels: Vec<u16>,
}

/// Every labelled window of the episode's objects of `kind`, from the first full window on;
/// windows in a failure's aftermath are left out.
pub fn windows(
    ep: &Episode,
    engine: &Engine,
    kind: ObjectKind,
    spec: FeatureSpec,
    horizon: Horizon,
) -> anyhow::Result<Windows> {
    let labeller = Labeller::new(&failures(ep, engine, kind)?, horizon);
    let rows = compute(engine, &ep.src, kind, ep.start + spec.window, ep.end, spec)?;
    let mut out = Windows::default();
    for r in rows {
        let object = match kind {
            ObjectKind::Pod => format!("{}/{}", r.namespace, r.name),
            ObjectKind::Node => r.name.clone(),
        };
        if let Some(class) = labeller.label(&object, r.t) {
            out.objects.push(object);
            out.times.push(r.t);
            out.rows.push(r.values);
            out.labels.push(class.index());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubepulse_query::EngineOptions;

    #[test]
    fn a_simulated_hour_gives_labelled_windows_of_pods_and_nodes() {
        let cfg = SimConfig {
            nodes: 3,
            pods: 30,
            chaos_per_hour: 6.0,
            seed: 3,
            ..SimConfig::default()
        };
        let ep = Episode::simulate(cfg, 60).unwrap_or_else(|e| panic!("{e}"));
        let engine = Engine::new(EngineOptions::default());
        let spec = FeatureSpec::default();
        let pods = windows(&ep, &engine, ObjectKind::Pod, spec, Horizon::default())
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            pods.rows.len() > 30 * 200,
            "{} pod windows",
            pods.rows.len()
        );
        assert_eq!(pods.rows.len(), pods.labels.len());
        let pod_failures = failures(&ep, &engine, ObjectKind::Pod).unwrap_or_default();
        assert!(!pod_failures.is_empty(), "an hour of chaos fails some pod");
        assert!(
            pods.labels.iter().any(|l| *l != 0),
            "failures {pod_failures:?} label no window"
        );
        let nodes = windows(&ep, &engine, ObjectKind::Node, spec, Horizon::default())
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            nodes.rows.len() >= 3 * 200,
            "{} node windows",
            nodes.rows.len()
        );
    }
}
