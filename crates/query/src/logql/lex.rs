//! The LogQL lexer: names, strings (Go's double quotes with escapes, or backticks), numbers,
//! durations (Prometheus' `5m`, Go's `1.5s`) and symbols.

use kubepulse_model::parse_duration;

/// A token.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// A name.
    Ident(String),
    /// A string literal's value.
    Str(String),
    /// A number.
    Num(f64),
    /// A duration, ms.
    Duration(i64),
    /// A symbol.
    Sym(&'static str),
}

const SYMBOLS: [&str; 22] = [
    "|=", "|~", "!=", "!~", "=~", "==", ">=", "<=", "{", "}", "(", ")", "[", "]", ",", "|", "=",
    ">", "<", "+", "-", "*",
];

/// The tokens of a query.
pub fn lex(q: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let b = q.as_bytes();
    let mut i = 0;
    'outer: while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c == b'"' || c == b'`' {
            let (s, next) = string(q, i)?;
            out.push(Tok::Str(s));
            i = next;
            continue;
        }
        if c.is_ascii_digit() || (c == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit)) {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.') {
                i += 1;
            }
            let word = &q[start..i];
            if let Ok(n) = word.parse::<f64>() {
                out.push(Tok::Num(n));
            } else if let Ok(ms) = parse_duration(word) {
                out.push(Tok::Duration(ms));
            } else {
                let secs = super::ast::go_duration(word)
                    .ok_or_else(|| format!("invalid number or duration {word:?}"))?;
                out.push(Tok::Duration((secs * 1000.0).round() as i64));
            }
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'.') {
                i += 1;
            }
            out.push(Tok::Ident(q[start..i].to_string()));
            continue;
        }
        if c == b'/' {
            out.push(Tok::Sym("/"));
            i += 1;
            continue;
        }
        for s in SYMBOLS {
            if q[i..].starts_with(s) {
                out.push(Tok::Sym(s));
                i += s.len();
                continue 'outer;
            }
        }
        let ch = q[i..].chars().next().unwrap_or('?');
        return Err(format!("unexpected character {ch:?} at position {i}"));
    }
    Ok(out)
}

/// A string literal starting at byte `i`: Go's double-quoted (with escapes) or raw backticks.
fn string(q: &str, i: usize) -> Result<(String, usize), String> {
    let quote = q.as_bytes()[i] as char;
    let mut out = String::new();
    let mut chars = q[i + 1..].char_indices();
    while let Some((j, c)) = chars.next() {
        if c == quote {
            return Ok((out, i + 1 + j + 1));
        }
        if c == '\\' && quote == '"' {
            match chars.next().map(|x| x.1) {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some('\\') => out.push('\\'),
                Some('"') => out.push('"'),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => break,
            }
        } else {
            out.push(c);
        }
    }
    Err(format!("unterminated string at position {i}"))
}
