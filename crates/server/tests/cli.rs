//! The `kubepulse` binary, run as a user runs it.

#![allow(clippy::unwrap_used)]

use std::process::{Command, Output};

fn kubepulse(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kubepulse"))
        .args(args)
        .env_remove("KUBEPULSE_CONFIG")
        .output()
        .unwrap()
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn help_teaches_by_example() {
    let (out, _) = text(&kubepulse(&["--help"]));
    assert!(out.contains("Examples:") && out.contains("kubepulse simulate --nodes 50"));
    for sub in ["simulate", "config", "train"] {
        let (out, _) = text(&kubepulse(&[sub, "--help"]));
        assert!(out.contains("Example"), "{sub} --help has examples:\n{out}");
    }
}

#[test]
fn version_names_the_build() {
    let o = kubepulse(&["version"]);
    assert!(o.status.success());
    let (out, _) = text(&o);
    assert!(out.starts_with(&format!("kubepulse {}", env!("CARGO_PKG_VERSION"))));
    assert!(out.contains("rustc"));
}

#[test]
fn config_check_accepts_the_example_and_names_bad_keys() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/kubepulse.yaml");
    let o = kubepulse(&["config", "check", example]);
    assert!(o.status.success(), "{:?}", text(&o));
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "server:\n  listen: 127.0.0.1:9800\nsimulator:\n  cluster:\n    nodez: 3\n",
    )
    .unwrap();
    let o = kubepulse(&["--config", bad.to_str().unwrap(), "version"]);
    assert_eq!(o.status.code(), Some(2));
    let (_, err) = text(&o);
    assert!(
        err.contains("bad.yaml:5:")
            && err.contains("simulator.cluster.nodez")
            && err.contains("unknown field"),
        "{err}"
    );
    std::fs::write(&bad, "simulator:\n  cluster:\n    pods: 1\n").unwrap();
    let (_, err) = text(&kubepulse(&["config", "check", bad.to_str().unwrap()]));
    assert!(err.contains("simulator.cluster.pods"), "{err}");
}

