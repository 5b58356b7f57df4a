//! One-time set-up done for the user: the wasm target and the Debian
//! packages the tests need. Each step checks first and does nothing when the
//! machine already has what it needs.

use std::path::Path;

use anyhow::{Result, bail};

use crate::cmd;

pub fn wasm_target() -> Result<()> {
    let sysroot = cmd::output("rustc", &["--print", "sysroot"]).unwrap_or_default();
    if Path::new(sysroot.trim()).join("lib/rustlib/wasm32-unknown-unknown").exists() {
        return Ok(());
    }
    eprintln!("xtask: adding the wasm32-unknown-unknown target (once)");
    cmd::status(std::process::Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))
}

/// Chromium and its driver (browser tests), PostgreSQL (storage tests),
/// pip (to fetch the prebuilt cargo-audit), openssl (the TLS test's client),
/// and node with npm (the Forge manifest's schema check).
pub fn test_packages() -> Result<()> {
    let wanted = [
        ("chromium", chromium().is_some()),
        ("chromium-driver", chromedriver().is_some()),
        ("postgresql", crate::postgres::bin_dir().is_some()),
        ("python3-pip", cmd::output("python3", &["-m", "pip", "--version"]).is_some()),
        ("openssl", cmd::output("openssl", &["version"]).is_some()),
        ("nodejs", cmd::output("node", &["--version"]).is_some()),
        ("npm", cmd::output("npm", &["--version"]).is_some()),
    ];
    apt_install(&wanted, "the tests")?;
    if chromium().is_none() || chromedriver().is_none() || crate::postgres::bin_dir().is_none() {
        bail!("apt-get finished but chromium, chromedriver or PostgreSQL is still missing");
    }
    Ok(())
}

pub fn chromium() -> Option<&'static str> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"].into_iter().find(|p| Path::new(p).exists())
}

pub fn chromedriver() -> Option<&'static str> {
    ["/usr/bin/chromedriver"].into_iter().find(|p| Path::new(p).exists())
}

/// node and npm, for the Custom UI build (`cargo xtask forge-ui`, `build`, `dev`).
pub fn node() -> Result<()> {
    let wanted = [
        ("nodejs", cmd::output("node", &["--version"]).is_some()),
        ("npm", cmd::output("npm", &["--version"]).is_some()),
    ];
    apt_install(&wanted, "the Custom UI build")
}

/// Installs the Debian packages of `wanted` that are not present yet.
fn apt_install(wanted: &[(&str, bool)], for_what: &str) -> Result<()> {
    let missing: Vec<&str> = wanted.iter().filter(|(_, present)| !present).map(|(name, _)| *name).collect();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!("xtask: installing Debian packages for {for_what}: {}", missing.join(" "));
    cmd::status(cmd::privileged("apt-get").arg("update").arg("-q"))?;
    cmd::status(
        cmd::privileged("apt-get")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(["install", "-y", "-q"])
            .args(&missing),
    )
}

/// The pinned `@forge/manifest` schema and validators (from npm, once;
/// offline after that): `tools/forge-manifest`, as its lock file says.
pub fn forge_manifest_tools() -> Result<()> {
    let dir = Path::new("tools/forge-manifest");
    // `tslib` came later (the validators need it and @forge/manifest does not declare it): a checkout that
    // installed before it installs again.
    let installed = ["@forge/manifest/out/schema/manifest-schema.json", "tslib/package.json", "yaml/package.json"];
    if installed.iter().all(|file| dir.join("node_modules").join(file).exists()) {
        return Ok(());
    }
    eprintln!("xtask: installing the Forge manifest schema from npm (once)");
    cmd::status(std::process::Command::new("npm").args(["ci", "--no-audit", "--no-fund"]).current_dir(dir))
}
