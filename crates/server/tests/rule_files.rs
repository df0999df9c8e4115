//! Rule files and rule unit tests against the real promtool (Prometheus 2.42): `kubepulse test
//! rules` prints what `promtool test rules` prints and exits the same on the same test files
//! (passing and failing ones), and `kubepulse check rules` accepts and refuses the same files
//! as `promtool check rules`, naming the file, line, group and rule.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rules")
}

fn run(program: &str, args: &[&str], cwd: &Path) -> Output {
    Command::new(program)
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap_or_else(|e| panic!("{program} cannot run (install Debian's prometheus): {e}"))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn unit_tests_report_as_promtool_reports_them() {
    let mut files: Vec<String> = std::fs::read_dir(dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with("_test.yml"))
        .collect();
    files.sort();
    assert!(files.len() >= 2, "{files:?}");
    let mut outcomes = Vec::new();
    for f in &files {
        let p = run("promtool", &["test", "rules", f], &dir());
        let k = run(
            env!("CARGO_BIN_EXE_kubepulse"),
            &["test", "rules", f],
            &dir(),
        );
        assert_eq!(text(&k.stdout), text(&p.stdout), "stdout of {f}");
        assert_eq!(text(&k.stderr), text(&p.stderr), "stderr of {f}");
        assert_eq!(k.status.code(), p.status.code(), "exit code of {f}");
        outcomes.push(p.status.success());
    }
    // The set holds passing and failing test files, so both paths are compared.
    assert!(outcomes.contains(&true) && outcomes.contains(&false));
}

#[test]
fn check_rules_accepts_and_refuses_what_promtool_does() {
    let good = ["kubernetes.yml"];
    for f in good {
        let p = run("promtool", &["check", "rules", f], &dir());
        let k = run(
            env!("CARGO_BIN_EXE_kubepulse"),
            &["check", "rules", f],
            &dir(),
        );
        assert!(p.status.success(), "{}", text(&p.stderr));
        assert!(k.status.success(), "{}", text(&k.stderr));
        assert_eq!(text(&k.stdout), text(&p.stdout));
    }
    let bad = dir().join("bad");
    let mut n = 0;
    for e in std::fs::read_dir(&bad).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        let p = run("promtool", &["check", "rules", &name], &bad);
        let k = run(
            env!("CARGO_BIN_EXE_kubepulse"),
            &["check", "rules", &name],
            &bad,
        );
        assert!(!p.status.success(), "promtool accepted {name}");
        assert_eq!(k.status.code(), Some(1), "{name}: {}", text(&k.stdout));
        let err = text(&k.stderr);
        assert!(err.contains(&format!("{name}:")), "{name}: {err}");
        n += 1;
    }
    assert!(n >= 10);
}

#[test]
fn built_in_rule_pack_passes_promtool() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run(
        env!("CARGO_BIN_EXE_kubepulse"),
        &["config", "rules"],
        tmp.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let f = tmp.path().join("builtin.yml");
    std::fs::write(&f, &out.stdout).unwrap();
    let p = run("promtool", &["check", "rules", "builtin.yml"], tmp.path());
    assert!(p.status.success(), "{}{}", text(&p.stdout), text(&p.stderr));
}
