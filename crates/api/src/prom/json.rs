//! The Prometheus API's JSON, byte for byte: Go's string escaping (HTML characters included),
//! sample timestamps as `seconds[.mmm]`, sample values as strings in Go's shortest float
//! formats, and scalars with a plain float timestamp.

use kubepulse_model::Labels;
use kubepulse_model::gofloat::{format_e, format_f};
use kubepulse_query::{QueryValue, Series};

/// Appends `s` as a JSON string, escaped as Go's `encoding/json` does.
pub fn string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A label set as a JSON object with sorted keys.
pub fn labels(out: &mut String, l: &Labels) {
    out.push('{');
    for (i, x) in l.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        string(out, &x.name);
        out.push(':');
        string(out, &x.value);
    }
    out.push('}');
}

/// A sample timestamp: whole seconds, with exactly three decimals when not whole.
pub fn timestamp(out: &mut String, ms: i64) {
    if ms < 0 {
        out.push('-');
    }
    let a = ms.unsigned_abs();
    out.push_str(&(a / 1000).to_string());
    if !a.is_multiple_of(1000) {
        out.push_str(&format!(".{:03}", a % 1000));
    }
}

/// A sample value as Prometheus writes it, and a float as Go's `encoding/json` writes a
/// number: `'e'` below 1e-6 and from 1e21, else `'f'` (`NaN`, `+Inf`, `-Inf` by name).
pub fn sample_value(v: f64) -> String {
    let a = v.abs();
    if a != 0.0 && !(1e-6..1e21).contains(&a) {
        format_e(v)
    } else {
        format_f(v)
    }
}

fn point(out: &mut String, t: i64, v: f64) {
    out.push('[');
    timestamp(out, t);
    out.push_str(",\"");
    out.push_str(&sample_value(v));
    out.push_str("\"]");
}

fn series(out: &mut String, s: &Series) {
    out.push_str("{\"metric\":");
    labels(out, &s.labels);
    out.push_str(",\"values\":[");
    for (i, &(t, v)) in s.points.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        point(out, t, v);
    }
    out.push_str("]}");
}

/// The `data` object of a query result.
pub fn query_data(out: &mut String, v: &QueryValue) {
    match v {
        QueryValue::Scalar(t, v) => {
            out.push_str("{\"resultType\":\"scalar\",\"result\":[");
            out.push_str(&sample_value(*t as f64 / 1000.0));
            out.push_str(",\"");
            out.push_str(&format_f(*v));
            out.push_str("\"]}");
        }
        QueryValue::String(t, s) => {
            out.push_str("{\"resultType\":\"string\",\"result\":[");
            out.push_str(&sample_value(*t as f64 / 1000.0));
            out.push(',');
            string(out, s);
            out.push_str("]}");
        }
        QueryValue::Vector(samples) => {
            out.push_str("{\"resultType\":\"vector\",\"result\":[");
            for (i, s) in samples.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str("{\"metric\":");
                labels(out, &s.labels);
                out.push_str(",\"value\":");
                point(out, s.t, s.v);
                out.push('}');
            }
            out.push_str("]}");
        }
        QueryValue::Matrix(m) => {
            out.push_str("{\"resultType\":\"matrix\",\"result\":[");
            for (i, s) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                series(out, s);
            }
            out.push_str("]}");
        }
    }
}

/// A success envelope around `data` (already JSON), with warnings (at most ten, then a count
/// of the rest).
pub fn success(data: &str, warnings: &[String]) -> String {
    let mut out = String::with_capacity(data.len() + 64);
    out.push_str("{\"status\":\"success\",\"data\":");
    out.push_str(data);
    if !warnings.is_empty() {
        out.push_str(",\"warnings\":[");
        for (i, w) in warnings.iter().take(10).enumerate() {
            if i > 0 {
                out.push(',');
            }
            string(&mut out, w);
        }
        if warnings.len() > 10 {
            out.push(',');
            string(
                &mut out,
                &format!("{} more annotations omitted", warnings.len() - 10),
            );
        }
        out.push(']');
    }
    out.push('}');
    out
}

/// An error envelope.
pub fn error(kind: &str, message: &str) -> String {
    let mut out = String::from("{\"status\":\"error\",\"errorType\":");
    string(&mut out, kind);
    out.push_str(",\"error\":");
    string(&mut out, message);
    out.push('}');
    out
}

/// A JSON array of strings.
pub fn strings<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::from("[");
    for (i, s) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        string(&mut out, s);
    }
    out.push(']');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_like_prometheus() {
        let mut s = String::new();
        for ms in [10_000, 4_500, 4_050, 1, -4_050, 1_435_781_451_781] {
            timestamp(&mut s, ms);
            s.push(' ');
        }
        assert_eq!(s, "10 4.500 4.050 0.001 -4.050 1435781451.781 ");
        assert_eq!(sample_value(1e21), "1e+21");
        assert_eq!(sample_value(1.5e-7), "1.5e-07");
        assert_eq!(sample_value(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(sample_value(-0.0), "-0");
        assert_eq!(sample_value(f64::NEG_INFINITY), "-Inf");
        assert_eq!(sample_value(4.05), "4.05");
        let mut e = String::new();
        string(&mut e, "<&>\"é\\\u{2028}");
        assert_eq!(e, "\"\\u003c\\u0026\\u003e\\\"é\\\\\\u2028\"");
    }
}
