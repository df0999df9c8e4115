//! Every eval of Prometheus' PromQL test scripts (shared benchmark data) that uses only float
//! samples passes against KubePulse's engine, in instant and range mode.

use kubepulse_query::Engine;
use kubepulse_query::promqltest::run;

#[test]
fn prometheus_promql_scripts_pass() {
    let dir = kubepulse_testkit::data_dir().join("promqltest");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "test"))
        .collect();
    files.sort();
    let engine = Engine::default();
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    let mut lines = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let r = run(&text, &engine).unwrap();
        passed += r.passed;
        skipped += r.skipped;
        failed += r.failures.len();
        for (line, why) in &r.failures {
            lines.push(format!(
                "{}:{line}: {why}",
                f.file_name().unwrap().to_string_lossy()
            ));
        }
    }
    for l in &lines {
        println!("{l}");
    }
    println!("{passed} passed, {failed} failed, {skipped} skipped");
    assert!(files.len() >= 12);
    assert_eq!(failed, 0, "{}", lines.join("\n"));
}
