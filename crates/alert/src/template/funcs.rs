//! Prometheus' template functions.

use std::collections::BTreeMap;
use std::sync::Arc;

use gotmpl::{FuncMap, TemplateError, Value};
use kubepulse_model::{Labels, parse_duration};
use regex::Regex;

use super::gofmt::format_g;
use super::{QueryContext, run_query};

fn err(msg: impl Into<String>) -> TemplateError {
    TemplateError::Exec(msg.into())
}

fn s(v: impl Into<String>) -> Value {
    Value::String(Arc::from(v.into().into_boxed_str()))
}

fn arg<'a>(name: &str, args: &'a [Value], i: usize, n: usize) -> Result<&'a Value, TemplateError> {
    if args.len() != n {
        return Err(TemplateError::ArgCount {
            name: name.into(),
            expected: n,
            got: args.len(),
        });
    }
    args.get(i)
        .ok_or_else(|| err(format!("{name}: missing argument")))
}

/// A number from a float, an integer or a numeric string, as Prometheus' `convertToFloat`.
fn float(v: &Value) -> Result<f64, TemplateError> {
    match v {
        Value::Float(f) => Ok(*f),
        Value::Int(i) => Ok(*i as f64),
        Value::Uint(u) => Ok(*u as f64),
        Value::String(t) => kubepulse_query::promqltest::script::number(t)
            .ok_or_else(|| err(format!("strconv.ParseFloat: parsing {t:?}: invalid syntax"))),
        other => Err(err(format!("can't convert {} to float", other.type_name()))),
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(t) => t.to_string(),
        other => other.to_string(),
    }
}

/// `humanize`: SI prefixes, four significant digits.
pub fn humanize(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format_g(v, 4);
    }
    let mut v = v;
    let mut prefix = "";
    if v.abs() >= 1.0 {
        for p in ["k", "M", "G", "T", "P", "E", "Z", "Y"] {
            if v.abs() < 1000.0 {
                break;
            }
            prefix = p;
            v /= 1000.0;
        }
    } else {
        for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
            if v.abs() >= 1.0 {
                break;
            }
            prefix = p;
            v *= 1000.0;
        }
    }
    format!("{}{prefix}", format_g(v, 4))
}

/// `humanize1024`: binary prefixes.
pub fn humanize1024(v: f64) -> String {
    if v.abs() <= 1.0 || !v.is_finite() {
        return format_g(v, 4);
    }
    let mut v = v;
    let mut prefix = "";
    for p in ["ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"] {
        if v.abs() < 1024.0 {
            break;
        }
        prefix = p;
        v /= 1024.0;
    }
    format!("{}{prefix}", format_g(v, 4))
}

/// `humanizeDuration`: seconds as `1d 2h 3m 4s`, or with SI prefixes below a second.
pub fn humanize_duration(v: f64) -> String {
    if !v.is_finite() {
        return format_g(v, 4);
    }
    if v == 0.0 {
        return format!("{}s", format_g(v, 4));
    }
    if v.abs() >= 1.0 {
        let sign = if v < 0.0 { "-" } else { "" };
        let v = v.abs();
        let d = v as i64;
        let (secs, mins, hours, days) = (d % 60, (d / 60) % 60, (d / 3600) % 24, d / 86_400);
        return if days != 0 {
            format!("{sign}{days}d {hours}h {mins}m {secs}s")
        } else if hours != 0 {
            format!("{sign}{hours}h {mins}m {secs}s")
        } else if mins != 0 {
            format!("{sign}{mins}m {secs}s")
        } else {
            format!("{sign}{}s", format_g(v, 4))
        };
    }
    let mut v = v;
    let mut prefix = "";
    for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
        if v.abs() >= 1.0 {
            break;
        }
        prefix = p;
        v *= 1000.0;
    }
    format!("{}{prefix}s", format_g(v, 4))
}

