//! Decoding of the remote_write `WriteRequest` protobuf (prompb/remote.proto, types.proto)
//! into borrowed label strings, with the metric metadata it carries. Exemplars and native
//! histograms are counted and skipped; unknown fields are skipped.

use crate::protowire::{I64, LEN, Reader, VARINT, WireError};

/// One `TimeSeries`: where its labels and samples are in the request's flat arrays.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TimeSeries {
    /// Range of its labels in [`WriteRequest::labels`].
    pub labels: std::ops::Range<usize>,
    /// Range of its samples in [`WriteRequest::samples`].
    pub samples: std::ops::Range<usize>,
    /// Exemplars sent (not stored).
    pub exemplars: usize,
    /// Native histograms sent (not stored).
    pub histograms: usize,
}

/// One `MetricMetadata` entry.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Metadata<'a> {
    /// Family name.
    pub family: &'a str,
    /// Type (prompb numbering: 0 unknown, 1 counter, 2 gauge, 3 histogram, 4 gauge histogram,
    /// 5 summary, 6 info, 7 stateset).
    pub kind: u64,
    /// Help text.
    pub help: &'a str,
    /// Unit.
    pub unit: &'a str,
}

/// A decoded `WriteRequest`, with every series' labels and samples in two flat arrays so that
/// decoding allocates a handful of times per request, not per series.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WriteRequest<'a> {
    /// The series.
    pub series: Vec<TimeSeries>,
    /// Labels of every series, borrowed from the message.
    pub labels: Vec<(&'a str, &'a str)>,
    /// Samples of every series: timestamp ms, value.
    pub samples: Vec<(i64, f64)>,
    /// Metric metadata: family name, type, help, unit.
    pub metadata: Vec<Metadata<'a>>,
}

impl<'a> WriteRequest<'a> {
    /// Labels of `s`.
    pub fn labels_of(&self, s: &TimeSeries) -> &[(&'a str, &'a str)] {
        &self.labels[s.labels.clone()]
    }

    /// Samples of `s`.
    pub fn samples_of(&self, s: &TimeSeries) -> &[(i64, f64)] {
        &self.samples[s.samples.clone()]
    }
}

/// Decodes a `WriteRequest`.
pub fn decode(buf: &[u8]) -> Result<WriteRequest<'_>, WireError> {
    let mut r = Reader::new(buf);
    let mut req = WriteRequest::default();
    while !r.done() {
        let (f, wt) = r.tag()?;
        match f {
            1 => {
                r.expect(wt, LEN)?;
                let body = r.bytes()?;
                time_series(body, &mut req)?;
            }
            3 => {
                r.expect(wt, LEN)?;
                req.metadata.push(metadata(r.bytes()?)?);
            }
            _ => r.skip(wt)?,
        }
    }
    Ok(req)
}

fn metadata(buf: &[u8]) -> Result<Metadata<'_>, WireError> {
    let mut r = Reader::new(buf);
    let mut m = Metadata::default();
    while !r.done() {
        let (f, wt) = r.tag()?;
        match f {
            1 => {
                r.expect(wt, VARINT)?;
                m.kind = r.varint()?;
            }
            2 => {
                r.expect(wt, LEN)?;
                m.family = r.string()?;
            }
            4 => {
                r.expect(wt, LEN)?;
                m.help = r.string()?;
            }
            5 => {
                r.expect(wt, LEN)?;
                m.unit = r.string()?;
            }
            _ => r.skip(wt)?,
        }
    }
    Ok(m)
}

fn time_series<'a>(buf: &'a [u8], req: &mut WriteRequest<'a>) -> Result<(), WireError> {
    let mut r = Reader::new(buf);
    let (l0, s0) = (req.labels.len(), req.samples.len());
    let (mut exemplars, mut histograms) = (0, 0);
    while !r.done() {
        let (f, wt) = r.tag()?;
        match f {
            1 => {
                r.expect(wt, LEN)?;
                req.labels.push(label(r.bytes()?)?);
            }
            2 => {
                r.expect(wt, LEN)?;
                req.samples.push(sample(r.bytes()?)?);
            }
            3 => {
                r.skip(wt)?;
                exemplars += 1;
            }
            4 => {
                r.skip(wt)?;
                histograms += 1;
            }
            _ => r.skip(wt)?,
        }
    }
    req.series.push(TimeSeries {
        labels: l0..req.labels.len(),
        samples: s0..req.samples.len(),
        exemplars,
        histograms,
    });
    Ok(())
}

