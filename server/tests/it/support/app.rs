//! The real server, started in-process on 127.0.0.1:0 with a configuration
//! built for the test, and stopped when the handle is dropped.

use std::{collections::HashMap, net::SocketAddr, sync::Arc};

use server::{
    http::DeclaredRoute,
    store::Database,
    vendor::{Application, Clock, Config, LifecycleHooks, VendorMigrations, Webhooks},
};
use tokio::{net::TcpListener, sync::oneshot};

use super::{
    app_builder::TestAppBuilder,
    db::{DbKind, TestDb, random_hex},
};

pub struct TestApp {
    pub addr: SocketAddr,
    pub base_url: String,
    pub http: reqwest::Client,
    pub db: TestDb,
    /// Atlassian's side: install key, key server, lifecycle callbacks.
    pub host: Arc<hostkit::Host>,
    /// A fake Jira/Confluence on `http://localhost:PORT`: host pages, all.js, REST.
    pub fake: hostkit::FakeHost,
    /// The app's clock, to move time forward.
    pub clock: Arc<Clock>,
    /// A second pool on the app's database, for reading raw rows.
    pub raw_db: Database,
    /// The encryption key this app runs with (a second instance needs it).
    pub encryption_key: String,
    /// Every route the app's router declared, with its proof.
    pub routes: Vec<DeclaredRoute>,
    /// Where it serves metrics, when the test set `METRICS_ADDR`.
    pub metrics_addr: Option<SocketAddr>,
    /// The configuration it runs with, for a second instance beside it.
    vars: HashMap<String, String>,
    shutdown: Option<oneshot::Sender<()>>,
}