/// `humanizeTimestamp`: Unix seconds as Go prints a UTC `time.Time`
/// (`2006-01-02 15:04:05.999999999 +0000 UTC`).
pub fn humanize_timestamp(v: f64) -> String {
    if !v.is_finite() {
        return format_g(v, 4);
    }
    let nanos = (v * 1e9) as i64;
    let secs = nanos.div_euclid(1_000_000_000);
    let frac = nanos.rem_euclid(1_000_000_000);
    let (days, tod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = kubepulse_model::time::civil_from_days(days);
    let mut out = format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        tod / 3600,
        (tod / 60) % 60,
        tod % 60
    );
    if frac > 0 {
        let f = format!("{frac:09}");
        out.push('.');
        out.push_str(f.trim_end_matches('0'));
    }
    out.push_str(" +0000 UTC");
    out
}

fn unary(f: fn(f64) -> String, name: &'static str) -> gotmpl::ValueFunc {
    Arc::new(move |args: &[Value]| Ok(s(f(float(arg(name, args, 0, 1)?)?))))
}

fn string_fn(f: fn(&str) -> String, name: &'static str) -> gotmpl::ValueFunc {
    Arc::new(move |args: &[Value]| Ok(s(f(&text(arg(name, args, 0, 1)?)))))
}

fn regex(p: &str) -> Result<Regex, TemplateError> {
    Regex::new(p).map_err(|e| err(format!("error parsing regexp: {e}")))
}

/// A query result sample as templates see it: `.Labels` and `.Value`.
pub fn sample(labels: &Labels, v: f64) -> Value {
    let l: BTreeMap<Arc<str>, Value> = labels
        .iter()
        .map(|l| (Arc::from(l.name.as_str()), s(l.value.clone())))
        .collect();
    Value::Map(Arc::new(BTreeMap::from([
        (Arc::from("Labels"), Value::Map(Arc::new(l))),
        (Arc::from("Value"), Value::Float(v)),
    ])))
}

fn sample_field<'a>(v: &'a Value, field: &str) -> Result<&'a Value, TemplateError> {
    v.field(field)
        .ok_or_else(|| err(format!("expected a query sample, got {}", v.type_name())))
}

fn title(t: &str) -> String {
    let mut out = String::with_capacity(t.len());
    let mut start = true;
    for c in t.chars() {
        if start && c.is_alphanumeric() {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        start = !(c.is_alphanumeric() || c == '_' || c == '\'');
    }
    out
}

fn strip_port(t: &str) -> String {
    if let Some(rest) = t.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest).to_string();
    }
    match t.rsplit_once(':') {
        Some((host, _)) if !host.contains(':') => host.to_string(),
        _ => t.to_string(),
    }
}

fn strip_domain(t: &str) -> String {
    let (host, port) = match t.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => (h, Some(p)),
        _ => (t, None),
    };
    if host.parse::<std::net::IpAddr>().is_ok() {
        return t.to_string();
    }
    let short = host.split('.').next().unwrap_or(host);
    match port {
        Some(p) => format!("{short}:{p}"),
        None => short.to_string(),
    }
}

/// Prometheus' `/graph` link of an expression (`tab` 0: graph, 1: table).
pub fn link(expr: &str, tab: u8) -> String {
    let mut enc = String::new();
    for b in expr.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                enc.push(b as char)
            }
            b' ' => enc.push('+'),
            _ => enc.push_str(&format!("%{b:02X}")),
        }
    }
    format!("/graph?g0.expr={enc}&g0.tab={tab}")
}

/// The `query` function, bound to where and when it reads.
pub fn query(ctx: Option<QueryContext>) -> gotmpl::ValueFunc {
    Arc::new(move |args: &[Value]| {
        let expr = text(arg("query", args, 0, 1)?);
        let ctx = ctx
            .as_ref()
            .ok_or_else(|| err("query is not available here"))?;
        run_query(ctx, &expr).map_err(err)
    })
}

