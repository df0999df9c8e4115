//! The PromQL lexer: identifiers and keywords (case-insensitive), numbers in Go's syntax,
//! durations, strings with Go's escapes, operators and punctuation, each with its byte span.

use super::ParseError;

/// A token kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// An identifier or keyword, as written.
    Ident(String),
    /// A number.
    Number(f64),
    /// A duration in milliseconds.
    Duration(i64),
    /// A string, unquoted.
    Str(String),
    /// Punctuation and operators.
    Punct(&'static str),
    /// End of input.
    Eof,
    /// Where the lexer stopped on an error, with its message; it takes the place of `Eof`, so
    /// that a syntax error earlier in the input is reported first, as Prometheus does.
    Error(String),
}

/// A token and where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// Kind.
    pub tok: Tok,
    /// Byte offset of its start.
    pub start: usize,
    /// Byte offset after its end.
    pub end: usize,
}

impl Tok {
    /// How error messages name the token.
    pub fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("identifier {s:?}"),
            Tok::Number(_) => "number".into(),
            Tok::Duration(_) => "duration".into(),
            Tok::Str(s) => format!("string {s:?}"),
            Tok::Punct("(") => "left parenthesis".into(),
            Tok::Punct(")") => "right parenthesis ')'".into(),
            Tok::Punct("[") => "left bracket".into(),
            Tok::Punct("]") => "right bracket".into(),
            Tok::Punct("{") => "left brace".into(),
            Tok::Punct("}") => "right brace".into(),
            Tok::Punct(",") => "\",\"".into(),
            Tok::Punct(":") => "\":\"".into(),
            Tok::Punct(p) => format!("<op:{p}>"),
            Tok::Eof => "end of input".into(),
            Tok::Error(m) => m.clone(),
        }
    }
}

const PUNCT: [&str; 22] = [
    "==", "!=", "=~", "!~", ">=", "<=", "(", ")", "[", "]", "{", "}", ",", ":", "=", ">", "<", "+",
    "-", "*", "/", "%",
];

/// Splits `input` into tokens, ending with `Eof`, or with `Error` where the input cannot be
/// split further.
pub fn lex(input: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let end = match tokens(input, &mut out) {
        Ok(()) => Token {
            tok: Tok::Eof,
            start: input.len(),
            end: input.len(),
        },
        Err(e) => Token {
            tok: Tok::Error(e.message),
            start: e.start,
            end: input.len(),
        },
    };
    out.push(end);
    out
}

/// Opening punctuation not yet closed, innermost last.
fn unclosed(open: &[u8], at: usize) -> ParseError {
    let message = match open.last() {
        Some(b'{') => "unexpected end of input inside braces",
        Some(b'[') => "unexpected end of input inside brackets",
        _ => "unclosed left parenthesis",
    };
    ParseError::at(at, message.into())
}

fn tokens(input: &str, out: &mut Vec<Token>) -> Result<(), ParseError> {
    let b = input.as_bytes();
    let mut i = 0;
    let mut brackets = false;
    let mut open: Vec<u8> = Vec::new();
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c == b'#' {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        let start = i;
        let push = |out: &mut Vec<Token>, tok, end| out.push(Token { tok, start, end });
        let out = &mut *out;
        if c == b'"' || c == b'\'' || c == b'`' {
            let (s, end) = string(input, i)?;
            push(out, Tok::Str(s), end);
            i = end;
        } else if c.is_ascii_digit() || (c == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            let (tok, end) = number_or_duration(input, i, brackets)?;
            push(out, tok, end);
            i = end;
        } else if c.is_ascii_alphabetic() || c == b'_' || (c == b':' && !brackets) {
            let mut end = i + 1;
            while end < b.len()
                && (b[end].is_ascii_alphanumeric() || b[end] == b'_' || b[end] == b':')
            {
                end += 1;
            }
            let word = &input[i..end];
            let lower = word.to_ascii_lowercase();
            if lower == "inf" || lower == "nan" {
                let v = if lower == "inf" {
                    f64::INFINITY
                } else {
                    f64::NAN
                };
                push(out, Tok::Number(v), end);
            } else {
                push(out, Tok::Ident(word.to_string()), end);
            }
            i = end;
        } else if c == b'^' {
            push(out, Tok::Punct("^"), i + 1);
            i += 1;
        } else if c == b'@' {
            push(out, Tok::Punct("@"), i + 1);
            i += 1;
        } else if let Some(p) = PUNCT.iter().find(|p| input[i..].starts_with(**p)) {
            match *p {
                "(" | "[" | "{" => open.push(p.as_bytes()[0]),
                ")" if open.last() != Some(&b'(') && !open.contains(&b'(') => {
                    return Err(ParseError::at(i, "unexpected right parenthesis ')'".into()));
                }
                ")" | "]" | "}" => {
                    let want = [b'(', b'[', b'{']
                        [[")", "]", "}"].iter().position(|c| c == p).unwrap_or(0)];
                    if let Some(k) = open.iter().rposition(|c| *c == want) {
                        open.truncate(k);
                    }
                }
                _ => {}
            }
            brackets = open.last() == Some(&b'[');
            push(out, Tok::Punct(p), i + p.len());
            i += p.len();
        } else {
            let ch = input[i..].chars().next().unwrap_or('?');
            return Err(ParseError::at(i, format!("unexpected character: {ch:?}")));
        }
    }
    if open.is_empty() {
        Ok(())
    } else {
        Err(unclosed(&open, input.len()))
    }
}

