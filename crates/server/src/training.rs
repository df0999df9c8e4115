//! Training data for failure prediction: a simulated or recorded cluster's series as a query
//! source, its failures attributed to the pods and nodes that features describe (a service's
//! failure to the pods serving it at the time), and labelled feature windows.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use anyhow::Context;
use kubepulse_intel::labels::{Failure, FailureClass, Horizon, Labeller};
use kubepulse_intel::rows::Rows;
pub use kubepulse_intel::train::Windows;
use kubepulse_model::parse_duration;
use kubepulse_model::{K8sEvent, Labels, ObjectRef};
use kubepulse_query::features::{FeatureSpec, ObjectKind, compute, feature_names, service_members};
use kubepulse_query::{Engine, MemSource, QueryValue};
use kubepulse_sim::dataset::DatasetReader;
use kubepulse_sim::record::record;
use kubepulse_sim::{FailureType, FaultKind, SimConfig, Simulator, Truth};
use tracing::info;

use crate::cli::EpisodeArgs;
use crate::config::Config;

/// A stretch of a cluster's life: its series, what failed, and when it ran.
pub struct Episode {
    /// The series.
    pub src: MemSource,
    /// Kubernetes events, oldest first.
    pub events: Vec<K8sEvent>,
    /// Nodes in the cluster.
    pub nodes: usize,
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
        let r = record(&mut sim, minutes);
        let nodes = count_nodes(r.series.iter().map(|s| &s.0));
        let src: MemSource = r.series.into_iter().collect();
        Ok(Self {
            src,
            events: r.events,
            nodes,
            truth: sim.truth().clone(),
            start: r.start,
            end: r.end,
        })
    }

    /// Reads a dataset written by `kubepulse simulate`.
    pub fn from_dataset(dir: &Path) -> anyhow::Result<Self> {
        let r = DatasetReader::open(dir)?;
        let labels: BTreeMap<u32, Labels> =
            r.series()?.into_iter().map(|s| (s.id, s.labels)).collect();
        let mut samples: BTreeMap<u32, Vec<(i64, f64)>> = BTreeMap::new();
        let (mut start, mut end) = (i64::MAX, i64::MIN);
        let mut steps = Vec::new();
        for path in r.block_paths()? {
            let b = r.block(&path)?;
            steps.extend_from_slice(&b.timestamps);
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
        steps.sort_unstable();
        steps.dedup();
        let mut series = Vec::with_capacity(samples.len());
        for (id, mut s) in samples {
            kubepulse_sim::record::mark_stale(&mut s, &steps);
            let l = labels
                .get(&id)
                .with_context(|| format!("{}: series {id} has no labels", dir.display()))?;
            series.push((l.clone(), s));
        }
        let mut src: MemSource = series.into_iter().collect();
        // Container logs become the per-level line counters a server keeps.
        let mut logs: Vec<kubepulse_model::LogRecord> = r.jsonl("logs.jsonl.zst")?;
        logs.sort_by_key(|l| l.t_ns);
        let mut counts = kubepulse_sim::record::LogCounts::default();
        let mut next = 0;
        for t in steps {
            let upto = logs[next..].partition_point(|l| l.t_ns <= t * 1_000_000) + next;
            counts.add(&logs[next..upto]);
            next = upto;
            counts.sample(t);
        }
        src.extend(counts.series());
        let mut events: Vec<K8sEvent> = r.jsonl("events.jsonl.zst")?;
        events.sort_by_key(|e| e.last_timestamp);
        Ok(Self {
            src,
            events,
            nodes: count_nodes(labels.values()),
            truth: r.truth()?,
            start,
            end,
        })
    }
}

/// Distinct nodes that kube-state-metrics lists.
fn count_nodes<'a>(series: impl Iterator<Item = &'a Labels>) -> usize {
    let mut nodes: Vec<&str> = series
        .filter(|l| l.get(kubepulse_model::METRIC_NAME) == Some("kube_node_info"))
        .filter_map(|l| l.get("node"))
        .collect();
    nodes.sort_unstable();
    nodes.dedup();
    nodes.len()
}

