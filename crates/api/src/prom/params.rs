//! Request parameters as Prometheus reads them: the URL query and a form body together (the
//! body wins; the first of repeated keys wins), times as Unix seconds or RFC 3339, durations
//! as seconds or Prometheus durations.

use axum::http::HeaderMap;
use kubepulse_model::{parse_duration, parse_rfc3339};

/// Parameters of one request.
#[derive(Debug, Default)]
pub struct Params {
    body: Vec<(String, String)>,
    url: Vec<(String, String)>,
}

fn pairs(s: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(s).into_owned().collect()
}

impl Params {
    /// From the raw URL query and, for form-encoded bodies, the body.
    pub fn new(query: Option<&str>, headers: &HeaderMap, body: &[u8]) -> Self {
        let form = headers
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
        Self {
            body: if form { pairs(body) } else { Vec::new() },
            url: query.map(|q| pairs(q.as_bytes())).unwrap_or_default(),
        }
    }

    /// The value of `key`, or `None` when absent or empty.
    pub fn get(&self, key: &str) -> Option<&str> {
        fn find<'a>(v: &'a [(String, String)], key: &str) -> Option<&'a str> {
            v.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
        }
        find(&self.body, key)
            .or_else(|| find(&self.url, key))
            .filter(|v| !v.is_empty())
    }

    /// Every value of `key`, body first.
    pub fn all(&self, key: &str) -> Vec<&str> {
        self.body
            .iter()
            .chain(&self.url)
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// Earliest and latest times Prometheus accepts as defaults (ms).
pub const MIN_TIME: i64 = -9_223_309_901_257_974_000;
/// See [`MIN_TIME`].
pub const MAX_TIME: i64 = 9_223_309_901_257_974_999;

/// A time: Unix seconds (fraction rounded to the millisecond) or RFC 3339.
pub fn time(s: &str) -> Result<i64, String> {
    if let Ok(f) = s.parse::<f64>()
        && s.bytes()
            .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b))
    {
        let whole = f.trunc();
        let frac = ((f - whole) * 1000.0).round();
        let ms = whole * 1000.0 + frac;
        return Ok(if ms.is_nan() {
            0
        } else {
            ms.clamp(MIN_TIME as f64, MAX_TIME as f64) as i64
        });
    }
    parse_rfc3339(s).ok_or_else(|| format!("cannot parse {s:?} to a valid timestamp"))
}

/// A duration in ms: seconds as a float, or a Prometheus duration (`1m30s`).
pub fn duration(s: &str) -> Result<i64, String> {
    if let Ok(f) = s.parse::<f64>()
        && s.bytes()
            .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b))
    {
        let ms = f * 1000.0;
        if !ms.is_finite() || ms.abs() > 9.2e15 {
            return Err(format!(
                "cannot parse {s:?} to a valid duration. It overflows int64"
            ));
        }
        return Ok(ms.trunc() as i64);
    }
    parse_duration(s).map_err(|_| format!("cannot parse {s:?} to a valid duration"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_durations() {
        assert_eq!(time("4"), Ok(4000));
        assert_eq!(time("1435781451.7815"), Ok(1_435_781_451_782));
        assert_eq!(time("-1.5"), Ok(-1500));
        assert_eq!(time("2015-07-01T20:10:51.781Z"), Ok(1_435_781_451_781));
        assert!(time("2015-07-01").is_err());
        assert!(time("0x10").is_err());
        assert_eq!(duration("15"), Ok(15_000));
        assert_eq!(duration("0.5"), Ok(500));
        assert_eq!(duration("1m30s"), Ok(90_000));
        assert!(duration("1ns").is_err());
    }

    #[test]
    fn body_wins_and_first_repeat_wins() {
        let mut h = HeaderMap::new();
        h.insert(
            axum::http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded".parse().unwrap(),
        );
        let p = Params::new(
            Some("query=1&time=5&query=3&match%5B%5D=a"),
            &h,
            b"query=2&match[]=b",
        );
        assert_eq!(p.get("query"), Some("2"));
        assert_eq!(p.get("time"), Some("5"));
        assert_eq!(p.all("match[]"), vec!["b", "a"]);
        assert_eq!(p.get("nope"), None);
    }
}
