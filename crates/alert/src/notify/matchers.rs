//! Alertmanager's matcher syntax: `name="value"`, `name!=value`, `name=~"regex"`,
//! `name!~regex`, one per string or several in `{a="b", c=~"d"}`; regular expressions are
//! anchored as in Alertmanager.

use kubepulse_model::Labels;
use kubepulse_store::{MatchOp, Matcher};

/// Matchers that all must hold.
pub type Matchers = Vec<Matcher>;

/// Whether every matcher holds for `labels` (an absent label reads as "").
pub fn matches(ms: &[Matcher], labels: &Labels) -> bool {
    ms.iter()
        .all(|m| m.matches(labels.get(&m.name).unwrap_or("")))
}

fn unquote(v: &str) -> Result<String, String> {
    let v = v.trim();
    let Some(inner) = v.strip_prefix('"') else {
        if v.contains(['"', '{', '}', ',']) {
            return Err(format!("unexpected character in value {v:?}"));
        }
        return Ok(v.to_string());
    };
    let inner = inner
        .strip_suffix('"')
        .ok_or_else(|| format!("unterminated quoted value {v:?}"))?;
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some(e) => out.push(e),
                None => return Err(format!("dangling escape in {v:?}")),
            }
        } else if c == '"' {
            return Err(format!("unescaped quote in {v:?}"));
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

/// Parses one matcher: `name<op>value`.
pub fn parse_one(s: &str) -> Result<Matcher, String> {
    let s = s.trim();
    let pos = s
        .find(['=', '!'])
        .ok_or_else(|| format!("bad matcher format: {s}"))?;
    let name = s[..pos].trim();
    let rest = &s[pos..];
    let (op, value) = if let Some(v) = rest.strip_prefix("=~") {
        (MatchOp::RegexMatch, v)
    } else if let Some(v) = rest.strip_prefix("!~") {
        (MatchOp::RegexNoMatch, v)
    } else if let Some(v) = rest.strip_prefix("!=") {
        (MatchOp::NotEqual, v)
    } else if let Some(v) = rest.strip_prefix('=') {
        (MatchOp::Equal, v)
    } else {
        return Err(format!("bad matcher format: {s}"));
    };
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!("invalid label name {name:?} in matcher {s}"));
    }
    Matcher::new(op, name, unquote(value)?).map_err(|e| e.to_string())
}

/// Splits on commas outside quotes.
fn split(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

/// Parses a matcher list: one matcher, or several in braces or separated by commas.
pub fn parse(s: &str) -> Result<Matchers, String> {
    let t = s.trim();
    let inner = match t.strip_prefix('{') {
        Some(r) => r
            .strip_suffix('}')
            .ok_or_else(|| format!("missing closing '}}' in {s:?}"))?,
        None => t,
    };
    split(inner)
        .into_iter()
        .filter(|p| !p.trim().is_empty())
        .map(parse_one)
        .collect()
}

/// Matchers written one per string, as `matchers:` lists hold them.
pub fn parse_all(list: &[String]) -> Result<Matchers, String> {
    let mut out = Vec::new();
    for s in list {
        out.extend(parse(s)?);
    }
    Ok(out)
}

/// How Alertmanager writes a matcher back: `name="value"`.
pub fn render(m: &Matcher) -> String {
    let op = match m.op {
        MatchOp::Equal => "=",
        MatchOp::NotEqual => "!=",
        MatchOp::RegexMatch => "=~",
        MatchOp::RegexNoMatch => "!~",
    };
    format!("{}{op}{:?}", m.name, m.value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(p: &[(&str, &str)]) -> Labels {
        Labels::from_pairs(p.iter().copied()).unwrap()
    }

    #[test]
    fn every_operator_and_form() {
        let ms =
            parse(r#"{severity="critical", team=~"db|web", env!="dev", job!~"test.*"}"#).unwrap();
        assert_eq!(ms.len(), 4);
        let l = labels(&[
            ("severity", "critical"),
            ("team", "web"),
            ("env", "prod"),
            ("job", "api"),
        ]);
        assert!(matches(&ms, &l));
        let l = labels(&[("severity", "critical"), ("team", "webby"), ("env", "prod")]);
        assert!(!matches(&ms, &l), "regexes are anchored");
        assert!(matches(
            &parse("alertname=Foo").unwrap(),
            &labels(&[("alertname", "Foo")])
        ));
        assert!(matches(
            &parse(r#"a="x,y""#).unwrap(),
            &labels(&[("a", "x,y")])
        ));
        assert!(matches(&parse("missing=\"\"").unwrap(), &labels(&[])));
        assert_eq!(render(&parse_one("a=~\"b\"").unwrap()), "a=~\"b\"");
    }

    #[test]
    fn bad_matchers_are_errors() {
        for bad in ["", "a", "=b", "a~b", "{a=b", "a=\"b", "a=~\"(\"", "a-b=c"] {
            assert!(parse(bad).map(|m| m.is_empty()).unwrap_or(true), "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_text_never_panics(s in "\\PC{0,60}") {
            let _ = parse(&s);
        }
    }
}
