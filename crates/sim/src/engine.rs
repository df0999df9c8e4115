//! The simulator: owns the world and runs one step at a time in a fixed order, returning
//! everything the step produced as a [`Batch`]. Consumers (the dataset writer, the live store
//! feed) are independent of it.

use std::sync::Arc;

use kubepulse_model::{K8sEvent, LogRecord, ObjectState, Span};

use crate::chaos::Chaos;
use crate::config::SimConfig;
use crate::emit::objects::ObjectTracker;
use crate::emit::{Emitter, SeriesDef};
use crate::faults::{self, Fault, FaultSpec, Target, TargetKind};
use crate::lookalikes::Lookalikes;
use crate::rng::SimRng;
use crate::scenario::Scenario;
use crate::truth::{FailureRecord, FaultRecord, LookalikeRecord, Truth};
use crate::world::World;
use crate::{
    SimError, controllers, cron, dynamics, health, kubelet, load, nodes, scheduler, topology,
};

/// The cluster runs this long, unreported, before the first step so that it starts warm.
const WARMUP_MS: i64 = 10 * 60_000;

/// Everything one step produced.
#[derive(Debug, Default)]
pub struct Batch {
    /// The step's time, epoch milliseconds.
    pub t: i64,
    /// Series that appeared this step.
    pub new_series: Vec<Arc<SeriesDef>>,
    /// Samples: series id and value, all at `t`.
    pub samples: Vec<(u32, f64)>,
    /// Kubernetes events.
    pub events: Vec<K8sEvent>,
    /// Container log lines.
    pub logs: Vec<LogRecord>,
    /// Trace spans.
    pub spans: Vec<Span>,
    /// Object states that changed.
    pub objects: Vec<ObjectState>,
    /// Faults that started.
    pub faults_started: Vec<FaultRecord>,
    /// Ids of faults that ended.
    pub faults_ended: Vec<u32>,
    /// Failures that became visible.
    pub failures: Vec<FailureRecord>,
    /// Look-alikes that started.
    pub lookalikes: Vec<LookalikeRecord>,
}

struct Active {
    id: u32,
    spec: FaultSpec,
    started: i64,
    fault: Box<dyn Fault>,
}

/// A running simulation.
pub struct Simulator {
    cfg: SimConfig,
    world: World,
    emitter: Emitter,
    objects: ObjectTracker,
    chaos: Chaos,
    lookalikes: Lookalikes,
    rngs: [SimRng; 3],
    pending: Vec<FaultSpec>,
    active: Vec<Active>,
    next_id: u32,
    rejected: Vec<(FaultSpec, String)>,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("t", &self.world.t)
            .field("cluster", &self.cfg.cluster)
            .finish()
    }
}

impl Simulator {
    /// A simulation of `cfg` starting at its configured start time (or `start` when given, as
    /// the live demo does), with the faults of `scenario`.
    pub fn new(
        cfg: SimConfig,
        scenario: Option<&Scenario>,
        start: Option<i64>,
    ) -> Result<Self, SimError> {
        cfg.validate()?;
        let start = match start {
            Some(s) => s - s.rem_euclid(cfg.step.ms()),
            None => cfg
                .start_ms()
                .ok_or_else(|| SimError::config("start", "not an RFC 3339 timestamp"))?,
        };
        let cluster = topology::build(&cfg, start);
        let mut pending = Vec::new();
        let mut chaos_cfg = (cfg.chaos_per_hour, cfg.chaos_kinds.clone());
        let mut lookalikes = cfg.lookalikes;
        if let Some(sc) = scenario {
            sc.check(&cluster)?;
            pending = sc.specs(start);
            if let Some(c) = &sc.chaos {
                chaos_cfg = (c.per_hour, c.kinds.clone());
            }
            lookalikes = sc.lookalikes.unwrap_or(lookalikes);
        }
        let seed = cfg.seed;
        let mut world = World::new(
            cluster,
            start - WARMUP_MS,
            cfg.step.ms(),
            SimRng::for_name(seed, "world"),
        );
        let mut sim = Self {
            chaos: Chaos::new(chaos_cfg.0, &chaos_cfg.1, SimRng::for_name(seed, "chaos")),
            lookalikes: Lookalikes::new(
                lookalikes,
                cfg.rollouts_per_day,
                SimRng::for_name(seed, "lookalikes"),
            ),
            rngs: [
                SimRng::for_name(seed, "logs"),
                SimRng::for_name(seed, "spans"),
                SimRng::for_name(seed, "cron"),
            ],
            cfg,
            emitter: Emitter::default(),
            objects: ObjectTracker::default(),
            pending,
            active: Vec::new(),
            next_id: 1,
            rejected: Vec::new(),
            world: {
                world.quiet = true;
                world
            },
        };
        while sim.world.t < start - sim.world.step_ms {
            sim.world.t += sim.world.step_ms;
            sim.advance();
        }
        sim.world.quiet = false;
        sim.world.events.clear();
        sim.world.logs.clear();
        Ok(sim)
    }

    /// The time of the last step.
    pub fn now(&self) -> i64 {
        self.world.t
    }

    /// The settings.
    pub fn config(&self) -> &SimConfig {
        &self.cfg
    }

    /// The world, for read-only views (dashboards, tests).
    pub fn world(&self) -> &World {
        &self.world
    }

    /// Ground truth so far.
    pub fn truth(&self) -> &Truth {
        &self.world.truth
    }

    /// Every series registered so far.
    pub fn series(&self) -> &[Arc<SeriesDef>] {
        self.emitter.series()
    }

    /// Faults that could not start (their target had gone), with the reason.
    pub fn rejected(&self) -> &[(FaultSpec, String)] {
        &self.rejected
    }

