//! Loki's JSON shapes: `{"status":"success","data":{"resultType":…,"result":…,"stats":{}}}`
//! with streams as `{"stream":{…},"values":[["<ns>","<line>"],…]}`, matrices and vectors as
//! Prometheus writes them, and label lists as `{"status":"success","data":[…]}`.

use kubepulse_model::Labels;
use kubepulse_query::logql::{Answer, Lbl};

use crate::prom::json::{sample_value, string, timestamp};

fn labels(out: &mut String, l: &Lbl) {
    out.push('{');
    for (i, (k, v)) in l.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        string(out, k);
        out.push(':');
        string(out, v);
    }
    out.push('}');
}

fn point(out: &mut String, ms: i64, v: f64) {
    out.push('[');
    timestamp(out, ms);
    out.push(',');
    string(out, &sample_value(v));
    out.push(']');
}

/// A query answer.
pub fn answer(a: &Answer) -> String {
    let mut out = String::from("{\"status\":\"success\",\"data\":{\"resultType\":");
    match a {
        Answer::Streams(streams) => {
            out.push_str("\"streams\",\"result\":[");
            for (i, (l, values)) in streams.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str("{\"stream\":");
                labels(&mut out, l);
                out.push_str(",\"values\":[");
                for (j, (t, line)) in values.iter().enumerate() {
                    if j > 0 {
                        out.push(',');
                    }
                    out.push_str("[\"");
                    out.push_str(&t.to_string());
                    out.push_str("\",");
                    string(&mut out, line);
                    out.push(']');
                }
                out.push_str("]}");
            }
            out.push(']');
        }
        Answer::Matrix(series) => {
            out.push_str("\"matrix\",\"result\":[");
            for (i, (l, points)) in series.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str("{\"metric\":");
                labels(&mut out, l);
                out.push_str(",\"values\":[");
                for (j, (t, v)) in points.iter().enumerate() {
                    if j > 0 {
                        out.push(',');
                    }
                    point(&mut out, *t, *v);
                }
                out.push_str("]}");
            }
            out.push(']');
        }
        Answer::Vector(t, samples) => {
            out.push_str("\"vector\",\"result\":[");
            for (i, (l, v)) in samples.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str("{\"metric\":");
                labels(&mut out, l);
                out.push_str(",\"value\":");
                point(&mut out, *t, *v);
                out.push('}');
            }
            out.push(']');
        }
        Answer::Scalar(t, v) => {
            out.push_str("\"scalar\",\"result\":");
            point(&mut out, *t, *v);
        }
    }
    out.push_str(",\"stats\":{}}}");
    out
}

/// `{"status":"success","data":["a","b"]}`.
pub fn strings(items: &[&str]) -> String {
    let mut out = String::from("{\"status\":\"success\",\"data\":[");
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        string(&mut out, s);
    }
    out.push_str("]}");
    out
}

/// `{"status":"success","data":[{…labels…},…]}`.
pub fn series(all: &[Labels]) -> String {
    let mut out = String::from("{\"status\":\"success\",\"data\":[");
    for (i, l) in all.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let m: Lbl = l
            .iter()
            .map(|x| (x.name.clone(), x.value.clone()))
            .collect();
        labels(&mut out, &m);
    }
    out.push_str("]}");
    out
}
