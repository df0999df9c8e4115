//! The catalogue of what runs in the simulated cluster: an online shop of twelve services with
//! its call graph, and the platform workloads every cluster has.

use crate::cluster::{Protocol, WorkloadKind};
use crate::profile::Language;

/// A blueprint for one workload.
#[derive(Debug, Clone, Copy)]
pub struct Blueprint {
    /// Workload and service name.
    pub name: &'static str,
    /// Controller kind.
    pub kind: WorkloadKind,
    /// Runtime.
    pub language: Language,
    /// Image repository.
    pub repository: &'static str,
    /// Share of the application's replicas (Deployments); StatefulSets keep `replicas_fixed`.
    pub weight: f64,
    /// Fixed replica count for StatefulSets and platform Deployments.
    pub replicas_fixed: u32,
    /// CPU request, millicores.
    pub cpu_request_m: f64,
    /// CPU limit, millicores (0: none).
    pub cpu_limit_m: f64,
    /// Memory request, MiB.
    pub memory_request_mi: f64,
    /// Memory limit, MiB (0: none).
    pub memory_limit_mi: f64,
    /// Service protocol (`None`: no service).
    pub protocol: Option<Protocol>,
    /// Container port.
    pub port: u16,
    /// Latency of one request without queueing or downstream calls, milliseconds.
    pub base_latency_ms: f64,
    /// Outgoing calls: callee, calls per request, critical.
    pub calls: &'static [(&'static str, f64, bool)],
    /// Operation names.
    pub operations: &'static [&'static str],
    /// Live memory at rest as a share of the memory request.
    pub memory_fill: f64,
    /// Bytes in and out per request.
    pub payload_bytes: (f64, f64),
    /// Disk bytes written per request.
    pub disk_per_request: f64,
}

const fn bp(name: &'static str, kind: WorkloadKind, language: Language) -> Blueprint {
    Blueprint {
        name,
        kind,
        language,
        repository: "",
        weight: 0.0,
        replicas_fixed: 1,
        cpu_request_m: 100.0,
        cpu_limit_m: 0.0,
        memory_request_mi: 128.0,
        memory_limit_mi: 0.0,
        protocol: None,
        port: 8080,
        base_latency_ms: 5.0,
        calls: &[],
        operations: &[],
        memory_fill: 0.5,
        payload_bytes: (600.0, 2_000.0),
        disk_per_request: 40.0,
    }
}

use Language::*;
use Protocol::*;
use WorkloadKind::*;

