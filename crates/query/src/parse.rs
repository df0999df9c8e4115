//! PromQL parsing into `promql-parser`'s AST, with Prometheus 2.53's grammar, precedence and
//! checks, and errors that say where: `1:6: parse error: unexpected end of input`. Nesting is
//! bounded so that no query can exhaust the stack.

mod functions;
mod lex;
mod primary;

use promql_parser::parser::token::{
    T_ADD, T_ATAN2, T_DIV, T_EQLC, T_GTE, T_GTR, T_LAND, T_LOR, T_LSS, T_LTE, T_LUNLESS, T_MOD,
    T_MUL, T_NEQ, T_POW, T_SUB, TokenType,
};
use promql_parser::parser::value::ValueType;
use promql_parser::parser::{
    BinModifier, BinaryExpr, Expr, LabelModifier, UnaryExpr, VectorMatchCardinality,
    VectorMatchFillValues,
};

pub use functions::type_name;
use lex::{Tok, Token};

/// Deepest nesting of parentheses, calls and operators accepted.
pub const MAX_DEPTH: usize = 128;

/// A parse error: where (byte offsets into the query) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Start of the offending part.
    pub start: usize,
    /// What is wrong.
    pub message: String,
}

impl ParseError {
    fn at(start: usize, message: String) -> Self {
        Self { start, message }
    }

    /// The error as Prometheus prints it, `line:column: parse error: message`.
    pub fn render(&self, query: &str) -> String {
        let pos = self.start.min(query.len());
        let before = query.get(..pos).unwrap_or(query);
        let line = before.matches('\n').count() + 1;
        let col = pos - before.rfind('\n').map_or(0, |p| p + 1) + 1;
        format!("{line}:{col}: parse error: {}", self.message)
    }
}

/// Parses a PromQL expression.
pub fn parse(query: &str) -> Result<Expr, ParseError> {
    let tokens = lex::lex(query);
    let mut p = Parser {
        toks: tokens,
        pos: 0,
        depth: 0,
    };
    if p.peek().tok == Tok::Eof {
        return Err(ParseError::at(0, "no expression found in input".into()));
    }
    let (e, _) = p.expr(0)?;
    let t = p.peek();
    if t.tok != Tok::Eof {
        return Err(p.unexpected("", ""));
    }
    Ok(e)
}

/// A series selector (`name{…}` or `{…}`) as store matchers, the metric name included, for
/// the API's `match[]` parameters.
pub fn selector(query: &str) -> Result<Vec<kubepulse_store::Matcher>, ParseError> {
    match parse(query)? {
        Expr::VectorSelector(vs) => {
            crate::eval::selector_matchers(&vs).map_err(|e| ParseError::at(0, e.to_string()))
        }
        _ => Err(ParseError::at(
            0,
            "expected a series selector such as up{job=\"api\"}".into(),
        )),
    }
}

pub(crate) struct Parser {
    toks: Vec<Token>,
    pos: usize,
    depth: usize,
}

/// A binary operator: its token, precedence and whether it is right-associative.
struct BinOp {
    id: u16,
    prec: u8,
    right: bool,
}

fn keyword(t: &Tok) -> Option<String> {
    match t {
        Tok::Ident(s) => Some(s.to_ascii_lowercase()),
        _ => None,
    }
}

fn binop(t: &Tok) -> Option<BinOp> {
    let (id, prec) = match t {
        Tok::Punct("+") => (T_ADD, 4),
        Tok::Punct("-") => (T_SUB, 4),
        Tok::Punct("*") => (T_MUL, 5),
        Tok::Punct("/") => (T_DIV, 5),
        Tok::Punct("%") => (T_MOD, 5),
        Tok::Punct("^") => (T_POW, 6),
        Tok::Punct("==") => (T_EQLC, 3),
        Tok::Punct("!=") => (T_NEQ, 3),
        Tok::Punct(">") => (T_GTR, 3),
        Tok::Punct("<") => (T_LSS, 3),
        Tok::Punct(">=") => (T_GTE, 3),
        Tok::Punct("<=") => (T_LTE, 3),
        Tok::Ident(_) => match keyword(t)?.as_str() {
            "atan2" => (T_ATAN2, 5),
            "and" => (T_LAND, 2),
            "unless" => (T_LUNLESS, 2),
            "or" => (T_LOR, 1),
            _ => return None,
        },
        _ => return None,
    };
    Some(BinOp {
        id,
        prec,
        right: id == T_POW,
    })
}