fn label(buf: &[u8]) -> Result<(&str, &str), WireError> {
    let mut r = Reader::new(buf);
    let (mut name, mut value) = ("", "");
    while !r.done() {
        let (f, wt) = r.tag()?;
        match f {
            1 => {
                r.expect(wt, LEN)?;
                name = r.string()?;
            }
            2 => {
                r.expect(wt, LEN)?;
                value = r.string()?;
            }
            _ => r.skip(wt)?,
        }
    }
    Ok((name, value))
}

fn sample(buf: &[u8]) -> Result<(i64, f64), WireError> {
    let mut r = Reader::new(buf);
    let (mut t, mut v) = (0i64, 0f64);
    while !r.done() {
        let (f, wt) = r.tag()?;
        match f {
            1 => {
                r.expect(wt, I64)?;
                v = f64::from_bits(r.fixed64()?);
            }
            2 => {
                r.expect(wt, VARINT)?;
                t = r.varint()? as i64;
            }
            _ => r.skip(wt)?,
        }
    }
    Ok((t, v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct PWriteRequest {
        #[prost(message, repeated, tag = "1")]
        pub timeseries: Vec<PTimeSeries>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct PTimeSeries {
        #[prost(message, repeated, tag = "1")]
        pub labels: Vec<PLabel>,
        #[prost(message, repeated, tag = "2")]
        pub samples: Vec<PSample>,
        #[prost(message, repeated, tag = "3")]
        pub exemplars: Vec<PSample>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct PLabel {
        #[prost(string, tag = "1")]
        pub name: String,
        #[prost(string, tag = "2")]
        pub value: String,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct PSample {
        #[prost(double, tag = "1")]
        pub value: f64,
        #[prost(int64, tag = "2")]
        pub timestamp: i64,
    }

    fn arb_request() -> impl Strategy<Value = PWriteRequest> {
        let label = (".{0,12}", ".{0,20}").prop_map(|(name, value)| PLabel { name, value });
        let sample = (any::<u64>(), any::<i64>()).prop_map(|(v, t)| PSample {
            value: f64::from_bits(v),
            timestamp: t,
        });
        let ts = (
            proptest::collection::vec(label, 0..6),
            proptest::collection::vec(sample.clone(), 0..6),
            proptest::collection::vec(sample, 0..2),
        )
            .prop_map(|(labels, samples, exemplars)| PTimeSeries {
                labels,
                samples,
                exemplars,
            });
        proptest::collection::vec(ts, 0..8).prop_map(|timeseries| PWriteRequest { timeseries })
    }

    proptest! {
        #[test]
        fn decodes_what_prost_encodes(req in arb_request()) {
            let bytes = prost::Message::encode_to_vec(&req);
            let got = decode(&bytes).unwrap();
            prop_assert_eq!(got.series.len(), req.timeseries.len());
            for (g, w) in got.series.iter().zip(&req.timeseries) {
                let wl: Vec<(&str, &str)> = w.labels.iter().map(|l| (l.name.as_str(), l.value.as_str())).collect();
                prop_assert_eq!(got.labels_of(g), wl.as_slice());
                prop_assert_eq!(got.samples_of(g).len(), w.samples.len());
                for (a, b) in got.samples_of(g).iter().zip(&w.samples) {
                    prop_assert!(a.0 == b.timestamp && a.1.to_bits() == b.value.to_bits());
                }
                prop_assert_eq!(g.exemplars, w.exemplars.len());
            }
        }

        #[test]
        fn truncations_and_garbage_are_errors_not_panics(req in arb_request(), cut in any::<prop::sample::Index>(), noise in proptest::collection::vec(any::<u8>(), 0..64)) {
            let bytes = prost::Message::encode_to_vec(&req);
            if !bytes.is_empty() {
                let _ = decode(&bytes[..cut.index(bytes.len())]);
            }
            let _ = decode(&noise);
        }
    }

    #[test]
    fn errors_say_where() {
        let e = decode(&[0x0a, 0x05, 0x0a]).unwrap_err();
        assert_eq!(e.what, "length beyond end of message");
        // A label whose tag varint never ends.
        let e = decode(&[0x0a, 0x04, 0x0a, 0x02, 0xff, 0xfe]).unwrap_err();
        assert_eq!(e.what, "truncated varint");
        // A label whose name is not UTF-8.
        let e = decode(&[0x0a, 0x06, 0x0a, 0x04, 0x0a, 0x02, 0xff, 0xfe]).unwrap_err();
        assert_eq!(e.what, "string is not valid UTF-8");
    }
}
