//! Pieces shared by both text formats: names, quoted label values with their escapes, values.

use std::borrow::Cow;

use super::NORMAL_NAN;

/// A cursor over one line.
#[derive(Debug, Clone)]
pub struct Cursor<'a> {
    pub s: &'a str,
    pub pos: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(s: &'a str) -> Self {
        Self { s, pos: 0 }
    }

    pub fn rest(&self) -> &'a str {
        &self.s[self.pos..]
    }

    pub fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    pub fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Skips spaces and tabs; returns how many.
    pub fn blanks(&mut self) -> usize {
        let start = self.pos;
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
        self.pos - start
    }

    /// A metric name (`colon` allowed) or label name (not).
    pub fn name(&mut self, colon: bool) -> Option<&'a str> {
        let b = self.s.as_bytes();
        let start = self.pos;
        let first = |c: u8| c.is_ascii_alphabetic() || c == b'_' || (colon && c == b':');
        let rest = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || (colon && c == b':');
        if !b.get(self.pos).copied().is_some_and(first) {
            return None;
        }
        self.pos += 1;
        while b.get(self.pos).copied().is_some_and(rest) {
            self.pos += 1;
        }
        Some(&self.s[start..self.pos])
    }

    /// A double-quoted value; returns the raw content between the quotes.
    pub fn quoted(&mut self, allow_newline: bool) -> Result<&'a str, &'static str> {
        if !self.eat(b'"') {
            return Err("expected '\"' to start a label value");
        }
        let b = self.s.as_bytes();
        let start = self.pos;
        while let Some(&c) = b.get(self.pos) {
            match c {
                b'\\' => self.pos += 2,
                b'"' => {
                    let raw = &self.s[start..self.pos];
                    self.pos += 1;
                    return Ok(raw);
                }
                b'\n' if !allow_newline => return Err("newline in label value"),
                _ => self.pos += 1,
            }
        }
        Err("unterminated label value")
    }

    /// The next token up to a space, tab, or one of `stops`.
    pub fn token(&mut self, stops: &[u8]) -> &'a str {
        let b = self.s.as_bytes();
        let start = self.pos;
        while let Some(&c) = b.get(self.pos) {
            if c == b' ' || c == b'\t' || stops.contains(&c) {
                break;
            }
            self.pos += 1;
        }
        &self.s[start..self.pos]
    }
}

/// Unescapes `\\`, `\"` and `\n`; other escapes stay as written, as Prometheus keeps them.
pub fn unescape(raw: &str, quote: bool) -> Cow<'_, str> {
    if !raw.contains('\\') {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('"') if quote => out.push('"'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    Cow::Owned(out)
}

/// Parses a value as Go's `strconv.ParseFloat` does (NaN and Inf spellings, exponents; no hex or
/// underscores); every NaN becomes Prometheus' ordinary NaN.
pub fn value(s: &str) -> Option<f64> {
    if s.is_empty()
        || s.bytes()
            .any(|c| matches!(c, b'_' | b'x' | b'X' | b'p' | b'P'))
    {
        return None;
    }
    let v: f64 = s.parse().ok()?;
    Some(if v.is_nan() { NORMAL_NAN } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_like_go() {
        for (s, v) in [
            ("1", 1.0),
            ("-1", -1.0),
            ("+1", 1.0),
            (".5", 0.5),
            ("5.", 5.0),
            ("1e3", 1000.0),
            ("1E+3", 1000.0),
            ("+Inf", f64::INFINITY),
            ("-Inf", f64::NEG_INFINITY),
            ("inf", f64::INFINITY),
        ] {
            assert_eq!(value(s), Some(v), "{s}");
        }
        assert_eq!(value("NaN").map(f64::to_bits), Some(NORMAL_NAN.to_bits()));
        for bad in ["", "0x1p-3", "1_000", "true", "1.2.3"] {
            assert_eq!(value(bad), None, "{bad}");
        }
    }

    #[test]
    fn escapes() {
        assert_eq!(unescape(r#"a\\b\"c\nd\te"#, true), "a\\b\"c\nd\\te");
        assert_eq!(unescape(r#"say \"hi\""#, false), r#"say \"hi\""#);
        assert!(matches!(unescape("plain", true), Cow::Borrowed(_)));
    }
}
