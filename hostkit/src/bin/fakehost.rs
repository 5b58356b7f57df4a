//! `fakehost`: a fake Jira and Confluence for developing the app with no
//! cloud site (`cargo xtask dev` starts it beside the app). It serves its
//! install key, installs the app into two sites with a real signed install,
//! and serves a control panel at http://localhost:3100/.
//!
//! It plays Forge too: a JWKS that signs FITs, and the product API that
//! Forge tokens call; the control panel moves a site onto Forge. A third
//! site, `nova`, is Forge-native: the app is installed there through Forge
//! alone, as a new Forge app is.
//!
//! Environment: FAKEHOST_ADDR (127.0.0.1:3100), FAKEHOST_KEYS_ADDR
//! (127.0.0.1:3101), FAKEHOST_FORGE_JWKS_ADDR (127.0.0.1:3102),
//! FAKEHOST_PRODUCT_API_ADDR (127.0.0.1:3103), FAKEHOST_FORGE_CDN_ADDR
//! (127.0.0.1:3104, the Custom UI's origin), FAKEHOST_FORGE_MANIFEST (the
//! manifest JSON whose CSP it serves the Custom UI with), APP_BASE_URL
//! (http://127.0.0.1:3000), APP_KEY (rust-connect-app), FORGE_APP_ID (the dev
//! app id below), FAKEHOST_STATE (data/fakehost.json).

use std::{sync::Arc, time::Duration};

use hostkit::{FakeHost, ForgeJwks, Host, KeyServer, ProductApi, fake_host::ForgeSide};

/// The Forge app id of the dev loop (`cargo xtask dev` gives the app the same).
const DEV_FORGE_APP_ID: &str = "ari:cloud:ecosystem::app/00000000-0000-4000-8000-000000000de7";

fn var(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

#[tokio::main]
async fn main() {
    let app_base_url = var("APP_BASE_URL", "http://127.0.0.1:3000");
    let key_server = KeyServer::start_on(&var("FAKEHOST_KEYS_ADDR", "127.0.0.1:3101")).await;
    let host = Arc::new(Host::with_key_server(&app_base_url, &var("APP_KEY", "rust-connect-app"), key_server));
    let state_file = Some(std::path::PathBuf::from(var("FAKEHOST_STATE", "data/fakehost.json")));
    let forge = ForgeSide {
        jwks: ForgeJwks::start_on(&var("FAKEHOST_FORGE_JWKS_ADDR", "127.0.0.1:3102")).await,
        api: ProductApi::start_on(&var("FAKEHOST_PRODUCT_API_ADDR", "127.0.0.1:3103")).await,
        app_id: var("FORGE_APP_ID", DEV_FORGE_APP_ID),
    };
    let addr = var("FAKEHOST_ADDR", "127.0.0.1:3100");
    let fake = FakeHost::start_on(&addr, host.clone(), state_file, Some(forge)).await;
    if fake.load() == 0 {
        fake.add_site("acme", "jira");
        fake.add_site("docs", "confluence");
        fake.add_native_site("nova", "jira");
        for site in ["acme", "docs", "nova"] {
            fake.add_user(site, "admin", "Ada Admin", true);
            fake.add_user(site, "user", "Uma User", false);
        }
    }
    serve_custom_ui(&fake).await;
    if !wait_for_app(&app_base_url).await {
        eprintln!(
            "fakehost: the app at {app_base_url} did not answer /healthz; install from the control panel once it runs"
        );
    }
    for site in fake.native_sites() {
        // A native site is installed through Forge alone; a new run tells the app again (Forge's keys are new).
        let status = match fake.site_forge_installation(&site) {
            Some(_) => fake.forge_event(&site, "installed").await,
            None => fake.forge_install(&site).await,
        };
        println!("fakehost: installed the app into {site} through Forge → {status:?}");
    }
    for site in fake.installed_sites() {
        if fake.site_is_native(&site) {
            continue;
        }
        if let Some(tenant) = fake.tenant(&site) {
            let status = host.install(&tenant).await.status();
            println!("fakehost: installed the app into {site} ({}) → {status}", tenant.base_url);
        }
        // Forge's keys are new each run: its `installed` event tells the app again.
        if fake.site_is_on_forge(&site) {
            let status = fake.forge_event(&site, "installed").await;
            println!("fakehost: Forge installed event for {site} → {status:?}");
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

/// The Custom UI from `target/forge/ui`, when it is built and a manifest given.
async fn serve_custom_ui(fake: &FakeHost) {
    let Ok(manifest) = std::env::var("FAKEHOST_FORGE_MANIFEST")
        .and_then(|p| std::fs::read_to_string(p).map_err(|_| std::env::VarError::NotPresent))
    else {
        eprintln!("fakehost: no FAKEHOST_FORGE_MANIFEST: the Custom UI pages stay off");
        return;
    };
    let workspace = std::env::current_dir().unwrap_or_default();
    match fake.serve_custom_ui(&workspace, &manifest, &var("FAKEHOST_FORGE_CDN_ADDR", "127.0.0.1:3104")).await {
        Ok(url) => println!("fakehost: Custom UI served from {url} (the fake Forge CDN)"),
        Err(e) => eprintln!("fakehost: no Custom UI: {e}"),
    }
}