/// Every function but `query`.
pub fn base() -> FuncMap {
    let mut m = FuncMap::new();
    let mut add = |name: &str, f: gotmpl::ValueFunc| {
        m.insert(name.into(), f);
    };
    add("humanize", unary(humanize, "humanize"));
    add("humanize1024", unary(humanize1024, "humanize1024"));
    add(
        "humanizeDuration",
        unary(humanize_duration, "humanizeDuration"),
    );
    add(
        "humanizePercentage",
        unary(
            |v| format!("{}%", format_g(v * 100.0, 4)),
            "humanizePercentage",
        ),
    );
    add(
        "humanizeTimestamp",
        unary(humanize_timestamp, "humanizeTimestamp"),
    );
    add("title", string_fn(title, "title"));
    add("toUpper", string_fn(str::to_uppercase, "toUpper"));
    add("toLower", string_fn(str::to_lowercase, "toLower"));
    add("stripPort", string_fn(strip_port, "stripPort"));
    add("stripDomain", string_fn(strip_domain, "stripDomain"));
    add("safeHtml", string_fn(str::to_string, "safeHtml"));
    add("graphLink", string_fn(|e| link(e, 0), "graphLink"));
    add("tableLink", string_fn(|e| link(e, 1), "tableLink"));
    add(
        "match",
        Arc::new(|args: &[Value]| {
            let p = text(arg("match", args, 0, 2)?);
            Ok(Value::Bool(regex(&p)?.is_match(&text(&args[1]))))
        }),
    );
    add(
        "reReplaceAll",
        Arc::new(|args: &[Value]| {
            let p = text(arg("reReplaceAll", args, 0, 3)?);
            let (repl, t) = (text(&args[1]), text(&args[2]));
            Ok(s(regex(&p)?.replace_all(&t, repl.as_str()).into_owned()))
        }),
    );
    add(
        "parseDuration",
        Arc::new(|args: &[Value]| {
            let t = text(arg("parseDuration", args, 0, 1)?);
            let ms = parse_duration(&t).map_err(|e| err(e.to_string()))?;
            Ok(Value::Float(ms as f64 / 1000.0))
        }),
    );
    add("toTime", unary(humanize_timestamp, "toTime"));
    add(
        "__goFloat",
        Arc::new(|args: &[Value]| match arg("__goFloat", args, 0, 1)? {
            Value::Float(f) => Ok(s(super::gofmt::format_v(*f))),
            other => Ok(other.clone()),
        }),
    );
    add(
        "args",
        Arc::new(|args: &[Value]| {
            let m: BTreeMap<Arc<str>, Value> = args
                .iter()
                .enumerate()
                .map(|(i, v)| (Arc::from(format!("arg{i}").as_str()), v.clone()))
                .collect();
            Ok(Value::Map(Arc::new(m)))
        }),
    );
    add(
        "first",
        Arc::new(|args: &[Value]| match arg("first", args, 0, 1)? {
            Value::List(l) => l
                .first()
                .cloned()
                .ok_or_else(|| err("first() called on vector with no elements")),
            other => Err(err(format!(
                "first() expects a query result, got {}",
                other.type_name()
            ))),
        }),
    );
    add(
        "label",
        Arc::new(|args: &[Value]| {
            let name = text(arg("label", args, 0, 2)?);
            let labels = sample_field(&args[1], "Labels")?;
            Ok(labels.field(&name).cloned().unwrap_or_else(|| s("")))
        }),
    );
    add(
        "value",
        Arc::new(|args: &[Value]| sample_field(arg("value", args, 0, 1)?, "Value").cloned()),
    );
    add(
        "strvalue",
        Arc::new(|args: &[Value]| {
            let labels = sample_field(arg("strvalue", args, 0, 1)?, "Labels")?;
            Ok(labels.field("__value__").cloned().unwrap_or_else(|| s("")))
        }),
    );
    add(
        "sortByLabel",
        Arc::new(|args: &[Value]| {
            let name = text(arg("sortByLabel", args, 0, 2)?);
            let Value::List(l) = &args[1] else {
                return Err(err("sortByLabel expects a query result"));
            };
            let mut v: Vec<Value> = l.to_vec();
            let key = |x: &Value| {
                x.field("Labels")
                    .and_then(|l| l.field(&name))
                    .map(text)
                    .unwrap_or_default()
            };
            v.sort_by_key(key);
            Ok(Value::List(v.into()))
        }),
    );
    m
}
