//! Masking the variable parts of a token: every run of letters and digits that holds a digit
//! (a number, an id, an address, a duration, a size) becomes `<*>`, and `<*>`s joined only by
//! separators (`10.0.0.1:8080`, `2026-12-03`) become one. What is left is the token's
//! constant shape: `uid=<*>`, `node-<*>`, `/<*>`, `(TID`.

/// The wildcard.
pub const WILDCARD: &str = "<*>";

/// Characters that join the parts of one value (`10.0.0.1:8080`, `a1-b2_c3`, `12ms`).
fn joins(c: char) -> bool {
    matches!(
        c,
        '.' | ':' | '-' | '_' | '#' | '+' | '/' | ',' | '@' | '%' | '~'
    )
}

/// Whether a word (a run of letters and digits) is a value: it holds a digit, or it is a
/// hexadecimal number written with `0x`.
fn is_value(word: &str) -> bool {
    word.bytes().any(|b| b.is_ascii_digit())
}

/// Month and weekday names: parts of a date written over several tokens.
const CALENDAR: [&str; 19] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "Mon",
    "Tue", "Wed", "Thu", "Fri", "Sat", "Sun",
];

/// Units written after a number as a token of their own; they vary with the value's magnitude
/// (`512 B`, `1.2 KB`), so they belong to the value.
const UNITS: [&str; 16] = [
    "B", "KB", "MB", "GB", "TB", "KiB", "MiB", "GiB", "TiB", "ns", "us", "µs", "ms", "s", "sec",
    "min",
];

/// If `token` is a unit (perhaps followed by punctuation, `KB,`), the punctuation after it.
pub fn unit(token: &str) -> Option<&str> {
    let end = token
        .char_indices()
        .find(|(_, c)| !c.is_alphanumeric() && *c != 'µ')
        .map_or(token.len(), |(i, _)| i);
    let (word, rest) = token.split_at(end);
    (UNITS.contains(&word) && !rest.chars().any(char::is_alphanumeric)).then_some(rest)
}

/// The token with its values masked; `None` when nothing in it is a value.
pub fn mask(token: &str) -> Option<String> {
    if !token.bytes().any(|b| b.is_ascii_digit()) {
        return CALENDAR
            .contains(&token.trim_end_matches(','))
            .then(|| WILDCARD.to_string());
    }
    let mut out = String::with_capacity(token.len());
    // Pending separators after a wildcard: dropped if another value follows.
    let mut pending = String::new();
    let mut last_wild = false;
    let mut word = String::new();
    let flush =
        |word: &mut String, out: &mut String, pending: &mut String, last_wild: &mut bool| {
            if word.is_empty() {
                return;
            }
            if is_value(word) {
                if !*last_wild || !pending.chars().all(joins) {
                    out.push_str(pending);
                    out.push_str(WILDCARD);
                }
                *last_wild = true;
            } else {
                out.push_str(pending);
                out.push_str(word);
                *last_wild = false;
            }
            pending.clear();
            word.clear();
        };
    for c in token.chars() {
        if c.is_alphanumeric() {
            word.push(c);
        } else {
            flush(&mut word, &mut out, &mut pending, &mut last_wild);
            pending.push(c);
            if !joins(c) {
                out.push_str(&pending);
                pending.clear();
                last_wild = false;
            }
        }
    }
    flush(&mut word, &mut out, &mut pending, &mut last_wild);
    out.push_str(&pending);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_masked_and_shapes_kept() {
        let m = |t: &str| mask(t).unwrap_or_else(|| t.to_string());
        assert_eq!(m("uid=0"), "uid=<*>");
        assert_eq!(m("10.251.42.84:50010"), "<*>");
        assert_eq!(m("/10.251.42.84:50010"), "/<*>");
        assert_eq!(m("node-127"), "node-<*>");
        assert_eq!(m("(TID"), "(TID");
        assert_eq!(m("12ms"), "<*>");
        assert_eq!(m("2026-12-03T10:00:00Z"), "<*>");
        assert_eq!(m("[3]"), "[<*>]");
        assert_eq!(m("blk_-6952295868487656571"), "blk_-<*>");
        assert_eq!(m("terminating"), "terminating");
        assert_eq!(mask("terminating"), None);
        assert_eq!(m("Jul"), "<*>");
        assert_eq!(m("Sun,"), "<*>");
        assert_eq!(unit("KB,"), Some(","));
        assert_eq!(unit("MB)"), Some(")"));
        assert_eq!(unit("B"), Some(""));
        assert_eq!(unit("bytes"), None);
        assert_eq!(unit("Block"), None);
    }
}
