//! Bit-level writer and reader for the Gorilla codec.

/// Appends bits to a byte vector, most significant bit first.
#[derive(Debug, Clone, Default)]
pub struct BitWriter {
    bytes: Vec<u8>,
    /// Bits used in the last byte (0 means the last byte is full or there is none).
    used: u8,
}

impl BitWriter {
    /// A writer continuing `bytes` whose last byte has `used` bits set (0 = full).
    pub fn from_parts(bytes: Vec<u8>, used: u8) -> Self {
        Self { bytes, used }
    }

    /// The bytes and the bits used in the last one.
    pub fn parts(&self) -> (&[u8], u8) {
        (&self.bytes, self.used)
    }

    /// Consumes the writer.
    pub fn into_parts(self) -> (Vec<u8>, u8) {
        (self.bytes, self.used)
    }

    /// Writes one bit.
    pub fn bit(&mut self, b: bool) {
        if self.used == 0 {
            self.bytes.push(0);
        }
        if b && let Some(last) = self.bytes.last_mut() {
            *last |= 0x80 >> self.used;
        }
        self.used = (self.used + 1) % 8;
    }

    /// Writes the low `n` bits of `v` (n ≤ 64), most significant first.
    pub fn bits(&mut self, v: u64, n: u32) {
        let mut n = n;
        while n > 0 {
            if self.used == 0 {
                self.bytes.push(0);
            }
            let free = 8 - u32::from(self.used);
            let take = free.min(n);
            let chunk = ((v >> (n - take)) & ((1u64 << take) - 1)) as u8;
            if let Some(last) = self.bytes.last_mut() {
                *last |= chunk << (free - take);
            }
            self.used = ((u32::from(self.used) + take) % 8) as u8;
            n -= take;
        }
    }

    /// Number of bytes written.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// True when nothing was written.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

/// Reads bits written by [`BitWriter`].
#[derive(Debug, Clone)]
pub struct BitReader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> BitReader<'a> {
    /// A reader over `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    /// Reads one bit; `None` past the end.
    pub fn bit(&mut self) -> Option<bool> {
        let byte = *self.bytes.get(self.pos / 8)?;
        let b = byte & (0x80 >> (self.pos % 8)) != 0;
        self.pos += 1;
        Some(b)
    }

    /// Reads `n` bits (n ≤ 64); `None` past the end.
    pub fn bits(&mut self, n: u32) -> Option<u64> {
        if self.pos + n as usize > self.bytes.len() * 8 {
            return None;
        }
        let mut v = 0u64;
        let mut n = n;
        while n > 0 {
            let byte = self.bytes[self.pos / 8];
            let off = (self.pos % 8) as u32;
            let avail = 8 - off;
            let take = avail.min(n);
            let chunk = (u64::from(byte) >> (avail - take)) & ((1u64 << take) - 1);
            v = if take == 64 {
                chunk
            } else {
                (v << take) | chunk
            };
            self.pos += take as usize;
            n -= take;
        }
        Some(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn round_trip(items in proptest::collection::vec((any::<u64>(), 1u32..=64), 0..200)) {
            let mut w = BitWriter::default();
            for (v, n) in &items {
                w.bits(*v, *n);
            }
            let (bytes, _) = w.into_parts();
            let mut r = BitReader::new(&bytes);
            for (v, n) in &items {
                let mask = if *n == 64 { u64::MAX } else { (1u64 << n) - 1 };
                prop_assert_eq!(r.bits(*n), Some(v & mask));
            }
        }
    }

    #[test]
    fn single_bits() {
        let mut w = BitWriter::default();
        for b in [true, false, true, true, false, false, false, true, true] {
            w.bit(b);
        }
        let (bytes, used) = w.into_parts();
        assert_eq!(bytes, vec![0b1011_0001, 0b1000_0000]);
        assert_eq!(used, 1);
        let mut r = BitReader::new(&bytes);
        assert_eq!(r.bit(), Some(true));
        assert_eq!(r.bit(), Some(false));
        assert_eq!(r.bits(7), Some(0b110_0011));
        assert_eq!(r.bits(7), Some(0));
        assert_eq!(r.bits(1), None);
    }
}
