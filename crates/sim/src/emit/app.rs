//! Application request metrics, as a Prometheus client library exposes them and the Prometheus
//! Operator labels them: `http_requests_total{code}` and the `http_request_duration_seconds`
//! histogram, per pod.

use kubepulse_model::MetricType::{Counter, Histogram};

use super::{LATENCY_LE, PodSeries, SeriesTable, ms};
use crate::world::World;

const REQUESTS_HELP: &str = "Total number of HTTP requests by status code.";
const DURATION_HELP: &str = "HTTP request latency in seconds.";

/// Emits the request metrics of running pod `p`, when it backs a service.
pub fn emit(
    table: &mut SeriesTable,
    s: &mut PodSeries,
    w: &World,
    p: usize,
    out: &mut Vec<(u32, f64)>,
) {
    let pod = &w.cluster.pods[p];
    let Some(svc) = w.cluster.workloads[pod.workload].service else {
        return;
    };
    let service = &w.cluster.services[svc];
    let u = &pod.usage;
    let need_errors = (0..2).any(|i| s.errors[i].is_none() && u.requests[i + 1] >= 1.0);
    if s.app.is_none() || need_errors {
        register(table, s, pod, &service.name);
    }
    for (i, id) in s.errors.iter().enumerate() {
        if let Some(id) = id {
            out.push((*id, u.requests[i + 1].floor()));
        }
    }
    if let Some(b) = s.app {
        out.push((b, u.requests[0].floor()));
        for (i, v) in u.buckets.iter().enumerate() {
            out.push((b + 1 + i as u32, v.floor()));
        }
        out.push((b + 13, ms(u.latency_sum)));
        out.push((b + 14, u.buckets[11].floor()));
    }
}

fn register(table: &mut SeriesTable, s: &mut PodSeries, pod: &crate::cluster::Pod, service: &str) {
    let instance = format!("{}:{}", pod.ip, pod.template.port);
    let labels = [
        ("job", service),
        ("namespace", pod.namespace.as_str()),
        ("pod", pod.name.as_str()),
        ("service", service),
        ("container", pod.container.name.as_str()),
        ("instance", instance.as_str()),
    ];
    if s.app.is_none() {
        let mut l = labels.to_vec();
        l.push(("code", "200"));
        let base = table.add("http_requests_total", Counter, REQUESTS_HELP, &l);
        for le in LATENCY_LE {
            let mut l = labels.to_vec();
            l.push(("le", le));
            table.add(
                "http_request_duration_seconds_bucket",
                Histogram,
                DURATION_HELP,
                &l,
            );
        }
        table.add(
            "http_request_duration_seconds_sum",
            Histogram,
            DURATION_HELP,
            &labels,
        );
        table.add(
            "http_request_duration_seconds_count",
            Histogram,
            DURATION_HELP,
            &labels,
        );
        s.app = Some(base);
    }
    let u = &pod.usage;
    for (i, code) in ["500", "503"].into_iter().enumerate() {
        if s.errors[i].is_none() && u.requests[i + 1] >= 1.0 {
            let mut l = labels.to_vec();
            l.push(("code", code));
            s.errors[i] = Some(table.add("http_requests_total", Counter, REQUESTS_HELP, &l));
        }
    }
}