/// Another instance of the app on the same database, keys and base URL, as a
/// load balancer runs several; stopped when dropped.
pub struct Instance {
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Instance {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

impl TestApp {
    /// The app with the default configuration, as most tests want it.
    pub async fn spawn(kind: DbKind) -> Self {
        Self::builder(kind).start().await
    }

    /// The app with what a test changes: configuration, handlers, Forge.
    pub fn builder(kind: DbKind) -> TestAppBuilder {
        TestAppBuilder::new(kind)
    }

    /// Starts the app; `configure` changes the configuration last, after the
    /// defaults and the fake hosts' URLs are in.
    pub(super) async fn launch(
        kind: DbKind,
        forge: bool,
        (webhooks, hooks, migrations): (Webhooks, LifecycleHooks, Option<VendorMigrations>),
        configure: impl FnOnce(&mut HashMap<String, String>),
    ) -> Self {
        let db = TestDb::new(kind).await;
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let base_url = format!("http://127.0.0.1:{}", addr.port());
        let host = Arc::new(hostkit::Host::start(&base_url, APP_KEY).await);
        let mut vars = default_vars(&base_url, &db.url);
        let fake = if forge {
            let side = hostkit::fake_host::ForgeSide {
                jwks: hostkit::ForgeJwks::start().await,
                api: hostkit::ProductApi::start().await,
                app_id: hostkit::forge::app_id(),
            };
            vars.insert("FORGE_APP_ID".into(), side.app_id.clone());
            vars.insert("FORGE_JWKS_URL".into(), side.jwks.url.clone());
            vars.insert("FORGE_API_BASE_ALLOWLIST".into(), side.api.url.clone());
            vars.insert("FORGE_GRAPHQL_URL".into(), format!("{}/graphql", side.api.url));
            hostkit::FakeHost::start_with_forge(host.clone(), side).await
        } else {
            hostkit::FakeHost::start(host.clone()).await
        };
        vars.insert("CONNECT_KEYS_CDN_URL".into(), host.key_server.url());
        vars.insert("CONNECT_ALL_JS_URL".into(), format!("{}/all.js", fake.url));
        vars.insert("CONNECT_OAUTH_SERVER_URL".into(), fake.url.clone());
        // The fake host's product page makes a Forge page's calls from the browser, cross-origin.
        vars.insert("FORGE_PAGE_ORIGINS".into(), fake.url.trim_end_matches('/').to_string());
        configure(&mut vars);
        let base_url = vars["APP_BASE_URL"].clone();
        let encryption_key = vars["APP_ENCRYPTION_KEY"].clone();
        let config = Config::from_lookup(|k| vars.get(k).cloned()).expect("test configuration");
        let mut builder = Application::builder(config).listener(listener).webhooks(webhooks).lifecycle(hooks);
        if let Some(migrations) = migrations {
            builder = builder.migrations(migrations);
        }
        let app = builder.build().await.expect("build app");
        let clock = app.clock().clone();
        let routes = app.routes().to_vec();
        let metrics_addr = app.metrics_addr();
        let raw_db = Database::connect(&vars["DATABASE_URL"]).await.expect("raw database pool");
        let shutdown = Some(run_in_background(app));
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        Self {
            addr,
            base_url,
            http,
            db,
            host,
            fake,
            clock,
            raw_db,
            encryption_key,
            routes,
            metrics_addr,
            vars,
            shutdown,
        }
    }

    /// A second instance on this app's database and configuration.
    pub async fn another_instance(&self) -> Instance {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let config = Config::from_lookup(|k| self.vars.get(k).cloned()).expect("test configuration");
        let app = Application::builder(config).listener(listener).build().await.expect("build the second instance");
        Instance { addr, shutdown: Some(run_in_background(app)) }
    }

    /// The database this app runs on, as its configuration names it.
    pub fn database_url(&self) -> &str {
        &self.vars["DATABASE_URL"]
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Starts the fake host's Forge CDN with the Custom UI of
    /// `target/forge/ui`, under the policy `@forge/csp` computes for the
    /// app's Forge-native manifest (printed by the server's own command).
    pub async fn serve_custom_ui(&self) -> String {
        let forge = self.fake.forge.as_ref().expect("a fake host that plays Forge");
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
            .args(["forge-manifest", "--native", "--json"])
            .env("APP_BASE_URL", &self.base_url)
            .env("FORGE_APP_ID", &forge.app_id)
            .output()
            .expect("server forge-manifest");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace");
        let manifest = String::from_utf8(output.stdout).expect("UTF-8");
        self.fake.serve_custom_ui(workspace, &manifest, "127.0.0.1:0").await.expect("the Custom UI is built")
    }
}

/// Runs `app` until the returned sender fires or is dropped.
fn run_in_background(app: Application) -> oneshot::Sender<()> {
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(async move {
        app.run_until(async {
            let _ = rx.await;
        })
        .await
        .expect("server run");
    });
    tx
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// The descriptor key of the app under test.
pub const APP_KEY: &str = "rust-connect-app";

/// A fresh Jira Cloud site URL (no request ever goes to it).
pub fn jira_site() -> String {
    format!("https://site-{}.atlassian.net", hostkit::random_hex(4))
}

fn default_vars(base_url: &str, database_url: &str) -> HashMap<String, String> {
    let site_root = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/site");
    let key = base64_key();
    [
        ("APP_BASE_URL", base_url.to_string()),
        ("DATABASE_URL", database_url.to_string()),
        ("LEPTOS_SITE_ROOT", site_root.to_string()),
        ("APP_ENCRYPTION_KEY", key),
        ("APP_SESSION_KEY", base64_key()),
        ("CONNECT_HOST_ALLOWLIST", "http://localhost:*,https://*.atlassian.net".to_string()),
        ("CONNECT_FRAME_ANCESTORS", "https://*.atlassian.net https://*.jira.com http://localhost:*".to_string()),
        // Attack tests send thousands of refused requests from one address;
        // `refusal_limits.rs` tests the limit itself.
        ("REFUSALS_PER_MINUTE", "1000000".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

fn base64_key() -> String {
    use base64::Engine;
    let hex = random_hex(32);
    let bytes = hex::decode(hex).expect("hex");
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
