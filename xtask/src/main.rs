//! `cargo xtask <command>`: the project's build driver. It needs only cargo:
//! the wasm bundle is built with wasm-bindgen used as a library (at exactly
//! the version in Cargo.lock), and every other tool comes from apt or PyPI.
//!
//!   serve   build the site and run the server (profile `serve`: optimised,
//!           without the fat LTO) on 127.0.0.1:3000
//!   dev     the app plus a fake Jira/Confluence on loopback (no cloud site needed)
//!   build   build the site and the server (profile `serve`); with `--dist`,
//!           the release server (fat LTO, one codegen unit) to ship or measure
//!   site    build only the wasm/JS/CSS bundle into target/site/pkg
//!   forge-ui  the site, then the Forge Custom UI resource in target/forge/ui
//!   test    install what tests need, check formatting, lints and import
//!           cycles, audit Cargo.lock, run every test (SQLite, PostgreSQL,
//!           headless Chromium)
//!   audit   only the dependency audit of `test`
//!   cycles  only the import-cycle check of `test`
//!   citations  only the check that cited threat ids are explained
//!   bench   load figures against the release server on loopback, then the
//!           side-by-side table against ACE (by hand, not CI); `bench queue`:
//!           only the webhook queue's acknowledged and processed rates
//!   soak    200 `kill -9`s on each database and a PostgreSQL outage under
//!           load, with their figures (by hand, not CI)
//!   new-app  a new app from this project in a folder of its own: its key,
//!           name, vendor and product (`--key --name --vendor --product --into`)
//!   fuzz    each fuzz target for 10 minutes (`FUZZ_SECS`), or only the
//!           targets named, with executions, coverage and crashes (by hand)

mod audit;
mod citations;
mod cmd;
mod cycles;
mod dev;
mod forge_ui;
mod fuzz;
mod new_app;
mod postgres;
mod prereqs;
mod proof_refs;
mod side_by_side;
mod site;
mod sources;
mod widths;

use anyhow::{Result, bail};

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> Result<()> {
    cmd::go_to_workspace_root()?;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (command, rest) = args.split_first().map(|(c, r)| (c.as_str(), r)).unwrap_or(("help", &[]));
    match command {
        "site" => {
            prereqs::wasm_target()?;
            site::build(site::profile())
        }
        "forge-ui" => {
            prereqs::wasm_target()?;
            site::build(site::profile())?;
            forge_ui::build()
        }
        "build" => {
            prereqs::wasm_target()?;
            site::build(site::profile())?;
            forge_ui::build()?;
            match rest.iter().any(|a| a == "--dist") {
                true => cmd::cargo(&["build", "-p", "server", "--release"]),
                false => cmd::cargo(&["build", "-p", "server", "--profile", "serve"]),
            }
        }
        "serve" => {
            prereqs::wasm_target()?;
            site::build(site::profile())?;
            cmd::cargo_with_args(&["run", "-p", "server", "--profile", "serve", "--"], rest)
        }
        "test" => test(rest),
        "hygiene" => hygiene(),
        "audit" => audit::run(),
        "cycles" => cycles::check(),
        "citations" => citations::check(),
        "dev" => dev::run(),
        "new-app" => new_app::run(rest),
        "bench" => {
            let queue_only = rest.first().is_some_and(|a| a == "queue");
            prereqs::wasm_target()?;
            site::build(site::profile())?;
            cmd::cargo(&["build", "-p", "server", "--release"])?;
            // The webhook figures are measured on SQLite and on a throwaway PostgreSQL cluster.
            let cluster = postgres::Cluster::start()?;
            let mut args =
                vec!["run", "-p", "hostkit", "--release", "--example", "bench", "--", "target/release/server"];
            args.extend(queue_only.then_some("queue"));
            let result = cmd::cargo_env(&args, &[("BENCH_POSTGRES_URL", cluster.url())]);
            drop(cluster);
            result?;
            match queue_only {
                true => Ok(()),
                false => side_by_side::run(bench_runs()),
            }
        }
        "soak" => soak(),
        "fuzz" => fuzz::run(rest),
        "help" | "-h" | "--help" => {
            println!("usage: cargo xtask <command> [args]");
            println!("commands: serve dev build [--dist] site forge-ui test hygiene audit cycles citations");
            println!("          bench [queue] soak fuzz");
            println!("          {}", new_app::USAGE.trim_start_matches("cargo xtask "));
            Ok(())
        }
        other => bail!("unknown command {other:?}; try cargo xtask help"),
    }
}

/// How many side-by-side runs `bench` makes (`BENCH_RUNS`, default 2).
fn bench_runs() -> usize {
    std::env::var("BENCH_RUNS").ok().and_then(|n| n.parse().ok()).unwrap_or(2)
}

/// The README's test command: everything CI runs, nothing less.
fn test(extra: &[String]) -> Result<()> {
    prereqs::wasm_target()?;
    prereqs::test_packages()?;
    prereqs::forge_manifest_tools()?;
    hygiene()?;
    audit::run()?;
    site::build(site::profile())?;
    forge_ui::build()?;
    let cluster = postgres::Cluster::start()?;
    // Extra arguments go to cargo; anything after their own `--` goes to
    // the test runner, beside --include-ignored.
    let split = extra.iter().position(|a| a == "--").unwrap_or(extra.len());
    let mut args = vec!["test", "--workspace", "--exclude", "frontend"];
    args.extend(extra[..split].iter().map(String::as_str));
    args.extend(["--", "--include-ignored"]);
    args.extend(extra[split..].iter().skip(1).map(String::as_str));
    let result = cmd::cargo_env(&args, &[("TEST_POSTGRES_URL", cluster.url())]);
    drop(cluster);
    result?;
    new_app::smoke()
}

/// The crash and outage tests at length (`SOAK_ITERATIONS`, default 200),
/// one at a time, printing what they counted.
fn soak() -> Result<()> {
    prereqs::wasm_target()?;
    site::build(site::profile())?;
    let cluster = postgres::Cluster::start()?;
    let iterations = std::env::var("SOAK_ITERATIONS").unwrap_or_else(|_| "200".into());
    let args =
        ["test", "-p", "server", "--test", "it", "--", "--include-ignored", "--nocapture", "--test-threads", "1"];
    let mut args = args.to_vec();
    args.extend(["crash_safety", "database_faults"]);
    let result = cmd::cargo_env(&args, &[("TEST_POSTGRES_URL", cluster.url()), ("SOAK_ITERATIONS", &iterations)]);
    drop(cluster);
    result
}

/// The gate before any test: formatted (`rustfmt.toml`, 120 columns even
/// where rustfmt cannot wrap), lint-free on both
/// targets (the browser build compiles code the server build does not), no
/// import cycles between modules, every cited threat id explained and every
/// test the threat model names as a proof there.
fn hygiene() -> Result<()> {
    cmd::cargo(&["fmt", "--all", "--check"])?;
    widths::check()?;
    cmd::cargo(&["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"])?;
    cmd::cargo(&["clippy", "-p", "frontend", "--target", "wasm32-unknown-unknown", "--", "-D", "warnings"])?;
    cycles::check()?;
    citations::check()?;
    proof_refs::check()
}