/// Precedence of unary minus and plus (that of `*`).
const UNARY_PREC: u8 = 5;

fn is_comparison(id: u16) -> bool {
    matches!(id, T_EQLC | T_NEQ | T_GTR | T_LSS | T_GTE | T_LTE)
}

fn is_set(id: u16) -> bool {
    matches!(id, T_LAND | T_LOR | T_LUNLESS)
}

impl Parser {
    fn peek(&self) -> &Token {
        &self.toks[self.pos.min(self.toks.len() - 1)]
    }

    fn peek_at(&self, n: usize) -> &Token {
        &self.toks[(self.pos + n).min(self.toks.len() - 1)]
    }

    fn next(&mut self) -> Token {
        let t = self.peek().clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }

    fn is_punct(&self, p: &str) -> bool {
        matches!(&self.peek().tok, Tok::Punct(q) if *q == p)
    }

    fn is_keyword(&self, k: &str) -> bool {
        keyword(&self.peek().tok).is_some_and(|w| w == k)
    }

    fn expect_punct(&mut self, p: &'static str, context: &str) -> Result<Token, ParseError> {
        if self.is_punct(p) {
            return Ok(self.next());
        }
        Err(self.unexpected(context, &format!("\"{p}\"")))
    }

    fn unexpected(&self, context: &str, expected: &str) -> ParseError {
        let t = self.peek();
        if let Tok::Error(m) = &t.tok {
            return ParseError::at(t.start, m.clone());
        }
        let mut m = format!("unexpected {}", t.tok.describe());
        if !context.is_empty() {
            m.push_str(&format!(" in {context}"));
        }
        if !expected.is_empty() {
            m.push_str(&format!(", expected {expected}"));
        }
        ParseError::at(t.start, m)
    }

    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ParseError::at(
                self.peek().start,
                format!("expression is nested more than {MAX_DEPTH} levels deep"),
            ));
        }
        Ok(())
    }

    /// An expression whose binary operators all bind at least as tightly as `min_prec`.
    /// Returns it with the byte offset where it starts.
    fn expr(&mut self, min_prec: u8) -> Result<(Expr, usize), ParseError> {
        self.enter()?;
        let (mut lhs, start) = self.unary()?;
        while let Some(op) = binop(&self.peek().tok) {
            if op.prec < min_prec {
                break;
            }
            let op_pos = self.next().start;
            let modifier = self.bin_modifier(op.id)?;
            let next_prec = if op.right { op.prec } else { op.prec + 1 };
            let (rhs, rhs_start) = self.expr(next_prec)?;
            lhs = binary(op.id, lhs, rhs, modifier, op_pos, start, rhs_start)?;
        }
        self.depth -= 1;
        Ok((lhs, start))
    }

    fn unary(&mut self) -> Result<(Expr, usize), ParseError> {
        let t = self.peek().clone();
        let neg = match t.tok {
            Tok::Punct("-") => true,
            Tok::Punct("+") => false,
            _ => return self.postfix(),
        };
        self.next();
        self.enter()?;
        let (e, _) = self.expr(UNARY_PREC + 1)?;
        self.depth -= 1;
        let ty = e.value_type();
        if ty != ValueType::Scalar && ty != ValueType::Vector {
            return Err(ParseError::at(
                t.start,
                format!(
                    "unary expression only allowed on expressions of type scalar or instant vector, got {:?}",
                    type_name(ty)
                ),
            ));
        }
        let e = match (neg, e) {
            (true, Expr::NumberLiteral(mut n)) => {
                n.val = -n.val;
                Expr::NumberLiteral(n)
            }
            (true, e) => Expr::Unary(UnaryExpr { expr: Box::new(e) }),
            (false, e) => e,
        };
        Ok((e, t.start))
    }

    /// `[bool] [on|ignoring (labels) [group_left|group_right [(labels)]]]` after an operator.
    fn bin_modifier(&mut self, op: u16) -> Result<Option<BinModifier>, ParseError> {
        let mut m = BinModifier {
            card: VectorMatchCardinality::OneToOne,
            matching: None,
            return_bool: false,
            fill_values: VectorMatchFillValues {
                rhs: None,
                lhs: None,
            },
        };
        let mut any = false;
        if self.is_keyword("bool") {
            let t = self.next();
            if !is_comparison(op) {
                return Err(ParseError::at(
                    t.start,
                    "bool modifier can only be used on comparison operators".into(),
                ));
            }
            m.return_bool = true;
            any = true;
        }
        let on = self.is_keyword("on");
        if on || self.is_keyword("ignoring") {
            self.next();
            let labels = self.label_list("grouping opts")?;
            let names: Vec<&str> = labels.iter().map(String::as_str).collect();
            m.matching = Some(if on {
                LabelModifier::include(names)
            } else {
                LabelModifier::exclude(names)
            });
            any = true;
            let left = self.is_keyword("group_left");
            if left || self.is_keyword("group_right") {
                let t = self.next();
                let include = if self.is_punct("(") {
                    self.label_list("grouping opts")?
                } else {
                    Vec::new()
                };
                if on {
                    for l in &include {
                        if m.matching
                            .as_ref()
                            .is_some_and(|mm| mm.labels().labels.contains(l))
                        {
                            return Err(ParseError::at(
                                t.start,
                                format!(
                                    "label {l:?} must not occur in ON and GROUP clause at once"
                                ),
                            ));
                        }
                    }
                }
                let include =
                    promql_parser::label::Labels::new(include.iter().map(String::as_str).collect());
                m.card = if left {
                    VectorMatchCardinality::ManyToOne(include)
                } else {
                    VectorMatchCardinality::OneToMany(include)
                };
            }
        }
        if is_set(op) {
            if !matches!(m.card, VectorMatchCardinality::OneToOne) {
                return Err(ParseError::at(
                    self.peek().start,
                    format!(
                        "no grouping allowed for {:?} operation",
                        TokenType::new(op).to_string()
                    ),
                ));
            }
            m.card = VectorMatchCardinality::ManyToMany;
            return Ok(Some(m));
        }
        Ok(any.then_some(m))
    }

    /// `(a, b, …)`: label names, trailing comma allowed.
    fn label_list(&mut self, context: &str) -> Result<Vec<String>, ParseError> {
        self.expect_punct("(", context)?;
        let mut out = Vec::new();
        loop {
            if self.is_punct(")") {
                self.next();
                return Ok(out);
            }
            match self.peek().tok.clone() {
                Tok::Ident(s) if is_label_name(&s) => {
                    self.next();
                    out.push(s);
                }
                _ => return Err(self.unexpected(context, "label")),
            }
            if self.is_punct(",") {
                self.next();
            } else if !self.is_punct(")") {
                return Err(self.unexpected(context, "\",\" or \")\""));
            }
        }
    }
}