#[test]
fn simulate_writes_a_dataset_and_refuses_bad_scenarios() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("ds");
    let o = kubepulse(&[
        "simulate",
        "--nodes",
        "3",
        "--pods",
        "40",
        "--duration",
        "20m",
        "--quiet",
        "--log-format",
        "json",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{:?}", text(&o));
    let (_, err) = text(&o);
    let summary = err.lines().find(|l| l.contains("dataset written")).unwrap();
    let v: serde_json::Value = serde_json::from_str(summary).unwrap();
    assert!(v["samples"].as_u64().unwrap() > 100_000);
    for f in [
        "manifest.json",
        "labels.json",
        "events.jsonl.zst",
        "metrics/series.jsonl.zst",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
    let scenario = tmp.path().join("s.yaml");
    std::fs::write(
        &scenario,
        "faults:\n  - kind: disk_fill\n    at: 1m\n    target: {node: node-42}\n",
    )
    .unwrap();
    let o = kubepulse(&[
        "simulate",
        "--nodes",
        "3",
        "--pods",
        "40",
        "--scenario",
        scenario.to_str().unwrap(),
        "--out",
        tmp.path().join("ds2").to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let (_, err) = text(&o);
    assert!(
        err.contains("s.yaml:4:")
            && err.contains("faults[0].target.node")
            && err.contains("node-42"),
        "{err}"
    );
    let o = kubepulse(&[
        "simulate",
        "--duration",
        "soon",
        "--out",
        tmp.path().join("ds3").to_str().unwrap(),
    ]);
    assert!(!o.status.success() && text(&o).1.contains("--duration"));
    let o = kubepulse(&[
        "simulate",
        "--chaos-kinds",
        "memory_leak,meteor_strike",
        "--out",
        tmp.path().join("ds4").to_str().unwrap(),
    ]);
    let (_, err) = text(&o);
    assert!(
        !o.status.success() && err.contains("--chaos-kinds") && err.contains("meteor_strike"),
        "{err}"
    );
    assert!(!tmp.path().join("ds4").exists());
}

#[test]
fn promql_test_runs_prometheus_scripts_and_reports_failures() {
    let dir = kubepulse_testkit::data_dir().join("promqltest");
    let o = kubepulse(&["promql-test", dir.to_str().unwrap()]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(out.contains("ok   functions.test:"), "{out}");
    let last = out.lines().last().unwrap();
    assert!(last.ends_with("0 failed, 189 skipped"), "{last}");
    let tmp = tempfile::tempdir().unwrap();
    let script = tmp.path().join("wrong.test");
    std::fs::write(
        &script,
        "load 1m\n  x 1 2 3\n\neval instant at 2m x\n  x 7\n",
    )
    .unwrap();
    let o = kubepulse(&["promql-test", script.to_str().unwrap()]);
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        out.contains("wrong.test:4: x: x: expected 7, got 3"),
        "{out}"
    );
    assert!(out.ends_with("0 passed, 1 failed, 0 skipped\n"), "{out}");
}

#[test]
fn train_writes_a_model_file_and_refuses_bad_arguments() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("model.json");
    let o = kubepulse(&[
        "train",
        "--simulate",
        "--nodes",
        "2",
        "--pods",
        "30",
        "--duration",
        "20m",
        "--chaos-per-hour",
        "6",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{:?}", text(&o));
    let model =
        kubepulse_intel::model::FailureModel::from_json(&std::fs::read_to_string(&out).unwrap())
            .unwrap();
    assert!(
        model.pod.windows > 30 * 40,
        "{} pod windows",
        model.pod.windows
    );
    assert_eq!(model.pod.features.len(), model.pod.forest.n_features);
    assert!(model.trained_on.contains("seed 1;"), "{}", model.trained_on);
    // Scored on another seed: the report names both and has a table per kind.
    let report = tmp.path().join("report.md");
    let o = kubepulse(&[
        "evaluate",
        "prediction",
        "--model",
        out.to_str().unwrap(),
        "--simulate",
        "--seed",
        "2",
        "--nodes",
        "2",
        "--pods",
        "30",
        "--duration",
        "20m",
        "--out",
        report.to_str().unwrap(),
    ]);
    let (stdout, _) = text(&o);
    assert!(o.status.success(), "{:?}", text(&o));
    let written = std::fs::read_to_string(&report).unwrap();
    for part in [
        "seed 1;",
        "seed 2;",
        "## Pods",
        "## Nodes",
        "announced ≥ 1 min",
        "| KubePulse model |",
        "| threshold rules |",
        "| forest on CPU and node count |",
        "By cause and run-up",
        "Calibration",
    ] {
        assert!(stdout.contains(part), "{part} missing:\n{stdout}");
    }
    // The file has the report and the plots beside it.
    assert!(written.starts_with(&stdout), "{written}");
    for kind in ["pods", "nodes"] {
        let svg = std::fs::read_to_string(tmp.path().join(format!("report-{kind}.svg"))).unwrap();
        assert!(
            svg.starts_with("<svg") && svg.contains("<polyline"),
            "{svg}"
        );
        assert!(written.contains(&format!("(report-{kind}.svg)")));
    }
    let o = kubepulse(&[
        "evaluate",
        "prediction",
        "--model",
        report.to_str().unwrap(),
        "--simulate",
    ]);
    let (_, err) = text(&o);
    assert!(
        !o.status.success() && err.contains("not a model file"),
        "{err}"
    );
    // Neither data nor simulation, a dataset that is not one, a zero duration, a bad size.
    for args in [
        vec!["train"],
        vec!["train", "--simulate", "--pods", "16"],
        vec!["train", "--data", tmp.path().to_str().unwrap()],
        vec!["train", "--simulate", "--duration", "0s"],
        vec!["train", "--simulate", "--chaos-kinds", "meteor_strike"],
        vec!["train", "--simulate", "--nodes", "2,3", "--pods", "30"],
        vec!["train", "--simulate", "--horizon", "30s"],
        vec!["train", "--simulate", "--horizon", "soon"],
    ] {
        let o = kubepulse(&args);
        assert!(!o.status.success(), "{args:?} succeeded");
        let (_, err) = text(&o);
        assert!(
            !err.is_empty() && !err.contains("panicked"),
            "{args:?}: {err}"
        );
        if args.contains(&"--horizon") {
            assert!(err.contains("--horizon"), "{args:?}: {err}");
        }
    }
}

#[test]
fn evaluate_nab_scores_the_benchmark_and_writes_nab_results() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = kubepulse_testkit::data_dir().join("nab");
    let out = tmp.path().join("results");
    let o = kubepulse(&[
        "evaluate",
        "nab",
        dir.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let (stdout, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(stdout.contains("35 files"), "{stdout}");
    for profile in [
        "| standard |",
        "| reward_low_FP_rate |",
        "| reward_low_FN_rate |",
    ] {
        let line = stdout.lines().find(|l| l.starts_with(profile)).unwrap();
        // The NAB score, between the null detector's 0 and the perfect one's 100.
        let score: f64 = line
            .rsplit('|')
            .nth(1)
            .unwrap()
            .trim()
            .trim_matches('*')
            .parse()
            .unwrap();
        assert!((0.0..=100.0).contains(&score), "{line}");
    }
    let one = out.join("kubepulse/realKnownCause/kubepulse_machine_temperature_system_failure.csv");
    let written = std::fs::read_to_string(&one).unwrap();
    assert!(written.starts_with("timestamp,value,anomaly_score,label\n"));
    assert!(written.lines().any(|l| l.ends_with(",1")), "labelled rows");
    // A directory that is not the benchmark is refused, naming what is missing.
    let o = kubepulse(&["evaluate", "nab", tmp.path().to_str().unwrap()]);
    let (_, err) = text(&o);
    assert!(
        !o.status.success() && err.contains("combined_windows.json"),
        "{err}"
    );
}

#[test]
fn evaluate_loghub_scores_every_system_against_both_labellings() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = kubepulse_testkit::data_dir().join("loghub");
    let out = tmp.path().join("parsed");
    let o = kubepulse(&[
        "evaluate",
        "loghub",
        dir.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let (stdout, err) = text(&o);
    assert!(o.status.success(), "{err}");
    for system in [
        "HDFS",
        "Hadoop",
        "Spark",
        "BGL",
        "HPC",
        "Windows",
        "Linux",
        "HealthApp",
        "Apache",
        "OpenSSH",
    ] {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(&format!("| {system} |")))
            .unwrap_or_else(|| panic!("no row for {system}: {stdout}"));
        assert!(!line.contains("without header"), "{line}");
        // Eight scores in [0, 1]: GA, PA, FGA, FTA with the original and the corrected labels.
        let scores: Vec<f64> = line
            .split('|')
            .skip(4)
            .take(8)
            .map(|c| c.trim().parse().unwrap())
            .collect();
        assert_eq!(scores.len(), 8, "{line}");
        assert!(scores.iter().all(|s| (0.0..=1.0).contains(s)), "{line}");
        let parsed =
            std::fs::read_to_string(out.join(format!("{system}_2k.log_parsed.csv"))).unwrap();
        assert_eq!(parsed.lines().count(), 2001, "{system}");
    }
    assert!(stdout.contains("| **average** |"), "{stdout}");
    // A directory that is not the benchmark is refused, naming what is missing.
    let o = kubepulse(&["evaluate", "loghub", tmp.path().to_str().unwrap()]);
    let (_, err) = text(&o);
    assert!(!o.status.success() && err.contains("formats.json"), "{err}");
}
