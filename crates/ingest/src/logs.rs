//! What every log source shares: reading a line's severity from a hint (a `level` label, an
//! OpenTelemetry severity text) or, failing that, from the line itself.

use kubepulse_model::Severity;

/// A severity word (`error`, `WARN`, `Information`, `E`), if it is one.
pub fn severity_word(w: &str) -> Option<Severity> {
    let w = w.trim_matches(|c: char| !c.is_ascii_alphabetic());
    Some(match w.to_ascii_lowercase().as_str() {
        "trace" | "trc" => Severity::Trace,
        "debug" | "dbg" | "d" => Severity::Debug,
        "info" | "information" | "informational" | "inf" | "i" | "notice" => Severity::Info,
        "warn" | "warning" | "wrn" | "w" => Severity::Warn,
        "error" | "err" | "e" | "critical" | "crit" | "severe" => Severity::Error,
        "fatal" | "panic" | "emerg" | "emergency" | "alert" | "f" => Severity::Fatal,
        _ => return None,
    })
}

/// The severity of a line: the hint's when it names one, else the first severity word among
/// the line's first few tokens (`level=error`, `"level":"warn"`, `[ERROR]`, `E1203 …` as klog
/// writes it), else unspecified.
pub fn severity_of(hint: Option<&str>, line: &str) -> Severity {
    if let Some(s) = hint.and_then(severity_word) {
        return s;
    }
    // JSON lines: `"level":"warn"` anywhere.
    if let Some(i) = line.find("\"level\":\"") {
        let v = &line[i + 9..];
        if let Some(s) = v.split('"').next().and_then(severity_word) {
            return s;
        }
    }
    for token in line.split_ascii_whitespace().take(6) {
        let value = token
            .strip_prefix("level=")
            .or_else(|| token.strip_prefix("lvl="));
        if let Some(s) = value.and_then(severity_word) {
            return s;
        }
        // klog: a level letter glued to the date (`E1203`).
        let b = token.as_bytes();
        if b.len() == 5
            && b[0].is_ascii_uppercase()
            && b[1..].iter().all(u8::is_ascii_digit)
            && let Some(s) = severity_word(&token[..1])
        {
            return s;
        }
        // A level in capitals: `ERROR`, `[WARN]`.
        let bare = token.trim_matches(|c: char| !c.is_ascii_alphabetic());
        if bare.len() >= 4
            && bare.bytes().all(|c| c.is_ascii_uppercase())
            && let Some(s) = severity_word(bare)
        {
            return s;
        }
    }
    Severity::Unspecified
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_are_read_from_hints_and_lines() {
        assert_eq!(severity_of(Some("Information"), "x"), Severity::Info);
        assert_eq!(
            severity_of(None, "ts=1 level=error msg=boom"),
            Severity::Error
        );
        assert_eq!(
            severity_of(None, "{\"level\":\"warn\",\"msg\":\"x\"}"),
            Severity::Warn
        );
        assert_eq!(
            severity_of(None, "2024-01-01 [ERROR] db down"),
            Severity::Error
        );
        assert_eq!(
            severity_of(None, "E1203 10:00:00.000 1 pod.go:1] failed"),
            Severity::Error
        );
        assert_eq!(severity_of(None, "GET /health 200"), Severity::Unspecified);
        assert_eq!(severity_of(None, "WARN disk almost full"), Severity::Warn);
        assert_eq!(
            severity_of(None, "the error was handled"),
            Severity::Unspecified
        );
    }
}
