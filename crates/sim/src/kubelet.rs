//! The kubelet's view of each pod on a live node: pulling images and starting containers,
//! crashes and OOM kills with the real restart back-off (immediate first restart, then 10 s
//! doubling to 5 min, reset after 10 min of running), image-pull back-off, Job completion, and
//! readiness and liveness probes.

use kubepulse_model::EventType::{self, Normal, Warning};
use kubepulse_model::ObjectRef;

use crate::cluster::{ContainerState, PodPhase, PodUsage, Termination, WaitReason, WorkloadKind};
use crate::pods::node_name;
use crate::truth::FailureType;
use crate::world::World;

const MAX_BACKOFF_MS: i64 = 300_000;
const BACKOFF_RESET_MS: i64 = 600_000;
/// Readiness fails when the container's CPU demand exceeds what it can get by this factor.
const READINESS_RHO: f64 = 1.25;
/// Liveness fails beyond this (the health handler itself times out).
const LIVENESS_RHO: f64 = 1.8;
const LIVENESS_FAILURE_THRESHOLD: u32 = 3;
const PROBE_TIMEOUT: &str =
    "context deadline exceeded (Client.Timeout exceeded while awaiting headers)";

/// Runs the kubelet for every bound, unfinished pod on a node whose kubelet is up.
pub fn step(w: &mut World) {
    let live = w.cluster.live.clone();
    for p in live {
        let pod = &w.cluster.pods[p];
        let Some(n) = pod.node else { continue };
        if !w.cluster.nodes[n].kubelet_up || pod.finished() || pod.deleted_at.is_some() {
            continue;
        }
        match pod.container.state {
            ContainerState::Waiting(reason) if w.t >= pod.container.next_start => {
                try_start(w, p, reason)
            }
            ContainerState::Waiting(WaitReason::CrashLoopBackOff) => backoff_event(w, p),
            ContainerState::Running => running(w, p),
            _ => {}
        }
    }
}

/// Records an event about pod `p` from the kubelet on its node.
fn event(w: &mut World, p: usize, ty: EventType, reason: &str, message: String) {
    let host = node_name(w, p);
    let r = w.pod_ref(p);
    w.event(r, ty, reason, message, "kubelet", &host);
}

/// Records the failure of pod `p`.
fn fail(w: &mut World, p: usize, ty: FailureType, reason: &str, detail: String) {
    let r = w.pod_ref(p);
    let related = related_of(w, p);
    w.fail(r, &related, ty, reason, detail);
}

fn try_start(w: &mut World, p: usize, reason: WaitReason) {
    let pod = &w.cluster.pods[p];
    let image = pod.container.image.clone();
    if !pod.template.image_ok {
        pull_failed(w, p, &image);
        return;
    }
    if !pod.template.config_ok {
        let cm = format!("{}-config", w.cluster.workloads[pod.workload].name);
        let t = w.t;
        let c = &mut w.cluster.pods[p].container;
        c.state = ContainerState::Waiting(WaitReason::CreateContainerConfigError);
        c.next_start = t + 20_000;
        event(
            w,
            p,
            Warning,
            "Failed",
            format!("Error: configmap \"{cm}\" not found"),
        );
        return;
    }
    let pulled = if reason == WaitReason::ContainerCreating && pod.container.restarts == 0 {
        event(
            w,
            p,
            Normal,
            "Pulling",
            format!("Pulling image \"{image}\""),
        );
        let secs = 0.8 + 3.0 * w.cluster.pods[p].rng.f64();
        format!(
            "Successfully pulled image \"{image}\" in {secs:.3}s ({secs:.3}s including waiting)"
        )
    } else {
        format!("Container image \"{image}\" already present on machine")
    };
    start_with_events(w, p, pulled);
}

fn pull_failed(w: &mut World, p: usize, image: &str) {
    let t = w.t;
    event(
        w,
        p,
        Normal,
        "Pulling",
        format!("Pulling image \"{image}\""),
    );
    let msg = format!(
        "Failed to pull image \"{image}\": rpc error: code = NotFound desc = failed to pull and unpack image \"{image}\": failed to resolve reference \"{image}\": {image}: not found"
    );
    event(w, p, Warning, "Failed", msg);
    event(w, p, Warning, "Failed", "Error: ErrImagePull".into());
    let c = &mut w.cluster.pods[p].container;
    c.pull_failures += 1;
    let n = c.pull_failures;
    c.next_start = t + (10_000i64 << (n - 1).min(5)).min(MAX_BACKOFF_MS);
    c.state = ContainerState::Waiting(if n == 1 {
        WaitReason::ErrImagePull
    } else {
        WaitReason::ImagePullBackOff
    });
    if n > 1 {
        event(
            w,
            p,
            Normal,
            "BackOff",
            format!("Back-off pulling image \"{image}\""),
        );
        event(w, p, Warning, "Failed", "Error: ImagePullBackOff".into());
    } else {
        fail(
            w,
            p,
            FailureType::ImagePull,
            "ErrImagePull",
            format!("image {image} not found"),
        );
    }
}

