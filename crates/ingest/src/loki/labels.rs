//! Loki's stream label strings, `{job="api", level="info"}`, as Prometheus writes label sets:
//! names of letters, digits and `_`, values in double quotes with Go escapes.

/// The pairs of a label string, in order.
pub fn parse_labels(s: &str) -> Result<Vec<(String, String)>, String> {
    let s = s.trim();
    let inner = s
        .strip_prefix('{')
        .and_then(|r| r.strip_suffix('}'))
        .ok_or_else(|| format!("labels {s:?} are not in braces"))?;
    let mut out = Vec::new();
    let mut chars = inner.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        if chars.peek().is_none() {
            return Ok(out);
        }
        let mut name = String::new();
        while let Some(&c) = chars.peek() {
            if c.is_ascii_alphanumeric() || c == '_' {
                name.push(c);
                chars.next();
            } else {
                break;
            }
        }
        if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(format!("labels {s:?}: a label name is expected"));
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.next() != Some('=') || chars.next() != Some('"') {
            return Err(format!("labels {s:?}: expected =\"…\" after {name}"));
        }
        let mut value = String::new();
        loop {
            match chars.next() {
                None => return Err(format!("labels {s:?}: unterminated value of {name}")),
                Some('"') => break,
                Some('\\') => match chars.next() {
                    Some('n') => value.push('\n'),
                    Some('t') => value.push('\t'),
                    Some('\\') => value.push('\\'),
                    Some('"') => value.push('"'),
                    Some(c) => {
                        value.push('\\');
                        value.push(c);
                    }
                    None => return Err(format!("labels {s:?}: unterminated value of {name}")),
                },
                Some(c) => value.push(c),
            }
        }
        out.push((name, value));
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn label_strings_parse() {
        assert_eq!(
            parse_labels(r#"{job="api", level="info", msg="a \"b\"\n"}"#),
            Ok(vec![
                ("job".into(), "api".into()),
                ("level".into(), "info".into()),
                ("msg".into(), "a \"b\"\n".into()),
            ])
        );
        assert_eq!(parse_labels("{}"), Ok(vec![]));
        assert!(parse_labels("job=\"api\"").is_err());
        assert!(parse_labels("{job=api}").is_err());
        assert!(parse_labels("{1x=\"a\"}").is_err());
        assert!(parse_labels("{job=\"a}").is_err());
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,60}") {
            let _ = parse_labels(&s);
        }

        #[test]
        fn written_labels_read_back(pairs in proptest::collection::vec(("[a-z_][a-z0-9_]{0,8}", "\\PC{0,12}"), 0..5)) {
            let text = format!("{{{}}}", pairs.iter().map(|(n, v)| format!("{n}={}", serde_json::to_string(v).unwrap_or_default())).collect::<Vec<_>>().join(", "));
            let back = parse_labels(&text);
            // JSON escapes are a superset of the Go ones used here only for quotes, backslashes
            // and control characters; compare where the value has none of the others.
            if pairs.iter().all(|(_, v)| !v.chars().any(|c| c.is_control() && c != '\n' && c != '\t')) {
                prop_assert_eq!(back, Ok(pairs));
            }
        }
    }
}
