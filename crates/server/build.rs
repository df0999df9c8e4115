//! Records the commit, its date and the compiler for `kubepulse version` and the API's
//! build information.

use std::process::Command;

fn main() {
    let run = |cmd: &str, args: &[&str]| {
        Command::new(cmd)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .map(|s| s.trim().to_string())
    };
    if let Some(c) = run("git", &["rev-parse", "--short=12", "HEAD"]) {
        println!("cargo:rustc-env=KUBEPULSE_GIT_COMMIT={c}");
    }
    // The commit's date, so that a build of one commit always reports the same date.
    if let Some(d) = run(
        "git",
        &["log", "-1", "--format=%cd", "--date=format:%Y%m%d-%H:%M:%S"],
    ) {
        println!("cargo:rustc-env=KUBEPULSE_BUILD_DATE={d}");
    }
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    if let Some(v) = run(&rustc, &["--version"]) {
        println!("cargo:rustc-env=KUBEPULSE_RUSTC={v}");
    }
    println!("cargo:rerun-if-changed=../../.git/HEAD");
    println!("cargo:rerun-if-changed=../../.git/refs/heads");
}
