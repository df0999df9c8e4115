//! The Prometheus text format 0.0.4.

use kubepulse_model::MetricType;

use super::line::{Cursor, unescape, value};
use super::{Exposition, ParseError, ParsedSample};

/// Parses the Prometheus text format as Prometheus 2.x does.
pub fn parse_prometheus(text: &str) -> Result<Exposition<'_>, ParseError> {
    let mut out = Exposition::default();
    for (i, line) in text.split('\n').enumerate() {
        let err = |message: String| ParseError {
            line: i + 1,
            message,
        };
        let mut c = Cursor::new(line);
        c.blanks();
        match c.peek() {
            None => continue,
            Some(b'#') => {
                c.pos += 1;
                comment(&mut c, &mut out).map_err(|m| err(m.into()))?;
            }
            Some(_) => {
                let s = sample(&mut c).map_err(|m| err(m.into()))?;
                out.samples.push(s);
            }
        }
    }
    Ok(out)
}

fn comment<'a>(c: &mut Cursor<'a>, out: &mut Exposition<'a>) -> Result<(), &'static str> {
    c.blanks();
    let rest = c.rest();
    let keyword = if rest.starts_with("HELP") {
        "HELP"
    } else if rest.starts_with("TYPE") {
        "TYPE"
    } else {
        return Ok(());
    };
    c.pos += 4;
    if c.blanks() == 0 {
        return Ok(());
    }
    let name = c.name(true).ok_or("invalid metric name in comment")?;
    if keyword == "HELP" {
        if !c.rest().is_empty() && !c.eat(b' ') && !c.eat(b'\t') {
            return Err("invalid metric name in comment");
        }
        out.family(name).help = Some(unescape(c.rest(), false));
        return Ok(());
    }
    if c.blanks() == 0 {
        return Err("expected metric type");
    }
    let kind = match c.token(&[]) {
        "counter" => MetricType::Counter,
        "gauge" => MetricType::Gauge,
        "histogram" => MetricType::Histogram,
        "summary" => MetricType::Summary,
        "untyped" => MetricType::Unknown,
        _ => return Err("invalid metric type"),
    };
    c.blanks();
    if !c.rest().is_empty() {
        return Err("unexpected text after metric type");
    }
    out.family(name).kind = kind;
    Ok(())
}

fn sample<'a>(c: &mut Cursor<'a>) -> Result<ParsedSample<'a>, &'static str> {
    let name = c.name(true).ok_or("invalid metric name")?;
    c.blanks();
    let mut labels = Vec::new();
    if c.eat(b'{') {
        loop {
            c.blanks();
            if c.eat(b'}') {
                break;
            }
            let ln = c.name(false).ok_or("invalid label name")?;
            c.blanks();
            if !c.eat(b'=') {
                return Err("expected '=' after label name");
            }
            c.blanks();
            let raw = c.quoted(true)?;
            labels.push((ln, unescape(raw, true)));
            c.blanks();
            c.eat(b',');
        }
        c.blanks();
    }
    let v = c.token(&[]);
    let value = value(v).ok_or("invalid value")?;
    c.blanks();
    let mut timestamp = None;
    if !c.rest().is_empty() {
        let ts = c.token(&[]);
        if ts.is_empty() || !ts.bytes().all(|b| b.is_ascii_digit()) {
            return Err("expected timestamp or new record");
        }
        timestamp = Some(ts.parse::<i64>().map_err(|_| "timestamp out of range")?);
        c.blanks();
        if !c.rest().is_empty() {
            return Err("unexpected text after timestamp");
        }
    }
    Ok(ParsedSample {
        name,
        labels,
        value,
        timestamp,
        exemplar: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_like_prometheus() {
        let t = "# HELP a_total Some \\\"help\\\" \\n here\n# TYPE a_total counter\na_total{x=\"1\" y=\"a\\\"b\",} 3 1700000000000\n  b 1.5e3  \n# EOF\n# random comment\nc{} NaN\n";
        let e = parse_prometheus(t).unwrap();
        assert_eq!(e.samples.len(), 3);
        assert_eq!(
            e.samples[0].labels,
            vec![("x", "1".into()), ("y", "a\"b".into())]
        );
        assert_eq!(e.samples[0].timestamp, Some(1_700_000_000_000));
        assert_eq!(e.samples[1].value, 1500.0);
        assert_eq!(e.families[0].kind, MetricType::Counter);
        assert_eq!(
            e.families[0].help.as_deref(),
            Some("Some \\\"help\\\" \n here")
        );
    }

    #[test]
    fn refusals_name_the_line() {
        for (t, line) in [
            ("ok 1\nbad-name 1\n", 2),
            ("x{a=\"1\"} 0x1p3\n", 1),
            ("x 1 -5\n", 1),
            ("x 1 1.5\n", 1),
            ("x{a=1} 1\n", 1),
            ("x{a=\"1} 1\n", 1),
            ("# TYPE x histogramm\n", 1),
            ("{a=\"b\"} 1\n", 1),
            ("x 1\r\n", 1),
            ("x{=\"1\"} 1\n", 1),
        ] {
            assert_eq!(parse_prometheus(t).unwrap_err().line, line, "{t:?}");
        }
    }
}
