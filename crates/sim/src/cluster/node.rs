//! Simulated nodes: capacity, conditions, disk and the node-exporter counters.

use crate::rng::SimRng;

/// A machine type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NodeShape {
    /// Cloud instance type label.
    pub instance_type: &'static str,
    /// CPU cores.
    pub cores: u32,
    /// Memory in bytes.
    pub memory: f64,
    /// Root disk in bytes.
    pub disk: f64,
}

/// Cumulative counters that node-exporter reports.
#[derive(Debug, Clone, Default)]
pub struct NodeCounters {
    /// `node_cpu_seconds_total` per CPU, per mode in [`crate::emit::CPU_MODES`] order.
    pub cpu: Vec<[f64; 8]>,
    /// Bytes received on eth0.
    pub rx_bytes: f64,
    /// Bytes sent on eth0.
    pub tx_bytes: f64,
    /// Packets received.
    pub rx_packets: f64,
    /// Packets sent.
    pub tx_packets: f64,
    /// Receive errors.
    pub rx_errs: f64,
    /// Transmit errors.
    pub tx_errs: f64,
    /// Receive drops.
    pub rx_drop: f64,
    /// Transmit drops.
    pub tx_drop: f64,
    /// Bytes read from the root disk.
    pub disk_read: f64,
    /// Bytes written to the root disk.
    pub disk_written: f64,
    /// Seconds the disk was busy.
    pub disk_io_time: f64,
}

/// One node.
#[derive(Debug, Clone)]
pub struct Node {
    /// Node name.
    pub name: String,
    /// Object UID.
    pub uid: String,
    /// Availability zone.
    pub zone: String,
    /// Machine shape.
    pub shape: NodeShape,
    /// InternalIP address.
    pub ip: String,
    /// Third octet of the node's pod CIDR (10.244.N.0/24).
    pub pod_cidr: u16,
    /// Allocatable CPU cores.
    pub alloc_cpu: f64,
    /// Allocatable memory bytes.
    pub alloc_memory: f64,
    /// Allocatable ephemeral storage bytes.
    pub alloc_disk: f64,
    /// Maximum pods (kubelet `maxPods`).
    pub max_pods: u32,
    /// When the node booted (epoch seconds).
    pub boot_time: f64,
    /// Whether the kubelet is alive and posting status.
    pub kubelet_up: bool,
    /// Node Ready condition (false also while `Unknown`).
    pub ready: bool,
    /// When the node last stopped posting status.
    pub down_since: Option<i64>,
    /// When the Ready condition last turned not-ready.
    pub not_ready_since: Option<i64>,
    /// MemoryPressure condition.
    pub memory_pressure: bool,
    /// DiskPressure condition.
    pub disk_pressure: bool,
    /// PIDPressure condition.
    pub pid_pressure: bool,
    /// NetworkUnavailable condition.
    pub network_unavailable: bool,
    /// When a pressure condition last changed (the kubelet holds it for a transition period).
    pub pressure_changed: i64,
    /// Bytes of the root filesystem used by the OS and images.
    pub os_disk_used: f64,
    /// Bytes written by a disk-filling process (fault or look-alike).
    pub fill_bytes: f64,
    /// Current fill rate in bytes per second.
    pub fill_rate: f64,
    /// Extra CPU cores burnt outside any pod (system daemons).
    pub system_cpu: f64,
    /// CPU cores in use this step (pods and system).
    pub cpu_used: f64,
    /// CPU cores demanded this step (may exceed capacity).
    pub cpu_demand: f64,
    /// Memory in use this step, bytes.
    pub memory_used: f64,
    /// Page cache, bytes.
    pub page_cache: f64,
    /// Root filesystem bytes in use this step.
    pub disk_used: f64,
    /// Load averages 1, 5 and 15 minutes.
    pub load: [f64; 3],
    /// Extra network latency on this node's interface, seconds (network faults).
    pub net_delay: f64,
    /// Packet loss ratio on this node's interface.
    pub net_loss: f64,
    /// node-exporter counters.
    pub counters: NodeCounters,
    /// The node's own random stream.
    pub rng: SimRng,
}

impl Node {
    /// Capacity in CPU cores.
    pub fn cores(&self) -> f64 {
        f64::from(self.shape.cores)
    }

    /// Available bytes on the root filesystem.
    pub fn disk_available(&self) -> f64 {
        (self.shape.disk - self.disk_used).max(0.0)
    }

    /// `MemAvailable`: free memory plus reclaimable cache.
    pub fn memory_available(&self) -> f64 {
        (self.shape.memory - self.memory_used).max(0.0)
    }

    /// True when the scheduler may place new pods here.
    pub fn schedulable(&self) -> bool {
        self.ready && !self.disk_pressure && !self.memory_pressure && !self.pid_pressure
    }
}