fn string(input: &str, start: usize) -> Result<(String, usize), ParseError> {
    let q = input.as_bytes()[start] as char;
    let mut out = String::new();
    let mut chars = input[start + 1..].char_indices();
    let unterminated = || ParseError::at(start, "unterminated quoted string".to_string());
    while let Some((off, c)) = chars.next() {
        let pos = start + 1 + off;
        if c == q {
            return Ok((out, pos + 1));
        }
        if q == '`' {
            out.push(c);
            continue;
        }
        if c == '\n' {
            return Err(unterminated());
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        let (_, e) = chars.next().ok_or_else(unterminated)?;
        let mut hex = |n: usize| -> Result<char, ParseError> {
            let mut v = 0u32;
            for _ in 0..n {
                let (_, h) = chars.next().ok_or_else(unterminated)?;
                v = v * 16
                    + h.to_digit(16).ok_or_else(|| {
                        ParseError::at(pos, format!("invalid escape sequence: {h:?}"))
                    })?;
            }
            char::from_u32(v).ok_or_else(|| ParseError::at(pos, "invalid unicode escape".into()))
        };
        let ch = match e {
            'a' => '\u{7}',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'v' => '\u{b}',
            '\\' => '\\',
            'x' => hex(2)?,
            'u' => hex(4)?,
            'U' => hex(8)?,
            '0'..='7' => {
                let mut v = e.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    let (_, d) = chars.next().ok_or_else(unterminated)?;
                    v = v * 8
                        + d.to_digit(8).ok_or_else(|| {
                            ParseError::at(pos, format!("invalid escape sequence: {d:?}"))
                        })?;
                }
                char::from_u32(v)
                    .ok_or_else(|| ParseError::at(pos, "invalid octal escape".into()))?
            }
            c if c == q => c,
            other => {
                return Err(ParseError::at(
                    pos,
                    format!("unknown escape sequence {other:?}"),
                ));
            }
        };
        out.push(ch);
    }
    Err(unterminated())
}

const UNITS: [(&str, i64); 7] = [
    ("ms", 1),
    ("y", 365 * 86_400_000),
    ("w", 7 * 86_400_000),
    ("d", 86_400_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1000),
];

fn number_or_duration(
    input: &str,
    start: usize,
    in_brackets: bool,
) -> Result<(Tok, usize), ParseError> {
    let b = input.as_bytes();
    let mut end = start;
    while end < b.len()
        && (b[end].is_ascii_alphanumeric()
            || b[end] == b'.'
            || ((b[end] == b'+' || b[end] == b'-')
                && matches!(b[end - 1], b'e' | b'E')
                && !is_hex(&input[start..end])))
    {
        end += 1;
    }
    let text = &input[start..end];
    if let Some(v) = number(text) {
        return Ok((Tok::Number(v), end));
    }
    if let Some(ms) = duration(text) {
        return Ok((Tok::Duration(ms), end));
    }
    let what = if in_brackets {
        "duration"
    } else {
        "number or duration"
    };
    Err(ParseError::at(
        start,
        format!("bad {what} syntax: {text:?}"),
    ))
}

fn is_hex(s: &str) -> bool {
    s.len() > 1 && (s.starts_with("0x") || s.starts_with("0X"))
}

