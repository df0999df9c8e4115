use super::*;

const GOOD: &str = r#"groups:
  - name: a
    interval: 30s
    limit: 10
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
        labels:
          team: core
      - alert: Down
        expr: up == 0
        for: 5m
        keep_firing_for: 1m
        annotations:
          summary: "{{ $labels.job }} is down"
  - name: b
    rules: []
"#;

#[test]
fn a_valid_file_loads_with_its_lines() {
    let g = parse("r.yml", GOOD).unwrap();
    assert_eq!(g.len(), 2);
    assert_eq!(g[0].interval, Some(30_000));
    assert_eq!(g[0].limit, 10);
    assert_eq!(g[0].rules[0].line, 6);
    assert_eq!(g[0].rules[1].line, 10);
    assert!(matches!(
        &g[0].rules[1].kind,
        RuleKind::Alerting {
            hold: 300_000,
            keep_firing_for: 60_000,
            ..
        }
    ));
    assert_eq!(g[1].interval, None);
    assert!(parse("empty.yml", "").unwrap().is_empty());
}

fn errors(src: &str) -> Vec<String> {
    parse("r.yml", src)
        .unwrap_err()
        .0
        .iter()
        .map(|e| e.to_string())
        .collect()
}

#[test]
fn every_problem_is_named_with_file_line_group_and_rule() {
    let src = r#"groups:
  - name: a
    rules:
      - record: ok
        expr: up
      - record: "bad name"
        expr: sum(
        for: 1m
      - alert: X
        expr: up
        labels:
          "bad-label": x
        annotations:
          s: "{{ nosuch }}"
"#;
    let e = errors(src);
    assert_eq!(e.len(), 5, "{e:#?}");
    assert!(
        e[0].starts_with(r#"r.yml:6: group "a", rule 2 ("bad name"): could not parse expression"#),
        "{}",
        e[0]
    );
    assert!(
        e.iter()
            .any(|m| m.ends_with("invalid recording rule name: bad name"))
    );
    assert!(
        e.iter()
            .any(|m| m.ends_with("invalid field 'for' in recording rule"))
    );
    assert!(e.iter().any(|m| {
        m.starts_with(r#"r.yml:9: group "a", rule 3 ("X"): invalid label name: bad-label"#)
    }));
    assert!(e.iter().any(|m| {
        m.contains(r#"annotation "s": template: __alert_X:1: function "nosuch" not defined"#)
    }));
}

#[test]
fn structure_errors_name_the_key() {
    let e = errors(
        "groups:\n  - name: a\n    rules:\n      - alert: X\n        expr: up\n        severity: page\n",
    );
    assert!(
        e[0].starts_with("r.yml:6: groups[0].rules[0].severity: unknown field"),
        "{}",
        e[0]
    );
    let e = errors("groups:\n  - name: a\n  - name: a\n");
    assert_eq!(
        e,
        vec![r#"r.yml:3: group "a": group name is repeated in the same file"#]
    );
    let e = errors("groups:\n  - name: a\n    interval: 0s\n");
    assert!(e[0].ends_with("interval must be greater than zero"));
}

#[test]
fn expand_matches_wildcards_in_file_names() {
    let dir = tempfile::tempdir().unwrap();
    for n in ["a.yml", "b.yml", "c.yaml"] {
        std::fs::write(dir.path().join(n), "").unwrap();
    }
    let got = expand(&[dir.path().join("*.yml"), dir.path().join("c.yaml")]).unwrap();
    let names: Vec<_> = got
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["a.yml", "b.yml", "c.yaml"]);
}

proptest::proptest! {
    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,300}") {
        let _ = parse("p.yml", &s);
    }

    #[test]
    fn arbitrary_rule_fields_never_panic(
        name in "[a-zA-Z_ :-]{0,12}",
        expr in "[a-z(){}=~\"0-9 +*/]{0,30}",
        ann in "[{}$. a-z|\"]{0,30}",
    ) {
        let src = format!(
            "groups:\n  - name: g\n    rules:\n      - alert: {name:?}\n        expr: {expr:?}\n        annotations:\n          a: {ann:?}\n"
        );
        let _ = parse("p.yml", &src);
    }
}
