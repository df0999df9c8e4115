//! Primary expressions (literals, parentheses, selectors, calls, aggregations) and what may
//! follow them: `[range]`, `[range:step]`, `offset` and `@`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use promql_parser::label::{MatchOp, Matcher, Matchers};
use promql_parser::parser::token::{
    T_AVG, T_BOTTOMK, T_COUNT, T_COUNT_VALUES, T_GROUP, T_MAX, T_MIN, T_QUANTILE, T_STDDEV,
    T_STDVAR, T_SUM, T_TOPK, TokenType,
};
use promql_parser::parser::value::ValueType;
use promql_parser::parser::{
    AggregateExpr, AtModifier, Call, Expr, FunctionArgs, LabelModifier, MatrixSelector,
    NumberLiteral, Offset, ParenExpr, StringLiteral, SubqueryExpr, VectorSelector,
};

use super::lex::Tok;
use super::{ParseError, Parser, functions, is_label_name, keyword, type_name};

fn aggregator(word: &str) -> Option<(u16, bool)> {
    Some(match word {
        "sum" => (T_SUM, false),
        "avg" => (T_AVG, false),
        "count" => (T_COUNT, false),
        "min" => (T_MIN, false),
        "max" => (T_MAX, false),
        "group" => (T_GROUP, false),
        "stddev" => (T_STDDEV, false),
        "stdvar" => (T_STDVAR, false),
        "topk" => (T_TOPK, true),
        "bottomk" => (T_BOTTOMK, true),
        "count_values" => (T_COUNT_VALUES, true),
        "quantile" => (T_QUANTILE, true),
        _ => return None,
    })
}

/// Words that cannot name a metric.
const RESERVED: [&str; 5] = ["bool", "on", "ignoring", "group_left", "group_right"];

impl Parser {
    /// A primary expression followed by any `[…]`, `offset` and `@`.
    pub(super) fn postfix(&mut self) -> Result<(Expr, usize), ParseError> {
        let (mut e, start) = self.primary()?;
        loop {
            if self.is_punct("[") {
                e = self.range_or_subquery(e, start)?;
            } else if self.is_keyword("offset") {
                e = self.offset(e)?;
            } else if self.is_punct("@") {
                e = self.at(e)?;
            } else {
                return Ok((e, start));
            }
        }
    }

    fn primary(&mut self) -> Result<(Expr, usize), ParseError> {
        let t = self.peek().clone();
        let e = match &t.tok {
            Tok::Number(v) => {
                self.next();
                Expr::NumberLiteral(NumberLiteral { val: *v })
            }
            Tok::Str(s) => {
                self.next();
                Expr::StringLiteral(StringLiteral { val: s.clone() })
            }
            Tok::Punct("(") => {
                self.next();
                let (inner, _) = self.expr(0)?;
                if !self.is_punct(")") {
                    return Err(self.unexpected("paren expression", "\")\""));
                }
                self.next();
                Expr::Paren(ParenExpr {
                    expr: Box::new(inner),
                })
            }
            Tok::Punct("{") => self.selector(None, t.start)?,
            Tok::Ident(word) => {
                let lower = word.to_ascii_lowercase();
                let next = &self.peek_at(1).tok;
                let opens = matches!(next, Tok::Punct("("));
                let grouped = keyword(next).is_some_and(|k| k == "by" || k == "without");
                match aggregator(&lower) {
                    Some((op, param)) if opens || grouped => self.aggregate(op, param)?,
                    _ if opens => self.call(word.clone(), t.start)?,
                    _ if RESERVED.contains(&lower.as_str()) => {
                        return Err(self.unexpected("", "expression"));
                    }
                    _ => {
                        self.next();
                        self.selector(Some(word.clone()), t.start)?
                    }
                }
            }
            _ => return Err(self.unexpected("", "expression")),
        };
        Ok((e, t.start))
    }

