//! Service graph metrics, as a trace pipeline derives them from client and server span pairs
//! (the OpenTelemetry Collector's `servicegraph` connector, Tempo's metrics generator) with the
//! namespace as a dimension (`dimensions: [k8s.namespace.name]`):
//! `traces_service_graph_request_total`, `traces_service_graph_request_failed_total` and the
//! `traces_service_graph_request_server_seconds` histogram, one series set per caller → callee
//! edge, labelled `client`, `server`, `client_k8s_namespace_name` and
//! `server_k8s_namespace_name`.

use kubepulse_model::MetricType::{Counter, Histogram};

use super::{LATENCY_LE, SeriesTable, ms};
use crate::world::World;

const TOTAL_HELP: &str = "Total count of requests between two nodes";
const FAILED_HELP: &str = "Total count of failed requests between two nodes";
const SERVER_HELP: &str = "Time for a request between two nodes as seen from the server";

/// Series of one edge: the request counter, then buckets, sum and count of the server latency;
/// the failed counter once a call has failed (the connector creates it on the first failure).
#[derive(Debug, Default, Clone, Copy)]
pub struct EdgeSeries {
    base: Option<u32>,
    failed: Option<u32>,
}

/// Emits every edge's series; `edges[s][k]` holds the ids of service `s`'s call `k`.
pub fn emit(
    table: &mut SeriesTable,
    edges: &mut Vec<Vec<EdgeSeries>>,
    w: &World,
    out: &mut Vec<(u32, f64)>,
) {
    let c = &w.cluster;
    edges.resize_with(c.services.len(), Vec::new);
    for (s, svc) in c.services.iter().enumerate() {
        edges[s].resize_with(svc.calls.len(), EdgeSeries::default);
        for ((call, e), ids) in svc.calls.iter().zip(&svc.edges).zip(edges[s].iter_mut()) {
            if e.requests <= 0.0 {
                continue;
            }
            let callee = &c.services[call.to];
            let labels = [
                ("client", svc.name.as_str()),
                ("client_k8s_namespace_name", svc.namespace.as_str()),
                ("server", callee.name.as_str()),
                ("server_k8s_namespace_name", callee.namespace.as_str()),
            ];
            let base = *ids.base.get_or_insert_with(|| register(table, &labels));
            out.push((base, e.requests.floor()));
            for (i, v) in e.buckets.iter().enumerate() {
                out.push((base + 1 + i as u32, v.floor()));
            }
            out.push((base + 13, ms(e.latency_sum)));
            out.push((base + 14, e.buckets[11].floor()));
            if ids.failed.is_none() && e.failed >= 1.0 {
                ids.failed = Some(table.add(
                    "traces_service_graph_request_failed_total",
                    Counter,
                    FAILED_HELP,
                    &labels,
                ));
            }
            if let Some(f) = ids.failed {
                out.push((f, e.failed.floor()));
            }
        }
    }
}

/// Registers an edge's request counter and latency histogram; returns the counter's id (the
/// histogram's series follow it).
fn register(table: &mut SeriesTable, labels: &[(&str, &str)]) -> u32 {
    let base = table.add(
        "traces_service_graph_request_total",
        Counter,
        TOTAL_HELP,
        labels,
    );
    for le in LATENCY_LE {
        let mut l = labels.to_vec();
        l.push(("le", le));
        table.add(
            "traces_service_graph_request_server_seconds_bucket",
            Histogram,
            SERVER_HELP,
            &l,
        );
    }
    for name in [
        "traces_service_graph_request_server_seconds_sum",
        "traces_service_graph_request_server_seconds_count",
    ] {
        table.add(name, Histogram, SERVER_HELP, labels);
    }
    base
}
