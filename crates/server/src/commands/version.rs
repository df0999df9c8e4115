//! `kubepulse version`.

use std::process::ExitCode;

/// Prints the version, the commit and the compiler it was built with.
pub fn run() -> anyhow::Result<ExitCode> {
    super::out(&text())
}

/// The version text.
pub fn text() -> String {
    format!(
        "kubepulse {}\n  commit:   {}\n  rustc:    {}\n  target:   {}-{}",
        env!("CARGO_PKG_VERSION"),
        option_env!("KUBEPULSE_GIT_COMMIT").unwrap_or("unknown"),
        option_env!("KUBEPULSE_RUSTC").unwrap_or("unknown"),
        std::env::consts::ARCH,
        std::env::consts::OS,
    )
}