    /// Schedules a fault. Its target must name what its kind needs; it is resolved when it starts.
    pub fn inject(&mut self, spec: FaultSpec) -> Result<(), SimError> {
        check_target(&spec.kind.target_kind(), &spec.target).map_err(SimError::Inject)?;
        if !(0.0..=1.0).contains(&spec.severity) {
            return Err(SimError::Inject(format!(
                "severity {} is outside 0..=1",
                spec.severity
            )));
        }
        self.pending.push(spec);
        Ok(())
    }

    /// Advances one step and returns what it produced.
    pub fn step(&mut self) -> Batch {
        self.world.t += self.world.step_ms;
        let (f0, l0) = (
            self.world.truth.faults.len(),
            self.world.truth.lookalikes.len(),
        );
        self.world.new_failures.clear();
        let ended = self.advance();
        let census = crate::emit::Census::of(&self.world);
        let metrics = self.emitter.emit(&self.world, &census);
        let mut logs = std::mem::take(&mut self.world.logs);
        let mut spans = Vec::new();
        crate::emit::spans::generate(
            &self.world,
            self.cfg.traces_per_step,
            &mut self.rngs[1],
            &mut spans,
            &mut logs,
        );
        crate::emit::logs::generate(
            &self.world,
            self.cfg.log_volume,
            &mut self.rngs[0],
            &mut logs,
        );
        logs.sort_by_key(|r| r.t_ns);
        Batch {
            t: self.world.t,
            new_series: metrics.new_series,
            samples: metrics.samples,
            events: std::mem::take(&mut self.world.events),
            logs,
            spans,
            objects: self.objects.changes(&self.world, &census),
            faults_started: self.world.truth.faults[f0..].to_vec(),
            faults_ended: ended,
            failures: std::mem::take(&mut self.world.new_failures),
            lookalikes: self.world.truth.lookalikes[l0..].to_vec(),
        }
    }

    /// Runs the cluster for one step (time already advanced). Returns ids of faults that ended.
    fn advance(&mut self) -> Vec<u32> {
        let ended = self.faults();
        let busy_targets: Vec<Target> = self.active.iter().map(|a| a.spec.target.clone()).collect();
        let busy = |ns: &str, name: &str| {
            busy_targets
                .iter()
                .any(|b| b.namespace == ns && b.workload == name)
        };
        self.lookalikes.step(&mut self.world, &busy);
        cron::step(&mut self.world, &mut self.rngs[2]);
        let w = &mut self.world;
        controllers::step(w, self.cfg.seed);
        scheduler::step(w);
        nodes::lifecycle(w);
        kubelet::step(w);
        load::step(w);
        dynamics::step(w);
        kubelet::oom_kills(w);
        nodes::aggregate(w);
        nodes::pressure(w);
        health::step(w);
        health::account_requests(w);
        if w.t.rem_euclid(3_600_000) < w.step_ms {
            w.prune_events();
        }
        ended
    }

    /// Starts due faults (scenario and chaos), ticks active ones, ends expired ones.
    fn faults(&mut self) -> Vec<u32> {
        let t = self.world.t;
        if !self.world.quiet {
            let busy: Vec<Target> = self.active.iter().map(|a| a.spec.target.clone()).collect();
            if let Some(spec) = self.chaos.draw(&self.world, &busy) {
                self.pending.push(spec);
            }
        }
        let mut due = Vec::new();
        self.pending.retain(|s| {
            if s.at <= t {
                due.push(s.clone());
                false
            } else {
                true
            }
        });
        for spec in due {
            let mut fault = faults::build(&spec);
            match fault.begin(&mut self.world) {
                Ok((scope, detail)) => {
                    let id = self.next_id;
                    self.next_id += 1;
                    let target = scope
                        .first()
                        .cloned()
                        .unwrap_or_else(|| self.world.node_ref(0));
                    self.world.truth.faults.push(FaultRecord {
                        id,
                        kind: spec.kind,
                        target,
                        start: t,
                        end: None,
                        severity: spec.severity,
                        scope,
                        detail,
                    });
                    self.active.push(Active {
                        id,
                        spec,
                        started: t,
                        fault,
                    });
                }
                Err(e) => self.rejected.push((spec, e.to_string())),
            }
        }
        let mut ended = Vec::new();
        let mut i = 0;
        while i < self.active.len() {
            let a = &mut self.active[i];
            if a.spec.duration.is_some_and(|d| t >= a.started + d) {
                a.fault.end(&mut self.world);
                let id = a.id;
                if let Some(r) = self.world.truth.faults.iter_mut().find(|f| f.id == id) {
                    r.end = Some(t);
                }
                ended.push(id);
                self.active.remove(i);
            } else {
                a.fault.tick(&mut self.world, t - a.started);
                i += 1;
            }
        }
        ended
    }
}

/// Checks that a target names what its kind needs.
pub fn check_target(kind: &TargetKind, t: &Target) -> Result<(), String> {
    let need = |field: &str, v: &str| {
        if v.is_empty() {
            Err(format!("target needs `{field}`"))
        } else {
            Ok(())
        }
    };
    match kind {
        TargetKind::Pod => {
            need("namespace", &t.namespace)?;
            if t.pod.is_empty() && t.workload.is_empty() {
                return Err("target needs `pod` or `workload`".into());
            }
            Ok(())
        }
        TargetKind::Workload => need("namespace", &t.namespace).and(need("workload", &t.workload)),
        TargetKind::Service => need("namespace", &t.namespace).and(need("service", &t.service)),
        TargetKind::Node => need("node", &t.node),
    }
}
