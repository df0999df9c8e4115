//! Go templates in alert labels and annotations, expanded as Prometheus expands them: the text is
//! preceded by `{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}`
//! `{{$externalURL := .ExternalURL}}{{$value := .Value}}`, missing label keys read as empty
//! strings, and Prometheus' functions are available (`humanize`, `humanizeDuration`,
//! `humanizePercentage`, `query`, `first`, `label`, `value`, `reReplaceAll`, …). A template that
//! fails to run expands to `<error expanding template: …>`, as in Prometheus.

mod funcs;
mod gofmt;
mod names;

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use gotmpl::{FuncMap, MissingKey, Template, Value};
use kubepulse_model::Labels;
use kubepulse_query::{Engine, QueryValue, Source};
use regex::Regex;

pub use gofmt::{format_g, format_v};

/// Go's own template functions.
const GO_BUILTINS: [&str; 19] = [
    "and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf",
    "println", "urlquery", "eq", "ge", "gt", "le", "lt", "ne",
];

const DEFS: &str = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}\
{{$externalURL := .ExternalURL}}{{$value := .Value}}";

/// Where the `query` function reads from, and when.
#[derive(Clone)]
pub struct QueryContext {
    /// The engine.
    pub engine: Engine,
    /// The samples.
    pub source: Arc<dyn Source + Send + Sync>,
    /// Evaluation time (ms).
    pub t: i64,
}

/// What a template sees.
pub struct TemplateData<'a> {
    /// The alert's labels (`$labels`).
    pub labels: &'a Labels,
    /// The external labels (`$externalLabels`).
    pub external_labels: &'a Labels,
    /// The external URL (`$externalURL`).
    pub external_url: &'a str,
    /// The sample's value (`$value`).
    pub value: f64,
}

static BASE: LazyLock<FuncMap> = LazyLock::new(funcs::base);

fn template(name: &str, query: Option<QueryContext>) -> Template {
    let mut fm = BASE.clone();
    fm.insert("query".into(), funcs::query(query));
    Template::new(&format!("__alert_{name}"))
        .missing_key(MissingKey::ZeroValue)
        .funcs(fm)
}

/// The `/graph?g0.expr=…&g0.tab=1` link of an expression, as alerts' generator URLs read.
pub fn table_link(expr: &str) -> String {
    funcs::link(expr, 1)
}

/// Checks that `text` parses as a template of alert `alert` and calls only known functions.
pub fn check(alert: &str, text: &str) -> Result<(), String> {
    let name = format!("__alert_{alert}");
    let src = format!("{DEFS}{text}");
    template(alert, None)
        .parse(&src)
        .map_err(|e| e.to_string())?;
    for f in names::called(&name, &src)? {
        if !(GO_BUILTINS.contains(&f.as_str()) || f == "query" || BASE.contains_key(&f)) {
            return Err(format!("template: {name}:1: function {f:?} not defined"));
        }
    }
    Ok(())
}

/// Label references (`$labels.x`, `.Labels.x`) in a text, so that missing ones can read as "".
static REFS: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?:\$labels|\.Labels|\$externalLabels|\.ExternalLabels)\.([A-Za-z_][A-Za-z0-9_]*)")
        .ok()
});

fn label_map(labels: &Labels, text: &str) -> Value {
    let mut m: BTreeMap<Arc<str>, Value> = labels
        .iter()
        .map(|l| {
            (
                Arc::from(l.name.as_str()),
                Value::String(Arc::from(l.value.as_str())),
            )
        })
        .collect();
    if let Some(re) = REFS.as_ref() {
        for c in re.captures_iter(text) {
            if let Some(k) = c.get(1) {
                m.entry(Arc::from(k.as_str()))
                    .or_insert_with(|| Value::String(Arc::from("")));
            }
        }
    }
    Value::Map(Arc::new(m))
}

/// Actions that print `$value` or `.Value` alone: Go prints a float64 as `%v` does
/// (`5.36870912e+08`), which the template engine's own printing does not, so such actions get a
/// formatting function appended.
static BARE_VALUE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"\{\{(-?\s*)(\$value|\.Value)(\s*-?)\}\}").ok());

fn go_printing(text: &str) -> std::borrow::Cow<'_, str> {
    match BARE_VALUE.as_ref() {
        Some(re) => re.replace_all(text, "{{${1}${2} | __goFloat${3}}}"),
        None => std::borrow::Cow::Borrowed(text),
    }
}

/// Expands `text` for alert `alert`; errors are written into the result as Prometheus writes them.
pub fn expand(
    alert: &str,
    text: &str,
    data: &TemplateData<'_>,
    query: Option<&QueryContext>,
) -> String {
    if !text.contains("{{") {
        return text.to_string();
    }
    let root = Value::Map(Arc::new(BTreeMap::from([
        (Arc::from("Labels"), label_map(data.labels, text)),
        (
            Arc::from("ExternalLabels"),
            label_map(data.external_labels, text),
        ),
        (
            Arc::from("ExternalURL"),
            Value::String(Arc::from(data.external_url)),
        ),
        (Arc::from("Value"), Value::Float(data.value)),
    ])));
    let result = template(alert, query.cloned())
        .parse(&format!("{DEFS}{}", go_printing(text)))
        .and_then(|t| t.execute_to_string(&root));
    match result {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(alert, error = %e, "expanding alert template failed");
            format!("<error expanding template: {e}>")
        }
    }
}

/// Runs `expr` for the `query` template function: its samples as `{Labels, Value}` maps.
fn run_query(ctx: &QueryContext, expr: &str) -> Result<Value, String> {
    let r = ctx
        .engine
        .instant(ctx.source.as_ref(), expr, ctx.t)
        .map_err(|e| e.to_string())?;
    let samples: Vec<(Labels, f64)> = match r.value {
        QueryValue::Vector(v) => v.into_iter().map(|s| (s.labels, s.v)).collect(),
        QueryValue::Scalar(_, v) => vec![(Labels::empty(), v)],
        QueryValue::String(_, s) => {
            let l = Labels::from_pairs([("__value__", s.as_str())]).map_err(|e| e.to_string())?;
            vec![(l, f64::NAN)]
        }
        QueryValue::Matrix(_) => {
            return Err("query result is a range vector, not supported in templates".into());
        }
    };
    Ok(Value::List(
        samples
            .into_iter()
            .map(|(l, v)| funcs::sample(&l, v))
            .collect(),
    ))
}

#[cfg(test)]
#[path = "template/tests.rs"]
mod tests;
