//! Records the commit and compiler for `kubepulse version`.

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
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    if let Some(v) = run(&rustc, &["--version"]) {
        println!("cargo:rustc-env=KUBEPULSE_RUSTC={v}");
    }
    println!("cargo:rerun-if-changed=../../.git/HEAD");
    println!("cargo:rerun-if-changed=../../.git/refs/heads");
}
