//! The hourly report CronJob: a CPU-heavy batch Job at the top of every hour that runs for a few
//! minutes and, now and then, fails and is retried until its back-off limit.

use kubepulse_model::{EventType, ObjectRef};

use crate::catalog::REPORT_JOB;
use crate::cluster::JobState;
use crate::rng::SimRng;
use crate::truth::{LookalikeKind, LookalikeRecord};
use crate::world::World;

const HOUR_MS: i64 = 3_600_000;

/// Creates the report Job when an hour begins.
pub fn step(w: &mut World, rng: &mut SimRng) {
    let t = w.t;
    if t.div_euclid(HOUR_MS) == (t - w.step_ms).div_euclid(HOUR_MS) {
        return;
    }
    let (ns, bp) = REPORT_JOB;
    let profile = crate::topology::push_profile(&mut w.cluster, &bp, 0.0, 0.0);
    w.cluster.profiles[profile].base_cpu = 0.85 * bp.cpu_limit_m / 1000.0;
    let wl = crate::topology::add_workload(&mut w.cluster, rng, ns, &bp, 1, profile, None);
    let name = format!("report-{}", t.div_euclid(60_000));
    let run_for = rng.range(3.0, 9.0) * 60_000.0;
    let fails = rng.chance(0.04);
    let workload = &mut w.cluster.workloads[wl];
    workload.name = name.clone();
    workload.job = Some(JobState {
        run_for: run_for as i64,
        fails,
        started: t,
        ..JobState::default()
    });
    let mut cron = ObjectRef::new(kubepulse_model::ObjectKind::Job, ns, "report");
    cron.kind = "CronJob".into();
    w.event(
        cron,
        EventType::Normal,
        "SuccessfulCreate",
        format!("Created job {name}"),
        "cronjob-controller",
        "",
    );
    if !w.quiet {
        let target = w.workload_ref(wl);
        w.truth.lookalikes.push(LookalikeRecord {
            kind: LookalikeKind::BatchCpu,
            target,
            start: t,
            end: t + run_for as i64,
        });
    }
}