/// The baseline's windows: the instantaneous CPU feature of each row, and the node count of
/// its cluster (`nodes`, one per row).
pub fn baseline_rows(kind: ObjectKind, w: &Windows, nodes: &[f64]) -> anyhow::Result<Windows> {
    let cpu = baseline_cpu_feature(kind);
    let names = feature_names(kind);
    let i = names
        .iter()
        .position(|n| n == cpu)
        .ok_or_else(|| anyhow::anyhow!("no feature {cpu}"))?;
    let mut rows = Rows::with_capacity(w.rows.len(), 2);
    for (r, n) in w.rows.iter().zip(nodes) {
        let cpu = r.get(i).map_or(f64::NAN, |&v| f64::from(v));
        rows.push(&[cpu, *n])?;
    }
    Ok(Windows {
        rows,
        objects: w.objects.clone(),
        times: w.times.clone(),
        labels: w.labels.clone(),
        to_failure: w.to_failure.clone(),
        trainable: w.trainable.clone(),
        data_end: w.data_end.clone(),
    })
}

/// The episodes `args` name, and a sentence saying what they are.
pub fn load(cfg: &Config, args: &EpisodeArgs) -> anyhow::Result<(Vec<Episode>, String)> {
    if args.simulate {
        return simulate_all(cfg, args);
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

/// One simulated cluster per seed and size, run on as many threads as there are cores.
fn simulate_all(cfg: &Config, args: &EpisodeArgs) -> anyhow::Result<(Vec<Episode>, String)> {
    let minutes =
        parse_duration(&args.duration).map_err(|e| anyhow::anyhow!("--duration: {e}"))? / 60_000;
    if minutes <= 0 {
        anyhow::bail!("--duration: must be at least a minute");
    }
    if args.nodes.len() != args.pods.len() {
        anyhow::bail!(
            "--nodes and --pods pair up: {} sizes of nodes but {} of pods",
            args.nodes.len(),
            args.pods.len()
        );
    }
    let kinds = chaos_kinds(&args.chaos_kinds)?;
    let mut configs = Vec::new();
    for &seed in &args.seed {
        for (&nodes, &pods) in args.nodes.iter().zip(&args.pods) {
            let mut sc = cfg.simulator.cluster.clone();
            sc.seed = seed;
            sc.nodes = nodes;
            sc.pods = pods;
            sc.chaos_per_hour = args.chaos_per_hour;
            if let Some(r) = args.rollouts_per_day {
                sc.rollouts_per_day = r;
            }
            if !kinds.is_empty() {
                sc.chaos_kinds = kinds.clone();
            }
            sc.validate()?;
            configs.push(sc);
        }
    }
    info!(clusters = configs.len(), minutes, "simulating");
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut episodes: Vec<Option<Episode>> = (0..configs.len()).map(|_| None).collect();
    for (chunk, slots) in configs.chunks(threads).zip(episodes.chunks_mut(threads)) {
        let results: Vec<anyhow::Result<Episode>> = std::thread::scope(|s| {
            let handles: Vec<_> = chunk
                .iter()
                .map(|sc| s.spawn(move || Episode::simulate(sc.clone(), minutes)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(anyhow::anyhow!("a simulation thread panicked")))
                })
                .collect()
        });
        for (slot, r) in slots.iter_mut().zip(results) {
            *slot = Some(r?);
        }
    }
    let sizes: Vec<String> = args
        .nodes
        .iter()
        .zip(&args.pods)
        .map(|(n, p)| format!("{n} nodes/{p} pods"))
        .collect();
    let seeds: Vec<String> = args.seed.iter().map(ToString::to_string).collect();
    let mix = if args.chaos_kinds.is_empty() {
        "every kind".to_string()
    } else {
        args.chaos_kinds.join(", ")
    };
    let rollouts = configs
        .first()
        .map_or(cfg.simulator.cluster.rollouts_per_day, |c| {
            c.rollouts_per_day
        });
    let what = format!(
        "simulated: {} {}; {}; {} min each; {} faults/h ({mix}); {rollouts} routine rollouts per Deployment per day",
        if seeds.len() == 1 { "seed" } else { "seeds" },
        seeds.join(", "),
        sizes.join(" and "),
        minutes,
        args.chaos_per_hour
    );
    Ok((episodes.into_iter().flatten().collect(), what))
}

/// The fault kinds `--chaos-kinds` names.
pub fn chaos_kinds(names: &[String]) -> anyhow::Result<Vec<FaultKind>> {
    names
        .iter()
        .map(|k| {
            FaultKind::parse(k).ok_or_else(|| anyhow::anyhow!("--chaos-kinds: no fault kind {k:?}"))
        })
        .collect()
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

/// The episode's failures as objects of `kind` name them (`namespace/pod`, or the node). A
/// failure's run-up is how long its cause acted on the object while it could be watched: from
/// the pod's creation at the earliest, and from the end of the previous failure's aftermath
/// (`settle` after it, or after the end of the state it put the object in, whose windows are
/// not used).
pub fn failures(
    ep: &Episode,
    engine: &Engine,
    kind: ObjectKind,
    settle: i64,
) -> anyhow::Result<Vec<Failure>> {
    let members = service_members(engine, &ep.src, ep.start, ep.end, 60_000)?;
    let created = match kind {
        ObjectKind::Pod => pods_created(ep, engine)?,
        ObjectKind::Node => HashMap::new(),
    };
    let mut out = Vec::new();
    for f in &ep.truth.failures {
        let Some(class) = class_of(f.failure_type) else {
            continue;
        };
        let o = &f.object;
        let fault = f.fault.and_then(|id| ep.truth.fault(id));
        let cause = fault.map(|x| x.kind.as_str().to_string());
        let runup = fault.map(|x| f.t - x.start);
        // A cause acts on a pod from the pod's creation at the earliest: a pod a bad rollout
        // creates has only its own life to show what is coming.
        let failure = |object: String| {
            let born = created.get(&object).copied().unwrap_or(i64::MIN);
            Failure {
                t: f.t,
                runup: runup.map(|r| r.min(f.t.saturating_sub(born))),
                object,
                class,
                cause: cause.clone(),
                until: f.until,
            }
        };
        if let Some(object) = key(kind, o) {
            out.push(failure(object));
        } else if kind == ObjectKind::Pod && o.kind == "Service" {
            let key = (o.namespace.clone(), o.name.clone());
            for m in members.get(&key).into_iter().flatten() {
                if m.from <= f.t && f.t <= m.to + 60_000 {
                    out.push(failure(format!("{}/{}", o.namespace, m.pod)));
                }
            }
        }
    }
    out.sort_by_key(|f| f.t);
    // Per object: when its latest failure so far came, the latest end of its failures so far,
    // and the latest end before that time (failures at the same time follow the same earlier
    // ones).
    let mut seen: HashMap<String, (i64, i64, Option<i64>)> = HashMap::new();
    for f in &mut out {
        let (prev, end) = match seen.get(&f.object) {
            Some(&(t, end, before)) if t == f.t => (before, end),
            Some(&(_, end, _)) => (Some(end), end),
            None => (None, i64::MIN),
        };
        if let Some(prev) = prev {
            f.runup = f.runup.map(|r| r.min(f.t - prev - settle).max(0));
        }
        let end = end.max(f.until.unwrap_or(f.t));
        seen.insert(f.object.clone(), (f.t, end, prev));
    }
    Ok(out)
}

/// How the rows of `kind` name `o`, when it is a pod or a node of that kind.
fn key(kind: ObjectKind, o: &ObjectRef) -> Option<String> {
    match (kind, o.kind.as_str()) {
        (ObjectKind::Pod, "Pod") => Some(format!("{}/{}", o.namespace, o.name)),
        (ObjectKind::Node, "Node") => Some(o.name.clone()),
        _ => None,
    }
}

/// The episode's averted failures of objects of `kind`: failures that were coming when the
/// fault causing them ended, at the time they would have come. They label no window; an alarm
/// they follow saw a real failure coming and is not a false alarm.
pub fn averted(ep: &Episode, kind: ObjectKind) -> Vec<Failure> {
    ep.truth
        .averted
        .iter()
        .filter_map(|f| {
            Some(Failure {
                t: f.t,
                object: key(kind, &f.object)?,
                class: class_of(f.failure_type)?,
                cause: f
                    .fault
                    .and_then(|id| ep.truth.fault(id))
                    .map(|x| x.kind.as_str().to_string()),
                runup: None,
                until: None,
            })
        })
        .collect()
}

/// When each pod (`namespace/pod`) of the episode was created (ms), from kube-state-metrics.
fn pods_created(ep: &Episode, engine: &Engine) -> anyhow::Result<HashMap<String, i64>> {
    let q = "max by (namespace, pod) (kube_pod_created)";
    let mut out = HashMap::new();
    let QueryValue::Matrix(m) = engine.range(&ep.src, q, ep.start, ep.end, 60_000)?.value else {
        return Ok(out);
    };
    for s in m {
        let get = |n: &str| s.labels.get(n).unwrap_or_default();
        if let Some(&(_, v)) = s.points.first() {
            out.insert(
                format!("{}/{}", get("namespace"), get("pod")),
                (v * 1000.0) as i64,
            );
        }
    }
    Ok(out)
}

/// Every labelled window of the episode's objects of `kind`, from the first full window on
/// (windows in a failure's aftermath are left out), and the failures that label them.
pub fn windows(
    ep: &Episode,
    engine: &Engine,
    kind: ObjectKind,
    spec: FeatureSpec,
    horizon: Horizon,
) -> anyhow::Result<(Windows, Vec<Failure>)> {
    windows_seen(ep, engine, kind, spec, horizon, &mut |_, _, _| {})
}

/// [`windows`], showing `seen` every window computed, labelled or not: `(object, t, values)`.
pub fn windows_seen(
    ep: &Episode,
    engine: &Engine,
    kind: ObjectKind,
    spec: FeatureSpec,
    horizon: Horizon,
    seen: &mut dyn FnMut(&str, i64, &[f64]),
) -> anyhow::Result<(Windows, Vec<Failure>)> {
    let fails = failures(ep, engine, kind, horizon.settle)?;
    let labeller = Labeller::new(&fails, horizon);
    let rows = compute(
        engine,
        &ep.src,
        &ep.events,
        kind,
        ep.start + spec.window,
        ep.end,
        spec,
    )?;
    let width = rows.first().map_or(0, |r| r.values.len());
    let mut out = Windows {
        rows: Rows::with_capacity(rows.len(), width),
        ..Windows::default()
    };
    for r in rows {
        let object = match kind {
            ObjectKind::Pod => format!("{}/{}", r.namespace, r.name),
            ObjectKind::Node => r.name.clone(),
        };
        seen(&object, r.t, &r.values);
        if !out.data_end.contains_key(&object) {
            out.data_end.insert(object.clone(), ep.end);
        }
        if let Some(target) = labeller.label(&object, r.t) {
            let class = target.class;
            let to_failure = match class {
                FailureClass::None => 0,
                _ => labeller
                    .labelling_failure(&object, r.t)
                    .map_or(0, |(ft, _)| ft - r.t),
            };
            out.trainable.push(target.trainable);
            out.objects.push(object);
            out.times.push(r.t);
            out.rows.push(&r.values)?;
            out.labels.push(class.index());
            out.to_failure.push(to_failure);
        }
    }
    Ok((out, fails))
}

/// The feature spec a model was trained with.
pub fn model_spec(m: &kubepulse_intel::model::FailureModel) -> FeatureSpec {
    FeatureSpec {
        window: m.window_ms,
        step: m.step_ms,
        long_window: m.long_window_ms,
    }
}

/// The instantaneous CPU feature the baseline forest reads, beside the node count.
pub fn baseline_cpu_feature(kind: ObjectKind) -> &'static str {
    match kind {
        ObjectKind::Pod => "cpu_limit_ratio.last",
        ObjectKind::Node => "cpu_busy_ratio.last",
    }
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
        let (pods, pod_failures) = windows(&ep, &engine, ObjectKind::Pod, spec, Horizon::default())
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            pods.rows.len() > 30 * 200,
            "{} pod windows",
            pods.rows.len()
        );
        assert_eq!(pods.rows.len(), pods.labels.len());
        assert!(!pod_failures.is_empty(), "an hour of chaos fails some pod");
        // A failure's run-up starts with the pod at the earliest.
        let created = pods_created(&ep, &engine).unwrap_or_else(|e| panic!("{e}"));
        let mut from_creation = 0;
        for f in &pod_failures {
            let born = created
                .get(&f.object)
                .unwrap_or_else(|| panic!("no creation time of {}", f.object));
            assert!(*born <= f.t, "{f:?} before its pod");
            assert!(f.runup.is_none_or(|r| r <= f.t - born), "{f:?}");
            from_creation += usize::from(f.runup == Some(f.t - born));
        }
        assert!(
            from_creation > 0,
            "no failure of a pod younger than its cause: {pod_failures:?}"
        );
        assert!(
            pods.labels.iter().any(|l| *l != 0),
            "failures {pod_failures:?} label no window"
        );
        // And after a failure of the same pod, once its aftermath is over.
        let settle = Horizon::default().settle;
        let mut after_failure = 0;
        for (i, f) in pod_failures.iter().enumerate() {
            let prev = pod_failures[..i]
                .iter()
                .filter(|p| p.object == f.object && p.t < f.t)
                .map(|p| p.t)
                .max();
            if let (Some(prev), Some(r)) = (prev, f.runup) {
                assert!(r <= (f.t - prev - settle).max(0), "{f:?} after {prev}");
                after_failure += 1;
            }
        }
        assert!(after_failure > 0, "no pod failed twice: {pod_failures:?}");
        let (nodes, _) = windows(&ep, &engine, ObjectKind::Node, spec, Horizon::default())
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            nodes.rows.len() >= 3 * 200,
            "{} node windows",
            nodes.rows.len()
        );
    }
}
