//! Running a log pipeline over one line: line filters, the `json` and `logfmt` parsers (whose
//! labels join the stream's), label filters and `line_format`.

use std::collections::BTreeMap;

use kubepulse_model::{Labels, Severity};

use super::ast::{Cmp, FormatPart, LabelFilter, Stage, Value, go_duration};

/// A line after the pipeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    /// Labels extracted by parsers (empty when there are none).
    pub extracted: BTreeMap<String, String>,
    /// The line, rewritten by `line_format` or as it was.
    pub line: String,
    /// Labels `drop` removes from the result.
    pub dropped: Vec<String>,
}

/// A label name as Loki sanitises extracted keys: anything but letters, digits and `_` is `_`.
fn sanitise(k: &str) -> String {
    let mut s: String = k
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    s
}

fn insert(out: &mut BTreeMap<String, String>, stream: &Labels, key: &str, v: String) {
    let mut k = sanitise(key);
    if stream.get(&k).is_some() {
        k.push_str("_extracted");
    }
    out.insert(k, v);
}

fn flatten(
    out: &mut BTreeMap<String, String>,
    stream: &Labels,
    prefix: &str,
    v: &serde_json::Value,
) {
    use serde_json::Value as J;
    match v {
        J::Object(m) => {
            for (k, v) in m {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}_{k}")
                };
                flatten(out, stream, &key, v);
            }
        }
        // Arrays are skipped, as Loki's json parser skips them.
        J::Array(_) => {}
        J::String(s) => insert(out, stream, prefix, s.clone()),
        J::Null => insert(out, stream, prefix, String::new()),
        other => insert(out, stream, prefix, other.to_string()),
    }
}

fn logfmt(line: &str) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            return Some(out);
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            if c == '"' {
                return None;
            }
            key.push(c);
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'=') {
            chars.next();
            if chars.peek() == Some(&'"') {
                chars.next();
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => match chars.next()? {
                            'n' => value.push('\n'),
                            't' => value.push('\t'),
                            c => value.push(c),
                        },
                        c => value.push(c),
                    }
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() {
                        break;
                    }
                    value.push(c);
                    chars.next();
                }
            }
        }
        if !key.is_empty() {
            out.push((key, value));
        }
    }
}

/// A label's value for filters and templates: extracted, else the stream's, else (for
/// `level` and `detected_level`) the line's severity.
fn lookup<'a>(
    name: &str,
    extracted: &'a BTreeMap<String, String>,
    stream: &'a Labels,
    severity: Severity,
) -> Option<&'a str> {
    extracted
        .get(name)
        .map(String::as_str)
        .or_else(|| stream.get(name))
        .or_else(|| {
            matches!(name, "level" | "detected_level")
                .then_some(severity.as_str())
                .filter(|_| severity != Severity::Unspecified)
        })
}

fn number(v: &str, duration: bool) -> Option<f64> {
    if duration && let Some(s) = go_duration(v) {
        return Some(s);
    }
    v.trim().parse().ok()
}

fn holds(f: &LabelFilter, v: Option<&str>) -> bool {
    let v = v.unwrap_or("");
    match (&f.cmp, &f.value) {
        (Cmp::Re, _) => f.re.as_ref().is_some_and(|r| r.is_match(v)),
        (Cmp::NotRe, _) => f.re.as_ref().is_some_and(|r| !r.is_match(v)),
        (Cmp::Eq, Value::Str(s)) => v == s,
        (Cmp::Ne, Value::Str(s)) => v != s,
        (cmp, Value::Num(n) | Value::Duration(n)) => {
            let Some(x) = number(v, matches!(f.value, Value::Duration(_))) else {
                return false;
            };
            match cmp {
                Cmp::Eq => x == *n,
                Cmp::Ne => x != *n,
                Cmp::Gt => x > *n,
                Cmp::Ge => x >= *n,
                Cmp::Lt => x < *n,
                Cmp::Le => x <= *n,
                Cmp::Re | Cmp::NotRe => false,
            }
        }
        (_, Value::Str(_)) => false,
    }
}

