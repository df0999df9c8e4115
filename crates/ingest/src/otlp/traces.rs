//! OTLP traces into service graph metrics, as the OpenTelemetry Collector's `servicegraph`
//! connector and Tempo's metrics generator derive them: a client span and the server span whose
//! parent it is make one request from the client's service to the server's. Each caller →
//! callee edge counts `traces_service_graph_request_total`,
//! `traces_service_graph_request_failed_total` (either span's status is an error) and the
//! `traces_service_graph_request_server_seconds` histogram (the server span's duration),
//! labelled `client`, `server` (`service.name`), `client_k8s_namespace_name` and
//! `server_k8s_namespace_name` (`k8s.namespace.name`). The halves of a request may come in
//! different exports: a span waits up to [`WAIT_MS`] for its other half, and at most
//! [`MAX_PENDING`] spans wait (the oldest give way).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;

use kubepulse_store::{Append, SeriesWrite};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;

use super::Refusal;
use crate::IngestMetrics;

/// How long a span waits for its other half (ms).
pub const WAIT_MS: i64 = 10_000;
/// Most spans waiting for their other half.
pub const MAX_PENDING: usize = 100_000;
/// Upper bounds of the server latency histogram (the connector's defaults), seconds.
pub const BUCKETS: [f64; 16] = [
    0.002, 0.004, 0.006, 0.008, 0.01, 0.05, 0.1, 0.2, 0.4, 0.8, 1.0, 1.4, 2.0, 5.0, 10.0, 15.0,
];
const LE: [&str; 17] = [
    "0.002", "0.004", "0.006", "0.008", "0.01", "0.05", "0.1", "0.2", "0.4", "0.8", "1", "1.4",
    "2", "5", "10", "15", "+Inf",
];
const PROTOCOL: &str = "otlp_traces";

/// Decodes an OTLP/HTTP traces body: protobuf, or JSON when `json` is set.
pub fn decode(body: &[u8], json: bool) -> Result<ExportTraceServiceRequest, String> {
    if json {
        serde_json::from_slice(body).map_err(|e| format!("invalid OTLP/JSON: {e}"))
    } else {
        prost::Message::decode(body).map_err(|e| format!("invalid OTLP protobuf: {e}"))
    }
}

/// One service's half of a request.
#[derive(Debug, Clone)]
struct Half {
    service: String,
    namespace: String,
    failed: bool,
    seconds: f64,
    arrived: i64,
}

/// A caller → callee edge.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Edge {
    client: String,
    client_ns: String,
    server: String,
    server_ns: String,
}

/// An edge's running totals.
#[derive(Debug, Clone, Default)]
struct Counts {
    requests: u64,
    failed: u64,
    buckets: [u64; 17],
    seconds: f64,
}

/// (trace id, span id): a client span by its own id, a server span by its parent's.
type Key = ([u8; 16], [u8; 8]);

#[derive(Debug, Default)]
struct Graph {
    clients: HashMap<Key, Half>,
    servers: HashMap<Key, Half>,
    /// Waiting spans in order of arrival: (arrival, is a client, key).
    queue: VecDeque<(i64, bool, Key)>,
    edges: BTreeMap<Edge, Counts>,
}

/// What one export did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TraceReport {
    /// Spans in the export.
    pub spans: usize,
    /// Requests completed (client and server span paired) by it.
    pub paired: usize,
    /// Spans refused: ids of the wrong length.
    pub rejected: usize,
}

/// The service graph: spans waiting for their other half, and every edge's totals.
#[derive(Debug, Default)]
pub struct ServiceGraph {
    graph: Mutex<Graph>,
}

fn attr(kvs: &[KeyValue], key: &str) -> Option<String> {
    kvs.iter().find(|k| k.key == key).and_then(|k| {
        match k.value.as_ref().and_then(|v| v.value.as_ref()) {
            Some(any_value::Value::StringValue(s)) if !s.is_empty() => Some(s.clone()),
            _ => None,
        }
    })
}

impl Graph {
    fn pair(&mut self, client: Half, server: Half) {
        let c = self
            .edges
            .entry(Edge {
                client: client.service,
                client_ns: client.namespace,
                server: server.service,
                server_ns: server.namespace,
            })
            .or_default();
        c.requests += 1;
        c.failed += u64::from(client.failed || server.failed);
        let i = BUCKETS.partition_point(|le| *le < server.seconds);
        for b in &mut c.buckets[i..] {
            *b += 1;
        }
        c.seconds += server.seconds;
    }

    /// Drops spans that waited too long, and the oldest beyond the bound.
    fn expire(&mut self, now: i64) {
        while let Some(&(at, client, key)) = self.queue.front() {
            let pending = self.clients.len() + self.servers.len();
            if at >= now - WAIT_MS && pending <= MAX_PENDING {
                break;
            }
            self.queue.pop_front();
            let map = if client {
                &mut self.clients
            } else {
                &mut self.servers
            };
            if map.get(&key).is_some_and(|h| h.arrived == at) {
                map.remove(&key);
            }
        }
    }
}

impl ServiceGraph {
    /// An empty graph.
    pub fn new() -> Self {
        Self::default()
    }