/// A number literal in Go's syntax: decimal floats, or integers with a `0x`, `0o`, `0b` or
/// leading-zero octal prefix.
pub fn number(text: &str) -> Option<f64> {
    let lower = text.to_ascii_lowercase();
    let int = |digits: &str, radix| u64::from_str_radix(digits, radix).ok().map(|v| v as f64);
    if let Some(h) = lower.strip_prefix("0x") {
        return int(h, 16);
    }
    if let Some(o) = lower.strip_prefix("0o") {
        return int(o, 8);
    }
    if let Some(bin) = lower.strip_prefix("0b") {
        return int(bin, 2);
    }
    if lower.len() > 1 && lower.starts_with('0') && lower.bytes().all(|c| c.is_ascii_digit()) {
        return int(&lower[1..], 8).or_else(|| lower.parse::<f64>().ok());
    }
    if !lower
        .bytes()
        .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'+' | b'-'))
    {
        return None;
    }
    lower.parse::<f64>().ok()
}

/// A duration like `1h30m` in milliseconds: units in decreasing order, each at most once.
pub fn duration(text: &str) -> Option<i64> {
    let mut rest = text;
    let mut total: i64 = 0;
    let mut last_unit = usize::MAX;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let n: i64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let (idx, (unit, ms)) = UNITS
            .iter()
            .enumerate()
            .find(|(_, (u, _))| rest.starts_with(u) && !(u == &"m" && rest.starts_with("ms")))?;
        let order = [0, 6, 5, 4, 3, 2, 1][idx];
        if last_unit != usize::MAX && order >= last_unit {
            return None;
        }
        last_unit = order;
        total = total.checked_add(n.checked_mul(*ms)?)?;
        rest = &rest[unit.len()..];
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        lex(s).into_iter().map(|t| t.tok).collect()
    }

    fn error(s: &str) -> Option<(usize, String)> {
        match lex(s).pop() {
            Some(Token {
                tok: Tok::Error(m),
                start,
                ..
            }) => Some((start, m)),
            _ => None,
        }
    }

    #[test]
    fn tokens() {
        assert_eq!(
            toks("rate(x{a=~\"b\\n\"}[5m]) >= bool 0x10"),
            vec![
                Tok::Ident("rate".into()),
                Tok::Punct("("),
                Tok::Ident("x".into()),
                Tok::Punct("{"),
                Tok::Ident("a".into()),
                Tok::Punct("=~"),
                Tok::Str("b\n".into()),
                Tok::Punct("}"),
                Tok::Punct("["),
                Tok::Duration(300_000),
                Tok::Punct("]"),
                Tok::Punct(")"),
                Tok::Punct(">="),
                Tok::Ident("bool".into()),
                Tok::Number(16.0),
                Tok::Eof
            ]
        );
        assert_eq!(toks("1e-3"), vec![Tok::Number(0.001), Tok::Eof]);
        assert_eq!(toks("1h30m"), vec![Tok::Duration(5_400_000), Tok::Eof]);
        assert_eq!(
            toks("'a\\'b' `c\\d`"),
            vec![Tok::Str("a'b".into()), Tok::Str("c\\d".into()), Tok::Eof]
        );
        assert!(matches!(toks("-Inf")[1], Tok::Number(v) if v == f64::INFINITY));
        assert_eq!(
            toks(".5 5."),
            vec![Tok::Number(0.5), Tok::Number(5.0), Tok::Eof]
        );
        assert_eq!(toks("0755"), vec![Tok::Number(493.0), Tok::Eof]);
        assert_eq!(toks("a # c\n+ b").len(), 4);
    }

    #[test]
    fn errors() {
        assert_eq!(error("a $").map(|e| e.0), Some(2));
        assert!(error("\"abc").is_some());
        assert!(error("5m1h").is_some());
        assert!(error("1.5m").is_some());
        assert!(error("\"\\q\"").is_some());
        let e = |s| error(s).map(|e| e.1);
        assert_eq!(e("sum(up").as_deref(), Some("unclosed left parenthesis"));
        assert_eq!(
            e("up{a=\"b\"").as_deref(),
            Some("unexpected end of input inside braces")
        );
        assert_eq!(
            e("up)").as_deref(),
            Some("unexpected right parenthesis ')'")
        );
        assert_eq!(error("(a[5m])"), None);
        assert_eq!(
            duration("1y2w3d4h5m6s7ms"),
            Some(((((365 + 17) * 24 + 4) * 60 + 5) * 60 + 6) * 1000 + 7)
        );
    }
}
