//! Builds the initial cluster from the settings: applications sized to the pod target, node
//! shape chosen so requests fill about 60% of the cluster, and per-service CPU cost calibrated so
//! that the daily peak sits at a realistic share of each limit.

use crate::catalog::{APP_NAMES, Blueprint, NODE_SHAPES, PLATFORM, SHOP, ZONES};
use crate::cluster::{
    App, Call, Cluster, Node, NodeCounters, NodeShape, PodTemplate, Resources, Service,
    ServiceHealth, Workload, WorkloadKind,
};
use crate::config::SimConfig;
use crate::profile::{Language, Profile};
use crate::rng::SimRng;

const MIB: f64 = 1024.0 * 1024.0;
const GIB: f64 = 1024.0 * MIB;

/// Builds the cluster's nodes, workloads, services and applications (pods are created by the
/// controllers on the first step).
pub fn build(cfg: &SimConfig, start: i64) -> Cluster {
    let mut rng = SimRng::for_name(cfg.seed, "topology");
    let mut c = Cluster {
        name: cfg.cluster.clone(),
        namespaces: vec![
            "default".into(),
            "kube-system".into(),
            "monitoring".into(),
            "logging".into(),
            "batch".into(),
        ],
        nodes: Vec::new(),
        pods: Vec::new(),
        live: Vec::new(),
        workloads: Vec::new(),
        services: Vec::new(),
        apps: Vec::new(),
        profiles: Vec::new(),
    };
    for (ns, b) in PLATFORM {
        let replicas = if b.kind == WorkloadKind::DaemonSet {
            0
        } else {
            b.replicas_fixed
        };
        let profile = push_profile(&mut c, &b, 0.0, 0.0);
        add_workload(&mut c, &mut rng, ns, &b, replicas, profile, None);
    }
    let platform_pods = 3 * cfg.nodes + 4 + 1;
    let app_budget = cfg.pods.saturating_sub(platform_pods).max(12);
    let apps = ((f64::from(app_budget) / 90.0).round() as usize).clamp(1, APP_NAMES.len());
    for a in 0..apps {
        let share = app_budget / apps as u32 + u32::from((a as u32) < app_budget % apps as u32);
        add_app(&mut c, &mut rng, a, share);
    }
    add_nodes(&mut c, &mut rng, cfg.nodes, start);
    c
}

fn add_app(c: &mut Cluster, rng: &mut SimRng, index: usize, budget: u32) {
    let ns = APP_NAMES[index % APP_NAMES.len()].to_string();
    c.namespaces.push(ns.clone());
    let replicas = split_replicas(budget);
    let app = c.apps.len();
    let svc_base = c.services.len();
    // Services first so that calls can be resolved by name.
    let mut wl_of = Vec::new();
    for (b, &r) in SHOP.iter().zip(&replicas) {
        let profile = push_profile(c, b, 0.0, 0.0);
        let w = add_workload(c, rng, &ns, b, r, profile, Some(app));
        wl_of.push(w);
        let svc = c.services.len();
        c.workloads[w].service = Some(svc);
        c.services.push(Service {
            name: b.name.into(),
            namespace: ns.clone(),
            uid: rng.uuid(),
            cluster_ip: format!("10.96.{}.{}", svc / 250, svc % 250 + 2),
            workload: w,
            app,
            protocol: b.protocol.unwrap_or(crate::cluster::Protocol::Tcp),
            port: b.port,
            calls: Vec::new(),
            edges: Vec::new(),
            operations: b.operations.to_vec(),
            base_latency: b.base_latency_ms / 1000.0,
            base_error: 0.0005,
            timeout: if b.name == "frontend" { 10.0 } else { 2.0 },
            fault_error: 0.0,
            edge_delay: 0.0,
            edge_loss: 0.0,
            rate: 0.0,
            latency: 0.0,
            error_ratio: 0.0,
            ready_endpoints: 0,
            health: ServiceHealth::default(),
        });
    }
    for (i, b) in SHOP.iter().enumerate() {
        let calls = b
            .calls
            .iter()
            .filter_map(|(to, fanout, critical)| {
                SHOP.iter().position(|x| x.name == *to).map(|j| Call {
                    to: svc_base + j,
                    fanout: *fanout,
                    critical: *critical,
                })
            })
            .collect();
        c.services[svc_base + i].calls = calls;
    }
    let per_replica = rng.range(18.0, 30.0);
    let peak = per_replica * f64::from(replicas[0]);
    c.apps.push(App {
        name: ns.clone(),
        entry: svc_base,
        peak_rps: peak,
        tz_shift_hours: if index == 0 {
            0.0
        } else {
            rng.range(-6.0, 6.0).round()
        },
        bursts: Vec::new(),
        drift: 0.0,
        rng: rng.fork(1000 + index as u64),
    });
    calibrate(c, rng, app, &wl_of);
}

