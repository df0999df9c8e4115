//! Behaviour profiles: how a kind of process turns load into CPU, memory, network, disk and logs.

/// The runtime a container is written in; decides its log format and crash output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// Go services (logfmt logs, goroutine dumps on panic).
    Go,
    /// JVM services (Spring-style logs, Java stack traces).
    Java,
    /// Python services (logging module format, tracebacks).
    Python,
    /// Node.js services (pino JSON logs).
    Node,
    /// .NET services (Microsoft.Extensions.Logging console format).
    Dotnet,
    /// Redis.
    Redis,
    /// PostgreSQL.
    Postgres,
    /// Cluster daemons (kube-proxy, exporters, log shippers, DNS).
    System,
}

/// How one kind of process behaves.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// Profile name (the blueprint it came from).
    pub name: &'static str,
    /// Runtime.
    pub language: Language,
    /// CPU used with no load, cores.
    pub base_cpu: f64,
    /// CPU per request, core-seconds (calibrated so that the daily peak meets a target share of
    /// the limit).
    pub cpu_per_request: f64,
    /// Live memory with no load, bytes.
    pub base_memory: f64,
    /// Extra live memory per request per second, bytes.
    pub memory_per_rps: f64,
    /// Garbage allowed before a collection, as a share of live memory (the sawtooth height).
    pub gc_headroom: f64,
    /// Garbage allocated per request, bytes.
    pub alloc_per_request: f64,
    /// Bytes received per request.
    pub request_bytes: f64,
    /// Bytes sent per response.
    pub response_bytes: f64,
    /// Bytes written to disk per request (logs, temp files, WAL).
    pub disk_per_request: f64,
    /// Time from start to ready, milliseconds.
    pub startup: i64,
    /// Log lines per request.
    pub logs_per_request: f64,
}