/// The online shop. Entry service first.
pub const SHOP: [Blueprint; 12] = [
    Blueprint {
        repository: "registry.example.com/shop/frontend",
        weight: 3.0,
        cpu_request_m: 200.0,
        cpu_limit_m: 500.0,
        memory_request_mi: 128.0,
        memory_limit_mi: 256.0,
        protocol: Some(Http),
        base_latency_ms: 8.0,
        calls: &[
            ("catalog", 2.0, true),
            ("cart", 1.0, true),
            ("recommendation", 0.6, false),
            ("currency", 1.5, true),
            ("ad", 0.4, false),
            ("checkout", 0.05, true),
        ],
        operations: &[
            "GET /",
            "GET /product/{id}",
            "GET /cart",
            "POST /cart",
            "POST /cart/checkout",
        ],
        memory_fill: 0.45,
        payload_bytes: (900.0, 24_000.0),
        ..bp("frontend", Deployment, Go)
    },
    Blueprint {
        repository: "registry.example.com/shop/cart",
        weight: 2.0,
        cpu_request_m: 200.0,
        cpu_limit_m: 400.0,
        memory_request_mi: 256.0,
        memory_limit_mi: 512.0,
        protocol: Some(Grpc),
        port: 7070,
        base_latency_ms: 4.0,
        calls: &[("cart-cache", 2.0, true)],
        operations: &[
            "CartService/GetCart",
            "CartService/AddItem",
            "CartService/EmptyCart",
        ],
        memory_fill: 0.5,
        ..bp("cart", Deployment, Dotnet)
    },
    Blueprint {
        repository: "registry.example.com/shop/catalog",
        weight: 2.0,
        cpu_request_m: 150.0,
        cpu_limit_m: 300.0,
        memory_request_mi: 128.0,
        memory_limit_mi: 256.0,
        protocol: Some(Grpc),
        port: 3550,
        base_latency_ms: 3.0,
        calls: &[("catalog-db", 0.5, true)],
        operations: &[
            "CatalogService/ListProducts",
            "CatalogService/GetProduct",
            "CatalogService/SearchProducts",
        ],
        memory_fill: 0.45,
        ..bp("catalog", Deployment, Go)
    },
    Blueprint {
        repository: "registry.example.com/shop/recommendation",
        weight: 2.0,
        cpu_request_m: 150.0,
        cpu_limit_m: 300.0,
        memory_request_mi: 256.0,
        memory_limit_mi: 512.0,
        protocol: Some(Grpc),
        base_latency_ms: 12.0,
        calls: &[("catalog", 1.0, true)],
        operations: &["RecommendationService/ListRecommendations"],
        memory_fill: 0.5,
        ..bp("recommendation", Deployment, Python)
    },
    Blueprint {
        repository: "registry.example.com/shop/currency",
        weight: 2.0,
        cpu_request_m: 100.0,
        cpu_limit_m: 300.0,
        memory_request_mi: 128.0,
        memory_limit_mi: 256.0,
        protocol: Some(Grpc),
        port: 7000,
        base_latency_ms: 2.0,
        operations: &[
            "CurrencyService/Convert",
            "CurrencyService/GetSupportedCurrencies",
        ],
        memory_fill: 0.5,
        ..bp("currency", Deployment, Node)
    },
    Blueprint {
        repository: "registry.example.com/shop/ad",
        weight: 1.0,
        cpu_request_m: 200.0,
        cpu_limit_m: 500.0,
        memory_request_mi: 512.0,
        memory_limit_mi: 1024.0,
        protocol: Some(Grpc),
        port: 9555,
        base_latency_ms: 6.0,
        operations: &["AdService/GetAds"],
        memory_fill: 0.55,
        ..bp("ad", Deployment, Java)
    },
    Blueprint {
        repository: "registry.example.com/shop/checkout",
        weight: 1.0,
        cpu_request_m: 100.0,
        cpu_limit_m: 300.0,
        memory_request_mi: 128.0,
        memory_limit_mi: 256.0,
        protocol: Some(Grpc),
        port: 5050,
        base_latency_ms: 20.0,
        calls: &[
            ("cart", 2.0, true),
            ("payment", 1.0, true),
            ("shipping", 1.0, true),
            ("email", 1.0, false),
            ("currency", 2.0, true),
            ("catalog", 2.0, true),
        ],
        operations: &["CheckoutService/PlaceOrder"],
        memory_fill: 0.45,
        ..bp("checkout", Deployment, Go)
    },
    Blueprint {
        repository: "registry.example.com/shop/payment",
        weight: 1.0,
        cpu_request_m: 100.0,
        cpu_limit_m: 300.0,
        memory_request_mi: 128.0,
        memory_limit_mi: 256.0,
        protocol: Some(Grpc),
        port: 50051,
        base_latency_ms: 30.0,
        operations: &["PaymentService/Charge"],
        memory_fill: 0.5,
        ..bp("payment", Deployment, Node)
    },
    Blueprint {
        repository: "registry.example.com/shop/shipping",
        weight: 1.0,
        cpu_request_m: 100.0,
        cpu_limit_m: 200.0,
        memory_request_mi: 64.0,
        memory_limit_mi: 128.0,
        protocol: Some(Grpc),
        port: 50051,
        base_latency_ms: 5.0,
        operations: &["ShippingService/GetQuote", "ShippingService/ShipOrder"],
        memory_fill: 0.5,
        ..bp("shipping", Deployment, Go)
    },
    Blueprint {
        repository: "registry.example.com/shop/email",
        weight: 1.0,
        cpu_request_m: 100.0,
        cpu_limit_m: 200.0,
        memory_request_mi: 128.0,
        memory_limit_mi: 256.0,
        protocol: Some(Grpc),
        base_latency_ms: 15.0,
        operations: &["EmailService/SendOrderConfirmation"],
        memory_fill: 0.5,
        ..bp("email", Deployment, Python)
    },
    Blueprint {
        repository: "docker.io/library/redis",
        replicas_fixed: 1,
        cpu_request_m: 100.0,
        cpu_limit_m: 500.0,
        memory_request_mi: 256.0,
        memory_limit_mi: 512.0,
        protocol: Some(Tcp),
        port: 6379,
        base_latency_ms: 0.5,
        operations: &["GET", "SET", "HGETALL"],
        memory_fill: 0.35,
        payload_bytes: (200.0, 600.0),
        disk_per_request: 8.0,
        ..bp("cart-cache", StatefulSet, Redis)
    },
    Blueprint {
        repository: "docker.io/library/postgres",
        replicas_fixed: 1,
        cpu_request_m: 250.0,
        cpu_limit_m: 1000.0,
        memory_request_mi: 512.0,
        memory_limit_mi: 1024.0,
        protocol: Some(Tcp),
        port: 5432,
        base_latency_ms: 3.0,
        operations: &[
            "SELECT products",
            "SELECT product_by_id",
            "UPDATE inventory",
        ],
        memory_fill: 0.4,
        payload_bytes: (300.0, 4_000.0),
        disk_per_request: 400.0,
        ..bp("catalog-db", StatefulSet, Postgres)
    },
];