    fn call(&mut self, name: String, start: usize) -> Result<Expr, ParseError> {
        let func = functions::get(&name)
            .ok_or_else(|| ParseError::at(start, format!("unknown function with name {name:?}")))?;
        self.next();
        self.next();
        let mut args = Vec::new();
        let mut starts = Vec::new();
        self.enter()?;
        if !self.is_punct(")") {
            loop {
                let (a, s) = self.expr(0)?;
                args.push(Box::new(a));
                starts.push(s);
                if self.is_punct(",") {
                    self.next();
                    if self.is_punct(")") {
                        return Err(self.unexpected("function call", "expression"));
                    }
                } else if self.is_punct(")") {
                    break;
                } else {
                    return Err(self.unexpected("function call", "\",\" or \")\""));
                }
            }
        }
        self.next();
        self.depth -= 1;
        let n = func.arg_types.len();
        let got = args.len();
        let arity = if func.variadic == 0 {
            (n != got).then(|| format!("expected {n} argument(s) in call to {name:?}, got {got}"))
        } else if n.saturating_sub(1) > got {
            Some(format!(
                "expected at least {} argument(s) in call to {name:?}, got {got}",
                n - 1
            ))
        } else if func.variadic > 0
            && n - 1 + func.variadic as usize > 0
            && got > n - 1 + func.variadic as usize
        {
            Some(format!(
                "expected at most {} argument(s) in call to {name:?}, got {got}",
                n - 1 + func.variadic as usize
            ))
        } else {
            None
        };
        if let Some(m) = arity {
            return Err(ParseError::at(start, m));
        }
        for (i, a) in args.iter().enumerate() {
            let want = func.arg_types[i.min(n.saturating_sub(1))];
            let got = a.value_type();
            if got != want {
                return Err(ParseError::at(
                    starts[i],
                    format!(
                        "expected type {} in call to function {name:?}, got {}",
                        type_name(want),
                        type_name(got)
                    ),
                ));
            }
        }
        Ok(Expr::Call(Call {
            func,
            args: FunctionArgs { args },
        }))
    }

    fn aggregate(&mut self, op: u16, has_param: bool) -> Result<Expr, ParseError> {
        let start = self.next().start;
        let name = TokenType::new(op).to_string();
        let mut modifier = self.grouping()?;
        if !self.is_punct("(") {
            return Err(self.unexpected("aggregation", "\"(\""));
        }
        self.next();
        self.enter()?;
        let mut args = Vec::new();
        while !self.is_punct(")") {
            args.push(self.expr(0)?);
            if self.is_punct(",") {
                self.next();
            } else if !self.is_punct(")") {
                return Err(self.unexpected("aggregation", "\",\" or \")\""));
            }
        }
        self.next();
        self.depth -= 1;
        if modifier.is_none() {
            modifier = self.grouping()?;
        }
        let want = if has_param { 2 } else { 1 };
        if args.is_empty() {
            return Err(ParseError::at(
                start,
                "no arguments for aggregate expression provided".to_string(),
            ));
        }
        if args.len() != want {
            return Err(ParseError::at(
                start,
                format!(
                    "wrong number of arguments for aggregate expression provided, expected {want}, got {}",
                    args.len()
                ),
            ));
        }
        let (expr, expr_start) = args
            .pop()
            .ok_or_else(|| ParseError::at(start, name.clone()))?;
        if expr.value_type() != ValueType::Vector {
            return Err(ParseError::at(
                expr_start,
                format!(
                    "expected type instant vector in aggregation expression, got {}",
                    type_name(expr.value_type())
                ),
            ));
        }
        let param = match args.pop() {
            Some((p, p_start)) => {
                let want = if op == T_COUNT_VALUES {
                    ValueType::String
                } else {
                    ValueType::Scalar
                };
                if p.value_type() != want {
                    return Err(ParseError::at(
                        p_start,
                        format!(
                            "expected type {} in aggregation parameter, got {}",
                            type_name(want),
                            type_name(p.value_type())
                        ),
                    ));
                }
                Some(Box::new(p))
            }
            None => None,
        };
        Ok(Expr::Aggregate(AggregateExpr {
            op: TokenType::new(op),
            expr: Box::new(expr),
            param,
            modifier,
        }))
    }

