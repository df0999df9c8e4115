//! Training targets: a window is labelled with the failure its object suffers within the
//! horizon after the window ends, or `none`. Windows after a failure, until the object has been
//! healthy again for a while, are left out: they show the failure, not its run-up. So are the
//! windows just before the horizon (a grace period): they show the run-up already, and calling
//! them healthy would teach the model to raise its alarms as late as possible.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// What a prediction says will go wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureClass {
    /// Nothing within the horizon.
    None,
    /// Killed or evicted for memory.
    Oom,
    /// Restarting in back-off.
    CrashLoop,
    /// Out of CPU: failing readiness or breaching latency.
    CpuSaturation,
    /// A node's disk fills up.
    DiskPressure,
    /// A node goes down.
    NodeFailure,
    /// Calls into or out of the object degrade on the network.
    NetworkDegradation,
    /// Pods cannot be placed.
    Unschedulable,
    /// Something the object calls fails.
    DependencyFailure,
}

impl FailureClass {
    /// Every class, in index order.
    pub const ALL: [FailureClass; 9] = [
        Self::None,
        Self::Oom,
        Self::CrashLoop,
        Self::CpuSaturation,
        Self::DiskPressure,
        Self::NodeFailure,
        Self::NetworkDegradation,
        Self::Unschedulable,
        Self::DependencyFailure,
    ];

    /// The class's index, for models.
    pub fn index(self) -> u16 {
        Self::ALL.iter().position(|c| *c == self).unwrap_or(0) as u16
    }

    /// The class of an index.
    pub fn from_index(i: usize) -> Self {
        Self::ALL.get(i).copied().unwrap_or(Self::None)
    }

    /// How specific the class is about the cause, lowest first: when several failures lie
    /// within a window's horizon, the most specific labels it (an OOM kill of the pod itself
    /// over the breach of the service it serves that the kill caused).
    pub fn specificity(self) -> u8 {
        match self {
            Self::Oom => 0,
            Self::CrashLoop => 1,
            Self::DiskPressure => 2,
            Self::NodeFailure => 3,
            Self::Unschedulable => 4,
            Self::CpuSaturation => 5,
            Self::NetworkDegradation => 6,
            Self::DependencyFailure => 7,
            Self::None => 8,
        }
    }

    /// The name used in series labels and the API.
    pub fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Oom => "oom",
            Self::CrashLoop => "crash_loop",
            Self::CpuSaturation => "cpu_saturation",
            Self::DiskPressure => "disk_pressure",
            Self::NodeFailure => "node_failure",
            Self::NetworkDegradation => "network_degradation",
            Self::Unschedulable => "unschedulable",
            Self::DependencyFailure => "dependency_failure",
        }
    }
}

/// A failure of one object at one time.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// When it became visible (ms).
    pub t: i64,
    /// The object, as the feature rows name it (`namespace/name`, or the node name).
    pub object: String,
    /// What happened.
    pub class: FailureClass,
    /// What caused it (a fault kind such as `memory_leak`), when known.
    pub cause: Option<String>,
    /// How long the cause had been acting on the object when the failure came (ms), when
    /// known.
    pub runup: Option<i64>,
    /// When the object was last seen in the state the failure put it in (ms), when that
    /// lasted (a crash loop lasts while its container keeps crashing); its aftermath runs
    /// from then.
    pub until: Option<i64>,
}

/// How windows are labelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Horizon {
    /// A failure this soon after a window's end labels it (ms).
    pub ahead: i64,
    /// After a failure, windows are left out for this long (ms).
    pub settle: i64,
    /// Windows whose next failure is this much further than `ahead` are left out (ms).
    pub grace: i64,
}

impl Default for Horizon {
    fn default() -> Self {
        Self {
            ahead: 300_000,
            settle: 600_000,
            grace: 300_000,
        }
    }
}

/// A window's label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    /// The failure within the horizon, or `none`.
    pub class: FailureClass,
    /// Whether a model should learn from it (false in the grace period).
    pub trainable: bool,
}

/// Labels failures by object, for windows ending at given times.
pub struct Labeller {
    by_object: HashMap<String, Object>,
    horizon: Horizon,
}

/// One object's failures in time order.
#[derive(Default)]
struct Object {
    /// When and what.
    fails: Vec<(i64, FailureClass)>,
    /// For each, the latest end of it and the failures before it.
    over: Vec<i64>,
}

impl Labeller {
    /// A labeller of `failures` with `horizon`.
    pub fn new(failures: &[Failure], horizon: Horizon) -> Self {
        let mut spans: HashMap<String, Vec<(i64, FailureClass, i64)>> = HashMap::new();
        for f in failures.iter().filter(|f| f.class != FailureClass::None) {
            let end = f.until.unwrap_or(f.t).max(f.t);
            spans
                .entry(f.object.clone())
                .or_default()
                .push((f.t, f.class, end));
        }
        let by_object = spans
            .into_iter()
            .map(|(object, mut v)| {
                v.sort_by_key(|x| x.0);
                let over = v
                    .iter()
                    .scan(i64::MIN, |m, x| {
                        *m = (*m).max(x.2);
                        Some(*m)
                    })
                    .collect();
                let fails = v.iter().map(|x| (x.0, x.1)).collect();
                (object, Object { fails, over })
            })
            .collect();
        Self { by_object, horizon }
    }

