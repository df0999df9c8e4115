//! Loki push bodies: the protobuf `PushRequest` (`logproto`, snappy block format) and its JSON
//! form, decoded into one shape.

use serde_json::Value;

use super::labels::parse_labels;

/// One line.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Nanoseconds since the epoch.
    pub t_ns: i64,
    /// The line.
    pub line: String,
    /// Structured metadata.
    pub metadata: Vec<(String, String)>,
}

/// One stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Stream {
    /// Its labels.
    pub labels: Vec<(String, String)>,
    /// Its lines.
    pub entries: Vec<Entry>,
}

/// A push request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PushRequest {
    /// The streams.
    pub streams: Vec<Stream>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct PbPush {
    #[prost(message, repeated, tag = "1")]
    streams: Vec<PbStream>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct PbStream {
    #[prost(string, tag = "1")]
    labels: String,
    #[prost(message, repeated, tag = "2")]
    entries: Vec<PbEntry>,
    #[prost(uint64, tag = "3")]
    hash: u64,
}

#[derive(Clone, PartialEq, prost::Message)]
struct PbEntry {
    #[prost(message, optional, tag = "1")]
    timestamp: Option<PbTimestamp>,
    #[prost(string, tag = "2")]
    line: String,
    #[prost(message, repeated, tag = "3")]
    structured_metadata: Vec<PbPair>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct PbTimestamp {
    #[prost(int64, tag = "1")]
    seconds: i64,
    #[prost(int32, tag = "2")]
    nanos: i32,
}

#[derive(Clone, PartialEq, prost::Message)]
struct PbPair {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(string, tag = "2")]
    value: String,
}

/// Decodes a snappy-compressed protobuf body, refusing to decompress past `max_message`.
pub fn decode_protobuf(body: &[u8], max_message: usize) -> Result<PushRequest, String> {
    let len = snap::raw::decompress_len(body).map_err(|e| format!("invalid snappy body: {e}"))?;
    if len > max_message {
        return Err(format!(
            "decompressed body of {len} bytes exceeds {max_message} bytes"
        ));
    }
    let raw = snap::raw::Decoder::new()
        .decompress_vec(body)
        .map_err(|e| format!("invalid snappy body: {e}"))?;
    let pb: PbPush =
        prost::Message::decode(raw.as_slice()).map_err(|e| format!("invalid PushRequest: {e}"))?;
    let mut out = PushRequest::default();
    for (i, s) in pb.streams.into_iter().enumerate() {
        let labels = parse_labels(&s.labels).map_err(|e| format!("stream {i}: {e}"))?;
        let entries = s
            .entries
            .into_iter()
            .map(|e| {
                let ts = e.timestamp.unwrap_or(PbTimestamp {
                    seconds: 0,
                    nanos: 0,
                });
                Entry {
                    t_ns: ts
                        .seconds
                        .saturating_mul(1_000_000_000)
                        .saturating_add(i64::from(ts.nanos)),
                    line: e.line,
                    metadata: e
                        .structured_metadata
                        .into_iter()
                        .map(|p| (p.name, p.value))
                        .collect(),
                }
            })
            .collect();
        out.streams.push(Stream { labels, entries });
    }
    Ok(out)
}

/// Encodes a request as a snappy-compressed protobuf body, as Promtail and Grafana Alloy send it.
pub fn encode_protobuf(req: &PushRequest) -> Vec<u8> {
    let pb = PbPush {
        streams: req
            .streams
            .iter()
            .map(|s| PbStream {
                labels: format!(
                    "{{{}}}",
                    s.labels
                        .iter()
                        .map(|(n, v)| format!("{n}={}", serde_json::Value::from(v.as_str())))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                entries: s
                    .entries
                    .iter()
                    .map(|e| PbEntry {
                        timestamp: Some(PbTimestamp {
                            seconds: e.t_ns.div_euclid(1_000_000_000),
                            nanos: e.t_ns.rem_euclid(1_000_000_000) as i32,
                        }),
                        line: e.line.clone(),
                        structured_metadata: e
                            .metadata
                            .iter()
                            .map(|(n, v)| PbPair {
                                name: n.clone(),
                                value: v.clone(),
                            })
                            .collect(),
                    })
                    .collect(),
                hash: 0,
            })
            .collect(),
    };
    let raw = prost::Message::encode_to_vec(&pb);
    snap::raw::Encoder::new()
        .compress_vec(&raw)
        .unwrap_or_default()
}

fn timestamp(v: &Value) -> Option<i64> {
    match v {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

/// Decodes a JSON body.
pub fn decode_json(body: &[u8]) -> Result<PushRequest, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("invalid JSON: {e}"))?;
    let streams = v
        .get("streams")
        .and_then(Value::as_array)
        .ok_or("the body has no \"streams\" array")?;
    let mut out = PushRequest::default();
    for (i, s) in streams.iter().enumerate() {
        let labels: Vec<(String, String)> = s
            .get("stream")
            .and_then(Value::as_object)
            .ok_or_else(|| format!("streams[{i}] has no \"stream\" object"))?
            .iter()
            .map(|(k, v)| match v.as_str() {
                Some(v) => Ok((k.clone(), v.to_string())),
                None => Err(format!("streams[{i}].stream.{k} is not a string")),
            })
            .collect::<Result<_, _>>()?;
        let values = s
            .get("values")
            .and_then(Value::as_array)
            .ok_or_else(|| format!("streams[{i}] has no \"values\" array"))?;
        let mut entries = Vec::with_capacity(values.len());
        for (j, e) in values.iter().enumerate() {
            let at = || format!("streams[{i}].values[{j}]");
            let a = e
                .as_array()
                .filter(|a| (2..=3).contains(&a.len()))
                .ok_or_else(|| format!("{} is not [\"<ns>\", \"<line>\"(, {{…}})]", at()))?;
            let t_ns = timestamp(&a[0])
                .ok_or_else(|| format!("{}: the timestamp is not nanoseconds", at()))?;
            let line = a[1]
                .as_str()
                .ok_or_else(|| format!("{}: the line is not a string", at()))?
                .to_string();
            let mut metadata = Vec::new();
            if let Some(m) = a.get(2) {
                let m = m
                    .as_object()
                    .ok_or_else(|| format!("{}: structured metadata is not an object", at()))?;
                for (k, v) in m {
                    let v = v
                        .as_str()
                        .ok_or_else(|| format!("{}: metadata {k} is not a string", at()))?;
                    metadata.push((k.clone(), v.to_string()));
                }
            }
            entries.push(Entry {
                t_ns,
                line,
                metadata,
            });
        }
        out.streams.push(Stream { labels, entries });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn json_bodies_decode_and_bad_ones_are_named() {
        let body = br#"{"streams":[{"stream":{"job":"api"},"values":[["1700000000000000001","hello"],["1700000000000000002","bye",{"trace_id":"abc"}]]}]}"#;
        let r = decode_json(body).unwrap_or_default();
        assert_eq!(
            r.streams[0].labels,
            vec![("job".to_string(), "api".to_string())]
        );
        assert_eq!(r.streams[0].entries[1].t_ns, 1_700_000_000_000_000_002);
        assert_eq!(r.streams[0].entries[1].metadata[0].1, "abc");
        let bad =
            decode_json(br#"{"streams":[{"stream":{"job":"api"},"values":[["x","hello"]]}]}"#);
        assert_eq!(
            bad,
            Err("streams[0].values[0]: the timestamp is not nanoseconds".into())
        );
        assert!(decode_json(b"{}").is_err());
    }

    #[test]
    fn protobuf_round_trips() {
        let req = PushRequest {
            streams: vec![Stream {
                labels: vec![("job".into(), "api".into()), ("pod".into(), "a\"b".into())],
                entries: vec![Entry {
                    t_ns: 1_700_000_000_123_456_789,
                    line: "GET /health 200".into(),
                    metadata: vec![("trace_id".into(), "0af7".into())],
                }],
            }],
        };
        assert_eq!(decode_protobuf(&encode_protobuf(&req), 1 << 20), Ok(req));
        assert!(decode_protobuf(b"not snappy", 1 << 20).is_err());
    }

    proptest! {
        #[test]
        fn arbitrary_bodies_never_panic(b in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode_protobuf(&b, 1 << 20);
            let _ = decode_json(&b);
        }
    }
}
