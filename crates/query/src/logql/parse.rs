//! Parsing the LogQL subset. Anything outside it is refused with a message that names it
//! (`line_format` actions other than `{{.label}}`, `| pattern`, `| unwrap`, `offset`, …).

use kubepulse_store::{MatchOp, Matcher};

use super::ast::{
    AggOp, BinOp, Cmp, FormatPart, Grouping, LabelFilter, LogExpr, MetricExpr, Query, RangeFn,
    Stage, Value,
};
use super::lex::{Tok, lex};

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

fn unsupported(what: &str) -> String {
    format!("unsupported LogQL: {what} is not supported by KubePulse")
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn is_sym(&self, s: &str) -> bool {
        matches!(self.peek(), Some(Tok::Sym(x)) if *x == s)
    }

    fn expect(&mut self, s: &str) -> Result<(), String> {
        match self.next() {
            Some(Tok::Sym(x)) if x == s => Ok(()),
            other => Err(format!(
                "expected {s:?}, found {}",
                describe(other.as_ref())
            )),
        }
    }

    fn ident(&mut self) -> Result<String, String> {
        match self.next() {
            Some(Tok::Ident(x)) => Ok(x),
            other => Err(format!(
                "expected a name, found {}",
                describe(other.as_ref())
            )),
        }
    }

    fn string(&mut self) -> Result<String, String> {
        match self.next() {
            Some(Tok::Str(x)) => Ok(x),
            other => Err(format!(
                "expected a string, found {}",
                describe(other.as_ref())
            )),
        }
    }

    fn query(&mut self) -> Result<Query, String> {
        if matches!(self.peek(), Some(Tok::Sym("{"))) {
            let log = self.log()?;
            return match self.peek() {
                None => Ok(Query::Log(log)),
                Some(t) => Err(format!(
                    "unexpected {} after the log query",
                    describe(Some(t))
                )),
            };
        }
        let m = self.metric(0)?;
        match self.peek() {
            None => Ok(Query::Metric(m)),
            Some(t) => Err(format!("unexpected {}", describe(Some(t)))),
        }
    }

    fn log(&mut self) -> Result<LogExpr, String> {
        let matchers = self.selector()?;
        let mut stages = Vec::new();
        loop {
            match self.peek() {
                Some(Tok::Sym("|=")) => {
                    self.next();
                    stages.push(Stage::Contains(self.string()?));
                }
                Some(Tok::Sym("!=")) => {
                    self.next();
                    stages.push(Stage::NotContains(self.string()?));
                }
                Some(Tok::Sym("|~")) => {
                    self.next();
                    stages.push(Stage::Matches(line_regex(&self.string()?)?));
                }
                Some(Tok::Sym("!~")) => {
                    self.next();
                    stages.push(Stage::NotMatches(line_regex(&self.string()?)?));
                }
                Some(Tok::Sym("|")) => {
                    self.next();
                    stages.push(self.stage()?);
                }
                _ => return Ok(LogExpr { matchers, stages }),
            }
        }
    }

    fn stage(&mut self) -> Result<Stage, String> {
        let name = match self.peek() {
            Some(Tok::Ident(n)) => n.clone(),
            other => {
                return Err(format!(
                    "expected a pipeline stage, found {}",
                    describe(other)
                ));
            }
        };
        let follows_cmp = matches!(
            self.toks.get(self.pos + 1),
            Some(Tok::Sym(
                "=" | "!=" | "=~" | "!~" | "==" | ">" | ">=" | "<" | "<="
            ))
        );
        if follows_cmp {
            let mut filters = vec![self.label_filter()?];
            while self.is_sym(",") {
                self.next();
                filters.push(self.label_filter()?);
            }
            return Ok(Stage::Labels(filters));
        }
        self.next();
        match name.as_str() {
            "json" | "logfmt" => {
                if matches!(self.peek(), Some(Tok::Ident(_))) {
                    return Err(unsupported(&format!("{name} with parameters")));
                }
                Ok(if name == "json" {
                    Stage::Json
                } else {
                    Stage::Logfmt
                })
            }
            "line_format" => Ok(Stage::LineFormat(line_format(&self.string()?)?)),
            "drop" => {
                let mut names = vec![self.ident()?];
                while self.is_sym(",") {
                    self.next();
                    names.push(self.ident()?);
                }
                if self.is_sym("=") {
                    return Err(unsupported("drop with label matchers"));
                }
                Ok(Stage::Drop(names))
            }
            other => Err(unsupported(&format!("the pipeline stage `{other}`"))),
        }
    }

    fn label_filter(&mut self) -> Result<LabelFilter, String> {
        let name = self.ident()?;
        let cmp = match self.next() {
            Some(Tok::Sym("=" | "==")) => Cmp::Eq,
            Some(Tok::Sym("!=")) => Cmp::Ne,
            Some(Tok::Sym("=~")) => Cmp::Re,
            Some(Tok::Sym("!~")) => Cmp::NotRe,
            Some(Tok::Sym(">")) => Cmp::Gt,
            Some(Tok::Sym(">=")) => Cmp::Ge,
            Some(Tok::Sym("<")) => Cmp::Lt,
            Some(Tok::Sym("<=")) => Cmp::Le,
            other => {
                return Err(format!(
                    "expected a comparison, found {}",
                    describe(other.as_ref())
                ));
            }
        };
        let value = match self.next() {
            Some(Tok::Str(s)) => Value::Str(s),
            Some(Tok::Num(n)) => Value::Num(n),
            Some(Tok::Duration(ms)) => Value::Duration(ms as f64 / 1000.0),
            other => {
                return Err(format!(
                    "expected a value, found {}",
                    describe(other.as_ref())
                ));
            }
        };
        let re = match (&cmp, &value) {
            (Cmp::Re | Cmp::NotRe, Value::Str(s)) => Some(
                regex::Regex::new(&format!("^(?:{s})$"))
                    .map_err(|e| format!("invalid regex {s:?}: {e}"))?,
            ),
            (Cmp::Re | Cmp::NotRe, _) => return Err(format!("{name}: a regex must be a string")),
            (Cmp::Gt | Cmp::Ge | Cmp::Lt | Cmp::Le, Value::Str(_)) => {
                return Err(format!("{name}: ordering needs a number or a duration"));
            }
            _ => None,
        };
        Ok(LabelFilter {
            name,
            cmp,
            value,
            re,
        })
    }

    fn selector(&mut self) -> Result<Vec<Matcher>, String> {
        self.expect("{")?;
        let mut out = Vec::new();
        while !self.is_sym("}") {
            let name = self.ident()?;
            let op = match self.next() {
                Some(Tok::Sym("=")) => MatchOp::Equal,
                Some(Tok::Sym("!=")) => MatchOp::NotEqual,
                Some(Tok::Sym("=~")) => MatchOp::RegexMatch,
                Some(Tok::Sym("!~")) => MatchOp::RegexNoMatch,
                other => {
                    return Err(format!(
                        "expected a matcher operator, found {}",
                        describe(other.as_ref())
                    ));
                }
            };
            let value = self.string()?;
            out.push(Matcher::new(op, &name, &value).map_err(|e| e.to_string())?);
            if self.is_sym(",") {
                self.next();
            } else if !self.is_sym("}") {
                return Err(format!(
                    "expected \",\" or \"}}\", found {}",
                    describe(self.peek())
                ));
            }
        }
        self.next();
        if !out.iter().any(|m| !m.matches_empty()) {
            return Err(
                "queries require at least one label matcher that does not match the empty string"
                    .into(),
            );
        }
        Ok(out)
    }

    /// Precedence climbing: `+ -` bind looser than `* /`.
    fn metric(&mut self, min: u8) -> Result<MetricExpr, String> {
        let mut lhs = self.metric_primary()?;
        loop {
            let (op, prec) = match self.peek() {
                Some(Tok::Sym("+")) => (BinOp::Add, 1),
                Some(Tok::Sym("-")) => (BinOp::Sub, 1),
                Some(Tok::Sym("*")) => (BinOp::Mul, 2),
                Some(Tok::Sym("/")) => (BinOp::Div, 2),
                _ => return Ok(lhs),
            };
            if prec < min {
                return Ok(lhs);
            }
            self.next();
            let rhs = self.metric(prec + 1)?;
            lhs = MetricExpr::Binary(op, Box::new(lhs), Box::new(rhs));
        }
    }

    fn metric_primary(&mut self) -> Result<MetricExpr, String> {
        match self.next() {
            Some(Tok::Num(n)) => Ok(MetricExpr::Number(n)),
            Some(Tok::Sym("(")) => {
                let e = self.metric(0)?;
                self.expect(")")?;
                Ok(e)
            }
            Some(Tok::Ident(name)) => self.call(&name),
            other => Err(format!(
                "expected a metric query, found {}",
                describe(other.as_ref())
            )),
        }
    }

    fn call(&mut self, name: &str) -> Result<MetricExpr, String> {
        let range = match name {
            "count_over_time" => Some(RangeFn::Count),
            "rate" => Some(RangeFn::Rate),
            "bytes_over_time" => Some(RangeFn::Bytes),
            "bytes_rate" => Some(RangeFn::BytesRate),
            _ => None,
        };
        if let Some(f) = range {
            self.expect("(")?;
            let log = self.log()?;
            self.expect("[")?;
            let range_ms = match self.next() {
                Some(Tok::Duration(ms)) if ms > 0 => ms,
                other => {
                    return Err(format!(
                        "expected a range such as [5m], found {}",
                        describe(other.as_ref())
                    ));
                }
            };
            self.expect("]")?;
            if matches!(self.peek(), Some(Tok::Ident(w)) if w == "offset") {
                return Err(unsupported("offset"));
            }
            self.expect(")")?;
            return Ok(MetricExpr::Range { f, log, range_ms });
        }
        if name == "vector" {
            self.expect("(")?;
            let n = match self.next() {
                Some(Tok::Num(n)) => n,
                other => {
                    return Err(format!(
                        "vector() takes a number, found {}",
                        describe(other.as_ref())
                    ));
                }
            };
            self.expect(")")?;
            return Ok(MetricExpr::Vector(n));
        }
        let op = match name {
            "sum" => AggOp::Sum,
            "count" => AggOp::Count,
            "min" => AggOp::Min,
            "max" => AggOp::Max,
            "avg" => AggOp::Avg,
            "topk" => AggOp::Topk,
            "bottomk" => AggOp::Bottomk,
            other => return Err(unsupported(&format!("the function `{other}`"))),
        };
        let mut grouping = self.grouping()?;
        self.expect("(")?;
        let k = if matches!(op, AggOp::Topk | AggOp::Bottomk) {
            let k = match self.next() {
                Some(Tok::Num(n)) if n >= 1.0 && n.fract() == 0.0 => n as usize,
                other => {
                    return Err(format!(
                        "{name} needs a whole k, found {}",
                        describe(other.as_ref())
                    ));
                }
            };
            self.expect(",")?;
            Some(k)
        } else {
            None
        };
        let expr = self.metric(0)?;
        self.expect(")")?;
        if grouping.is_none() {
            grouping = self.grouping()?;
        }
        Ok(MetricExpr::Agg {
            op,
            k,
            grouping,
            expr: Box::new(expr),
        })
    }

    fn grouping(&mut self) -> Result<Option<Grouping>, String> {
        let by = match self.peek() {
            Some(Tok::Ident(w)) if w == "by" => true,
            Some(Tok::Ident(w)) if w == "without" => false,
            _ => return Ok(None),
        };
        self.next();
        self.expect("(")?;
        let mut labels = Vec::new();
        while !self.is_sym(")") {
            labels.push(self.ident()?);
            if self.is_sym(",") {
                self.next();
            }
        }
        self.next();
        Ok(Some(if by {
            Grouping::By(labels)
        } else {
            Grouping::Without(labels)
        }))
    }
}