    /// The label of `object`'s window ending at `t`: the first failure in `(t, t + ahead]`, or
    /// `none`; windows in the grace period before the horizon are labelled `none` but not
    /// [`Target::trainable`]. `None` when the window lies in a failure's aftermath (from the
    /// failure, or from the end of the state it put the object in, until `settle` later) and
    /// should not be used at all.
    pub fn label(&self, object: &str, t: i64) -> Option<Target> {
        let target = |class, trainable| Some(Target { class, trainable });
        let Some(o) = self.by_object.get(object) else {
            return target(FailureClass::None, true);
        };
        let fs = &o.fails;
        let i = fs.partition_point(|f| f.0 <= t);
        if i > 0 && t - o.over[i - 1] < self.horizon.settle {
            return None;
        }
        if let Some((_, class)) = self.within(fs, t) {
            return target(class, true);
        }
        match fs.get(i) {
            Some(&(ft, _)) if ft - t <= self.horizon.ahead + self.horizon.grace => {
                target(FailureClass::None, false)
            }
            _ => target(FailureClass::None, true),
        }
    }

    /// The most specific of `fs`'s failures in `(t, t + ahead]`.
    fn within(&self, fs: &[(i64, FailureClass)], t: i64) -> Option<(i64, FailureClass)> {
        let i = fs.partition_point(|f| f.0 <= t);
        fs[i..]
            .iter()
            .take_while(|f| f.0 - t <= self.horizon.ahead)
            .min_by_key(|f| (f.1.specificity(), f.0))
            .copied()
    }

    /// The failure that labels `object`'s window ending at `t`, if one does.
    pub fn labelling_failure(&self, object: &str, t: i64) -> Option<(i64, FailureClass)> {
        self.within(&self.by_object.get(object)?.fails, t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_before_during_and_after_a_failure() {
        let f = [Failure {
            t: 1_000_000,
            object: "shop/cart-1".into(),
            class: FailureClass::Oom,
            cause: None,
            runup: None,
            until: None,
        }];
        let l = Labeller::new(&f, Horizon::default());
        let at = |t| l.label("shop/cart-1", t).map(|x| (x.class, x.trainable));
        use FailureClass::{None as Healthy, Oom};
        assert_eq!(at(300_000), Some((Healthy, true)), "11 min 40 s ahead");
        assert_eq!(
            at(600_000),
            Some((Healthy, false)),
            "6 min 40 s ahead: grace"
        );
        assert_eq!(at(700_000), Some((Oom, true)), "exactly 5 min ahead");
        assert_eq!(at(999_999), Some((Oom, true)));
        assert_eq!(at(1_000_000), None, "the failure itself");
        assert_eq!(at(1_599_999), None, "its aftermath");
        assert_eq!(at(1_600_000), Some((Healthy, true)));
        assert_eq!(
            l.label("shop/other", 900_000).map(|x| x.class),
            Some(Healthy)
        );
        assert_eq!(
            l.labelling_failure("shop/cart-1", 900_000),
            Some((1_000_000, FailureClass::Oom))
        );
        // A service breach the kill causes a little earlier does not hide the kill.
        let both = [
            f[0].clone(),
            Failure {
                t: 990_000,
                class: FailureClass::DependencyFailure,
                ..f[0].clone()
            },
        ];
        let l = Labeller::new(&both, Horizon::default());
        assert_eq!(l.label("shop/cart-1", 900_000).map(|x| x.class), Some(Oom));
        for c in FailureClass::ALL {
            assert_eq!(FailureClass::from_index(c.index() as usize), c);
        }
    }

    #[test]
    fn a_failure_that_lasts_is_left_out_until_settled_after_its_end() {
        let crash = |t, until| Failure {
            t,
            object: "shop/cart-1".into(),
            class: FailureClass::CrashLoop,
            cause: None,
            runup: None,
            until,
        };
        // A crash loop from 1,000 s whose container last crashed at 2,000 s, and a short
        // failure at 1,500 s inside it.
        let fs = [crash(1_000_000, Some(2_000_000)), crash(1_500_000, None)];
        let l = Labeller::new(&fs, Horizon::default());
        let at = |t| l.label("shop/cart-1", t).map(|x| x.class);
        assert_eq!(at(1_700_000), None, "still crashing");
        assert_eq!(at(2_100_000), None, "the first failure has not settled");
        assert_eq!(at(2_599_999), None);
        assert_eq!(at(2_600_000), Some(FailureClass::None));
        assert_eq!(at(900_000), Some(FailureClass::CrashLoop), "before it");
        assert_eq!(
            serde_json::to_string(&FailureClass::CrashLoop).unwrap_or_default(),
            "\"crash_loop\""
        );
    }
}
