//! `cargo xtask fuzz`: each coverage-guided target in `fuzz/` for
//! `FUZZ_SECS` seconds (default 600), then a table of executions, coverage
//! and crashes. cargo-fuzz is built from crates.io at a pinned version.
//! Sanitizer `none` keeps to the stable toolchain: the code under test is
//! safe Rust, and the fuzz build keeps debug assertions and overflow checks.
//!
//! New inputs go to `target/fuzz/corpus/<target>`; the committed seeds in
//! `fuzz/seeds/<target>` are only read. A crash is saved under
//! `target/fuzz/artifacts/<target>/`; once fixed, copy it into the seeds, and
//! the server's unit test `the_seed_corpora_pass_every_invariant` keeps it
//! fixed in CI.

use std::{
    collections::HashSet,
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{Result, bail};

use crate::cmd;

const VERSION: &str = "0.13.2";
pub const TARGETS: [&str; 4] = ["host_token", "qsh", "lifecycle_payload", "session_token"];

pub fn run(only: &[String]) -> Result<()> {
    let secs = std::env::var("FUZZ_SECS").unwrap_or_else(|_| "600".into());
    let cargo_fuzz = binary()?;
    let targets: Vec<&str> = TARGETS.into_iter().filter(|t| only.is_empty() || only.iter().any(|o| o == t)).collect();
    if targets.is_empty() {
        bail!("no such fuzz target; the targets are {TARGETS:?}");
    }
    let mut rows = Vec::new();
    for target in targets {
        rows.push(fuzz_one(&cargo_fuzz, target, &secs)?);
    }
    println!("\n| target | executions | exec/s | coverage (edges) | features | corpus | new findings |");
    println!("|---|---|---|---|---|---|---|");
    for row in &rows {
        println!("| {} |", row.join(" | "));
    }
    let crashed: Vec<&str> = rows.iter().filter(|r| r[6] != "0").map(|r| r[0].as_str()).collect();
    if !crashed.is_empty() {
        bail!("new findings in {crashed:?}: see target/fuzz/artifacts/");
    }
    Ok(())
}

/// Runs one target and returns its row of the table.
fn fuzz_one(cargo_fuzz: &PathBuf, target: &str, secs: &str) -> Result<Vec<String>> {
    let corpus = PathBuf::from(format!("target/fuzz/corpus/{target}"));
    let artifacts = PathBuf::from(format!("target/fuzz/artifacts/{target}"));
    let log = PathBuf::from(format!("target/fuzz/logs/{target}.log"));
    for dir in [&corpus, &artifacts, &PathBuf::from("target/fuzz/logs")] {
        std::fs::create_dir_all(dir)?;
    }
    let before = findings(&artifacts)?;
    eprintln!("xtask: fuzzing {target} for {secs} s (log: {})", log.display());
    let status = Command::new(cargo_fuzz)
        .args(["fuzz", "run", "--fuzz-dir", "fuzz", "--target-dir", "target/fuzz", "-s", "none", target])
        .arg(&corpus)
        .arg(format!("fuzz/seeds/{target}"))
        .args(["--", &format!("-max_total_time={secs}"), "-print_final_stats=1"])
        .arg(format!("-artifact_prefix={}/", artifacts.display()))
        .stderr(std::fs::File::create(&log)?)
        .status()?;
    let text = std::fs::read_to_string(&log)?;
    let crashes = findings(&artifacts)?.difference(&before).count();
    if !status.success() && crashes == 0 {
        bail!("cargo fuzz run {target} failed ({status}) without a new finding; see {}", log.display());
    }
    Ok(row(target, &text, crashes))
}

/// The crashes, timeouts and out-of-memory inputs saved in `artifacts`
/// (libFuzzer's `slow-unit-` files are not failures).
fn findings(artifacts: &Path) -> Result<HashSet<PathBuf>> {
    let names = ["crash-", "timeout-", "oom-", "leak-"];
    let entries = std::fs::read_dir(artifacts)?.filter_map(|e| e.ok().map(|e| e.path()));
    let found = entries
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| names.iter().any(|k| n.starts_with(k))));
    Ok(found.collect())
}

/// The figures libFuzzer prints at the end of a run.
fn row(target: &str, log: &str, crashes: usize) -> Vec<String> {
    let stat = |name: &str| {
        log.lines().find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_string())).unwrap_or_else(|| "?".into())
    };
    let last = log.lines().rev().find(|l| l.starts_with('#') && l.contains(" cov: ")).unwrap_or("");
    let field = |name: &str| {
        let mut words = last.split_whitespace();
        words.find(|w| *w == name).and_then(|_| words.next()).unwrap_or("?").to_string()
    };
    vec![
        target.to_string(),
        stat("stat::number_of_executed_units:"),
        stat("stat::average_exec_per_sec:"),
        field("cov:"),
        field("ft:"),
        field("corp:"),
        crashes.to_string(),
    ]
}

/// cargo-fuzz from PATH if it is the pinned version, else built once from
/// crates.io into a folder named after that version.
fn binary() -> Result<PathBuf> {
    if cmd::output("cargo-fuzz", &["--version"]).is_some_and(|v| v.contains(VERSION)) {
        return Ok("cargo-fuzz".into());
    }
    let root = PathBuf::from(format!("target/tools/cargo-fuzz-{VERSION}"));
    let built = root.join("bin/cargo-fuzz");
    if !built.exists() {
        eprintln!("xtask: building cargo-fuzz {VERSION} from crates.io (once)");
        let root_arg = root.display().to_string();
        cmd::cargo(&["install", "cargo-fuzz", "--version", VERSION, "--locked", "--root", &root_arg])?;
    }
    Ok(built)
}
