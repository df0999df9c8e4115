//! Gorilla XOR encoding of (timestamp, value) pairs, as Prometheus' head chunks use it:
//! timestamps as delta-of-delta in 1/14/17/20/64-bit buckets, values as XOR with the previous
//! value, reusing the previous leading/trailing-zero window when it fits. Values round-trip bit
//! for bit, staleness markers included.

use super::bits::{BitReader, BitWriter};

/// Appends samples to a Gorilla chunk.
#[derive(Debug, Clone, Default)]
pub struct Encoder {
    w: BitWriter,
    count: u32,
    t: i64,
    t_delta: i64,
    v: u64,
    leading: u8,
    trailing: u8,
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

fn write_varint(w: &mut BitWriter, mut v: u64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            w.bits(u64::from(byte), 8);
            return;
        }
        w.bits(u64::from(byte | 0x80), 8);
    }
}

fn read_varint(r: &mut BitReader<'_>) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..70).step_by(7) {
        let byte = r.bits(8)?;
        if shift >= 64 {
            return None;
        }
        v |= (byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

impl Encoder {
    /// An empty chunk.
    pub fn new() -> Self {
        Self {
            leading: 0xff,
            ..Self::default()
        }
    }

    /// Number of samples.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// Timestamp of the last sample.
    pub fn last_t(&self) -> i64 {
        self.t
    }

    /// The encoded bytes.
    pub fn bytes(&self) -> &[u8] {
        self.w.parts().0
    }

    /// Appends a sample. Timestamps must increase; the caller guarantees it.
    pub fn push(&mut self, t: i64, v: f64) {
        let vb = v.to_bits();
        match self.count {
            0 => {
                write_varint(&mut self.w, zigzag(t));
                self.w.bits(vb, 64);
            }
            1 => {
                let d = t - self.t;
                write_varint(&mut self.w, zigzag(d));
                self.t_delta = d;
                self.xor(vb);
            }
            _ => {
                let d = t - self.t;
                let dod = d - self.t_delta;
                self.dod(dod);
                self.t_delta = d;
                self.xor(vb);
            }
        }
        self.t = t;
        self.v = vb;
        self.count += 1;
    }

    fn dod(&mut self, dod: i64) {
        let w = &mut self.w;
        let fits = |bits: u32| -((1i64 << (bits - 1)) - 1) <= dod && dod <= (1i64 << (bits - 1));
        if dod == 0 {
            w.bit(false);
        } else if fits(14) {
            w.bits(0b10, 2);
            w.bits(dod as u64, 14);
        } else if fits(17) {
            w.bits(0b110, 3);
            w.bits(dod as u64, 17);
        } else if fits(20) {
            w.bits(0b1110, 4);
            w.bits(dod as u64, 20);
        } else {
            w.bits(0b1111, 4);
            w.bits(dod as u64, 64);
        }
    }

    fn xor(&mut self, vb: u64) {
        let x = vb ^ self.v;
        let w = &mut self.w;
        if x == 0 {
            w.bit(false);
            return;
        }
        w.bit(true);
        let leading = (x.leading_zeros() as u8).min(31);
        let trailing = x.trailing_zeros() as u8;
        if self.leading != 0xff && leading >= self.leading && trailing >= self.trailing {
            w.bit(false);
            let sig = 64 - u32::from(self.leading) - u32::from(self.trailing);
            w.bits(x >> self.trailing, sig);
        } else {
            w.bit(true);
            self.leading = leading;
            self.trailing = trailing;
            let sig = 64 - u32::from(leading) - u32::from(trailing);
            w.bits(u64::from(leading), 5);
            // 64 significant bits are written as 0: that count cannot otherwise occur.
            w.bits(u64::from(sig as u8 & 0x3f), 6);
            w.bits(x >> trailing, sig);
        }
    }
}

/// Decodes `count` samples from Gorilla bytes.
pub fn decode(bytes: &[u8], count: u32, out: &mut Vec<(i64, f64)>) -> Option<()> {
    decode_range(bytes, count, i64::MIN, i64::MAX, out)
}

/// Appends the samples with timestamps in `[mint, maxt]` to `out`, stopping at the first sample
/// after `maxt` (a chunk's timestamps only grow).
pub fn decode_range(
    bytes: &[u8],
    count: u32,
    mint: i64,
    maxt: i64,
    out: &mut Vec<(i64, f64)>,
) -> Option<()> {
    let mut r = BitReader::new(bytes);
    let (mut t, mut v, mut delta) = (0i64, 0u64, 0i64);
    let (mut leading, mut trailing) = (0u32, 0u32);
    for i in 0..count {
        match i {
            0 => {
                t = unzigzag(read_varint(&mut r)?);
                v = r.bits(64)?;
            }
            _ => {
                if i == 1 {
                    delta = unzigzag(read_varint(&mut r)?);
                } else {
                    let dod = read_dod(&mut r)?;
                    delta = delta.checked_add(dod)?;
                }
                t = t.checked_add(delta)?;
                if r.bit()? {
                    if r.bit()? {
                        leading = r.bits(5)? as u32;
                        let sig = r.bits(6)? as u32;
                        let sig = if sig == 0 { 64 } else { sig };
                        trailing = 64u32.checked_sub(leading + sig)?;
                    }
                    let sig = 64 - leading - trailing;
                    let x = r.bits(sig)?;
                    v ^= x.checked_shl(trailing).unwrap_or(0);
                }
            }
        }
        if t > maxt {
            break;
        }
        if t >= mint {
            out.push((t, f64::from_bits(v)));
        }
    }
    Some(())
}

fn read_dod(r: &mut BitReader<'_>) -> Option<i64> {
    let mut prefix = 0;
    while prefix < 4 && r.bit()? {
        prefix += 1;
    }
    let bits = match prefix {
        0 => return Some(0),
        1 => 14,
        2 => 17,
        3 => 20,
        _ => 64,
    };
    let raw = r.bits(bits)?;
    if bits == 64 {
        return Some(raw as i64);
    }
    // Sign-extend: values above 2^(bits-1) are negative.
    let half = 1u64 << (bits - 1);
    Some(if raw > half {
        raw as i64 - (1i64 << bits)
    } else {
        raw as i64
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubepulse_model::STALE_NAN;
    use proptest::prelude::*;

    fn round_trip(samples: &[(i64, f64)]) -> Vec<(i64, f64)> {
        let mut e = Encoder::new();
        for (t, v) in samples {
            e.push(*t, *v);
        }
        let mut out = Vec::new();
        decode(e.bytes(), e.count(), &mut out).unwrap();
        out
    }

    fn same(a: &[(i64, f64)], b: &[(i64, f64)]) -> bool {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| x.0 == y.0 && x.1.to_bits() == y.1.to_bits())
    }

    #[test]
    fn regular_series_compress_well() {
        let s: Vec<(i64, f64)> = (0..120)
            .map(|i| (1_700_000_000_000 + i * 15_000, 100.0 + (i % 7) as f64))
            .collect();
        let mut e = Encoder::new();
        for (t, v) in &s {
            e.push(*t, *v);
        }
        assert!(e.bytes().len() < 120 * 2, "{} bytes", e.bytes().len());
        assert!(same(&round_trip(&s), &s));
    }

    #[test]
    fn special_values_keep_their_bits() {
        let s = vec![
            (0, 1.0),
            (1, f64::NAN),
            (2, STALE_NAN),
            (3, f64::INFINITY),
            (4, f64::NEG_INFINITY),
            (5, -0.0),
            (6, f64::MIN_POSITIVE),
            (7, f64::MAX),
        ];
        assert!(same(&round_trip(&s), &s));
    }

    #[test]
    fn truncated_bytes_are_an_error_not_a_panic() {
        let s: Vec<(i64, f64)> = (0..50).map(|i| (i * 1000, i as f64 * 1.5)).collect();
        let mut e = Encoder::new();
        for (t, v) in &s {
            e.push(*t, *v);
        }
        let bytes = e.bytes();
        for cut in 0..bytes.len() {
            let mut out = Vec::new();
            let _ = decode(&bytes[..cut], 50, &mut out);
        }
    }

    proptest! {
        #[test]
        fn any_increasing_series_round_trips(
            start in -1_000_000_000_000i64..4_000_000_000_000,
            steps in proptest::collection::vec((1i64..10_000_000_000, any::<u64>()), 1..300),
        ) {
            let mut t = start;
            let mut s = Vec::new();
            for (d, bits) in steps {
                s.push((t, f64::from_bits(bits)));
                t += d;
            }
            prop_assert!(same(&round_trip(&s), &s));
        }

        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200), count in 0u32..500) {
            let mut out = Vec::new();
            let _ = decode(&bytes, count, &mut out);
        }
    }
}