    fn grouping(&mut self) -> Result<Option<LabelModifier>, ParseError> {
        let by = self.is_keyword("by");
        if !by && !self.is_keyword("without") {
            return Ok(None);
        }
        self.next();
        let labels = self.label_list("grouping opts")?;
        let names: Vec<&str> = labels.iter().map(String::as_str).collect();
        Ok(Some(if by {
            LabelModifier::include(names)
        } else {
            LabelModifier::exclude(names)
        }))
    }

    /// `name`, `name{…}` or `{…}`; the name token, if any, is already consumed.
    fn selector(&mut self, name: Option<String>, start: usize) -> Result<Expr, ParseError> {
        let mut matchers = Vec::new();
        if self.is_punct("{") {
            self.next();
            loop {
                if self.is_punct("}") {
                    self.next();
                    break;
                }
                matchers.push(self.matcher()?);
                if self.is_punct(",") {
                    self.next();
                } else if !self.is_punct("}") {
                    return Err(self.unexpected("label matching", "\",\" or \"}\""));
                }
            }
        }
        if let Some(n) = &name {
            if let Some(m) = matchers.iter().find(|m| m.name == "__name__") {
                return Err(ParseError::at(
                    start,
                    format!("metric name must not be set twice: {n:?} or {:?}", m.value),
                ));
            }
        } else if matchers.iter().all(|m| m.is_match("")) {
            return Err(ParseError::at(
                start,
                "vector selector must contain at least one non-empty matcher".into(),
            ));
        }
        Ok(Expr::VectorSelector(VectorSelector {
            name,
            matchers: Matchers::new(matchers),
            offset: None,
            at: None,
        }))
    }

    fn matcher(&mut self) -> Result<Matcher, ParseError> {
        let name = match &self.peek().tok {
            Tok::Ident(s) if is_label_name(s) => s.clone(),
            _ => return Err(self.unexpected("label matching", "label")),
        };
        self.next();
        let op = match self.peek().tok {
            Tok::Punct(p @ ("=" | "!=" | "=~" | "!~")) => p,
            _ => {
                return Err(self.unexpected("label matching", "label matching operator"));
            }
        };
        self.next();
        let Tok::Str(value) = self.peek().tok.clone() else {
            return Err(self.unexpected("label matching", "string"));
        };
        let vt = self.next();
        let re = |v: &str| {
            regex::Regex::new(&format!("^(?:{v})$"))
                .map_err(|e| ParseError::at(vt.start, format!("error parsing regexp: {e}")))
        };
        let op = match op {
            "=" => MatchOp::Equal,
            "!=" => MatchOp::NotEqual,
            "=~" => MatchOp::Re(re(&value)?),
            _ => MatchOp::NotRe(re(&value)?),
        };
        Ok(Matcher::new(op, &name, &value))
    }

    fn duration(&mut self, context: &str) -> Result<(Duration, usize), ParseError> {
        let t = self.peek().clone();
        match t.tok {
            Tok::Duration(ms) => {
                self.next();
                Ok((Duration::from_millis(ms as u64), t.start))
            }
            _ => Err(self.unexpected(context, "duration")),
        }
    }

