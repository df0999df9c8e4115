//! Locating keys in YAML sources, so that configuration and scenario errors can name the field at
//! fault (`faults[1].severity`) next to the line and column a parser reports.

/// The dotted key path (`faults[1].severity`) of the key on 1-based `line` of a block-style YAML
/// document, found by walking up the indentation. `None` when the line holds no key.
pub fn key_path_at(src: &str, line: usize) -> Option<String> {
    let lines: Vec<&str> = src.lines().collect();
    let idx = line.checked_sub(1)?;
    let (lead, key, is_item) = parse_line(lines.get(idx)?)?;
    // Parts are collected from the leaf up. `indent` is the column of the innermost node found.
    let mut parts = Vec::new();
    if !key.is_empty() {
        parts.push(key);
    }
    let mut indent = lead;
    if is_item {
        parts.push(format!("[{}]", count_items_before(&lines, idx, lead)));
    }
    let mut i = idx;
    while i > 0 && indent > 0 {
        i -= 1;
        let Some((ind, k, item)) = parse_line(lines[i]) else {
            continue;
        };
        if item {
            // The key written on an item line sits two columns right of the dash.
            if ind + 2 < indent && !k.is_empty() {
                parts.push(k);
                parts.push(format!("[{}]", count_items_before(&lines, i, ind)));
                indent = ind;
            } else if ind < indent {
                parts.push(format!("[{}]", count_items_before(&lines, i, ind)));
                indent = ind;
            }
        } else if ind < indent {
            parts.push(k);
            indent = ind;
        }
    }
    if parts.is_empty() {
        return None;
    }
    parts.reverse();
    let mut out = String::new();
    for p in parts {
        if !out.is_empty() && !p.starts_with('[') {
            out.push('.');
        }
        out.push_str(&p);
    }
    Some(out)
}

/// The key path and message of a YAML parser error. `display` is the parser's error text, whose
/// first line reads `error: line L column C: message`; `line` is the 1-based line it reports. For
/// a missing field the path names the missing key inside the mapping the parser stopped at.
pub fn describe_error(src: &str, line: usize, display: &str) -> (String, String) {
    let first = display
        .lines()
        .next()
        .unwrap_or("")
        .trim_start_matches("error: ");
    let message = match first.split_once(": ") {
        Some((prefix, rest)) if prefix.starts_with("line ") => rest.to_string(),
        _ => first.to_string(),
    };
    let mut key = key_path_at(src, line).unwrap_or_default();
    if let Some(missing) = message
        .strip_prefix("missing field `")
        .and_then(|m| m.split('`').next())
    {
        key = match key.rsplit_once('.') {
            Some((parent, _)) => format!("{parent}.{missing}"),
            None if key.ends_with(']') => format!("{key}.{missing}"),
            None => missing.to_string(),
        };
    }
    (key, message)
}

/// Indentation of the key, the key (empty for a bare `- value` item) and whether the line starts
/// a sequence item. Comment and blank lines yield `None`.
fn parse_line(l: &str) -> Option<(usize, String, bool)> {
    let trimmed = l.trim_start();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return None;
    }
    let lead = l.len() - trimmed.len();
    if let Some(rest) = trimmed
        .strip_prefix("- ")
        .or(if trimmed == "-" { Some("") } else { None })
    {
        let key = rest
            .split_once(':')
            .map(|(k, _)| k.trim().to_string())
            .unwrap_or_default();
        return Some((lead, key, true));
    }
    let (k, _) = trimmed.split_once(':')?;
    Some((lead, k.trim().trim_matches('"').to_string(), false))
}

/// How many items of the same sequence (same indentation) precede line `idx`.
fn count_items_before(lines: &[&str], idx: usize, indent: usize) -> usize {
    let mut n = 0;
    let mut i = idx;
    while i > 0 {
        i -= 1;
        match parse_line(lines[i]) {
            Some((ind, _, true)) if ind == indent => n += 1,
            Some((ind, _, _)) if ind < indent => break,
            _ => {}
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "\
name: demo
faults:
  - kind: memory_leak
    at: 1h
    target:
      workload: cart
  # a comment
  - kind: cpu_hog
    severity: x
settings:
  seed: 3
";

    #[test]
    fn parser_errors_are_described() {
        let (key, msg) = describe_error(
            DOC,
            9,
            "error: line 9 column 15: invalid floating point\n --> x",
        );
        assert_eq!(
            (key.as_str(), msg.as_str()),
            ("faults[1].severity", "invalid floating point")
        );
        let (key, msg) = describe_error(DOC, 4, "error: line 4 column 5: missing field `target`");
        assert_eq!(
            (key.as_str(), msg.as_str()),
            ("faults[0].target", "missing field `target`")
        );
        assert_eq!(describe_error("", 1, "something odd").1, "something odd");
    }

    #[test]
    fn paths() {
        assert_eq!(key_path_at(DOC, 1).as_deref(), Some("name"));
        assert_eq!(key_path_at(DOC, 3).as_deref(), Some("faults[0].kind"));
        assert_eq!(key_path_at(DOC, 4).as_deref(), Some("faults[0].at"));
        assert_eq!(
            key_path_at(DOC, 6).as_deref(),
            Some("faults[0].target.workload")
        );
        assert_eq!(key_path_at(DOC, 9).as_deref(), Some("faults[1].severity"));
        assert_eq!(key_path_at(DOC, 8).as_deref(), Some("faults[1].kind"));
        assert_eq!(key_path_at(DOC, 11).as_deref(), Some("settings.seed"));
        let nested = "a:\n  - target:\n      workload: x\n";
        assert_eq!(
            key_path_at(nested, 3).as_deref(),
            Some("a[0].target.workload")
        );
        assert_eq!(key_path_at(DOC, 7), None);
        assert_eq!(key_path_at(DOC, 99), None);
        assert_eq!(key_path_at(DOC, 0), None);
    }
}