/// Splits an application's pod budget over the shop's workloads by weight (largest remainder),
/// every Deployment at least one replica, StatefulSets fixed.
fn split_replicas(budget: u32) -> Vec<u32> {
    let fixed: u32 = SHOP
        .iter()
        .filter(|b| b.kind == WorkloadKind::StatefulSet)
        .map(|b| b.replicas_fixed)
        .sum();
    let weights: f64 = SHOP.iter().map(|b| b.weight).sum();
    let free = budget.saturating_sub(fixed) as f64;
    let mut out: Vec<u32> = SHOP
        .iter()
        .map(|b| {
            if b.kind == WorkloadKind::StatefulSet {
                b.replicas_fixed
            } else {
                ((b.weight / weights) * free).floor().max(1.0) as u32
            }
        })
        .collect();
    let mut total: u32 = out.iter().sum();
    let mut i = 0;
    while total < budget {
        if SHOP[i % SHOP.len()].kind == WorkloadKind::Deployment {
            out[i % SHOP.len()] += 1;
            total += 1;
        }
        i += 1;
    }
    out
}

/// Peak rates by propagation through the call graph, then CPU per request so that each service
/// peaks at 25–40% of its CPU limit, and memory so the working set peaks below 80% of its limit.
fn calibrate(c: &mut Cluster, rng: &mut SimRng, app: usize, workloads: &[usize]) {
    let entry = c.apps[app].entry;
    let order = crate::load::topo_order(&c.services, entry);
    let mut rate = vec![0.0; c.services.len()];
    rate[entry] = c.apps[app].peak_rps;
    for &s in &order {
        for call in c.services[s].calls.clone() {
            rate[call.to] += rate[s] * call.fanout;
        }
    }
    for &w in workloads {
        let svc = c.workloads[w].service.unwrap_or(0);
        let replicas = f64::from(c.workloads[w].replicas.max(1));
        let per_pod = (rate[svc] / replicas).max(0.01);
        let t = c.workloads[w].template.clone();
        let cpu_cap = if t.limits.cpu > 0.0 {
            t.limits.cpu
        } else {
            2.0 * t.requests.cpu
        };
        let util = rng.range(0.25, 0.40);
        let p = &mut c.profiles[t.profile];
        p.cpu_per_request = ((util * cpu_cap - p.base_cpu) / per_pod).max(1e-5);
        p.memory_per_rps = 0.04 * p.base_memory / per_pod;
        let mem_cap = if t.limits.memory > 0.0 {
            t.limits.memory
        } else {
            2.0 * t.requests.memory
        };
        let peak = p.base_memory * (1.0 + p.gc_headroom) + p.memory_per_rps * per_pod;
        if peak > 0.75 * mem_cap {
            p.base_memory *= 0.75 * mem_cap / peak;
        }
    }
}

fn gc_headroom(l: Language) -> f64 {
    match l {
        Language::Go => 0.22,
        Language::Java => 0.12,
        Language::Node | Language::Dotnet => 0.16,
        Language::Python => 0.06,
        Language::Redis | Language::Postgres | Language::System => 0.02,
    }
}

pub(crate) fn push_profile(
    c: &mut Cluster,
    b: &Blueprint,
    cpu_per_request: f64,
    memory_per_rps: f64,
) -> usize {
    let idle_cpu = if b.protocol.is_some() { 0.08 } else { 0.3 };
    c.profiles.push(Profile {
        name: b.name,
        language: b.language,
        base_cpu: idle_cpu * b.cpu_request_m / 1000.0,
        cpu_per_request,
        base_memory: b.memory_fill * b.memory_request_mi * MIB,
        memory_per_rps,
        gc_headroom: gc_headroom(b.language),
        alloc_per_request: 64.0 * 1024.0,
        request_bytes: b.payload_bytes.0,
        response_bytes: b.payload_bytes.1,
        disk_per_request: b.disk_per_request,
        startup: match b.language {
            Language::Java => 45_000,
            Language::Dotnet | Language::Postgres => 20_000,
            _ => 8_000,
        },
        logs_per_request: 0.0005,
    });
    c.profiles.len() - 1
}

