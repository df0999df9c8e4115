//! A minimal protobuf wire-format reader over borrowed bytes: varints, fixed 32/64-bit fields,
//! length-delimited fields, and skipping of unknown fields. Every read is bounds-checked and
//! returns an error instead of panicking.

use std::fmt;

/// Where and why decoding failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError {
    /// Byte offset of the problem within the message being read.
    pub offset: usize,
    /// What is wrong.
    pub what: &'static str,
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.what, self.offset)
    }
}

/// Wire types.
pub const VARINT: u8 = 0;
/// 64-bit.
pub const I64: u8 = 1;
/// Length-delimited.
pub const LEN: u8 = 2;
/// 32-bit.
pub const I32: u8 = 5;

/// A cursor over one message.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader over `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// True when every byte was read.
    pub fn done(&self) -> bool {
        self.pos >= self.buf.len()
    }

    fn err(&self, what: &'static str) -> WireError {
        WireError {
            offset: self.pos,
            what,
        }
    }

    /// Reads a varint.
    pub fn varint(&mut self) -> Result<u64, WireError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let Some(&b) = self.buf.get(self.pos) else {
                return Err(self.err("truncated varint"));
            };
            self.pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(self.err("varint longer than 10 bytes"))
    }

    /// Reads a field tag: field number and wire type.
    pub fn tag(&mut self) -> Result<(u32, u8), WireError> {
        let t = self.varint()?;
        let field = u32::try_from(t >> 3).map_err(|_| self.err("field number too large"))?;
        if field == 0 {
            return Err(self.err("field number 0"));
        }
        Ok((field, (t & 7) as u8))
    }

    /// Reads 8 little-endian bytes.
    pub fn fixed64(&mut self) -> Result<u64, WireError> {
        let b = self
            .buf
            .get(self.pos..self.pos + 8)
            .ok_or_else(|| self.err("truncated 64-bit field"))?;
        self.pos += 8;
        Ok(u64::from_le_bytes(
            b.try_into()
                .map_err(|_| self.err("truncated 64-bit field"))?,
        ))
    }

    /// Reads a length-delimited field.
    pub fn bytes(&mut self) -> Result<&'a [u8], WireError> {
        let len = usize::try_from(self.varint()?).map_err(|_| self.err("length too large"))?;
        let end = self
            .pos
            .checked_add(len)
            .ok_or_else(|| self.err("length too large"))?;
        let b = self
            .buf
            .get(self.pos..end)
            .ok_or_else(|| self.err("length beyond end of message"))?;
        self.pos = end;
        Ok(b)
    }

    /// Reads a length-delimited UTF-8 string.
    pub fn string(&mut self) -> Result<&'a str, WireError> {
        let at = self.pos;
        let b = self.bytes()?;
        std::str::from_utf8(b).map_err(|_| WireError {
            offset: at,
            what: "string is not valid UTF-8",
        })
    }

    /// Skips a field of wire type `wt`.
    pub fn skip(&mut self, wt: u8) -> Result<(), WireError> {
        match wt {
            VARINT => self.varint().map(|_| ()),
            I64 => self.fixed64().map(|_| ()),
            LEN => self.bytes().map(|_| ()),
            I32 => {
                self.buf
                    .get(self.pos..self.pos + 4)
                    .ok_or_else(|| self.err("truncated 32-bit field"))?;
                self.pos += 4;
                Ok(())
            }
            _ => Err(self.err("unsupported wire type")),
        }
    }

    /// Checks that field `f` has wire type `want`.
    pub fn expect(&self, wt: u8, want: u8) -> Result<(), WireError> {
        if wt == want {
            Ok(())
        } else {
            Err(self.err("unexpected wire type"))
        }
    }
}
