//! Builds the running application from a [`Config`]: storage, descriptor,
//! router and listener. `main` and the integration tests share it, so tests
//! exercise exactly what production runs.

use std::{future::Future, net::SocketAddr, sync::Arc};

use axum::Router;
use leptos::config::LeptosOptions;
use tokio::{net::TcpListener, sync::Notify};

use crate::{
    clock::Clock,
    config::Config,
    connect::descriptor::Descriptor,
    console,
    error::{Error, Result},
    http::{self, DeclaredRoute},
    lifecycle_hooks::LifecycleHooks,
    maintenance,
    network_shares::{NetworkShares, SignerShares},
    outbound::{
        act_as_user::ActAsUser, admin_check::AdminCheck, forge_api::ForgeApi, forge_keys::ForgeKeys,
        host_client::HostClient, install_keys::InstallKeys, system_tokens::SystemTokens,
    },
    privacy,
    secrets::{SessionKeys, load_keyring, load_keys},
    state::{AppState, Shared},
    store::{
        Database, VendorMigrations,
        personal_data::{Erase, PersonalData},
    },
    webhooks::{HandlerTools, Webhooks, worker::Workers},
};

pub struct Application {
    listener: TcpListener,
    /// `METRICS_ADDR`, bound at build so a taken port stops the start.
    metrics_listener: Option<TcpListener>,
    state: AppState,
    router: Router,
    routes: Vec<DeclaredRoute>,
}

/// How a vendor builds the app: `Application::builder(config).webhooks(handlers).build().await`.
/// Everything is wired once, so the router and the workers share one [`AppState`].
pub struct ApplicationBuilder {
    config: Config,
    listener: Option<TcpListener>,
    vendor: VendorParts,
}

/// What the vendor plugs in.
struct VendorParts {
    webhooks: Webhooks,
    hooks: LifecycleHooks,
    migrations: Option<VendorMigrations>,
    /// The vendor's tables that name accounts (reported and erased with the house's).
    personal_data: Vec<PersonalData>,
}

impl ApplicationBuilder {
    /// The vendor's webhook handlers, run after the app's own.
    pub fn webhooks(mut self, vendor: Webhooks) -> Self {
        self.vendor.webhooks = self.vendor.webhooks.merge(vendor);
        self
    }

    /// The vendor's lifecycle hooks (installed, uninstalled, moved to Forge,
    /// purged), after any added before.
    pub fn lifecycle(mut self, hooks: LifecycleHooks) -> Self {
        self.vendor.hooks = self.vendor.hooks.merge(hooks);
        self
    }

    /// The vendor's own tables: migrations run after the house's, numbered
    /// from [`VENDOR_VERSIONS_FROM`](crate::store::VENDOR_VERSIONS_FROM). A
    /// table whose `tenant_id` references `installations (tenant_id) ON
    /// DELETE CASCADE` is purged with its tenant. They take the place of
    /// those in `app/src/vendor/migrations/`, so a crate of the vendor's own
    /// includes those too, byte for byte (the example's `10000_hello_visits.sql`: sqlx
    /// checks a migration it ran against its text).
    /// They replace the folder's tables, so the folder's personal data
    /// (`hello_visits`) is no longer declared either: declare yours with
    /// [`Self::personal_data`].
    pub fn migrations(mut self, migrations: VendorMigrations) -> Self {
        self.vendor.migrations = Some(migrations);
        self.vendor.personal_data.retain(|holder| holder.table != VENDOR_FOLDER_PERSONAL_DATA.table);
        self
    }

    /// A table of yours that names accounts: its account ids are reported to
    /// Atlassian's personal data reporting API with the house's, and a closed
    /// account's rows are erased as `holder.erase` says.
    pub fn personal_data(mut self, holder: PersonalData) -> Self {
        self.vendor.personal_data.push(holder);
        self
    }

    /// A listener the caller already bound (tests bind first so they know the
    /// URL to configure); otherwise `LEPTOS_SITE_ADDR` is bound.
    pub fn listener(mut self, listener: TcpListener) -> Self {
        self.listener = Some(listener);
        self
    }

    /// Opens the database, runs migrations, renders the descriptor and binds
    /// the listen address (port 0 picks a free port).
    pub async fn build(self) -> Result<Application> {
        let listener = match self.listener {
            Some(listener) => listener,
            None => TcpListener::bind(self.config.site_addr).await?,
        };
        Application::wire(self.config, listener, self.vendor).await
    }
}

