//! Scenario files: a YAML list of faults (kind, start offset, target, severity, duration), with
//! optional random chaos and look-alike settings on top. A malformed scenario is refused with the
//! file, line, column and key path at fault.

use kubepulse_model::parse_duration;
use kubepulse_model::yaml::describe_error;
use serde::Deserialize;
use serde_saphyr::{Location, Spanned};

use crate::SimError;
use crate::cluster::Cluster;
use crate::engine::check_target;
use crate::faults::{FaultKind, FaultSpec, Target};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    faults: Vec<Entry>,
    #[serde(default)]
    chaos: Option<ChaosSettings>,
    #[serde(default)]
    lookalikes: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    kind: Spanned<FaultKind>,
    at: Spanned<String>,
    #[serde(default)]
    target: Option<Spanned<Target>>,
    #[serde(default)]
    severity: Option<Spanned<f64>>,
    #[serde(default)]
    duration: Option<Spanned<String>>,
}

/// Random chaos settings of a scenario.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChaosSettings {
    /// Mean faults per hour.
    pub per_hour: f64,
    /// Kinds to draw from (all when empty).
    #[serde(default)]
    pub kinds: Vec<FaultKind>,
}

/// One scheduled fault with the place it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduledFault {
    /// Kind.
    pub kind: FaultKind,
    /// Offset from the start of the simulation, milliseconds.
    pub at: i64,
    /// Target.
    pub target: Target,
    /// Severity in [0, 1].
    pub severity: f64,
    /// Duration, milliseconds.
    pub duration: Option<i64>,
    line: u64,
    column: u64,
    index: usize,
}

/// A parsed and validated scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// File the scenario came from.
    pub file: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Faults, in file order.
    pub faults: Vec<ScheduledFault>,
    /// Random chaos on top of the listed faults.
    pub chaos: Option<ChaosSettings>,
    /// Override of the look-alike setting.
    pub lookalikes: Option<bool>,
}

impl Scenario {
    /// Reads and parses a scenario file.
    pub fn load(path: &std::path::Path) -> Result<Self, SimError> {
        let src = std::fs::read_to_string(path).map_err(|e| SimError::io(path, e))?;
        Self::parse(&path.display().to_string(), &src)
    }

    /// Parses scenario YAML; `file` names the source in errors.
    pub fn parse(file: &str, src: &str) -> Result<Self, SimError> {
        let parsed: File = serde_saphyr::from_str(src).map_err(|e| syntax_error(file, src, &e))?;
        let err = |loc: &Location, field: String, message: String| SimError::Scenario {
            file: file.into(),
            line: loc.line(),
            column: loc.column(),
            field,
            message,
        };
        let mut faults = Vec::new();
        for (i, e) in parsed.faults.into_iter().enumerate() {
            let at = parse_duration(&e.at.value)
                .map_err(|x| err(&e.at.referenced, format!("faults[{i}].at"), x.to_string()))?;
            let duration = match &e.duration {
                Some(d) => Some(parse_duration(&d.value).map_err(|x| {
                    err(
                        &d.referenced,
                        format!("faults[{i}].duration"),
                        x.to_string(),
                    )
                })?),
                None => None,
            };
            let severity = match &e.severity {
                Some(s) if !(0.0..=1.0).contains(&s.value) || !s.value.is_finite() => {
                    return Err(err(
                        &s.referenced,
                        format!("faults[{i}].severity"),
                        format!("{} is outside 0..=1", s.value),
                    ));
                }
                Some(s) => s.value,
                None => 0.6,
            };
            let kind = e.kind.value;
            let (target, loc) = match e.target {
                Some(t) => (t.value, t.referenced),
                None => (Target::default(), e.kind.referenced),
            };
            check_target(&kind.target_kind(), &target)
                .map_err(|m| err(&loc, format!("faults[{i}].target"), m))?;
            faults.push(ScheduledFault {
                kind,
                at,
                target,
                severity,
                duration,
                line: loc.line(),
                column: loc.column(),
                index: i,
            });
        }
        if let Some(c) = &parsed.chaos
            && (!c.per_hour.is_finite() || c.per_hour < 0.0)
        {
            let line = src
                .lines()
                .position(|l| l.trim_start().starts_with("per_hour"))
                .map_or(1, |i| i as u64 + 1);
            return Err(SimError::Scenario {
                file: file.into(),
                line,
                column: 1,
                field: "chaos.per_hour".into(),
                message: format!("{} must be a non-negative number", c.per_hour),
            });
        }
        Ok(Self {
            file: file.into(),
            name: parsed.name,
            description: parsed.description,
            faults,
            chaos: parsed.chaos,
            lookalikes: parsed.lookalikes,
        })
    }

    /// Checks that every target exists in `cluster` (pods named explicitly are resolved when
    /// their fault starts).
    pub fn check(&self, cluster: &Cluster) -> Result<(), SimError> {
        for f in &self.faults {
            let t = &f.target;
            let missing = if !t.node.is_empty() && cluster.node_index(&t.node).is_none() {
                Some(("node", format!("no node named {:?}", t.node)))
            } else if !t.workload.is_empty()
                && cluster.workload_index(&t.namespace, &t.workload).is_none()
            {
                Some((
                    "workload",
                    format!(
                        "no workload {:?} in namespace {:?}",
                        t.workload, t.namespace
                    ),
                ))
            } else if !t.service.is_empty()
                && cluster.service_index(&t.namespace, &t.service).is_none()
            {
                Some((
                    "service",
                    format!("no service {:?} in namespace {:?}", t.service, t.namespace),
                ))
            } else {
                None
            };
            if let Some((field, message)) = missing {
                return Err(SimError::Scenario {
                    file: self.file.clone(),
                    line: f.line,
                    column: f.column,
                    field: format!("faults[{}].target.{field}", f.index),
                    message,
                });
            }
        }
        Ok(())
    }

    /// The faults as specs with absolute start times.
    pub fn specs(&self, start: i64) -> Vec<FaultSpec> {
        self.faults
            .iter()
            .map(|f| FaultSpec {
                kind: f.kind,
                at: start + f.at,
                target: f.target.clone(),
                severity: f.severity,
                duration: f.duration,
            })
            .collect()
    }
}

/// Turns a YAML or schema error into a located scenario error.
fn syntax_error(file: &str, src: &str, e: &serde_saphyr::Error) -> SimError {
    let (line, column) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
    let (field, message) = describe_error(src, line as usize, &e.to_string());
    SimError::Scenario {
        file: file.into(),
        line,
        column,
        field,
        message,
    }
}