/// Starts the container with the events the kubelet records for a start.
fn start_with_events(w: &mut World, p: usize, pulled: String) {
    let cname = w.cluster.pods[p].container.name.clone();
    event(w, p, Normal, "Pulled", pulled);
    event(
        w,
        p,
        Normal,
        "Created",
        format!("Created container {cname}"),
    );
    event(
        w,
        p,
        Normal,
        "Started",
        format!("Started container {cname}"),
    );
    start_now(w, p);
}

/// Starts the container immediately (new container id, fresh per-container counters).
pub fn start_now(w: &mut World, p: usize) {
    let t = w.t;
    let pod = &mut w.cluster.pods[p];
    pod.container.state = ContainerState::Running;
    pod.container.started_at = t;
    pod.container.id = format!("containerd://{}", pod.rng.hex(32));
    pod.container.liveness_failures = 0;
    pod.container.readiness_failures = 0;
    pod.container.pull_failures = 0;
    pod.phase = PodPhase::Running;
    let u = &pod.usage;
    pod.usage = PodUsage {
        net: u.net,
        fs_logs: u.fs_logs,
        ..PodUsage::default()
    };
}

fn backoff_event(w: &mut World, p: usize) {
    let pod = &w.cluster.pods[p];
    let msg = format!(
        "Back-off restarting failed container {} in pod {}_{}({})",
        pod.container.name, pod.name, pod.namespace, pod.uid
    );
    event(w, p, Warning, "BackOff", msg);
}

fn running(w: &mut World, p: usize) {
    let pod = &w.cluster.pods[p];
    let up_for = w.t - pod.container.started_at;
    let wl = &w.cluster.workloads[pod.workload];
    if wl.kind == WorkloadKind::Job {
        if let Some(job) = wl.job
            && up_for >= job.run_for
        {
            let (reason, code) = if job.fails {
                ("Error", 1)
            } else {
                ("Completed", 0)
            };
            finish_job_pod(w, p, reason, code);
        }
        return;
    }
    if let Some(after) = pod.template.crash_after
        && up_for >= after
    {
        let code = pod.template.crash_exit_code;
        crate::emit::logs::crash_output(w, p);
        terminate(w, p, "Error", code);
        return;
    }
    probes(w, p, up_for);
}

fn finish_job_pod(w: &mut World, p: usize, reason: &'static str, code: i32) {
    let term = Termination {
        reason,
        exit_code: code,
        at: w.t,
    };
    let pod = &mut w.cluster.pods[p];
    pod.container.state = ContainerState::Terminated(term);
    pod.container.last_termination = Some(term);
    pod.phase = if code == 0 {
        PodPhase::Succeeded
    } else {
        PodPhase::Failed
    };
    pod.ready = false;
}

fn probes(w: &mut World, p: usize, up_for: i64) {
    let startup = w.cluster.profile_of(p).startup;
    let node_ready = w.cluster.pods[p]
        .node
        .is_some_and(|n| w.cluster.nodes[n].ready);
    let pod = &mut w.cluster.pods[p];
    let (rho, was_ready) = (pod.usage.rho, pod.ready);
    if up_for < startup {
        pod.ready = false;
        return;
    }
    if rho <= READINESS_RHO {
        pod.container.liveness_failures = 0;
        pod.container.readiness_failures = 0;
        pod.ready = node_ready;
        return;
    }
    let url = format!("http://{}:{}", pod.ip, pod.template.port);
    if rho > LIVENESS_RHO {
        pod.container.liveness_failures += 1;
        let failures = pod.container.liveness_failures;
        event(
            w,
            p,
            Warning,
            "Unhealthy",
            format!("Liveness probe failed: Get \"{url}/healthz\": {PROBE_TIMEOUT}"),
        );
        if failures >= LIVENESS_FAILURE_THRESHOLD {
            let cname = w.cluster.pods[p].container.name.clone();
            event(
                w,
                p,
                Normal,
                "Killing",
                format!("Container {cname} failed liveness probe, will be restarted"),
            );
            terminate(w, p, "Error", 137);
            return;
        }
    } else {
        pod.container.liveness_failures = 0;
    }
    event(
        w,
        p,
        Warning,
        "Unhealthy",
        format!("Readiness probe failed: Get \"{url}/ready\": {PROBE_TIMEOUT}"),
    );
    let pod = &mut w.cluster.pods[p];
    pod.container.readiness_failures += 1;
    pod.ready = false;
    if was_ready {
        let detail = format!(
            "cpu demand {:.0}% of what the container can get",
            rho * 100.0
        );
        fail(w, p, FailureType::CpuSaturation, "Unhealthy", detail);
    }
}

