//! Rule unit tests in `promtool test rules` format: input series in expanding notation, rules
//! evaluated every `evaluation_interval` from time 0, firing alerts compared at each
//! `alert_rule_test` time and PromQL results at each `promql_expr_test` time. Results and their
//! wording follow promtool's.

mod report;
mod storage;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use kubepulse_model::{Labels, format_duration, parse_duration};
use kubepulse_query::promqltest::script::{Point, series_line};
use kubepulse_query::{Engine, EngineOptions, QueryValue, Sample};
use serde::Deserialize;

use crate::alerting::{Alert, AlertState};
use crate::group::{EvalContext, Group, Sink};
use crate::rulefile::{self, Rule, RuleKind};
use report::{Expected, samples_string};
use storage::Shared;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestFile {
    #[serde(default)]
    rule_files: Vec<String>,
    evaluation_interval: Option<String>,
    #[serde(default)]
    group_eval_order: Vec<String>,
    #[serde(default)]
    tests: Vec<TestGroup>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestGroup {
    interval: Option<String>,
    #[serde(default)]
    input_series: Vec<InputSeries>,
    #[serde(default)]
    alert_rule_test: Vec<AlertTest>,
    #[serde(default)]
    promql_expr_test: Vec<ExprTest>,
    #[serde(default)]
    external_labels: BTreeMap<String, String>,
    #[serde(default)]
    external_url: String,
    #[serde(default)]
    name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InputSeries {
    series: String,
    #[serde(default)]
    values: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AlertTest {
    eval_time: String,
    #[serde(default)]
    alertname: String,
    #[serde(default)]
    exp_alerts: Vec<ExpAlert>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpAlert {
    #[serde(default)]
    exp_labels: BTreeMap<String, String>,
    #[serde(default)]
    exp_annotations: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExprTest {
    expr: String,
    eval_time: String,
    #[serde(default)]
    exp_samples: Vec<ExpSample>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpSample {
    #[serde(default)]
    labels: String,
    value: f64,
}

/// The outcome of one test file: `None` when every test passed, else the failures.
pub type Outcome = Result<(), Vec<String>>;

fn dur(s: &str) -> Result<i64, String> {
    parse_duration(s).map_err(|e| e.to_string())
}

/// Runs the unit tests of one file.
pub fn run_file(path: &Path) -> Outcome {
    let src = std::fs::read_to_string(path).map_err(|e| vec![e.to_string()])?;
    let file: TestFile = serde_saphyr::from_str(&src).map_err(|e| vec![e.to_string()])?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let rule_files = resolve(dir, &file.rule_files).map_err(|e| vec![e])?;
    let eval_interval = match file.evaluation_interval.as_deref() {
        Some(s) => dur(s).map_err(|e| vec![e])?,
        None => 60_000,
    };
    let mut order = BTreeMap::new();
    for (i, g) in file.group_eval_order.iter().enumerate() {
        if order.insert(g.clone(), i).is_some() {
            return Err(vec![format!(
                "group name repeated in evaluation order: {g}"
            )]);
        }
    }
    let mut errs = Vec::new();
    for t in &file.tests {
        if let Err(e) = t.run(eval_interval, &order, &rule_files) {
            errs.extend(e);
        }
    }
    if errs.is_empty() { Ok(()) } else { Err(errs) }
}

/// Rule file names relative to the test file's folder; `*` and `?` in the last part match.
fn resolve(dir: &Path, files: &[String]) -> Result<Vec<PathBuf>, String> {
    let joined: Vec<PathBuf> = files.iter().map(|f| dir.join(f)).collect();
    rulefile::expand(&joined)
}

/// Collects recorded samples into the test storage; notifications are dropped.
struct TestSink(Shared);

impl Sink for TestSink {
    fn write(&mut self, samples: &[Sample]) -> Result<(), String> {
        self.0.add(samples);
        Ok(())
    }
    fn notify(&mut self, _: &Rule, _: Vec<Alert>) {}
}

impl TestGroup {
    fn max_eval_time(&self) -> Result<i64, String> {
        let mut m = 0;
        for t in &self.alert_rule_test {
            m = m.max(dur(&t.eval_time)?);
        }
        for t in &self.promql_expr_test {
            m = m.max(dur(&t.eval_time)?);
        }
        Ok(m)
    }

    fn load(&self, interval: i64) -> Result<Shared, String> {
        let store = Shared::default();
        for s in &self.input_series {
            let line = series_line(&format!("{} {}", s.series, s.values))
                .map_err(|e| format!("load: {e}"))?;
            // A second sample at a time already taken is refused, as a TSDB refuses it.
            let mut last = None;
            let samples: Vec<Sample> = line
                .points
                .iter()
                .enumerate()
                .filter_map(|(i, p)| match p {
                    Point::Float(v) => Some((i as i64 * interval, *v)),
                    _ => None,
                })
                .filter(|&(t, _)| last.replace(t) != Some(t))
                .map(|(t, v)| Sample {
                    labels: line.labels.clone(),
                    t,
                    v,
                })
                .collect();
            store.add(&samples);
        }
        Ok(store)
    }

    fn groups(
        &self,
        interval: i64,
        order: &BTreeMap<String, usize>,
        files: &[PathBuf],
    ) -> Result<Vec<Group>, Vec<String>> {
        let mut groups = Vec::new();
        let mut errs = Vec::new();
        for f in files {
            match rulefile::load(f) {
                Ok(gs) => groups.extend(gs.into_iter().map(|g| Group::new(g, interval))),
                Err(e) => errs.extend(e.0.iter().map(|e| e.to_string())),
            }
        }
        if !errs.is_empty() {
            return Err(errs);
        }
        groups.sort_by_key(|g| order.get(&g.name).copied().unwrap_or(0));
        Ok(groups)
    }

    fn run(
        &self,
        eval_interval: i64,
        order: &BTreeMap<String, usize>,
        files: &[PathBuf],
    ) -> Outcome {
        // promtool loads a group without `interval` with every sample at time 0.
        let interval = match self.interval.as_deref() {
            Some(s) => dur(s).map_err(|e| vec![e])?,
            None => 0,
        };
        let store = self.load(interval).map_err(|e| vec![e])?;
        let mut groups = self.groups(interval, order, files)?;
        let maxt = self.max_eval_time().map_err(|e| vec![e])?;
        let named = |s: String| {
            if self.name.is_empty() {
                s
            } else {
                format!("    name: {},\n{s}", self.name)
            }
        };
        let mut alert_times = Vec::new();
        for a in &self.alert_rule_test {
            if a.alertname.is_empty() {
                let group = if self.name.is_empty() {
                    String::new()
                } else {
                    format!(" (in TestGroup {})", self.name)
                };
                return Err(vec![format!(
                    "an item under alert_rule_test misses required attribute alertname at eval_time {}{group}",
                    a.eval_time
                )]);
            }
            alert_times.push((dur(&a.eval_time).map_err(|e| vec![e])?, a));
        }
        alert_times.sort_by_key(|(t, _)| *t);
        let external_labels = Labels::from_pairs(
            self.external_labels
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str())),
        )
        .map_err(|e| vec![e.to_string()])?;
        let engine = Engine::new(EngineOptions {
            subquery_step: eval_interval,
            ..EngineOptions::default()
        });
        let ctx = EvalContext {
            engine: &engine,
            source: Arc::new(store.clone()),
            external_labels: &external_labels,
            external_url: &self.external_url,
            resend_delay: 60_000,
        };
        let mut sink = TestSink(store.clone());
        let mut errs = Vec::new();
        let mut curr = 0;
        let mut ts = 0;
        while ts <= maxt {
            let mut eval_errs = Vec::new();
            for g in &mut groups {
                g.eval(ts, &ctx, &mut sink);
                for r in &g.rules {
                    if let Some(e) = &r.last_error {
                        eval_errs.push(format!(
                            "    rule: {}, time: {}, err: {e}",
                            r.rule.name(),
                            report::go_duration(ts)
                        ));
                    }
                }
            }
            if !eval_errs.is_empty() {
                errs.extend(eval_errs);
                return Err(errs);
            }
            while curr < alert_times.len()
                && ts <= alert_times[curr].0
                && alert_times[curr].0 < ts + eval_interval
            {
                let (_, test) = alert_times[curr];
                let got = firing(&groups, &test.alertname);
                let exp: Vec<Expected> = test
                    .exp_alerts
                    .iter()
                    .map(|a| {
                        Expected::new(
                            &test.alertname,
                            a.exp_labels.clone(),
                            a.exp_annotations.clone(),
                        )
                    })
                    .collect();
                if let Some(msg) =
                    report::compare_alerts(&test.alertname, &test.eval_time, exp, got)
                {
                    errs.push(named(msg));
                }
                curr += 1;
            }
            ts += eval_interval;
        }
        for t in &self.promql_expr_test {
            if let Err(e) = self.check_expr(t, &engine, &store) {
                errs.push(e);
            }
        }
        if errs.is_empty() { Ok(()) } else { Err(errs) }
    }

    fn check_expr(&self, t: &ExprTest, engine: &Engine, store: &Shared) -> Result<(), String> {
        let at = dur(&t.eval_time)?;
        let time = format_duration(at);
        let fail = |e: String| format!("    expr: {:?}, time: {time}, err: {e}", t.expr);
        let got = engine
            .instant(store, &t.expr, at)
            .map_err(|e| fail(e.to_string()))?;
        let mut got: Vec<(Labels, f64)> = match got.value {
            QueryValue::Vector(v) => v.into_iter().map(|s| (s.labels, s.v)).collect(),
            QueryValue::Scalar(_, v) => vec![(Labels::empty(), v)],
            _ => return Err(fail("rule result is not a vector or scalar".into())),
        };
        let mut exp = Vec::new();
        for s in &t.exp_samples {
            let l = report::parse_metric(&s.labels)
                .map_err(|e| fail(format!("labels {:?}: {e}", s.labels)))?;
            exp.push((l, s.value));
        }
        exp.sort_by(|a, b| a.0.cmp(&b.0));
        got.sort_by(|a, b| a.0.cmp(&b.0));
        let same =
            exp.len() == got.len() && exp.iter().zip(&got).all(|(a, b)| a.0 == b.0 && a.1 == b.1);
        if same {
            return Ok(());
        }
        Err(format!(
            "    expr: {:?}, time: {time},\n        exp: {}\n        got: {}",
            t.expr,
            samples_string(&exp),
            samples_string(&got)
        ))
    }
}

/// Firing alerts of every rule named `name`, as labels and annotations.
fn firing(groups: &[Group], name: &str) -> Vec<Expected> {
    let mut out = Vec::new();
    for g in groups {
        for r in &g.rules {
            if !matches!(&r.rule.kind, RuleKind::Alerting { alert, .. } if alert == name) {
                continue;
            }
            for a in r.alerts.alerts() {
                if a.state == AlertState::Firing && a.resolved_at == 0 {
                    out.push(Expected {
                        labels: a.labels.clone(),
                        annotations: a.annotations.clone(),
                    });
                }
            }
        }
    }
    out
}

/// Runs every file, printing as promtool prints; true when all passed.
pub fn run_files(
    paths: &[PathBuf],
    out: &mut dyn std::io::Write,
    err: &mut dyn std::io::Write,
) -> std::io::Result<bool> {
    let mut ok = true;
    for p in paths {
        writeln!(out, "Unit Testing:  {}", p.display())?;
        match run_file(p) {
            Ok(()) => writeln!(out, "  SUCCESS")?,
            Err(errs) => {
                ok = false;
                writeln!(err, "  FAILED:")?;
                for e in errs {
                    writeln!(err, "{e}")?;
                    writeln!(out)?;
                }
            }
        }
        writeln!(out)?;
    }
    Ok(ok)
}

#[cfg(test)]
#[path = "unittest/tests.rs"]
mod tests;
