//! Encoding of remote_write requests, for clients of KubePulse's own tools (benchmarks, tests)
//! and for writing to remote storage.

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn len_field(out: &mut Vec<u8>, tag: u8, bytes: &[u8]) {
    out.push(tag);
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// One series to encode: labels and samples (timestamp ms, value).
pub type Series<L> = (Vec<(L, L)>, Vec<(i64, f64)>);

/// Encodes a `WriteRequest` protobuf of `(labels, samples)` series.
pub fn encode<L: AsRef<str>>(series: &[Series<L>]) -> Vec<u8> {
    let mut req = Vec::new();
    let mut ts = Vec::new();
    let mut tmp = Vec::new();
    for (labels, samples) in series {
        ts.clear();
        for (n, v) in labels {
            tmp.clear();
            len_field(&mut tmp, 0x0a, n.as_ref().as_bytes());
            len_field(&mut tmp, 0x12, v.as_ref().as_bytes());
            len_field(&mut ts, 0x0a, &tmp);
        }
        for (t, v) in samples {
            tmp.clear();
            tmp.push(0x09);
            tmp.extend_from_slice(&v.to_bits().to_le_bytes());
            tmp.push(0x10);
            varint(&mut tmp, *t as u64);
            len_field(&mut ts, 0x12, &tmp);
        }
        len_field(&mut req, 0x0a, &ts);
    }
    req
}

/// Encodes and snappy-compresses a request body.
pub fn body<L: AsRef<str>>(series: &[Series<L>]) -> Vec<u8> {
    snap::raw::Encoder::new()
        .compress_vec(&encode(series))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_back() {
        let s = vec![(
            vec![("__name__", "up"), ("job", "a")],
            vec![(1000, 1.0), (-5, f64::NAN)],
        )];
        let bytes = encode(&s);
        let got = super::super::decode(&bytes).unwrap();
        assert_eq!(got.labels_of(&got.series[0]), s[0].0.as_slice());
        assert_eq!(got.samples_of(&got.series[0])[0], (1000, 1.0));
        assert_eq!(got.samples_of(&got.series[0])[1].0, -5);
    }
}
