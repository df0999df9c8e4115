//! OpenMetrics 1.0 text.

use kubepulse_model::MetricType;

use super::line::{Cursor, unescape, value};
use super::{Exemplar, Exposition, ParseError, ParsedSample};

/// Parses OpenMetrics text as Prometheus 2.x does.
pub fn parse_openmetrics(text: &str) -> Result<Exposition<'_>, ParseError> {
    let mut out = Exposition::default();
    let lines: Vec<&str> = text.split('\n').collect();
    let mut eof = None;
    for (i, line) in lines.iter().enumerate() {
        let err = |message: &str| ParseError {
            line: i + 1,
            message: message.to_string(),
        };
        if eof.is_some() {
            if line.is_empty() && i == lines.len() - 1 {
                break;
            }
            return Err(err("unexpected data after # EOF"));
        }
        if line.is_empty() {
            if i == lines.len() - 1 {
                break;
            }
            return Err(err("blank line"));
        }
        if let Some(rest) = line.strip_prefix('#') {
            if rest == " EOF" {
                eof = Some(i);
                continue;
            }
            metadata(rest, &mut out).map_err(err)?;
        } else {
            out.samples.push(sample(line).map_err(err)?);
        }
    }
    if eof.is_none() {
        return Err(ParseError {
            line: lines.len(),
            message: "data does not end with # EOF".into(),
        });
    }
    Ok(out)
}

fn metadata<'a>(rest: &'a str, out: &mut Exposition<'a>) -> Result<(), &'static str> {
    let (keyword, rest) = match rest.strip_prefix(' ').and_then(|r| r.split_once(' ')) {
        Some(x) => x,
        None => return Err("invalid comment: only # HELP, # TYPE, # UNIT and # EOF are allowed"),
    };
    let mut c = Cursor::new(rest);
    let name = c.name(true).ok_or("invalid metric name in metadata")?;
    if !c.eat(b' ') {
        return Err("expected text after the metric name");
    }
    let text = c.rest();
    match keyword {
        "HELP" => out.family(name).help = Some(unescape(text, true)),
        "TYPE" => {
            out.family(name).kind = match text {
                "counter" => MetricType::Counter,
                "gauge" => MetricType::Gauge,
                "histogram" => MetricType::Histogram,
                "gaugehistogram" => MetricType::Gaugehistogram,
                "summary" => MetricType::Summary,
                "info" => MetricType::Info,
                "stateset" => MetricType::Stateset,
                "unknown" => MetricType::Unknown,
                _ => return Err("invalid metric type"),
            }
        }
        "UNIT" => {
            let suffix_ok = name
                .strip_suffix(text)
                .is_some_and(|head| head.ends_with('_'));
            if !text.is_empty() && !suffix_ok {
                return Err("unit is not a suffix of the metric name");
            }
            out.family(name).unit = Some(text);
        }
        _ => return Err("invalid comment: only # HELP, # TYPE, # UNIT and # EOF are allowed"),
    }
    Ok(())
}

fn labels<'a>(
    c: &mut Cursor<'a>,
    unescaped: bool,
) -> Result<Vec<(&'a str, std::borrow::Cow<'a, str>)>, &'static str> {
    let mut out = Vec::new();
    if !c.eat(b'{') {
        return Ok(out);
    }
    if c.eat(b'}') {
        return Ok(out);
    }
    loop {
        let n = c.name(false).ok_or("expected label name")?;
        if !c.eat(b'=') {
            return Err("expected '=' after label name");
        }
        let raw = c.quoted(false)?;
        out.push((
            n,
            if unescaped {
                unescape(raw, true)
            } else {
                std::borrow::Cow::Borrowed(raw)
            },
        ));
        if c.eat(b'}') {
            return Ok(out);
        }
        if !c.eat(b',') {
            return Err("expected ',' or '}' after label value");
        }
    }
}

fn timestamp(s: &str) -> Result<i64, &'static str> {
    let t = value(s).ok_or("invalid timestamp")?;
    if !t.is_finite() {
        return Err("invalid timestamp");
    }
    Ok((t * 1000.0) as i64)
}

fn sample(line: &str) -> Result<ParsedSample<'_>, &'static str> {
    let mut c = Cursor::new(line);
    let name = c.name(true).ok_or("invalid metric name")?;
    let sample_labels = labels(&mut c, true)?;
    if !c.eat(b' ') {
        return Err("expected a single space before the value");
    }
    let v = value(c.token(&[])).ok_or("invalid value")?;
    let mut ts = None;
    let mut exemplar = None;
    while c.eat(b' ') {
        if c.rest().starts_with("# ") {
            c.pos += 2;
            let l = labels(&mut c, false)?;
            if l.is_empty() && !c.s[..c.pos].ends_with("{}") {
                return Err("expected exemplar labels");
            }
            if !c.eat(b' ') {
                return Err("expected a space before the exemplar value");
            }
            let v = value(c.token(&[])).ok_or("invalid exemplar value")?;
            let ets = if c.eat(b' ') {
                Some(timestamp(c.token(&[]))?)
            } else {
                None
            };
            let labels = l
                .into_iter()
                .map(|(n, v)| {
                    (
                        n,
                        match v {
                            std::borrow::Cow::Borrowed(b) => b,
                            std::borrow::Cow::Owned(_) => "",
                        },
                    )
                })
                .collect();
            exemplar = Some(Exemplar {
                labels,
                value: v,
                timestamp: ets,
            });
            break;
        }
        if ts.is_some() {
            return Err("unexpected text after timestamp");
        }
        ts = Some(timestamp(c.token(&[]))?);
    }
    if !c.rest().is_empty() {
        return Err("unexpected text at end of line");
    }
    Ok(ParsedSample {
        name,
        labels: sample_labels,
        value: v,
        timestamp: ts,
        exemplar,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_like_prometheus() {
        let t = "# TYPE a counter\n# UNIT a_seconds seconds\na_total{x=\"1\",y=\"q\\\"\"} 3 1520879607.789 # {id=\"7\"} 1.5 1520879607.5\n# EOF";
        let e = parse_openmetrics(t).unwrap();
        let s = &e.samples[0];
        assert_eq!(s.timestamp, Some(1_520_879_607_789));
        assert_eq!(s.labels[1].1, "q\"");
        let ex = s.exemplar.as_ref().unwrap();
        assert_eq!(
            (ex.labels[0], ex.value, ex.timestamp),
            (("id", "7"), 1.5, Some(1_520_879_607_500))
        );
        assert_eq!(e.families[1].unit, Some("seconds"));
    }

    #[test]
    fn refusals() {
        for (t, why) in [
            ("a 1\n", "data does not end with # EOF"),
            ("a 1\n\n# EOF\n", "blank line"),
            ("a  1\n# EOF\n", "invalid value"),
            ("a{x=\"1\",} 1\n# EOF\n", "expected label name"),
            (
                "# random\n# EOF\n",
                "invalid comment: only # HELP, # TYPE, # UNIT and # EOF are allowed",
            ),
            ("# TYPE a untyped\n# EOF\n", "invalid metric type"),
            ("# EOF\na 1\n", "unexpected data after # EOF"),
            (
                "# UNIT a_bytes seconds\n# EOF\n",
                "unit is not a suffix of the metric name",
            ),
            ("a 1 NaN\n# EOF\n", "invalid timestamp"),
        ] {
            assert_eq!(parse_openmetrics(t).unwrap_err().message, why, "{t:?}");
        }
    }
}