/// Runs `stages` over a line of `stream`; `None` when a filter drops it.
pub fn run(stages: &[Stage], stream: &Labels, severity: Severity, line: &str) -> Option<Output> {
    let mut extracted = BTreeMap::new();
    let mut current: Option<String> = None;
    let mut dropped = Vec::new();
    for stage in stages {
        let text = current.as_deref().unwrap_or(line);
        match stage {
            Stage::Contains(s) => {
                if !text.contains(s.as_str()) {
                    return None;
                }
            }
            Stage::NotContains(s) => {
                if text.contains(s.as_str()) {
                    return None;
                }
            }
            Stage::Matches(r) => {
                if !r.is_match(text) {
                    return None;
                }
            }
            Stage::NotMatches(r) => {
                if r.is_match(text) {
                    return None;
                }
            }
            Stage::Json => match serde_json::from_str::<serde_json::Value>(text) {
                Ok(v @ serde_json::Value::Object(_)) => flatten(&mut extracted, stream, "", &v),
                _ => {
                    extracted.insert("__error__".into(), "JSONParserErr".into());
                }
            },
            Stage::Logfmt => match logfmt(text) {
                Some(pairs) => {
                    for (k, v) in pairs {
                        insert(&mut extracted, stream, &k, v);
                    }
                }
                None => {
                    extracted.insert("__error__".into(), "LogfmtParserErr".into());
                }
            },
            Stage::Labels(filters) => {
                let all = filters
                    .iter()
                    .all(|f| holds(f, lookup(&f.name, &extracted, stream, severity)));
                if !all {
                    return None;
                }
            }
            Stage::LineFormat(parts) => {
                let mut s = String::new();
                for p in parts {
                    match p {
                        FormatPart::Text(t) => s.push_str(t),
                        FormatPart::Label(l) => {
                            s.push_str(lookup(l, &extracted, stream, severity).unwrap_or(""));
                        }
                    }
                }
                current = Some(s);
            }
            Stage::Drop(names) => {
                for n in names {
                    extracted.remove(n);
                    dropped.push(n.clone());
                }
            }
        }
    }
    Some(Output {
        extracted,
        line: current.unwrap_or_else(|| line.to_string()),
        dropped,
    })
}

#[cfg(test)]
mod tests {
    use super::super::ast::Query;
    use super::super::parse::parse;
    use super::*;

    fn stages(q: &str) -> Vec<Stage> {
        match parse(q) {
            Ok(Query::Log(l)) => l.stages,
            other => panic!("{q}: {other:?}"),
        }
    }

    #[test]
    fn pipelines_filter_parse_and_format() {
        let stream = Labels::from_pairs([("app", "api")]).unwrap_or_default();
        let s = stages(
            r#"{app="api"} |= "GET" | json | status >= 500, app_extracted="x" | line_format "{{.method}} {{.status}} {{.level}}""#,
        );
        let line = r#"{"method":"GET","status":503,"app":"x","req":{"id":"r1"}}"#;
        let out = run(&s, &stream, Severity::Error, line);
        assert_eq!(out.as_ref().map(|o| o.line.as_str()), Some("GET 503 error"));
        assert_eq!(
            out.as_ref()
                .and_then(|o| o.extracted.get("req_id"))
                .map(String::as_str),
            Some("r1")
        );
        assert!(
            run(
                &s,
                &stream,
                Severity::Info,
                r#"{"method":"GET","status":200,"app":"x"}"#
            )
            .is_none()
        );
        assert!(run(&s, &stream, Severity::Info, "POST").is_none());

        let s = stages(r#"{app="api"} | logfmt | duration > 1s | level="warn""#);
        assert!(
            run(
                &s,
                &stream,
                Severity::Warn,
                r#"msg="slow query" duration=1.5s"#
            )
            .is_some()
        );
        assert!(run(&s, &stream, Severity::Warn, "msg=fast duration=20ms").is_none());
        let s = stages(r#"{app="api"} | json | __error__="JSONParserErr""#);
        assert!(run(&s, &stream, Severity::Info, "not json").is_some());
        let s = stages(r#"{app="api"} |~ "5\\d\\d" !~ "health""#);
        assert!(run(&s, &stream, Severity::Info, "GET /x 503").is_some());
        assert!(run(&s, &stream, Severity::Info, "GET /health 503").is_none());
    }
}
