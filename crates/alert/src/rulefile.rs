//! Prometheus rule files: `groups` of recording and alerting rules, parsed strictly (unknown
//! fields are refused as Prometheus refuses them) and validated as `promtool check rules`
//! validates them; every error names the file, the group, the rule and the line.

use std::collections::{BTreeMap, HashSet};

use kubepulse_model::labels::{is_valid_label_name, is_valid_metric_name};
use kubepulse_model::parse_duration;
use kubepulse_model::yaml::describe_error;
use promql_parser::parser::Expr;
use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::error::{AlertError, LoadErrors, Place};
use crate::template;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    groups: Vec<RawGroup>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    name: Spanned<String>,
    interval: Option<String>,
    #[serde(default)]
    limit: i64,
    #[serde(default)]
    rules: Vec<Spanned<RawRule>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    record: Option<String>,
    alert: Option<String>,
    expr: Option<Spanned<String>>,
    #[serde(rename = "for")]
    for_: Option<String>,
    keep_firing_for: Option<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

/// What a rule computes.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleKind {
    /// A recording rule: its result is stored under this metric name.
    Recording {
        /// The metric name.
        record: String,
    },
    /// An alerting rule.
    Alerting {
        /// The alert's name.
        alert: String,
        /// How long the condition must hold before the alert fires (ms).
        hold: i64,
        /// How long a firing alert keeps firing once the condition is gone (ms).
        keep_firing_for: i64,
        /// Annotations (templates), by name.
        annotations: BTreeMap<String, String>,
    },
}

/// One validated rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// Recording or alerting.
    pub kind: RuleKind,
    /// The PromQL expression as written.
    pub expr: String,
    /// The parsed expression.
    pub parsed: Expr,
    /// Labels added to the results (templates for alerting rules), by name.
    pub labels: BTreeMap<String, String>,
    /// 1-based line of the rule in its file.
    pub line: usize,
}

impl Rule {
    /// The recorded metric or the alert's name.
    pub fn name(&self) -> &str {
        match &self.kind {
            RuleKind::Recording { record } => record,
            RuleKind::Alerting { alert, .. } => alert,
        }
    }
}

/// One validated group.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleGroup {
    /// The group's name.
    pub name: String,
    /// The file it came from.
    pub file: String,
    /// Its own evaluation interval (ms), when set.
    pub interval: Option<i64>,
    /// Most alerts or series a rule may produce; 0 is no limit.
    pub limit: usize,
    /// Its rules, in evaluation order.
    pub rules: Vec<Rule>,
}

/// Parses and validates the rule file `file` holding `src`. Every problem found is returned,
/// each naming its place.
pub fn parse(file: &str, src: &str) -> Result<Vec<RuleGroup>, LoadErrors> {
    let raw: RawFile = match serde_saphyr::from_str(src) {
        Ok(r) => r,
        Err(e) => {
            let line = e.location().map_or(0, |l| l.line() as usize);
            let (key, message) = describe_error(src, line.max(1), &e.to_string());
            let message = if key.is_empty() {
                message
            } else {
                format!("{key}: {message}")
            };
            let place = Place {
                file: file.into(),
                line,
                group: None,
                rule: None,
            };
            return Err(LoadErrors(vec![AlertError::Load { place, message }]));
        }
    };
    let mut errors = Vec::new();
    let mut groups = Vec::new();
    let mut names = HashSet::new();
    for g in raw.groups {
        let place = Place {
            file: file.into(),
            line: g.name.referenced.line() as usize,
            group: Some(g.name.value.clone()),
            rule: None,
        };
        let mut err = |place: &Place, message: String| {
            errors.push(AlertError::Load {
                place: place.clone(),
                message,
            })
        };
        if g.name.value.is_empty() {
            err(&place, "group name must not be empty".into());
        } else if !names.insert(g.name.value.clone()) {
            err(&place, "group name is repeated in the same file".into());
        }
        let interval = match g.interval.as_deref().map(parse_duration) {
            Some(Ok(ms)) if ms > 0 => Some(ms),
            Some(Ok(_)) => {
                err(&place, "interval must be greater than zero".into());
                None
            }
            Some(Err(e)) => {
                err(&place, format!("interval: {e}"));
                None
            }
            None => None,
        };
        if g.limit < 0 {
            err(&place, "limit must not be negative".into());
        }
        let mut rules = Vec::new();
        for (i, r) in g.rules.into_iter().enumerate() {
            let line = r.referenced.line() as usize;
            match rule(r.value, line) {
                Ok(rule) => rules.push(rule),
                Err((name, messages)) => {
                    let place = Place {
                        line,
                        rule: Some((i + 1, name)),
                        ..place.clone()
                    };
                    for m in messages {
                        err(&place, m);
                    }
                }
            }
        }
        groups.push(RuleGroup {
            name: g.name.value,
            file: file.into(),
            interval,
            limit: usize::try_from(g.limit).unwrap_or(0),
            rules,
        });
    }
    if errors.is_empty() {
        Ok(groups)
    } else {
        Err(LoadErrors(errors))
    }
}

