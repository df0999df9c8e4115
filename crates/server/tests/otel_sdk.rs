//! The OpenTelemetry Python SDK exporting metrics to KubePulse over OTLP/gRPC and OTLP/HTTP.

#![allow(clippy::unwrap_used)]

mod support;

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use kubepulse_model::SystemClock;
use kubepulse_store::{Db, Matcher, Read, StoreConfig};

const SCRIPT: &str = r#"
import sys
from opentelemetry import metrics
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader, AggregationTemporality
from opentelemetry.sdk.metrics import Counter, Histogram, UpDownCounter
from opentelemetry.sdk.resources import Resource

protocol, endpoint, temporality = sys.argv[1], sys.argv[2], sys.argv[3]
pref = {Counter: AggregationTemporality.DELTA, Histogram: AggregationTemporality.DELTA} if temporality == "delta" else {}
if protocol == "grpc":
    from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
    exporter = OTLPMetricExporter(endpoint=endpoint, insecure=True, preferred_temporality=pref)
else:
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    exporter = OTLPMetricExporter(endpoint=endpoint + "/v1/metrics", preferred_temporality=pref)
resource = Resource.create({"service.name": "checkout", "service.namespace": "shop", "service.instance.id": protocol, "deployment.environment": "test"})
reader = PeriodicExportingMetricReader(exporter, export_interval_millis=200)
provider = MeterProvider(resource=resource, metric_readers=[reader])
meter = provider.get_meter("kubepulse.test")
orders = meter.create_counter("orders.placed", unit="{order}", description="Orders placed")
latency = meter.create_histogram("request.duration", unit="ms")
queue = meter.create_up_down_counter("queue.depth")
def temperature(options):
    from opentelemetry.metrics import Observation
    yield Observation(21.5, {"room": "lab"})
meter.create_observable_gauge("room.temperature", callbacks=[temperature], unit="Cel")
for i in range(10):
    orders.add(3, {"payment.method": "card"})
    latency.record(12.0 + i, {"route": "/checkout"})
    queue.add(1)
import time
time.sleep(0.5)
for i in range(10):
    orders.add(2, {"payment.method": "card"})
provider.force_flush()
provider.shutdown()
print("exported")
"#;

/// Serves KubePulse, runs the Python `script` once per `(protocol, extra arguments)` with the
/// arguments `protocol endpoint extra…` (each run prints "exported" at its end), stops the
/// server and opens its store.
fn export(script: &str, runs: &[(&str, &[&str])]) -> (tempfile::TempDir, Db) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut server = support::serve(support::QUIET, &data);
    let path = tmp.path().join("export.py");
    std::fs::write(&path, script).unwrap();
    let endpoint = format!("http://127.0.0.1:{}", server.port);
    for (protocol, extra) in runs {
        let out = Command::new("python3")
            .arg(&path)
            .args([protocol, endpoint.as_str()])
            .args(*extra)
            .output()
            .unwrap();
        assert!(
            out.status.success() && String::from_utf8_lossy(&out.stdout).contains("exported"),
            "{protocol}: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            server.peer.output()
        );
    }
    assert!(server.peer.terminate(Duration::from_secs(20)));
    let db = Db::open(&data, StoreConfig::default(), Arc::new(SystemClock))
        .unwrap()
        .0;
    (tmp, db)
}

#[test]
fn python_sdk_exports_over_grpc_and_http() {
    let (_tmp, db) = export(SCRIPT, &[("grpc", &["cumulative"]), ("http", &["delta"])]);
    for protocol in ["grpc", "http"] {
        let base = [
            Matcher::equal("job", "shop/checkout"),
            Matcher::equal("instance", protocol),
        ];
        let get = |name: &str| {
            let mut m = base.to_vec();
            m.push(Matcher::equal("__name__", name));
            db.select(&m, 0, i64::MAX).unwrap()
        };
        let orders = get("orders_placed_total");
        assert_eq!(orders.len(), 1, "{protocol}");
        assert_eq!(orders[0].labels.get("payment_method"), Some("card"));
        assert_eq!(
            orders[0].samples.last().unwrap().v,
            50.0,
            "{protocol}: 10 × 3 + 10 × 2, deltas accumulated"
        );
        let count = get("request_duration_milliseconds_count");
        assert_eq!(count[0].samples.last().unwrap().v, 10.0, "{protocol}");
        let sum = get("request_duration_milliseconds_sum");
        assert_eq!(
            sum[0].samples.last().unwrap().v,
            165.0,
            "{protocol}: 12 + … + 21"
        );
        assert!(
            get("request_duration_milliseconds_bucket")
                .iter()
                .any(|b| b.labels.get("le") == Some("+Inf"))
        );
        assert_eq!(get("queue_depth")[0].samples.last().unwrap().v, 10.0);
        assert_eq!(
            get("room_temperature_celsius")[0].samples.last().unwrap().v,
            21.5
        );
        let info = get("target_info");
        assert_eq!(info[0].labels.get("deployment_environment"), Some("test"));
    }
}

const LOG_SCRIPT: &str = r#"
import sys, logging
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.resources import Resource

