//! `cargo xtask dev`: the app and a fake Jira/Confluence on loopback, wired
//! together, so development needs no cloud site. The fake host installs the
//! app with a real signed install and serves a control panel at
//! http://localhost:3100/. The operator console at
//! http://127.0.0.1:3000/console accepts `operator` / `dev-operator-password`
//! unless OPERATOR_USER is set. The fake host plays Forge as well (JWKS on
//! :3102, product API on :3103): its panel moves a site onto Forge, and
//! its site `nova` is Forge-native (installed through Forge alone), and its
//! Custom UI pages frame `target/forge/ui` from the fake Forge CDN on :3104.
//! Ctrl-C stops both.

use std::{
    io::Write,
    process::{Child, Command, Stdio},
};

use anyhow::{Context, Result};

use crate::{cmd, forge_ui, prereqs, site};

const APP: &str = "http://127.0.0.1:3000";
const FAKE_HOST: &str = "http://localhost:3100";
const DEV_OPERATOR_PASSWORD: &str = "dev-operator-password";
/// The same id the fake host's Forge side signs FITs for.
const DEV_FORGE_APP_ID: &str = "ari:cloud:ecosystem::app/00000000-0000-4000-8000-000000000de7";

pub fn run() -> Result<()> {
    prereqs::wasm_target()?;
    site::build(site::profile())?;
    forge_ui::build()?;
    cmd::cargo(&["build", "-p", "server", "-p", "hostkit", "--bin", "server", "--bin", "fakehost"])?;
    let manifest = write_native_manifest()?;
    let mut app_env: Vec<(String, String)> = vec![
        ("APP_BASE_URL".into(), APP.into()),
        ("LEPTOS_SITE_ADDR".into(), "127.0.0.1:3000".into()),
        ("CONNECT_KEYS_CDN_URL".into(), "http://127.0.0.1:3101".into()),
        ("CONNECT_ALL_JS_URL".into(), format!("{FAKE_HOST}/all.js")),
        ("CONNECT_HOST_ALLOWLIST".into(), "http://localhost:3100,https://*.atlassian.net,https://*.jira.com".into()),
        ("CONNECT_FRAME_ANCESTORS".into(), format!("{FAKE_HOST} https://*.atlassian.net https://*.jira.com")),
        // The fake host plays Forge too: its JWKS signs the FITs, its product API takes the tokens.
        ("FORGE_APP_ID".into(), DEV_FORGE_APP_ID.into()),
        ("FORGE_JWKS_URL".into(), "http://127.0.0.1:3102/.well-known/jwks.json".into()),
        ("FORGE_API_BASE_ALLOWLIST".into(), "http://127.0.0.1:3103".into()),
        ("FORGE_GRAPHQL_URL".into(), "http://127.0.0.1:3103/graphql".into()),
        // Its product page calls the app's API from the browser, as a Forge site's does.
        ("FORGE_PAGE_ORIGINS".into(), FAKE_HOST.into()),
        ("METRICS_ADDR".into(), "127.0.0.1:9464".into()),
    ];
    if std::env::var_os("OPERATOR_USER").is_none() {
        app_env.push(("OPERATOR_USER".into(), "operator".into()));
        app_env.push(("OPERATOR_PASSWORD_HASH".into(), dev_operator_hash()?));
    }
    let mut app = Command::new("target/debug/server").envs(app_env).spawn().context("starting the app")?;
    let mut fake = Command::new("target/debug/fakehost")
        .env("APP_BASE_URL", APP)
        .env("FAKEHOST_FORGE_MANIFEST", manifest)
        .spawn()
        .context("starting the fake host")?;
    eprintln!("\nxtask: app on {APP} · fake host control panel on {FAKE_HOST}/ · operator console on {APP}/console");
    eprintln!("xtask: metrics on http://127.0.0.1:9464/metrics");
    eprintln!("xtask: operator console login (dev only): operator / {DEV_OPERATOR_PASSWORD}. Ctrl-C stops both.\n");
    let first = wait_any(&mut app, &mut fake);
    let _ = app.kill();
    let _ = fake.kill();
    let _ = app.wait();
    let _ = fake.wait();
    first
}

/// The Forge-native manifest, as JSON, for the fake host's Custom UI policy.
fn write_native_manifest() -> Result<&'static str> {
    const PATH: &str = "target/forge/manifest.json";
    let output = Command::new("target/debug/server")
        .args(["forge-manifest", "--native", "--json"])
        .env("APP_BASE_URL", APP)
        .env("FORGE_APP_ID", DEV_FORGE_APP_ID)
        .output()
        .context("server forge-manifest")?;
    anyhow::ensure!(output.status.success(), "server forge-manifest: {}", String::from_utf8_lossy(&output.stderr));
    std::fs::write(PATH, output.stdout)?;
    Ok(PATH)
}

/// Hashes the dev operator password with the server's own command.
fn dev_operator_hash() -> Result<String> {
    let mut child = Command::new("target/debug/server")
        .args(["create-operator", "--name", "operator"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    child.stdin.take().context("stdin")?.write_all(format!("{DEV_OPERATOR_PASSWORD}\n").as_bytes())?;
    let output = child.wait_with_output()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text.lines().find_map(|l| l.strip_prefix("OPERATOR_PASSWORD_HASH=")).context("no hash printed")?;
    Ok(line.trim_matches('\'').to_string())
}

/// Waits until either child exits (Ctrl-C reaches both).
fn wait_any(a: &mut Child, b: &mut Child) -> Result<()> {
    loop {
        if let Some(status) = a.try_wait()? {
            eprintln!("xtask: the app exited ({status})");
            return Ok(());
        }
        if let Some(status) = b.try_wait()? {
            eprintln!("xtask: the fake host exited ({status})");
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}