/// Ends the container's run (`OOMKilled` or `Error`) and applies the restart policy: Jobs'
/// pods fail; others restart at once the first time, then after a growing back-off.
pub fn terminate(w: &mut World, p: usize, reason: &'static str, exit_code: i32) {
    let t = w.t;
    let was_oom = reason == "OOMKilled";
    let is_job = w.cluster.workloads[w.cluster.pods[p].workload].kind == WorkloadKind::Job;
    let pod = &mut w.cluster.pods[p];
    pod.container.last_termination = Some(Termination {
        reason,
        exit_code,
        at: t,
    });
    pod.ready = false;
    if was_oom {
        pod.usage.oom_events += 1.0;
    }
    if is_job {
        finish_job_pod(w, p, reason, exit_code);
        return;
    }
    let c = &mut pod.container;
    if t - c.started_at >= BACKOFF_RESET_MS {
        c.backoff_level = 0;
    }
    c.backoff_level += 1;
    c.restarts += 1;
    let (level, restarts) = (c.backoff_level, c.restarts);
    if level == 1 {
        let image = c.image.clone();
        start_with_events(
            w,
            p,
            format!("Container image \"{image}\" already present on machine"),
        );
        return;
    }
    c.state = ContainerState::Waiting(WaitReason::CrashLoopBackOff);
    c.next_start = t + (10_000i64 << (level - 2).min(5)).min(MAX_BACKOFF_MS);
    backoff_event(w, p);
    if level == 2 && !was_oom {
        let detail = format!("exit code {exit_code} ({reason}), {restarts} restarts");
        fail(w, p, FailureType::CrashLoop, "CrashLoopBackOff", detail);
    } else if level > 2 {
        go_on_failing(w, p, FailureType::CrashLoop);
    }
}

/// The pod's failure of type `ty` still going on (its last sign no longer ago than a run
/// that does not reset the back-off and the longest back-off) lasts until now.
fn go_on_failing(w: &mut World, p: usize, ty: FailureType) {
    let (t, uid) = (w.t, &w.cluster.pods[p].uid);
    let since = t - BACKOFF_RESET_MS - MAX_BACKOFF_MS;
    if let Some(f) = w
        .truth
        .failures
        .iter_mut()
        .rev()
        .find(|f| f.failure_type == ty && f.object.uid == *uid)
        .filter(|f| f.until.unwrap_or(f.t) >= since)
    {
        f.until = Some(t);
    }
}

/// OOM-kills every running container whose working set reached its memory limit.
pub fn oom_kills(w: &mut World) {
    let live = w.cluster.live.clone();
    for p in live {
        let pod = &w.cluster.pods[p];
        let lim = pod.template.limits.memory;
        if pod.running()
            && lim > 0.0
            && pod.usage.working_set >= lim
            && pod.node.is_some_and(|n| w.cluster.nodes[n].kubelet_up)
        {
            oom_kill(w, p, "memory limit reached");
        }
    }
}

/// OOM-kills the container of pod `p`: the kernel's message on the node, the failure, the
/// restart.
pub fn oom_kill(w: &mut World, p: usize, why: &str) {
    let host = node_name(w, p);
    let pod = &w.cluster.pods[p];
    let pid = 1000 + pod.rng.clone().below(30_000);
    let rss_kb = (pod.usage.working_set / 1024.0) as u64;
    let msg = format!(
        "Memory cgroup out of memory: Killed process {pid} ({}) total-vm:{}kB, anon-rss:{rss_kb}kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:{}kB oom_score_adj:{}",
        crate::emit::logs::process_name(w.cluster.profile_of(p).language),
        rss_kb + rss_kb / 3,
        rss_kb / 500 + 4,
        if pod.template.requests.memory > 0.0 {
            985
        } else {
            1000
        }
    );
    let detail = format!(
        "working set {:.0} MiB reached the {:.0} MiB limit ({why})",
        pod.usage.working_set / 1_048_576.0,
        pod.template.limits.memory / 1_048_576.0
    );
    if let Some(n) = pod.node {
        let nr = w.node_ref(n);
        w.event(nr, Warning, "OOMKilling", msg, "kernel-monitor", &host);
    }
    fail(w, p, FailureType::Oom, "OOMKilled", detail);
    terminate(w, p, "OOMKilled", 137);
}

/// Objects whose faults can explain a failure of pod `p`: its node, workload and service.
pub fn related_of(w: &World, p: usize) -> Vec<ObjectRef> {
    let pod = &w.cluster.pods[p];
    let mut v = vec![w.workload_ref(pod.workload)];
    if let Some(n) = pod.node {
        v.push(w.node_ref(n));
    }
    if let Some(s) = w.cluster.workloads[pod.workload].service {
        v.push(w.service_ref(s));
    }
    v
}
