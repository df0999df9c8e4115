//! Chunks: a run of one series' samples in time order, encoded. Head chunks and freshly
//! flushed chunks use Gorilla XOR (cheap to append to); compaction rewrites runs of them into
//! one pco chunk (timestamps and values compressed separately), which is several times smaller.
//!
//! Stored layout: `[encoding u8][count u32 LE][min_t i64 LE][max_t i64 LE][payload]`, where the
//! pco payload is `[timestamps length u32 LE][timestamps][values]`.

pub mod bits;
pub mod gorilla;

use pco::standalone::{simple_compress, simple_decompress};
use pco::{ChunkConfig, DeltaSpec, ModeSpec};

use crate::StoreError;

/// Gorilla XOR payload.
pub const GORILLA: u8 = 1;
/// pco payload.
pub const PCO: u8 = 2;
const HEADER: usize = 21;

/// An encoded chunk with its time range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// `GORILLA` or `PCO`.
    pub encoding: u8,
    /// Number of samples.
    pub count: u32,
    /// First timestamp.
    pub min_t: i64,
    /// Last timestamp.
    pub max_t: i64,
    /// Encoded samples.
    pub payload: Vec<u8>,
}

impl Chunk {
    /// A Gorilla chunk from samples sorted by time with distinct timestamps.
    pub fn gorilla(samples: &[(i64, f64)]) -> Option<Self> {
        let (first, last) = (samples.first()?, samples.last()?);
        let mut e = gorilla::Encoder::new();
        for (t, v) in samples {
            e.push(*t, *v);
        }
        Some(Self {
            encoding: GORILLA,
            count: e.count(),
            min_t: first.0,
            max_t: last.0,
            payload: e.bytes().to_vec(),
        })
    }

    /// A pco chunk from samples sorted by time with distinct timestamps. Values round-trip bit
    /// for bit (staleness markers included): the automatic mode is checked and replaced by the
    /// classic one when it would not.
    pub fn pco(samples: &[(i64, f64)]) -> Result<Option<Self>, StoreError> {
        let (Some(first), Some(last)) = (samples.first(), samples.last()) else {
            return Ok(None);
        };
        let ts: Vec<i64> = samples.iter().map(|s| s.0).collect();
        let vs: Vec<f64> = samples.iter().map(|s| s.1).collect();
        let tcfg = ChunkConfig::default()
            .with_mode_spec(ModeSpec::Classic)
            .with_delta_spec(DeltaSpec::TryConsecutive(2));
        let tb = simple_compress(&ts, &tcfg).map_err(|e| StoreError::Codec(e.to_string()))?;
        let mut vb = simple_compress(&vs, &ChunkConfig::default())
            .map_err(|e| StoreError::Codec(e.to_string()))?;
        let back: Vec<f64> =
            simple_decompress(&vb).map_err(|e| StoreError::Codec(e.to_string()))?;
        if back.len() != vs.len()
            || back
                .iter()
                .zip(&vs)
                .any(|(a, b)| a.to_bits() != b.to_bits())
        {
            let classic = ChunkConfig::default().with_mode_spec(ModeSpec::Classic);
            vb = simple_compress(&vs, &classic).map_err(|e| StoreError::Codec(e.to_string()))?;
        }
        let mut payload = Vec::with_capacity(4 + tb.len() + vb.len());
        payload.extend_from_slice(&(tb.len() as u32).to_le_bytes());
        payload.extend_from_slice(&tb);
        payload.extend_from_slice(&vb);
        Ok(Some(Self {
            encoding: PCO,
            count: samples.len() as u32,
            min_t: first.0,
            max_t: last.0,
            payload,
        }))
    }

    /// The stored bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER + self.payload.len());
        out.push(self.encoding);
        out.extend_from_slice(&self.count.to_le_bytes());
        out.extend_from_slice(&self.min_t.to_le_bytes());
        out.extend_from_slice(&self.max_t.to_le_bytes());
        out.extend_from_slice(&self.payload);
        out
    }

    /// Parses stored bytes.
    pub fn from_bytes(b: &[u8]) -> Result<Self, StoreError> {
        let (encoding, count, min_t, max_t) = header(b)?;
        Ok(Self {
            encoding,
            count,
            min_t,
            max_t,
            payload: b[HEADER..].to_vec(),
        })
    }

    /// The time range of a stored chunk, read from its header without copying it.
    pub fn span_of(b: &[u8]) -> Option<(i64, i64)> {
        header(b).ok().map(|(_, _, min_t, max_t)| (min_t, max_t))
    }

    /// Appends the samples of a stored chunk with timestamps in `[mint, maxt]` to `out`,
    /// straight from its bytes.
    pub fn decode_stored(
        b: &[u8],
        mint: i64,
        maxt: i64,
        out: &mut Vec<(i64, f64)>,
    ) -> Result<(), StoreError> {
        let (encoding, count, min_t, _) = header(b)?;
        decode_payload(encoding, count, min_t, &b[HEADER..], (mint, maxt), out)
    }

    /// Appends the samples to `out`.
    pub fn decode_into(&self, out: &mut Vec<(i64, f64)>) -> Result<(), StoreError> {
        self.decode_range(i64::MIN, i64::MAX, out)
    }

    /// Appends the samples with timestamps in `[mint, maxt]` to `out`.
    pub fn decode_range(
        &self,
        mint: i64,
        maxt: i64,
        out: &mut Vec<(i64, f64)>,
    ) -> Result<(), StoreError> {
        decode_payload(
            self.encoding,
            self.count,
            self.min_t,
            &self.payload,
            (mint, maxt),
            out,
        )
    }

    /// The samples.
    pub fn samples(&self) -> Result<Vec<(i64, f64)>, StoreError> {
        // The count comes from stored bytes: never trust it for an allocation. A Gorilla sample
        // takes at least two bits; pco chunks hold at most 2^24 values.
        let bound = match self.encoding {
            GORILLA => self.payload.len() * 4 + 1,
            _ => 1 << 24,
        };
        let mut out = Vec::with_capacity((self.count as usize).min(bound));
        self.decode_into(&mut out)?;
        Ok(out)
    }
}