/// Platform workloads: namespace and blueprint. DaemonSets run on every node.
pub const PLATFORM: [(&str, Blueprint); 6] = [
    (
        "kube-system",
        Blueprint {
            repository: "registry.k8s.io/kube-proxy",
            cpu_request_m: 100.0,
            memory_request_mi: 64.0,
            memory_fill: 0.5,
            ..bp("kube-proxy", DaemonSet, System)
        },
    ),
    (
        "monitoring",
        Blueprint {
            repository: "quay.io/prometheus/node-exporter",
            cpu_request_m: 50.0,
            cpu_limit_m: 250.0,
            memory_request_mi: 32.0,
            memory_limit_mi: 96.0,
            port: 9100,
            memory_fill: 0.45,
            ..bp("node-exporter", DaemonSet, System)
        },
    ),
    (
        "logging",
        Blueprint {
            repository: "cr.fluentbit.io/fluent/fluent-bit",
            cpu_request_m: 50.0,
            cpu_limit_m: 500.0,
            memory_request_mi: 64.0,
            memory_limit_mi: 256.0,
            port: 2020,
            memory_fill: 0.4,
            ..bp("fluent-bit", DaemonSet, System)
        },
    ),
    (
        "kube-system",
        Blueprint {
            repository: "registry.k8s.io/coredns/coredns",
            replicas_fixed: 2,
            cpu_request_m: 100.0,
            memory_request_mi: 70.0,
            memory_limit_mi: 170.0,
            port: 53,
            memory_fill: 0.4,
            ..bp("coredns", Deployment, System)
        },
    ),
    (
        "kube-system",
        Blueprint {
            repository: "registry.k8s.io/metrics-server/metrics-server",
            cpu_request_m: 100.0,
            memory_request_mi: 200.0,
            memory_fill: 0.3,
            port: 10250,
            ..bp("metrics-server", Deployment, System)
        },
    ),
    (
        "monitoring",
        Blueprint {
            repository: "registry.k8s.io/kube-state-metrics/kube-state-metrics",
            cpu_request_m: 100.0,
            memory_request_mi: 190.0,
            memory_limit_mi: 250.0,
            memory_fill: 0.5,
            ..bp("kube-state-metrics", Deployment, System)
        },
    ),
];

/// The recurring batch Job: namespace, blueprint.
pub const REPORT_JOB: (&str, Blueprint) = (
    "batch",
    Blueprint {
        repository: "registry.example.com/batch/report",
        cpu_request_m: 500.0,
        cpu_limit_m: 1000.0,
        memory_request_mi: 256.0,
        memory_limit_mi: 512.0,
        memory_fill: 0.5,
        ..bp("report", Job, Python)
    },
);

/// Node shapes to choose from, smallest first.
pub const NODE_SHAPES: [crate::cluster::NodeShape; 4] = [
    shape("m6i.xlarge", 4, 16.0),
    shape("m6i.2xlarge", 8, 32.0),
    shape("m6i.4xlarge", 16, 64.0),
    shape("m6i.8xlarge", 32, 128.0),
];

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

const fn shape(t: &'static str, cores: u32, mem_gib: f64) -> crate::cluster::NodeShape {
    crate::cluster::NodeShape {
        instance_type: t,
        cores,
        memory: mem_gib * GIB,
        disk: 100.0 * GIB,
    }
}

/// Availability zones nodes are spread over.
pub const ZONES: [&str; 3] = ["eu-west-1a", "eu-west-1b", "eu-west-1c"];

/// Names of application instances (namespaces), in order of creation.
pub const APP_NAMES: [&str; 16] = [
    "shop", "store", "market", "outlet", "bazaar", "boutique", "emporium", "kiosk", "depot",
    "galleria", "arcade", "mart", "exchange", "trading", "bazar", "souk",
];