/// Whether `s` is a valid label name.
pub fn is_label_name(s: &str) -> bool {
    let mut b = s.bytes();
    b.next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

fn binary(
    op: u16,
    lhs: Expr,
    rhs: Expr,
    modifier: Option<BinModifier>,
    op_pos: usize,
    lhs_pos: usize,
    rhs_pos: usize,
) -> Result<Expr, ParseError> {
    let (lt, rt) = (lhs.value_type(), rhs.value_type());
    let name = TokenType::new(op).to_string();
    let return_bool = modifier.as_ref().is_some_and(|m| m.return_bool);
    if is_comparison(op) && !return_bool && lt == ValueType::Scalar && rt == ValueType::Scalar {
        return Err(ParseError::at(
            op_pos,
            "comparisons between scalars must use BOOL modifier".into(),
        ));
    }
    for (t, pos) in [(lt, lhs_pos), (rt, rhs_pos)] {
        if t != ValueType::Scalar && t != ValueType::Vector {
            return Err(ParseError::at(
                pos,
                "binary expression must contain only scalar and instant vector types".into(),
            ));
        }
    }
    let mut modifier = modifier;
    if lt != ValueType::Vector || rt != ValueType::Vector {
        if is_set(op) {
            return Err(ParseError::at(
                lhs_pos,
                format!("set operator {name:?} not allowed in binary scalar expression"),
            ));
        }
        if let Some(m) = &modifier {
            let labelled = m
                .matching
                .as_ref()
                .is_some_and(|l| !l.labels().labels.is_empty());
            if labelled || !matches!(m.card, VectorMatchCardinality::OneToOne) {
                return Err(ParseError::at(
                    lhs_pos,
                    "vector matching only allowed between instant vectors".into(),
                ));
            }
            if !m.return_bool {
                modifier = None;
            }
        }
    }
    Ok(Expr::Binary(BinaryExpr {
        op: TokenType::new(op),
        lhs: Box::new(lhs),
        rhs: Box::new(rhs),
        modifier,
    }))
}

#[cfg(test)]
mod tests;
