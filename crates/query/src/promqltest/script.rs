//! Prometheus' PromQL test scripts: `load`, `clear` and `eval` commands with their series and
//! expected values, in both the `eval_fail`/`eval_ordered` spelling and the `expect` lines.

use kubepulse_model::{Labels, STALE_NAN, parse_duration};

/// One value of a series line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Point {
    /// A float (staleness markers included).
    Float(f64),
    /// No sample at this step (`_`).
    Omitted,
    /// A native histogram (not evaluated by KubePulse).
    Histogram,
}

/// A series line: labels and values, one per interval from time 0.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesLine {
    /// Labels (the metric name as `__name__`).
    pub labels: Labels,
    /// Values.
    pub points: Vec<Point>,
}

/// When an eval runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvalAt {
    /// An instant query at this time (ms).
    Instant(i64),
    /// A range query.
    Range {
        /// Start (ms).
        start: i64,
        /// End (ms).
        end: i64,
        /// Step (ms).
        step: i64,
    },
}

/// What an eval expects besides its result.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Expect {
    /// The query must fail (with a message matching this, when given).
    pub fail: Option<Option<String>>,
    /// The result order matters.
    pub ordered: bool,
    /// A string result.
    pub string: Option<String>,
    /// Warnings are expected.
    pub warn: bool,
    /// Infos are expected.
    pub info: bool,
}

/// A command.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Adds series sampled every `interval` ms from time 0.
    Load {
        /// Interval (ms).
        interval: i64,
        /// Series.
        series: Vec<SeriesLine>,
    },
    /// Removes every series.
    Clear,
    /// Runs a query and compares.
    Eval {
        /// 1-based line of the command.
        line: usize,
        /// The query.
        expr: String,
        /// When.
        at: EvalAt,
        /// Expectations.
        expect: Expect,
        /// A scalar result.
        scalar: Option<f64>,
        /// Expected series (values per step for ranges, one value for instants).
        series: Vec<SeriesLine>,
    },
}

/// A script error, with its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptError {
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for ScriptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

fn duration(s: &str) -> Result<i64, String> {
    parse_duration(s.trim()).map_err(|e| e.to_string())
}

/// Parses a script.
pub fn parse(text: &str) -> Result<Vec<Command>, ScriptError> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim();
        let at = i + 1;
        i += 1;
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let err = |message: String| ScriptError { line: at, message };
        if line == "clear" {
            out.push(Command::Clear);
            continue;
        }
        let mut body = Vec::new();
        while i < lines.len() {
            let l = lines[i].trim();
            if l.is_empty() {
                break;
            }
            if !l.starts_with('#') {
                body.push((i + 1, l));
            }
            i += 1;
        }
        if let Some(rest) = line.strip_prefix("load ") {
            let interval = duration(rest).map_err(err)?;
            let series = body
                .iter()
                .map(|(n, l)| series_line(l).map_err(|message| ScriptError { line: *n, message }))
                .collect::<Result<_, _>>()?;
            out.push(Command::Load { interval, series });
        } else if line.starts_with("eval") {
            out.push(eval(at, line, &body)?);
        } else {
            return Err(err(format!("unknown command {line:?}")));
        }
    }
    Ok(out)
}