fn describe(t: Option<&Tok>) -> String {
    match t {
        None => "the end of the query".into(),
        Some(Tok::Ident(s)) => format!("`{s}`"),
        Some(Tok::Str(s)) => format!("the string {s:?}"),
        Some(Tok::Num(n)) => format!("the number {n}"),
        Some(Tok::Duration(ms)) => {
            format!("the duration {}", kubepulse_model::format_duration(*ms))
        }
        Some(Tok::Sym(s)) => format!("{s:?}"),
    }
}

fn line_regex(s: &str) -> Result<regex::Regex, String> {
    regex::Regex::new(s).map_err(|e| format!("invalid regex {s:?}: {e}"))
}

/// `line_format` templates: text and `{{.label}}` (spaces allowed inside the braces).
fn line_format(t: &str) -> Result<Vec<FormatPart>, String> {
    let mut out = Vec::new();
    let mut rest = t;
    while let Some(i) = rest.find("{{") {
        if i > 0 {
            out.push(FormatPart::Text(rest[..i].to_string()));
        }
        let after = &rest[i + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| format!("line_format: unclosed {{{{ in {t:?}"))?;
        let action = after[..end].trim();
        let label = action
            .strip_prefix('.')
            .filter(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            .ok_or_else(|| unsupported(&format!("the line_format action {{{{{action}}}}}")))?;
        out.push(FormatPart::Label(label.to_string()));
        rest = &after[end + 2..];
    }
    if !rest.is_empty() {
        out.push(FormatPart::Text(rest.to_string()));
    }
    Ok(out)
}

/// Parses a LogQL query.
pub fn parse(q: &str) -> Result<Query, String> {
    let toks = lex(q)?;
    if toks.is_empty() {
        return Err("empty query".into());
    }
    Parser { toks, pos: 0 }.query()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn the_subset_parses() {
        for q in [
            r#"{namespace="shop"}"#,
            r#"{namespace="shop", pod=~"cart-.*"} |= "error" != "timeout" |~ "5\\d\\d""#,
            r#"{app="api"} | json | status >= 500, method="GET" | line_format "{{.method}} {{ .path }}""#,
            r#"{app="api"} | logfmt | duration > 1.5s"#,
            r#"count_over_time({app="api"}[5m])"#,
            r#"sum by (pod) (rate({namespace="shop"} |= "error" [1m]))"#,
            r#"topk(3, sum(bytes_over_time({app="api"}[1h])) by (pod))"#,
            "vector(1)+vector(1)",
            r#"sum by (level, detected_level) (count_over_time({a="b"} | drop __error__[1m]))"#,
            r#"sum(rate({a="b"}[1m])) / sum(rate({a="c"}[1m])) * 100"#,
        ] {
            assert!(parse(q).is_ok(), "{q}: {:?}", parse(q).err());
        }
    }

    #[test]
    fn the_unsupported_is_named() {
        for (q, named) in [
            (r#"{a="b"} | pattern "<ip> <_>""#, "`pattern`"),
            (
                r#"{a="b"} | line_format "{{.a | upper}}""#,
                "line_format action",
            ),
            (
                r#"quantile_over_time(0.9, {a="b"} | unwrap x [1m])"#,
                "`quantile_over_time`",
            ),
            (r#"rate({a="b"}[1m] offset 1h)"#, "offset"),
        ] {
            let e = parse(q).err().unwrap_or_default();
            assert!(e.contains("unsupported") && e.contains(named), "{q}: {e}");
        }
        assert!(parse(r#"{a=""}"#).is_err());
        assert!(parse(r#"{a="b""#).is_err());
        assert!(parse("").is_err());
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(q in "\\PC{0,60}") {
            let _ = parse(&q);
        }

        #[test]
        fn mangled_queries_never_panic(cut in 0usize..80) {
            let q = r#"sum by (pod) (count_over_time({a="b"} |= "x" | json | s >= 5 | line_format "{{.s}}" [5m]))"#;
            let end = cut.min(q.len());
            let _ = parse(&q[..end]);
        }
    }
}
