//! `fakehost`: a fake Jira and Confluence for developing the app with no
//! cloud site (`cargo xtask dev` starts it beside the app). It serves its
//! install key, installs the app into two sites with a real signed install,
//! and serves a control panel at http://localhost:3100/.
//!
//! Environment: FAKEHOST_ADDR (127.0.0.1:3100), FAKEHOST_KEYS_ADDR
//! (127.0.0.1:3101), APP_BASE_URL (http://127.0.0.1:3000), APP_KEY
//! (rust-connect-app), FAKEHOST_STATE (data/fakehost.json).

use std::{sync::Arc, time::Duration};

use hostkit::{FakeHost, Host, KeyServer};

fn var(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

#[tokio::main]
async fn main() {
    let app_base_url = var("APP_BASE_URL", "http://127.0.0.1:3000");
    let key_server = KeyServer::start_on(&var("FAKEHOST_KEYS_ADDR", "127.0.0.1:3101")).await;
    let host = Arc::new(Host::with_key_server(&app_base_url, &var("APP_KEY", "rust-connect-app"), key_server));
    let state_file = Some(std::path::PathBuf::from(var("FAKEHOST_STATE", "data/fakehost.json")));
    let fake = FakeHost::start_on(&var("FAKEHOST_ADDR", "127.0.0.1:3100"), host.clone(), state_file).await;
    if fake.load() == 0 {
        fake.add_site("acme", "jira");
        fake.add_site("docs", "confluence");
        for site in ["acme", "docs"] {
            fake.add_user(site, "admin", "Ada Admin", true);
            fake.add_user(site, "user", "Uma User", false);
        }
    }
    if !wait_for_app(&app_base_url).await {
        eprintln!(
            "fakehost: the app at {app_base_url} did not answer /healthz; install from the control panel once it runs"
        );
    }
    for site in fake.installed_sites() {
        if let Some(tenant) = fake.tenant(&site) {
            let status = host.install(&tenant).await.status();
            println!("fakehost: installed the app into {site} ({}) → {status}", tenant.base_url);
        }
    }
    println!("fakehost: control panel at {}/ (key server {})", fake.url, host.key_server.url());
    let _ = tokio::signal::ctrl_c().await;
}

async fn wait_for_app(base_url: &str) -> bool {
    let http = reqwest::Client::new();
    for _ in 0..600 {
        if http.get(format!("{base_url}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}