fn eval(at_line: usize, line: &str, body: &[(usize, &str)]) -> Result<Command, ScriptError> {
    let err = |message: String| ScriptError {
        line: at_line,
        message,
    };
    let (head, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let mut expect = Expect::default();
    match head {
        "eval" => {}
        "eval_fail" => expect.fail = Some(None),
        "eval_ordered" => expect.ordered = true,
        "eval_warn" => expect.warn = true,
        "eval_info" => expect.info = true,
        _ => return Err(err(format!("unknown command {head:?}"))),
    }
    let rest = rest.trim_start();
    let (at, expr) = if let Some(r) = rest.strip_prefix("instant") {
        let r = r.trim_start();
        let r = r
            .strip_prefix("at")
            .ok_or_else(|| err("expected 'at'".into()))?;
        let (t, expr) = r
            .trim_start()
            .split_once(char::is_whitespace)
            .ok_or_else(|| err("expected a time and a query".into()))?;
        (EvalAt::Instant(duration(t).map_err(err)?), expr)
    } else if let Some(r) = rest.strip_prefix("range") {
        let words: Vec<&str> = r.split_whitespace().collect();
        match words.as_slice() {
            ["from", start, "to", end, "step", step, ..] => {
                let skip = r.find(step).map(|p| p + step.len()).unwrap_or(r.len());
                (
                    EvalAt::Range {
                        start: duration(start).map_err(err)?,
                        end: duration(end).map_err(err)?,
                        step: duration(step).map_err(err)?,
                    },
                    &r[skip..],
                )
            }
            _ => return Err(err("expected 'from <t> to <t> step <d>'".into())),
        }
    } else {
        return Err(err("expected 'instant' or 'range'".into()));
    };
    let mut scalar = None;
    let mut series = Vec::new();
    for &(n, l) in body {
        let lerr = |message: String| ScriptError { line: n, message };
        if let Some(e) = l.strip_prefix("expect ") {
            expectation(&mut expect, e.trim()).map_err(lerr)?;
        } else if let Some(m) = l.strip_prefix("expected_fail_message ") {
            expect.fail = Some(Some(m.trim().to_string()));
        } else if let Some(v) = number(l) {
            scalar = Some(v);
        } else {
            series.push(series_line(l).map_err(lerr)?);
        }
    }
    Ok(Command::Eval {
        line: at_line,
        expr: expr.trim().to_string(),
        at,
        expect,
        scalar,
        series,
    })
}

fn expectation(expect: &mut Expect, e: &str) -> Result<(), String> {
    let (kind, msg) = match e.split_once(char::is_whitespace) {
        Some((k, m)) => (k, Some(m.trim())),
        None => (e, None),
    };
    let message = msg.and_then(|m| m.split_once(':')).map(|(_, m)| {
        let m = m.trim();
        m.strip_prefix('"')
            .and_then(|m| m.strip_suffix('"'))
            .unwrap_or(m)
            .to_string()
    });
    match kind {
        "fail" => expect.fail = Some(message),
        "ordered" => expect.ordered = true,
        "warn" => expect.warn = true,
        "info" => expect.info = true,
        "no_warn" | "no_info" => {}
        "string" => {
            let m = msg.unwrap_or("");
            expect.string = Some(unquote(m).map(|(s, _)| s).ok_or("bad string")?);
        }
        _ => return Err(format!("unknown expectation {kind:?}")),
    }
    Ok(())
}

/// A number as the scripts write them: Go's float syntax, `Inf`/`NaN` in any case, integers
/// in any base Go accepts.
pub fn number(s: &str) -> Option<f64> {
    let s = s.trim();
    let (sign, body) = match s.as_bytes().first() {
        Some(b'-') => (-1.0, &s[1..]),
        Some(b'+') => (1.0, &s[1..]),
        _ => (1.0, s),
    };
    let lower = body.to_ascii_lowercase();
    let v = match lower.as_str() {
        "inf" | "infinity" => f64::INFINITY,
        "nan" => f64::NAN,
        _ if lower.starts_with("0x") => i64::from_str_radix(&lower[2..], 16).ok()? as f64,
        _ if lower.is_empty() || !lower.bytes().all(|b| b"0123456789.e+-".contains(&b)) => {
            return None;
        }
        _ => lower.parse::<f64>().ok()?,
    };
    Some(sign * v)
}

/// A quoted string (`"…"`, `'…'` or `` `…` ``) at the start of `s`: its value and the rest.
pub fn unquote(s: &str) -> Option<(String, &str)> {
    let q = s.chars().next()?;
    if !matches!(q, '"' | '\'' | '`') {
        return None;
    }
    let mut out = String::new();
    let mut chars = s[1..].char_indices();
    while let Some((i, c)) = chars.next() {
        if c == q {
            return Some((out, &s[1 + i + 1..]));
        }
        if c == '\\' && q != '`' {
            let (_, e) = chars.next()?;
            out.push(match e {
                'n' => '\n',
                't' => '\t',
                'r' => '\r',
                'a' => '\u{7}',
                'b' => '\u{8}',
                'f' => '\u{c}',
                'v' => '\u{b}',
                other => other,
            });
        } else {
            out.push(c);
        }
    }
    None
}

/// A series descriptor and its values: `name{a="b"} 1 2+3x4 _ stale`.
pub fn series_line(line: &str) -> Result<SeriesLine, String> {
    let (labels, rest) = series_desc(line)?;
    let mut points = Vec::new();
    let mut depth = 0i32;
    for tok in rest.split_whitespace() {
        let opens = tok.matches("{{").count() as i32;
        let closes = tok.matches("}}").count() as i32;
        if depth > 0 || opens > 0 {
            depth += opens - closes;
            if depth <= 0 {
                depth = 0;
                points.push(Point::Histogram);
            }
            continue;
        }
        points.extend(values(tok).ok_or_else(|| format!("bad value {tok:?}"))?);
    }
    Ok(SeriesLine { labels, points })
}

fn series_desc(line: &str) -> Result<(Labels, &str), String> {
    let line = line.trim();
    let name_end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(line.len());
    let name = &line[..name_end];
    let mut pairs: Vec<(String, String)> = Vec::new();
    if !name.is_empty() {
        pairs.push(("__name__".into(), name.into()));
    }
    let mut rest = &line[name_end..];
    if let Some(r) = rest.strip_prefix('{') {
        rest = r.trim_start();
        loop {
            if let Some(r) = rest.strip_prefix('}') {
                rest = r;
                break;
            }
            let n_end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .ok_or("unterminated labels")?;
            let n = &rest[..n_end];
            let r = rest[n_end..].trim_start();
            let r = r.strip_prefix('=').ok_or("expected '='")?.trim_start();
            let (v, r) = unquote(r).ok_or("expected a quoted label value")?;
            pairs.push((n.to_string(), v));
            rest = r.trim_start();
            rest = rest.strip_prefix(',').unwrap_or(rest).trim_start();
        }
    }
    let labels = Labels::from_pairs(pairs).map_err(|e| e.to_string())?;
    Ok((labels, rest))
}

fn values(tok: &str) -> Option<Vec<Point>> {
    let (base, times) = match tok.rfind('x') {
        Some(p)
            if p > 0 && tok[p + 1..].bytes().all(|b| b.is_ascii_digit()) && p + 1 < tok.len() =>
        {
            (&tok[..p], Some(tok[p + 1..].parse::<usize>().ok()?))
        }
        _ => (tok, None),
    };
    if base == "_" {
        return Some(vec![Point::Omitted; times.unwrap_or(1)]);
    }
    if base == "stale" {
        return Some(vec![Point::Float(STALE_NAN); times.map_or(1, |n| n + 1)]);
    }
    let (start, delta) = match number(base) {
        Some(v) => (v, 0.0),
        None => {
            let split = base
                .char_indices()
                .skip(1)
                .find(|&(i, c)| {
                    (c == '+' || c == '-') && !matches!(base.as_bytes()[i - 1], b'e' | b'E')
                })
                .map(|(i, _)| i)?;
            (number(&base[..split])?, number(&base[split..])?)
        }
    };
    let Some(n) = times else {
        return (delta == 0.0).then(|| vec![Point::Float(start)]);
    };
    Some(
        (0..=n)
            .map(|i| Point::Float(start + delta * i as f64))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn floats(tok: &str) -> Vec<f64> {
        values(tok)
            .unwrap()
            .into_iter()
            .map(|p| match p {
                Point::Float(f) => f,
                _ => f64::NAN,
            })
            .collect()
    }

    #[test]
    fn expanding_notation() {
        assert_eq!(floats("-2+4x3"), vec![-2.0, 2.0, 6.0, 10.0]);
        assert_eq!(floats("1-2x4"), vec![1.0, -1.0, -3.0, -5.0, -7.0]);
        assert_eq!(floats("1x4"), vec![1.0; 5]);
        assert_eq!(floats("1e3"), vec![1000.0]);
        assert_eq!(floats("1e-3+1e-3x1"), vec![0.001, 0.002]);
        assert_eq!(values("_x3"), Some(vec![Point::Omitted; 3]));
        assert!(
            matches!(values("stale").unwrap()[0], Point::Float(f) if f.to_bits() == STALE_NAN.to_bits())
        );
        assert!(floats("NaN")[0].is_nan());
        assert_eq!(floats("-Inf"), vec![f64::NEG_INFINITY]);
        assert_eq!(values("1+2"), None);
    }

    #[test]
    fn commands() {
        let s = "# c\nload 5m\n  a{b=\"c\"} 1 2 _ 4\n  {__name__=\"x\", y='z'} 0+1x2\n\nclear\neval instant at 50m sum(a)\n\t{} 7\n\neval_fail instant at 0m foo(\n\neval range from 0 to 10m step 5m a\n  a{b=\"c\"} 1 2 _\n\neval instant at 1m 1+1\n  2\n";
        let cmds = parse(s).unwrap();
        assert_eq!(cmds.len(), 6);
        let Command::Load { interval, series } = &cmds[0] else {
            panic!()
        };
        assert_eq!(*interval, 300_000);
        assert_eq!(series[0].labels.to_string(), "a{b=\"c\"}");
        assert_eq!(series[0].points[2], Point::Omitted);
        assert_eq!(series[1].labels.get("y"), Some("z"));
        assert_eq!(cmds[1], Command::Clear);
        let Command::Eval {
            at, expr, series, ..
        } = &cmds[2]
        else {
            panic!()
        };
        assert_eq!((*at, expr.as_str()), (EvalAt::Instant(3_000_000), "sum(a)"));
        assert_eq!(series[0].labels, Labels::empty());
        let Command::Eval { expect, .. } = &cmds[3] else {
            panic!()
        };
        assert_eq!(expect.fail, Some(None));
        let Command::Eval { at, expr, .. } = &cmds[4] else {
            panic!()
        };
        assert_eq!(
            *at,
            EvalAt::Range {
                start: 0,
                end: 600_000,
                step: 300_000
            }
        );
        assert_eq!(expr, "a");
        let Command::Eval { scalar, .. } = &cmds[5] else {
            panic!()
        };
        assert_eq!(*scalar, Some(2.0));
    }
}