protocol, endpoint = sys.argv[1], sys.argv[2]
if protocol == "grpc":
    from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
    exporter = OTLPLogExporter(endpoint=endpoint, insecure=True)
else:
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    exporter = OTLPLogExporter(endpoint=endpoint + "/v1/logs")
resource = Resource.create({"service.name": "checkout", "k8s.namespace.name": "shop", "k8s.pod.name": "checkout-" + protocol, "k8s.container.name": "app", "k8s.node.name": "node-1"})
provider = LoggerProvider(resource=resource)
provider.add_log_record_processor(BatchLogRecordProcessor(exporter))
log = logging.getLogger("shop.checkout")
log.setLevel(logging.DEBUG)
log.addHandler(LoggingHandler(level=logging.DEBUG, logger_provider=provider))
for i in range(5):
    log.info("order %d placed", i, extra={"order.id": str(i)})
log.error("payment declined for order 7")
provider.force_flush()
provider.shutdown()
print("exported")
"#;

#[test]
fn python_sdk_exports_logs_over_grpc_and_http() {
    use kubepulse_model::Severity;
    use kubepulse_store::LogQuery;

    let (_tmp, db) = export(LOG_SCRIPT, &[("grpc", &[]), ("http", &[])]);
    for protocol in ["grpc", "http"] {
        let pod = format!("checkout-{protocol}");
        let m = [Matcher::equal("pod", pod.as_str())];
        let got = db
            .select_logs(&LogQuery {
                matchers: &m,
                start_ns: 0,
                end_ns: i64::MAX / 2,
                limit: 0,
                backward: false,
            })
            .unwrap();
        assert_eq!(got.len(), 1, "{protocol}: {got:?}");
        let s = &got[0];
        assert_eq!(s.labels.get("namespace"), Some("shop"));
        assert_eq!(s.labels.get("container"), Some("app"));
        assert_eq!(s.labels.get("node"), Some("node-1"));
        assert_eq!(s.labels.get("service_name"), Some("checkout"));
        let bodies: Vec<&str> = s.entries.iter().map(|e| e.body.as_str()).collect();
        assert_eq!(bodies.len(), 6, "{protocol}: {bodies:?}");
        assert!(bodies.contains(&"order 3 placed"), "{bodies:?}");
        let error = s
            .entries
            .iter()
            .find(|e| e.body.contains("declined"))
            .unwrap();
        assert_eq!(error.severity, Severity::Error);
        let info = s
            .entries
            .iter()
            .find(|e| e.body == "order 3 placed")
            .unwrap();
        assert_eq!(info.severity, Severity::Info);
        assert_eq!(
            info.attributes.get("order.id").map(String::as_str),
            Some("3")
        );
    }
}

const TRACE_SCRIPT: &str = r#"
import sys
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.trace import SpanKind, Status, StatusCode

protocol, endpoint = sys.argv[1], sys.argv[2]
def exporter():
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
        return OTLPSpanExporter(endpoint=endpoint, insecure=True)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    return OTLPSpanExporter(endpoint=endpoint + "/v1/traces")
providers = []
def tracer(service):
    p = TracerProvider(resource=Resource.create({"service.name": service, "k8s.namespace.name": "shop-" + protocol}))
    p.add_span_processor(BatchSpanProcessor(exporter()))
    providers.append(p)
    return p.get_tracer("shop")
checkout, payment = tracer("checkout"), tracer("payment")
for i in range(4):
    with checkout.start_as_current_span("POST /checkout", kind=SpanKind.SERVER):
        with checkout.start_as_current_span("charge", kind=SpanKind.CLIENT) as call:
            ctx = trace.set_span_in_context(call)
            with payment.start_as_current_span("Charge", context=ctx, kind=SpanKind.SERVER) as served:
                if i == 3:
                    served.set_status(Status(StatusCode.ERROR, "card declined"))
for p in providers:
    p.force_flush()
    p.shutdown()
print("exported")
"#;

#[test]
fn python_sdk_traces_become_the_service_graph() {
    let (_tmp, db) = export(TRACE_SCRIPT, &[("grpc", &[]), ("http", &[])]);
    let newest = |name: &str, ns: &str| -> Option<f64> {
        let m = [
            Matcher::equal("__name__", name),
            Matcher::equal("client", "checkout"),
            Matcher::equal("server", "payment"),
            Matcher::equal("client_k8s_namespace_name", ns),
            Matcher::equal("server_k8s_namespace_name", ns),
        ];
        let s = db.select(&m, 0, i64::MAX).unwrap();
        s.first().and_then(|s| s.samples.last()).map(|x| x.v)
    };
    for protocol in ["grpc", "http"] {
        let ns = format!("shop-{protocol}");
        assert_eq!(
            newest("traces_service_graph_request_total", &ns),
            Some(4.0),
            "{protocol}"
        );
        assert_eq!(
            newest("traces_service_graph_request_failed_total", &ns),
            Some(1.0),
            "{protocol}"
        );
        assert_eq!(
            newest("traces_service_graph_request_server_seconds_count", &ns),
            Some(4.0),
            "{protocol}"
        );
    }
}
