//! One stored log line, as bytes: a format byte, the severity, then length-prefixed (LEB128)
//! trace id, span id, attributes (count, then name and value), and the body last.

use std::collections::BTreeMap;

use kubepulse_model::Severity;

use crate::StoreError;

/// A stored line without its stream labels.
#[derive(Debug, Clone, PartialEq)]
pub struct LogEntry {
    /// Nanoseconds since the epoch.
    pub t_ns: i64,
    /// Severity.
    pub severity: Severity,
    /// The line.
    pub body: String,
    /// Trace id, when the line was written inside a traced request.
    pub trace_id: String,
    /// Span id.
    pub span_id: String,
    /// Structured attributes.
    pub attributes: BTreeMap<String, String>,
}

const FORMAT: u8 = 1;

const SEVERITIES: [Severity; 7] = [
    Severity::Unspecified,
    Severity::Trace,
    Severity::Debug,
    Severity::Info,
    Severity::Warn,
    Severity::Error,
    Severity::Fatal,
];

fn put_len(out: &mut Vec<u8>, mut n: usize) {
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_len(out, s.len());
    out.extend_from_slice(s.as_bytes());
}

/// Encodes an entry (its time is in the key, not here).
#[cfg(test)]
pub fn encode(e: &LogEntry, out: &mut Vec<u8>) {
    encode_record(
        e.severity,
        &e.trace_id,
        &e.span_id,
        &e.attributes,
        &e.body,
        out,
    );
}

/// Encodes a line from its parts.
pub fn encode_record(
    severity: Severity,
    trace_id: &str,
    span_id: &str,
    attributes: &BTreeMap<String, String>,
    body: &str,
    out: &mut Vec<u8>,
) {
    out.push(FORMAT);
    out.push(SEVERITIES.iter().position(|s| *s == severity).unwrap_or(0) as u8);
    put_str(out, trace_id);
    put_str(out, span_id);
    put_len(out, attributes.len());
    for (k, v) in attributes {
        put_str(out, k);
        put_str(out, v);
    }
    out.extend_from_slice(body.as_bytes());
}

struct Reader<'a> {
    b: &'a [u8],
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("log line: {what}"))
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Result<u8, StoreError> {
        let (&first, rest) = self.b.split_first().ok_or_else(|| corrupt("truncated"))?;
        self.b = rest;
        Ok(first)
    }

    fn len(&mut self) -> Result<usize, StoreError> {
        let mut n: usize = 0;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            n |= usize::from(b & 0x7f)
                .checked_shl(shift)
                .ok_or_else(|| corrupt("length overflows"))?;
            if b & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err(corrupt("length too long"))
    }

    fn str(&mut self) -> Result<String, StoreError> {
        let n = self.len()?;
        if n > self.b.len() {
            return Err(corrupt("string past the end"));
        }
        let (s, rest) = self.b.split_at(n);
        self.b = rest;
        String::from_utf8(s.to_vec()).map_err(|_| corrupt("not UTF-8"))
    }
}

/// Decodes an entry stored at `t_ns`.
pub fn decode(t_ns: i64, b: &[u8]) -> Result<LogEntry, StoreError> {
    let mut r = Reader { b };
    if r.byte()? != FORMAT {
        return Err(corrupt("unknown format"));
    }
    let severity = *SEVERITIES
        .get(usize::from(r.byte()?))
        .ok_or_else(|| corrupt("unknown severity"))?;
    let trace_id = r.str()?;
    let span_id = r.str()?;
    let n = r.len()?;
    let mut attributes = BTreeMap::new();
    for _ in 0..n {
        let k = r.str()?;
        attributes.insert(k, r.str()?);
    }
    let body = String::from_utf8(r.b.to_vec()).map_err(|_| corrupt("body not UTF-8"))?;
    Ok(LogEntry {
        t_ns,
        severity,
        body,
        trace_id,
        span_id,
        attributes,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn entry() -> impl Strategy<Value = LogEntry> {
        (
            any::<i64>(),
            0..7usize,
            ".{0,200}",
            "[0-9a-f]{0,32}",
            "[0-9a-f]{0,16}",
            proptest::collection::btree_map(".{0,10}", ".{0,20}", 0..5),
        )
            .prop_map(|(t_ns, s, body, trace_id, span_id, attributes)| LogEntry {
                t_ns,
                severity: SEVERITIES[s],
                body,
                trace_id,
                span_id,
                attributes,
            })
    }

    proptest! {
        #[test]
        fn entries_round_trip(e in entry()) {
            let mut b = Vec::new();
            encode(&e, &mut b);
            prop_assert_eq!(decode(e.t_ns, &b)?, e);
        }

        #[test]
        fn any_bytes_decode_or_fail_cleanly(b in proptest::collection::vec(any::<u8>(), 0..100)) {
            let _ = decode(0, &b);
        }
    }
}