/// Reads and parses one rule file.
pub fn load(path: &std::path::Path) -> Result<Vec<RuleGroup>, LoadErrors> {
    let file = path.display().to_string();
    let src = std::fs::read_to_string(path).map_err(|e| {
        LoadErrors(vec![AlertError::Io {
            file: file.clone(),
            message: e.to_string(),
        }])
    })?;
    parse(&file, &src)
}

/// Rule file paths with `*` and `?` in their last part expanded, matches sorted by name.
pub fn expand(patterns: &[std::path::PathBuf]) -> Result<Vec<std::path::PathBuf>, String> {
    let mut out = Vec::new();
    for p in patterns {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        if !name.contains(['*', '?']) {
            out.push(p.clone());
            continue;
        }
        let parent = match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => std::path::PathBuf::from("."),
        };
        let mut found: Vec<std::path::PathBuf> = std::fs::read_dir(&parent)
            .map_err(|e| format!("{}: {e}", parent.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|e| {
                e.file_name()
                    .is_some_and(|n| wildcard(&name, &n.to_string_lossy()))
            })
            .collect();
        found.sort();
        out.extend(found);
    }
    Ok(out)
}

/// Shell-style matching of `*` and `?`.
fn wildcard(pattern: &str, name: &str) -> bool {
    fn go(p: &[char], n: &[char]) -> bool {
        match p.first() {
            None => n.is_empty(),
            Some('*') => (0..=n.len()).any(|i| go(&p[1..], &n[i..])),
            Some('?') => !n.is_empty() && go(&p[1..], &n[1..]),
            Some(c) => n.first() == Some(c) && go(&p[1..], &n[1..]),
        }
    }
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    go(&p, &n)
}

fn duration(what: &str, v: Option<&str>, errs: &mut Vec<String>) -> i64 {
    match v.map(parse_duration) {
        Some(Ok(ms)) => ms,
        Some(Err(e)) => {
            errs.push(format!("{what}: {e}"));
            0
        }
        None => 0,
    }
}

/// Validates one rule; on failure, its name and every problem.
fn rule(r: RawRule, line: usize) -> Result<Rule, (String, Vec<String>)> {
    let mut errs = Vec::new();
    let name = r.record.clone().or(r.alert.clone()).unwrap_or_default();
    let expr = r.expr.as_ref().map(|e| e.value.clone()).unwrap_or_default();
    let parsed = if expr.trim().is_empty() {
        errs.push("field 'expr' must be set in rule".to_string());
        None
    } else {
        match kubepulse_query::parse::parse(&expr) {
            Ok(p) => Some(p),
            Err(e) => {
                errs.push(format!("could not parse expression: {}", e.render(&expr)));
                None
            }
        }
    };
    for k in r.labels.keys() {
        if !is_valid_label_name(k) || k == "__name__" {
            errs.push(format!("invalid label name: {k}"));
        }
    }
    let kind = match (r.record, r.alert) {
        (Some(_), Some(_)) => {
            errs.push("only one of 'record' and 'alert' must be set".into());
            None
        }
        (None, None) => {
            errs.push("one of 'record' or 'alert' must be set".into());
            None
        }
        (Some(record), None) => {
            if !is_valid_metric_name(&record) {
                errs.push(format!("invalid recording rule name: {record}"));
            }
            for (field, set) in [
                ("annotations", !r.annotations.is_empty()),
                ("for", r.for_.is_some()),
                ("keep_firing_for", r.keep_firing_for.is_some()),
            ] {
                if set {
                    errs.push(format!("invalid field '{field}' in recording rule"));
                }
            }
            Some(RuleKind::Recording { record })
        }
        (None, Some(alert)) => {
            if alert.is_empty() {
                errs.push("one of 'record' or 'alert' must be set".into());
            }
            for k in r.annotations.keys() {
                if !is_valid_label_name(k) {
                    errs.push(format!("invalid annotation name: {k}"));
                }
            }
            for (what, map) in [("label", &r.labels), ("annotation", &r.annotations)] {
                for (k, v) in map {
                    if let Err(e) = template::check(&alert, v) {
                        errs.push(format!("{what} {k:?}: {e}"));
                    }
                }
            }
            let hold = duration("for", r.for_.as_deref(), &mut errs);
            let keep = duration("keep_firing_for", r.keep_firing_for.as_deref(), &mut errs);
            Some(RuleKind::Alerting {
                alert,
                hold,
                keep_firing_for: keep,
                annotations: r.annotations,
            })
        }
    };
    match (kind, parsed) {
        (Some(kind), Some(parsed)) if errs.is_empty() => Ok(Rule {
            kind,
            expr,
            parsed,
            labels: r.labels,
            line,
        }),
        _ => Err((name, errs)),
    }
}

#[cfg(test)]
#[path = "rulefile/tests.rs"]
mod tests;