/// Encoding, count, first and last timestamp of stored chunk bytes.
fn header(b: &[u8]) -> Result<(u8, u32, i64, i64), StoreError> {
    let bad = || StoreError::Corrupt("chunk header".into());
    if b.len() < HEADER || !matches!(b[0], GORILLA | PCO) {
        return Err(bad());
    }
    let count = b
        .get(1..5)
        .and_then(|x| x.try_into().ok())
        .map(u32::from_le_bytes);
    let at = |i: usize| {
        b.get(i..i + 8)
            .and_then(|x| x.try_into().ok())
            .map(i64::from_le_bytes)
    };
    Ok((
        b[0],
        count.ok_or_else(bad)?,
        at(5).ok_or_else(bad)?,
        at(13).ok_or_else(bad)?,
    ))
}

/// Appends the samples of a payload with timestamps in `range` to `out`.
fn decode_payload(
    encoding: u8,
    count: u32,
    min_t: i64,
    p: &[u8],
    (mint, maxt): (i64, i64),
    out: &mut Vec<(i64, f64)>,
) -> Result<(), StoreError> {
    let bad = || StoreError::Corrupt(format!("chunk of {count} samples at {min_t}"));
    match encoding {
        GORILLA => gorilla::decode_range(p, count, mint, maxt, out).ok_or_else(bad),
        PCO => {
            let tl = u32::from_le_bytes(p.get(..4).ok_or_else(bad)?.try_into().map_err(|_| bad())?)
                as usize;
            let tb = p.get(4..4 + tl).ok_or_else(bad)?;
            let vb = p.get(4 + tl..).ok_or_else(bad)?;
            let ts: Vec<i64> = simple_decompress(tb).map_err(|_| bad())?;
            let vs: Vec<f64> = simple_decompress(vb).map_err(|_| bad())?;
            if ts.len() != vs.len() || ts.len() != count as usize {
                return Err(bad());
            }
            out.extend(
                ts.into_iter()
                    .zip(vs)
                    .filter(|s| s.0 >= mint && s.0 <= maxt),
            );
            Ok(())
        }
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubepulse_model::STALE_NAN;
    use proptest::prelude::*;

    fn bits(s: &[(i64, f64)]) -> Vec<(i64, u64)> {
        s.iter().map(|(t, v)| (*t, v.to_bits())).collect()
    }

    #[test]
    fn pco_keeps_staleness_markers_and_other_nans() {
        // Decimal gauges tempt pco into its float-multiplier mode.
        let mut s: Vec<(i64, f64)> = (0..2000)
            .map(|i| (i * 15_000, (i % 50) as f64 * 0.1))
            .collect();
        s[100].1 = STALE_NAN;
        s[200].1 = f64::from_bits(0x7ff8_0000_0000_0001);
        s[300].1 = f64::INFINITY;
        let c = Chunk::pco(&s).unwrap().unwrap();
        let back = Chunk::from_bytes(&c.to_bytes()).unwrap().samples().unwrap();
        assert_eq!(bits(&back), bits(&s));
    }

    #[test]
    fn pco_compresses_regular_counters_below_one_byte_per_sample() {
        let mut v = 0.0;
        let s: Vec<(i64, f64)> = (0..1440)
            .map(|i| {
                v += 10.0 + (i * 7 % 13) as f64;
                (1_700_000_000_000 + i * 15_000, v)
            })
            .collect();
        let c = Chunk::pco(&s).unwrap().unwrap();
        assert!(c.to_bytes().len() < 1440, "{} bytes", c.to_bytes().len());
    }

    #[test]
    fn corrupt_bytes_are_errors() {
        assert!(Chunk::from_bytes(&[9; 30]).is_err());
        assert!(Chunk::from_bytes(&[1; 3]).is_err());
        let c = Chunk::pco(&[(1, 1.0), (2, 2.0)]).unwrap().unwrap();
        let mut b = c.to_bytes();
        b.truncate(b.len() - 3);
        assert!(Chunk::from_bytes(&b).unwrap().samples().is_err());
    }

    proptest! {
        #[test]
        fn both_encodings_round_trip(start in any::<i32>(), steps in proptest::collection::vec((1i64..100_000, any::<u64>()), 1..400)) {
            let mut t = i64::from(start);
            let s: Vec<(i64, f64)> = steps.iter().map(|(d, v)| { t += d; (t, f64::from_bits(*v)) }).collect();
            for c in [Chunk::gorilla(&s).unwrap(), Chunk::pco(&s).unwrap().unwrap()] {
                let back = Chunk::from_bytes(&c.to_bytes()).unwrap().samples().unwrap();
                prop_assert_eq!(bits(&back), bits(&s));
                prop_assert_eq!((c.min_t, c.max_t, c.count as usize), (s[0].0, s[s.len() - 1].0, s.len()));
            }
        }

        #[test]
        fn garbage_never_panics(b in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Ok(c) = Chunk::from_bytes(&b) {
                let _ = c.samples();
            }
        }
    }
}