    /// Pairs an export's client and server spans and writes the totals of the edges it
    /// touched, at `now` (ms).
    pub fn receive(
        &self,
        req: &ExportTraceServiceRequest,
        store: &dyn Append,
        metrics: &IngestMetrics,
        now: i64,
    ) -> Result<TraceReport, Refusal> {
        let mut g = match self.graph.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        g.expire(now);
        let mut report = TraceReport::default();
        let mut touched = Vec::new();
        for rs in &req.resource_spans {
            let attrs = rs.resource.as_ref().map_or(&[][..], |r| &r.attributes[..]);
            let service = attr(attrs, "service.name").unwrap_or_else(|| "unknown_service".into());
            let namespace = attr(attrs, "k8s.namespace.name").unwrap_or_default();
            for span in rs.scope_spans.iter().flat_map(|s| &s.spans) {
                report.spans += 1;
                let kind = SpanKind::try_from(span.kind).unwrap_or(SpanKind::Unspecified);
                if !matches!(kind, SpanKind::Client | SpanKind::Server) {
                    continue;
                }
                let id = if kind == SpanKind::Client {
                    &span.span_id
                } else {
                    &span.parent_span_id
                };
                if kind == SpanKind::Server && id.is_empty() {
                    continue; // a root: nobody called it
                }
                let (Ok(trace), Ok(id)) = (
                    <[u8; 16]>::try_from(span.trace_id.as_slice()),
                    <[u8; 8]>::try_from(id.as_slice()),
                ) else {
                    report.rejected += 1;
                    continue;
                };
                let failed = span
                    .status
                    .as_ref()
                    .is_some_and(|s| s.code == StatusCode::Error as i32);
                let half = Half {
                    service: service.clone(),
                    namespace: namespace.clone(),
                    failed,
                    seconds: span
                        .end_time_unix_nano
                        .saturating_sub(span.start_time_unix_nano)
                        as f64
                        / 1e9,
                    arrived: now,
                };
                let key = (trace, id);
                let client = kind == SpanKind::Client;
                let other = if client {
                    g.servers.remove(&key)
                } else {
                    g.clients.remove(&key)
                };
                match other {
                    Some(o) => {
                        let (c, s) = if client { (half, o) } else { (o, half) };
                        touched.push(Edge {
                            client: c.service.clone(),
                            client_ns: c.namespace.clone(),
                            server: s.service.clone(),
                            server_ns: s.namespace.clone(),
                        });
                        g.pair(c, s);
                        report.paired += 1;
                    }
                    None => {
                        let map = if client {
                            &mut g.clients
                        } else {
                            &mut g.servers
                        };
                        map.insert(key, half);
                        g.queue.push_back((now, client, key));
                    }
                }
            }
        }
        g.expire(now);
        touched.sort();
        touched.dedup();
        if report.rejected > 0 {
            metrics.rejected_request(PROTOCOL, "invalid_id");
        }
        metrics.samples(PROTOCOL, report.spans as u64);
        write(&g, &touched, store, now)?;
        Ok(report)
    }

    /// Spans waiting for their other half.
    pub fn pending(&self) -> usize {
        let g = match self.graph.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        g.clients.len() + g.servers.len()
    }
}

/// Writes the totals of `edges` at `now`.
fn write(g: &Graph, edges: &[Edge], store: &dyn Append, now: i64) -> Result<(), Refusal> {
    // Each series' labels and its one sample.
    type Labelled<'a> = (Vec<(&'a str, &'a str)>, [(i64, f64); 1]);
    let mut series: Vec<Labelled<'_>> = Vec::new();
    for e in edges {
        let Some(c) = g.edges.get(e) else { continue };
        let mut base = vec![("client", e.client.as_str()), ("server", e.server.as_str())];
        if !e.client_ns.is_empty() {
            base.push(("client_k8s_namespace_name", e.client_ns.as_str()));
        }
        if !e.server_ns.is_empty() {
            base.push(("server_k8s_namespace_name", e.server_ns.as_str()));
        }
        let mut put = |name: &'static str, le: Option<&'static str>, v: f64| {
            let mut l = base.clone();
            l.push(("__name__", name));
            if let Some(le) = le {
                l.push(("le", le));
            }
            series.push((l, [(now, v)]));
        };
        put(
            "traces_service_graph_request_total",
            None,
            c.requests as f64,
        );
        if c.failed > 0 {
            put(
                "traces_service_graph_request_failed_total",
                None,
                c.failed as f64,
            );
        }
        for (le, n) in LE.iter().zip(c.buckets) {
            put(
                "traces_service_graph_request_server_seconds_bucket",
                Some(le),
                n as f64,
            );
        }
        put(
            "traces_service_graph_request_server_seconds_sum",
            None,
            c.seconds,
        );
        put(
            "traces_service_graph_request_server_seconds_count",
            None,
            c.requests as f64,
        );
    }
    let batch: Vec<SeriesWrite<'_>> = series
        .iter()
        .map(|(labels, samples)| SeriesWrite { labels, samples })
        .collect();
    if batch.is_empty() {
        return Ok(());
    }
    store.append(&batch).map(|_| ()).map_err(Refusal::from)
}
