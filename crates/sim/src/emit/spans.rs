//! Sampled traces: a root request at each application's entry service fans out along the call
//! graph. Server spans take the serving pod's own latency; client spans add the network path's
//! delay, so a slow link shows as a gap between a client span and its server span. A failed
//! request leaves an error log line carrying its trace id.

use std::collections::BTreeMap;

use kubepulse_model::{LogRecord, Severity, Span, SpanKind, SpanStatus};

use crate::cluster::Protocol;
use crate::rng::SimRng;
use crate::world::World;

const MAX_DEPTH: usize = 5;

/// Generates this step's sampled traces.
pub fn generate(
    w: &World,
    per_step: f64,
    rng: &mut SimRng,
    spans: &mut Vec<Span>,
    logs: &mut Vec<LogRecord>,
) {
    if per_step <= 0.0 {
        return;
    }
    let mut ready: Vec<Vec<usize>> = vec![Vec::new(); w.cluster.workloads.len()];
    for &p in &w.cluster.live {
        if w.cluster.pods[p].ready {
            ready[w.cluster.pods[p].workload].push(p);
        }
    }
    for app in &w.cluster.apps {
        for _ in 0..rng.poisson(per_step) {
            let trace_id = rng.hex(16);
            let start_ms = w.t - w.step_ms + rng.below(w.step_ms as u64) as i64;
            let mut g = Gen {
                w,
                rng,
                ready: &ready,
                trace_id: &trace_id,
                spans,
                logs,
                logged: false,
            };
            g.server(app.entry, "", start_ms * 1_000_000, 0);
        }
    }
}

struct Gen<'a> {
    w: &'a World,
    rng: &'a mut SimRng,
    ready: &'a [Vec<usize>],
    trace_id: &'a str,
    spans: &'a mut Vec<Span>,
    logs: &'a mut Vec<LogRecord>,
    logged: bool,
}

impl Gen<'_> {
    /// A server span of service `s` starting at `start`; returns its end and whether it failed.
    fn server(&mut self, s: usize, parent: &str, start: i64, depth: usize) -> (i64, bool) {
        let svc = &self.w.cluster.services[s];
        let pods = &self.ready[svc.workload];
        if pods.is_empty() {
            return (start + 1_000_000, true);
        }
        let p = pods[self.rng.index(pods.len())];
        let pod = &self.w.cluster.pods[p];
        let span_id = self.rng.hex(8);
        let own = pod.usage.own_latency.max(0.0002) * (0.4 * self.rng.normal()).exp();
        let mut t = start + (own * 0.5e9) as i64;
        let mut failed = false;
        if depth < MAX_DEPTH {
            for call in &svc.calls {
                let n =
                    call.fanout.floor() as u64 + u64::from(self.rng.chance(call.fanout.fract()));
                for _ in 0..n.min(3) {
                    let callee = &self.w.cluster.services[call.to];
                    let delay = callee.edge_delay * (1.0 + 0.2 * self.rng.normal()).max(0.2);
                    let client_id = self.rng.hex(8);
                    let server_start = t + (delay * 0.5e9) as i64;
                    let (server_end, child_failed) =
                        self.server(call.to, &client_id, server_start, depth + 1);
                    let lost = self.rng.chance((callee.edge_loss.powf(1.5) * 2.0).min(1.0));
                    let end = server_end + (delay * 0.5e9) as i64;
                    let err = child_failed || lost;
                    let op = callee.operations.first().copied().unwrap_or("call");
                    self.push(
                        s,
                        p,
                        &client_id,
                        &span_id,
                        op,
                        SpanKind::Client,
                        t,
                        end,
                        err,
                        Some(callee.name.as_str()),
                    );
                    t = end;
                    failed |= err && call.critical;
                }
            }
        }
        failed |= self.rng.chance(pod.usage.own_error);
        let end = t + (own * 0.5e9) as i64;
        let op = svc
            .operations
            .get(self.rng.index(svc.operations.len().max(1)))
            .copied()
            .unwrap_or("request");
        self.push(
            s,
            p,
            &span_id,
            parent,
            op,
            SpanKind::Server,
            start,
            end,
            failed,
            None,
        );
        if failed && !self.logged {
            self.logged = true;
            let mut rec = crate::emit::logs::record(
                end / 1_000_000,
                crate::emit::logs::stream_labels(self.w, p),
                Severity::Error,
                format!("request {op} failed: upstream error"),
            );
            rec.trace_id = self.trace_id.to_string();
            rec.span_id = span_id;
            self.logs.push(rec);
        }
        (end, failed)
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        s: usize,
        p: usize,
        id: &str,
        parent: &str,
        op: &str,
        kind: SpanKind,
        start: i64,
        end: i64,
        failed: bool,
        peer: Option<&str>,
    ) {
        let svc = &self.w.cluster.services[s];
        let pod = &self.w.cluster.pods[p];
        let mut attributes = BTreeMap::new();
        match svc.protocol {
            Protocol::Http => {
                attributes.insert("http.request.method".to_string(), "GET".to_string());
                attributes.insert(
                    "http.response.status_code".to_string(),
                    if failed { "500" } else { "200" }.to_string(),
                );
            }
            Protocol::Grpc | Protocol::Tcp => {
                attributes.insert("rpc.system".to_string(), "grpc".to_string());
                attributes.insert(
                    "rpc.grpc.status_code".to_string(),
                    if failed { "14" } else { "0" }.to_string(),
                );
            }
        }
        if let Some(peer) = peer {
            attributes.insert("peer.service".to_string(), peer.to_string());
        }
        let mut resource = BTreeMap::new();
        resource.insert("k8s.namespace.name".to_string(), pod.namespace.clone());
        resource.insert("k8s.pod.name".to_string(), pod.name.clone());
        if let Some(n) = pod.node {
            resource.insert(
                "k8s.node.name".to_string(),
                self.w.cluster.nodes[n].name.clone(),
            );
        }
        self.spans.push(Span {
            trace_id: self.trace_id.to_string(),
            span_id: id.to_string(),
            parent_span_id: parent.to_string(),
            name: op.to_string(),
            service: svc.name.clone(),
            kind,
            start_ns: start,
            end_ns: end.max(start + 1000),
            status: if failed {
                SpanStatus::Error
            } else {
                SpanStatus::Unset
            },
            attributes,
            resource,
        });
    }
}