/// A handler for an event the descriptor does not declare would never run
/// (Atlassian sends only what the descriptor and manifest subscribe to): a
/// misspelt name stops the start instead.
fn check_handlers(webhooks: &Webhooks, descriptor: &Descriptor) -> Result<()> {
    let declared = descriptor.webhooks();
    let undeclared = webhooks.undeclared(&declared);
    if undeclared.is_empty() {
        return Ok(());
    }
    let known: Vec<&str> = declared.iter().map(|(event, _)| event.as_str()).collect();
    Err(Error::Config(format!(
        "webhook handlers for {}, which atlassian-connect.json does not declare under modules.webhooks \
         (it declares {}; \"*\" takes every event)",
        undeclared.join(", "),
        known.join(", ")
    )))
}

/// The house's tenant data that names accounts.
const HOUSE_PERSONAL_DATA: &[PersonalData] = &[
    // demo:begin
    PersonalData {
        table: "notes",
        account_column: "author_account_id",
        stored_column: Some("created_at"),
        erase: Erase::Anonymise,
    },
    // demo:end
];

/// The vendor folder's: the Hello page's visits per user.
const VENDOR_FOLDER_PERSONAL_DATA: PersonalData =
    PersonalData { table: "hello_visits", account_column: "account_id", stored_column: None, erase: Erase::DeleteRows };

/// The tables of the vendor's folder (`app/src/vendor/migrations/`), which
/// its server functions reach through `ServerCx::execute` and `column`.
fn vendor_folder_tables() -> VendorMigrations {
    VendorMigrations {
        sqlite: sqlx::migrate!("../app/src/vendor/migrations/sqlite"),
        postgres: sqlx::migrate!("../app/src/vendor/migrations/postgres"),
    }
}

impl Application {
    pub fn builder(config: Config) -> ApplicationBuilder {
        let webhooks = Webhooks::new();
        let webhooks = webhooks.on("*", crate::webhooks::RecordActivity); // demo
        let (migrations, personal_data) = (Some(vendor_folder_tables()), vec![VENDOR_FOLDER_PERSONAL_DATA]);
        let vendor = VendorParts { webhooks, hooks: LifecycleHooks::new(), migrations, personal_data };
        ApplicationBuilder { config, listener: None, vendor }
    }

    async fn wire(config: Config, listener: TcpListener, vendor: VendorParts) -> Result<Self> {
        let VendorParts { webhooks, hooks, migrations, personal_data } = vendor;
        let keyring = load_keyring(&config.keys.encryption, &config.keys.previous_encryption)?;
        let (session_key, previous_session_keys) =
            load_keys(&config.keys.session, &config.keys.previous_session, "APP_SESSION_KEY")?;
        let metrics_listener = match config.metrics_addr {
            Some(addr) => Some(TcpListener::bind(addr).await?),
            None => None,
        };
        let descriptor = config.descriptor()?;
        check_handlers(&webhooks, &descriptor)?;
        let db = Database::connect(config.database_url.as_str()).await?;
        db.migrate().await?;
        if let Some(migrations) = migrations {
            db.migrate_vendor(migrations).await?;
        }
        console::prepare_store(&db).await?;
        let personal_data: Vec<PersonalData> = HOUSE_PERSONAL_DATA.iter().copied().chain(personal_data).collect();
        for holder in &personal_data {
            crate::store::personal_data::check(&db, holder).await?;
        }
        let leptos = leptos_options(&config, listener.local_addr()?);
        let state = AppState::new(Shared {
            config: Arc::new(config.clone()),
            db,
            descriptor: Arc::new(descriptor.clone()),
            keyring: Arc::new(keyring),
            install_keys: Arc::new(InstallKeys::new(
                config.connect.keys_cdn_urls.clone(),
                config.shares.key_fetches_per_second,
            )?),
            forge_keys: Arc::new(ForgeKeys::new(config.forge.jwks_url.clone())?),
            system_tokens: Arc::new(SystemTokens::default()),
            forge_api: Arc::new(ForgeApi::new(config.forge.api_allowlist.clone(), config.forge.graphql_url.clone())?),
            clock: Arc::new(Clock::system()),
            session_keys: Arc::new(SessionKeys::new(session_key, previous_session_keys)),
            host_client: Arc::new(HostClient::new(descriptor.key())?),
            admin_check: Arc::new(AdminCheck::default()),
            act_as_user: Arc::new(ActAsUser::new(config.connect.oauth_server_url.clone())?),
            webhooks: Arc::new(webhooks),
            hooks: Arc::new(hooks),
            personal_data: Arc::new(personal_data),
            webhook_wakeup: Arc::new(Notify::new()),
            refusals: Arc::new(NetworkShares::new(config.shares.refusals_per_minute)),
            signer_refusals: Arc::new(SignerShares::new(config.shares.refusals_per_minute)),
            proven: Arc::default(),
            leptos,
        });
        // A route without a proof declaration stops the start here.
        let (router, routes) = http::router(state.clone())?;
        Ok(Self { listener, metrics_listener, state, router, routes })
    }