pub(crate) fn add_workload(
    c: &mut Cluster,
    rng: &mut SimRng,
    ns: &str,
    b: &Blueprint,
    replicas: u32,
    profile: usize,
    app: Option<usize>,
) -> usize {
    let template = PodTemplate {
        container: match b.language {
            Language::Redis => "redis".into(),
            Language::Postgres => "postgres".into(),
            _ => b.name.into(),
        },
        repository: b.repository.into(),
        version: initial_version(rng, b.language),
        requests: Resources {
            cpu: b.cpu_request_m / 1000.0,
            memory: b.memory_request_mi * MIB,
            disk: 0.0,
        },
        limits: Resources {
            cpu: b.cpu_limit_m / 1000.0,
            memory: b.memory_limit_mi * MIB,
            disk: 0.0,
        },
        profile,
        crash_after: None,
        crash_exit_code: 1,
        image_ok: true,
        config_ok: true,
        port: b.port,
        hash: rng.k8s_suffix(10),
    };
    c.workloads.push(Workload {
        kind: b.kind,
        name: b.name.into(),
        namespace: ns.into(),
        uid: rng.uuid(),
        app,
        service: None,
        replicas,
        template,
        revision: 1,
        replica_sets: Vec::new(),
        rollout: None,
        generation: 1,
        job: None,
        deleted: false,
        node_selector: None,
        pods_created: 0,
    });
    c.workloads.len() - 1
}

/// A plausible image tag for the runtime.
pub fn initial_version(rng: &mut SimRng, l: Language) -> String {
    match l {
        Language::Redis => "7.2.4".into(),
        Language::Postgres => "16.2".into(),
        Language::System => format!("v1.{}.{}", 28 + rng.below(3), rng.below(6)),
        _ => format!("v{}.{}.{}", 1 + rng.below(3), rng.below(20), rng.below(10)),
    }
}

fn add_nodes(c: &mut Cluster, rng: &mut SimRng, n: u32, start: i64) {
    let (mut cpu, mut mem) = (0.0, 0.0);
    for w in &c.workloads {
        let count = if w.kind == WorkloadKind::DaemonSet {
            f64::from(n)
        } else {
            f64::from(w.replicas)
        };
        cpu += count * w.template.requests.cpu;
        mem += count * w.template.requests.memory;
    }
    let fits = |s: &NodeShape| {
        let (ac, am) = allocatable(s);
        cpu <= 0.6 * f64::from(n) * ac && mem <= 0.6 * f64::from(n) * am
    };
    let shape = NODE_SHAPES
        .iter()
        .copied()
        .find(fits)
        .unwrap_or(NODE_SHAPES[NODE_SHAPES.len() - 1]);
    let width = n.to_string().len().max(2);
    for i in 0..n {
        let (alloc_cpu, alloc_memory) = allocatable(&shape);
        let mut node_rng = rng.fork(10_000 + u64::from(i));
        let boot_days = node_rng.range(2.0, 40.0);
        c.nodes.push(Node {
            name: format!("node-{:0width$}", i + 1),
            uid: rng.uuid(),
            zone: ZONES[i as usize % ZONES.len()].into(),
            shape,
            ip: format!("10.0.{}.{}", i / 250, i % 250 + 10),
            pod_cidr: (i + 1) as u16,
            alloc_cpu,
            alloc_memory,
            alloc_disk: shape.disk * 0.9,
            max_pods: 110,
            boot_time: (start as f64 / 1000.0 - boot_days * 86_400.0).round(),
            kubelet_up: true,
            ready: true,
            down_since: None,
            not_ready_since: None,
            memory_pressure: false,
            disk_pressure: false,
            pid_pressure: false,
            network_unavailable: false,
            pressure_changed: start,
            os_disk_used: node_rng.range(9.0, 14.0) * GIB,
            fill_bytes: 0.0,
            fill_rate: 0.0,
            system_cpu: 0.05 + 0.02 * f64::from(shape.cores),
            cpu_used: 0.0,
            cpu_demand: 0.0,
            memory_used: 0.0,
            page_cache: node_rng.range(0.5, 1.5) * GIB,
            disk_used: 0.0,
            load: [0.0; 3],
            net_delay: 0.0,
            net_loss: 0.0,
            counters: NodeCounters {
                cpu: vec![[0.0; 8]; shape.cores as usize],
                ..Default::default()
            },
            rng: node_rng,
        });
    }
}

/// Allocatable CPU cores and memory bytes of a shape after system reservations.
pub fn allocatable(s: &NodeShape) -> (f64, f64) {
    let cores = f64::from(s.cores);
    (
        cores - 0.1 - 0.04 * cores,
        s.memory - 0.75 * GIB - 0.05 * s.memory,
    )
}
