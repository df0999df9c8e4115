//! KubePulse's PromQL against the real Prometheus 2.42: the same samples remote-written into
//! both, a few hundred generated queries (selectors, rates, aggregations, joins, subqueries,
//! functions) evaluated instant and range in both, results equal within float tolerance.

#![allow(clippy::unwrap_used)]

#[path = "differential/pair.rs"]
mod pair;
#[path = "differential/queries.rs"]
mod queries;
mod support;

use std::collections::BTreeMap;

use kubepulse_query::promqltest::almost_equal;
use pair::{Pair, pair};
use queries::queries;
use serde_json::Value;

type Points = BTreeMap<String, Vec<(f64, f64)>>;

async fn query(client: &reqwest::Client, port: u16, path: &str, form: &[(&str, String)]) -> Value {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    client
        .post(format!("http://127.0.0.1:{port}{path}"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The result as comparable data: result type and, per series labels, points.
fn normalize(v: &Value) -> Result<(String, Points), String> {
    if v["status"] != "success" {
        return Err(v["errorType"].as_str().unwrap_or("?").to_string());
    }
    let ty = v["data"]["resultType"].as_str().unwrap_or("").to_string();
    let r = &v["data"]["result"];
    let num = |x: &Value| {
        x.as_str()
            .and_then(|s| s.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    let mut out = BTreeMap::new();
    match ty.as_str() {
        "scalar" | "string" => {
            out.insert(
                String::new(),
                vec![(r[0].as_f64().unwrap_or(0.0), num(&r[1]))],
            );
        }
        _ => {
            for s in r.as_array().cloned().unwrap_or_default() {
                let key = s["metric"].to_string();
                let points = match s.get("value") {
                    Some(p) => vec![(p[0].as_f64().unwrap_or(0.0), num(&p[1]))],
                    None => s["values"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                        .iter()
                        .map(|p| (p[0].as_f64().unwrap_or(0.0), num(&p[1])))
                        .collect(),
                };
                out.insert(key, points);
            }
        }
    }
    Ok((ty, out))
}

fn same(a: &Value, b: &Value) -> Result<(), String> {
    match (normalize(a), normalize(b)) {
        (Err(x), Err(y)) if x == y => Ok(()),
        (Ok((ta, ra)), Ok((tb, rb))) => {
            if ta != tb {
                return Err(format!("result types {ta} and {tb}"));
            }
            if ra.keys().ne(rb.keys()) {
                return Err(format!(
                    "series {:?} and {:?}",
                    ra.keys().collect::<Vec<_>>(),
                    rb.keys().collect::<Vec<_>>()
                ));
            }
            for (k, pa) in &ra {
                let pb = &rb[k];
                let eq = pa.len() == pb.len()
                    && pa
                        .iter()
                        .zip(pb)
                        .all(|(x, y)| x.0 == y.0 && almost_equal(x.1, y.1));
                if !eq {
                    return Err(format!("{k}: {pa:?} and {pb:?}"));
                }
            }
            Ok(())
        }
        (x, y) => Err(format!("{x:?} and {y:?}")),
    }
}

#[tokio::test]
async fn kubepulse_answers_like_prometheus() {
    let Pair {
        kp,
        prom_port,
        now,
        client,
        ..
    } = &pair().await;
    let (now, prom_port) = (*now, *prom_port);
    let qs = queries();
    assert!(qs.len() >= 300, "{} queries", qs.len());
    let secs = |ms: i64| format!("{}", ms as f64 / 1000.0);
    let mut failures = Vec::new();
    let mut compared = 0;
    for q in &qs {
        let mut forms: Vec<(&str, Vec<(&str, String)>)> = [now, now - 450_000, now - 1_200_000]
            .iter()
            .map(|t| {
                (
                    "/api/v1/query",
                    vec![("query", q.clone()), ("time", secs(*t))],
                )
            })
            .collect();
        forms.push((
            "/api/v1/query_range",
            vec![
                ("query", q.clone()),
                ("start", secs(now - 1_800_000)),
                ("end", secs(now)),
                ("step", "60".into()),
            ],
        ));
        for (path, form) in forms {
            let a = query(client, kp.port, path, &form).await;
            let b = query(client, prom_port, path, &form).await;
            compared += 1;
            if let Err(e) = same(&a, &b) {
                failures.push(format!("{path} {form:?}: {e}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {compared} evaluations differ from Prometheus:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
