//! WAL record payloads. A record is framed as `[len u32][crc32 u32][type u8][payload]` (little
//! endian, CRC over type and payload); this module encodes and decodes the payloads.

use crate::SeriesRef;

/// A new series.
pub const SERIES: u8 = 1;
/// A batch of samples.
pub const SAMPLES: u8 = 2;

/// A decoded record.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// A series and its labels.
    Series(SeriesRef, Vec<(String, String)>),
    /// Samples: series, timestamp, value.
    Samples(Vec<(SeriesRef, i64, f64)>),
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(b: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *b.get(*pos)?;
        *pos += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

fn get<'a>(b: &'a [u8], pos: &mut usize, n: usize) -> Option<&'a [u8]> {
    let s = b.get(*pos..pos.checked_add(n)?)?;
    *pos += n;
    Some(s)
}

/// Encodes a series record payload.
pub fn encode_series(out: &mut Vec<u8>, r: SeriesRef, labels: &[(&str, &str)]) {
    put_varint(out, u64::from(r.0));
    put_varint(out, labels.len() as u64);
    for (n, v) in labels {
        put_varint(out, n.len() as u64);
        out.extend_from_slice(n.as_bytes());
        put_varint(out, v.len() as u64);
        out.extend_from_slice(v.as_bytes());
    }
}

/// Encodes a samples record payload: refs as varints, timestamps as zigzag deltas from the
/// previous sample of the record, values as raw 64-bit floats.
pub fn encode_samples(out: &mut Vec<u8>, samples: &[(SeriesRef, i64, f64)]) {
    put_varint(out, samples.len() as u64);
    let mut prev_t = 0i64;
    for &(r, t, v) in samples {
        put_varint(out, u64::from(r.0));
        let d = t.wrapping_sub(prev_t);
        put_varint(out, ((d << 1) ^ (d >> 63)) as u64);
        prev_t = t;
        out.extend_from_slice(&v.to_bits().to_le_bytes());
    }
}

/// Decodes a series payload without copying its labels; `None` when malformed.
pub fn decode_series(b: &[u8]) -> Option<(SeriesRef, Vec<(&str, &str)>)> {
    let mut pos = 0;
    let r = u32::try_from(get_varint(b, &mut pos)?).ok()?;
    let n = get_varint(b, &mut pos)? as usize;
    let mut labels = Vec::with_capacity(n.min(256));
    for _ in 0..n {
        let ln = get_varint(b, &mut pos)? as usize;
        let name = std::str::from_utf8(get(b, &mut pos, ln)?).ok()?;
        let lv = get_varint(b, &mut pos)? as usize;
        let value = std::str::from_utf8(get(b, &mut pos, lv)?).ok()?;
        labels.push((name, value));
    }
    (pos == b.len()).then_some((SeriesRef(r), labels))
}

/// Decodes a payload of type `ty`; `None` when malformed.
pub fn decode(ty: u8, b: &[u8]) -> Option<Record> {
    let mut pos = 0;
    let rec = match ty {
        SERIES => {
            let (r, labels) = decode_series(b)?;
            let owned = labels
                .into_iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect();
            return Some(Record::Series(r, owned));
        }
        SAMPLES => {
            let n = get_varint(b, &mut pos)? as usize;
            let mut out = Vec::with_capacity(n.min(1 << 20));
            let mut t = 0i64;
            for _ in 0..n {
                let r = u32::try_from(get_varint(b, &mut pos)?).ok()?;
                let z = get_varint(b, &mut pos)?;
                t = t.wrapping_add(((z >> 1) as i64) ^ -((z & 1) as i64));
                let v = f64::from_bits(u64::from_le_bytes(get(b, &mut pos, 8)?.try_into().ok()?));
                out.push((SeriesRef(r), t, v));
            }
            Record::Samples(out)
        }
        _ => return None,
    };
    (pos == b.len()).then_some(rec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn samples_round_trip(s in proptest::collection::vec((any::<u32>(), any::<i64>(), any::<u64>()), 0..100)) {
            let samples: Vec<(SeriesRef, i64, f64)> = s.iter().map(|&(r, t, v)| (SeriesRef(r), t, f64::from_bits(v))).collect();
            let mut b = Vec::new();
            encode_samples(&mut b, &samples);
            let Some(Record::Samples(back)) = decode(SAMPLES, &b) else { panic!("decode") };
            prop_assert_eq!(back.len(), samples.len());
            for (a, b) in back.iter().zip(&samples) {
                prop_assert!(a.0 == b.0 && a.1 == b.1 && a.2.to_bits() == b.2.to_bits());
            }
        }

        #[test]
        fn series_round_trip(r in any::<u32>(), labels in proptest::collection::vec((".{0,10}", ".{0,20}"), 0..10)) {
            let borrowed: Vec<(&str, &str)> = labels.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
            let mut b = Vec::new();
            encode_series(&mut b, SeriesRef(r), &borrowed);
            prop_assert_eq!(decode(SERIES, &b), Some(Record::Series(SeriesRef(r), labels.clone())));
        }

        #[test]
        fn garbage_never_panics(ty in 0u8..4, b in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = decode(ty, &b);
        }
    }
}
