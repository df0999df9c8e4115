//! Services, the call graph between them, and the applications that receive outside traffic.

use crate::rng::SimRng;

/// How a service is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// HTTP/1.1 REST.
    Http,
    /// gRPC.
    Grpc,
    /// A database or cache wire protocol.
    Tcp,
}

/// One edge of the call graph.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Call {
    /// Callee service index.
    pub to: usize,
    /// Calls per request served by the caller.
    pub fanout: f64,
    /// Whether a failed call fails the caller's request.
    pub critical: bool,
}

/// One caller → callee edge of the call graph: this step's outcome of its calls and the running
/// totals the service graph metrics report.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Edge {
    /// Share of calls failing this step (callee errors, packet loss, timeouts).
    pub fail: f64,
    /// Mean latency the callee's server spans see this step, seconds.
    pub server_latency: f64,
    /// Calls made, cumulative.
    pub requests: f64,
    /// Calls failed, cumulative.
    pub failed: f64,
    /// Server-side latency histogram (cumulative buckets of [`crate::emit::LATENCY_BUCKETS`]).
    pub buckets: [f64; 12],
    /// Sum of server-side latencies, seconds.
    pub latency_sum: f64,
}

/// SLO state of a service.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ServiceHealth {
    /// Error ratios of the last minute of steps (ring buffer).
    pub recent_errors: [f64; 8],
    /// Latencies of the last minute of steps (ring buffer).
    pub recent_latency: [f64; 8],
    /// Next slot of the ring buffers.
    pub slot: usize,
    /// Typical latency while healthy (slow moving average), seconds.
    pub baseline_latency: f64,
    /// Whether the SLO is breached.
    pub breached: bool,
    /// Since when the service has been back inside its SLO.
    pub healthy_since: Option<i64>,
}

/// One service.
#[derive(Debug, Clone)]
pub struct Service {
    /// Name.
    pub name: String,
    /// Namespace.
    pub namespace: String,
    /// Object UID.
    pub uid: String,
    /// ClusterIP.
    pub cluster_ip: String,
    /// Backing workload.
    pub workload: usize,
    /// Application index.
    pub app: usize,
    /// Protocol.
    pub protocol: Protocol,
    /// Port.
    pub port: u16,
    /// Outgoing calls.
    pub calls: Vec<Call>,
    /// Per outgoing call (same order as `calls`), what its requests see this step and their
    /// running totals, as a trace pipeline's service graph counts them.
    pub edges: Vec<Edge>,
    /// Operation names (span names and handlers).
    pub operations: Vec<&'static str>,
    /// Latency of one request with no queueing and no downstream calls, seconds.
    pub base_latency: f64,
    /// Error ratio of a healthy service.
    pub base_error: f64,
    /// Client timeout of callers, seconds.
    pub timeout: f64,
    /// Extra error ratio injected by a failing-dependency fault.
    pub fault_error: f64,
    /// Extra latency on calls into this service from each caller (network faults), seconds.
    pub edge_delay: f64,
    /// Packet loss on calls into this service.
    pub edge_loss: f64,
    /// Offered load this step, requests per second.
    pub rate: f64,
    /// Mean latency this step, seconds.
    pub latency: f64,
    /// Error ratio this step.
    pub error_ratio: f64,
    /// Ready endpoints this step.
    pub ready_endpoints: u32,
    /// SLO tracking.
    pub health: ServiceHealth,
}

/// A load burst on an application (a harmless spike that passes, or part of a fault).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Burst {
    /// Start.
    pub start: i64,
    /// End.
    pub end: i64,
    /// Peak multiplier on the load.
    pub amplitude: f64,
}

/// An application: a call graph with one entry service receiving outside traffic.
#[derive(Debug, Clone)]
pub struct App {
    /// Name (also its namespace).
    pub name: String,
    /// Entry service index.
    pub entry: usize,
    /// Peak requests per second at the entry.
    pub peak_rps: f64,
    /// Hours by which the daily curve is shifted (users in other time zones).
    pub tz_shift_hours: f64,
    /// Load bursts, current and planned.
    pub bursts: Vec<Burst>,
    /// Slow random drift of the load (AR(1) state).
    pub drift: f64,
    /// The application's own random stream.
    pub rng: SimRng,
}
