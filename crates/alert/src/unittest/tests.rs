use super::*;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const RULES: &str = r#"groups:
  - name: g
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
      - alert: Down
        expr: up == 0
        for: 2m
        labels:
          severity: page
        annotations:
          summary: "{{ $labels.instance }} down"
"#;

#[test]
fn passing_and_failing_tests() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "rules.yml", RULES);
    let ok = write(
        dir.path(),
        "ok_test.yml",
        r#"rule_files: [rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'up{job="a", instance="i"}'
        values: '1 0 0 0 0'
    alert_rule_test:
      - eval_time: 2m
        alertname: Down
      - eval_time: 3m
        alertname: Down
        exp_alerts:
          - exp_labels: {severity: page, job: a, instance: i}
            exp_annotations: {summary: i down}
    promql_expr_test:
      - expr: job:up:sum
        eval_time: 4m
        exp_samples:
          - labels: 'job:up:sum{job="a"}'
            value: 0
"#,
    );
    assert_eq!(run_file(&ok), Ok(()));
    let bad = write(
        dir.path(),
        "bad_test.yml",
        r#"rule_files: [rules.yml]
tests:
  - interval: 1m
    input_series:
      - series: 'up{job="a", instance="i"}'
        values: '0x5'
    alert_rule_test:
      - eval_time: 1m
        alertname: Down
        exp_alerts: [{}]
"#,
    );
    let errs = run_file(&bad).unwrap_err();
    assert_eq!(errs.len(), 1);
    assert!(
        errs[0].starts_with("    alertname: Down, time: 1m, \n        exp:[\n"),
        "{}",
        errs[0]
    );
    assert!(errs[0].ends_with("got:[]"), "{}", errs[0]);
}

#[test]
fn a_group_without_interval_loads_every_sample_at_time_zero() {
    let dir = tempfile::tempdir().unwrap();
    let t = write(
        dir.path(),
        "t.yml",
        r#"tests:
  - input_series:
      - series: 'x'
        values: '5 6 7'
    promql_expr_test:
      - expr: x
        eval_time: 2m
        exp_samples: [{labels: 'x', value: 5}]
      - expr: x
        eval_time: 6m
"#,
    );
    assert_eq!(run_file(&t), Ok(()));
}

#[test]
fn broken_files_are_reported_not_panicked_on() {
    let dir = tempfile::tempdir().unwrap();
    let t = write(dir.path(), "t.yml", "tests: [ {\n");
    assert!(run_file(&t).is_err());
    let t = write(
        dir.path(),
        "u.yml",
        "rule_files: [missing.yml]\ntests: [{}]\n",
    );
    let e = run_file(&t).unwrap_err();
    assert!(e[0].contains("missing.yml"), "{e:?}");
    let t = write(
        dir.path(),
        "v.yml",
        "tests:\n  - alert_rule_test:\n      - eval_time: 1m\n",
    );
    let e = run_file(&t).unwrap_err();
    assert!(
        e[0].contains("misses required attribute alertname"),
        "{e:?}"
    );
}