    fn range_or_subquery(&mut self, e: Expr, start: usize) -> Result<Expr, ParseError> {
        let open = self.next().start;
        let (range, rpos) = self.duration("range")?;
        if range.is_zero() {
            return Err(ParseError::at(
                rpos,
                "duration must be greater than 0".into(),
            ));
        }
        if self.is_punct("]") {
            self.next();
            return match e {
                Expr::VectorSelector(vs) if vs.offset.is_some() => Err(ParseError::at(
                    open,
                    "no offset modifiers allowed before range".into(),
                )),
                Expr::VectorSelector(vs) if vs.at.is_some() => Err(ParseError::at(
                    open,
                    "no @ modifiers allowed before range".into(),
                )),
                Expr::VectorSelector(vs) => Ok(Expr::MatrixSelector(MatrixSelector { vs, range })),
                _ => Err(ParseError::at(
                    start,
                    "ranges only allowed for vector selectors".into(),
                )),
            };
        }
        self.expect_punct(":", "subquery")?;
        let step = if self.is_punct("]") {
            None
        } else {
            let (d, p) = self.duration("subquery")?;
            if d.is_zero() {
                return Err(ParseError::at(p, "duration must be greater than 0".into()));
            }
            Some(d)
        };
        self.expect_punct("]", "subquery")?;
        if e.value_type() != ValueType::Vector {
            return Err(ParseError::at(
                start,
                format!(
                    "subquery is only allowed on instant vector, got {} instead",
                    type_name(e.value_type())
                ),
            ));
        }
        Ok(Expr::Subquery(SubqueryExpr {
            expr: Box::new(e),
            offset: None,
            at: None,
            range,
            step,
        }))
    }

    fn offset(&mut self, mut e: Expr) -> Result<Expr, ParseError> {
        let t = self.next();
        let neg = if self.is_punct("-") {
            self.next();
            true
        } else {
            false
        };
        let (d, _) = self.duration("offset")?;
        let o = if neg { Offset::Neg(d) } else { Offset::Pos(d) };
        let slot = match &mut e {
            Expr::VectorSelector(vs) => &mut vs.offset,
            Expr::MatrixSelector(m) => &mut m.vs.offset,
            Expr::Subquery(s) => &mut s.offset,
            _ => {
                return Err(ParseError::at(
                    t.start,
                    "offset modifier must be preceded by an instant vector selector or range vector selector or a subquery".into(),
                ));
            }
        };
        if slot.is_some() {
            return Err(ParseError::at(
                t.start,
                "offset may not be set multiple times".into(),
            ));
        }
        *slot = Some(o);
        Ok(e)
    }

    fn at(&mut self, mut e: Expr) -> Result<Expr, ParseError> {
        let t = self.next();
        let modifier = if self.is_keyword("start") || self.is_keyword("end") {
            let start = self.is_keyword("start");
            self.next();
            self.expect_punct("(", "@")?;
            self.expect_punct(")", "@")?;
            if start {
                AtModifier::Start
            } else {
                AtModifier::End
            }
        } else {
            let sign = if self.is_punct("-") {
                self.next();
                -1.0
            } else {
                if self.is_punct("+") {
                    self.next();
                }
                1.0
            };
            let v = match self.peek().tok {
                Tok::Number(v) => v * sign,
                _ => return Err(self.unexpected("@", "timestamp")),
            };
            let vt = self.next();
            let ms = (v * 1000.0).round();
            if !ms.is_finite() || ms.abs() > i64::MAX as f64 / 2.0 {
                return Err(ParseError::at(
                    vt.start,
                    format!("timestamp out of bounds for @ modifier: {v}"),
                ));
            }
            let ms = ms as i64;
            let time = if ms >= 0 {
                UNIX_EPOCH.checked_add(Duration::from_millis(ms as u64))
            } else {
                UNIX_EPOCH.checked_sub(Duration::from_millis(ms.unsigned_abs()))
            };
            AtModifier::At(time.unwrap_or(SystemTime::UNIX_EPOCH))
        };
        let slot = match &mut e {
            Expr::VectorSelector(vs) => &mut vs.at,
            Expr::MatrixSelector(m) => &mut m.vs.at,
            Expr::Subquery(s) => &mut s.at,
            _ => {
                return Err(ParseError::at(
                    t.start,
                    "@ modifier must be preceded by an instant vector selector or range vector selector or a subquery".into(),
                ));
            }
        };
        if slot.is_some() {
            return Err(ParseError::at(
                t.start,
                "@ <timestamp> may not be set multiple times".into(),
            ));
        }
        *slot = Some(modifier);
        Ok(e)
    }
}