    /// Where metrics are served, when `METRICS_ADDR` is set (port 0 picks a free port).
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener.as_ref().and_then(|listener| listener.local_addr().ok())
    }

    /// The clock the app reads time from (a test's fake clock, when it set one).
    pub fn clock(&self) -> &Arc<Clock> {
        &self.state.clock
    }

    /// Every route the router answers, with the proof it accepts.
    pub fn routes(&self) -> &[DeclaredRoute] {
        &self.routes
    }

    /// Serves until `shutdown` resolves, then drains open connections.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) -> Result<()> {
        let config = self.state.config.clone();
        let tls = match &config.tls {
            Some(files) => Some(http::serve::tls_acceptor(&files.cert, &files.key)?),
            None => None,
        };
        let db = self.state.db.clone();
        let purge_job = maintenance::spawn_purge_job(maintenance::Housekeeping {
            db: db.clone(),
            clock: self.state.clock.clone(),
            retention: config.retention.keep,
            job_retention: config.queue.retention,
            silence: config.forge.silence,
            interval: config.retention.purge_interval,
            hooks: self.state.hooks.clone(),
        });
        let worker_db = match config.queue.workers {
            0 => db.clone(),
            _ => db.for_workers(config.database_url.as_str()).await?,
        };
        let tools = HandlerTools {
            db: worker_db.clone(),
            clock: self.state.clock.clone(),
            keyring: self.state.keyring.clone(),
            forge_api: self.state.forge_api.clone(),
            host_client: self.state.host_client.clone(),
            act_as_user: self.state.act_as_user.clone(),
            webhooks: self.state.webhooks.clone(),
        };
        let reporting = privacy::spawn_reporting_job(privacy::ReportingJob {
            tools: tools.clone(),
            holders: self.state.personal_data.clone(),
            interval: config.retention.personal_data_interval,
        });
        let workers = Workers {
            tools,
            wakeup: self.state.webhook_wakeup.clone(),
            max_attempts: config.queue.max_attempts,
            lease_secs: config.queue.lease.as_secs() as i64,
            handler_timeout: config.queue.handler_timeout,
            concurrency: config.queue.concurrency,
        }
        .spawn(config.queue.workers);
        let metrics = match self.metrics_listener {
            Some(listener) => Some(crate::metrics::spawn(listener, db.clone(), self.state.clock.clone())?),
            None => None,
        };
        let router = self.router;
        tracing::info!(addr = %self.listener.local_addr()?, tls = tls.is_some(), database = db.kind(), "listening");
        let served = http::serve::serve(
            self.listener,
            router,
            config.http.clone(),
            tls,
            config.shares.trusted_proxies.clone(),
            self.state.proven.clone(),
            shutdown,
        )
        .await;
        purge_job.abort();
        reporting.abort();
        workers.iter().for_each(|worker| worker.abort());
        metrics.iter().for_each(|task| task.abort());
        worker_db.close().await;
        db.close().await;
        served?;
        Ok(())
    }
}

/// `frontend.<16 hex>`: nothing else may become a script URL.
fn is_bundle_name(name: &str) -> bool {
    name.strip_prefix("frontend.").is_some_and(|hash| hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Leptos's own options, built in code: the app runs without cargo-leptos,
/// whose `get_configuration` needs variables only it sets. The bundle's
/// content-hashed name comes from `pkg/bundle.txt` (`cargo xtask site`).
fn leptos_options(config: &Config, addr: SocketAddr) -> LeptosOptions {
    let bundle = std::fs::read_to_string(config.site_root.join("pkg").join("bundle.txt"));
    let name = bundle.ok().map(|n| n.trim().to_string()).filter(|n| is_bundle_name(n));
    LeptosOptions::builder()
        .output_name(name.unwrap_or_else(|| app::OUTPUT_NAME.to_string()))
        .site_root(config.site_root.to_string_lossy().to_string())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build()
}
