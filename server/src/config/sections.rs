//! The configuration's sections, each read from its own variables.

use std::{num::NonZeroU32, time::Duration};

use secrecy::SecretString;
use url::Url;

use super::{
    AppEnv, DEFAULT_ALL_JS_URL, DEFAULT_FORGE_API_BASE_ALLOWLIST, DEFAULT_FORGE_GRAPHQL_URL, DEFAULT_FORGE_JWKS_URL,
    DEFAULT_FORGE_PAGE_ORIGINS, DEFAULT_HOST_ALLOWLIST, DEFAULT_OAUTH_SERVER,
    values::{
        KeySource, OperatorCredential, forge_app_id, frame_ancestors, key_list, key_source, keys_cdn_urls,
        operator_credential,
    },
    vars::Vars,
};
use crate::{
    client_address::TrustedProxies,
    connect::{forge_silence::SilenceLimits, host_allowlist::HostAllowlist},
    error::{Error, Result},
    ip_networks::IpNetworks,
};

/// What the accept loop and the router's layers allow a client.
#[derive(Clone, Debug)]
pub struct HttpLimits {
    pub body_limit_bytes: usize,
    pub request_timeout: Duration,
    pub header_read_timeout: Duration,
    /// How long a write to a client may wait for it to read.
    pub write_timeout: Duration,
    pub max_connections: usize,
    /// Connections one client network may hold open (`HTTP_MAX_CONNECTIONS_PER_NETWORK`).
    pub max_connections_per_network: usize,
    /// Of `max_connections`, those only Atlassian's egress ranges and networks
    /// that recently proved a signature may use (`HTTP_RESERVED_CONNECTIONS`).
    pub reserved_connections: usize,
    /// Atlassian's egress ranges, as its published IP ranges list them (`ATLASSIAN_EGRESS_RANGES`).
    pub atlassian_egress: IpNetworks,
}

impl HttpLimits {
    pub(super) fn read(vars: &Vars) -> Result<Self> {
        let max_connections: usize = vars.parse("HTTP_MAX_CONNECTIONS", "4096")?;
        // A quarter by default: room for Atlassian, three quarters for everyone.
        let reserved_connections: usize =
            vars.parse("HTTP_RESERVED_CONNECTIONS", &(max_connections / 4).to_string())?;
        if max_connections > 0 && reserved_connections >= max_connections {
            return Err(Error::Config(format!(
                "HTTP_RESERVED_CONNECTIONS ({reserved_connections}) must be below HTTP_MAX_CONNECTIONS \
                 ({max_connections}), or no one else is ever served"
            )));
        }
        Ok(Self {
            body_limit_bytes: vars.parse("HTTP_BODY_LIMIT_BYTES", "1048576")?,
            request_timeout: vars.secs("HTTP_REQUEST_TIMEOUT_SECS", "15")?,
            header_read_timeout: vars.secs("HTTP_HEADER_READ_TIMEOUT_SECS", "10")?,
            write_timeout: vars.secs("HTTP_WRITE_TIMEOUT_SECS", "30")?,
            max_connections,
            max_connections_per_network: vars.parse("HTTP_MAX_CONNECTIONS_PER_NETWORK", "512")?,
            reserved_connections,
            atlassian_egress: IpNetworks::parse(
                "ATLASSIAN_EGRESS_RANGES",
                &vars.get("ATLASSIAN_EGRESS_RANGES").unwrap_or_default(),
            )?,
        })
    }
}

/// The app's own keys: the one that seals tenants' secrets at rest and the
/// one that signs session tokens, each with the older ones a rotation keeps.
#[derive(Clone, Debug)]
pub struct Keys {
    pub encryption: KeySource,
    /// Keys that only open (during a rotation): `APP_ENCRYPTION_KEY_PREVIOUS`.
    pub previous_encryption: Vec<SecretString>,
    /// The app-owned key that signs session tokens (never a tenant secret).
    pub session: KeySource,
    /// Older session keys still accepted until their tokens expire.
    pub previous_session: Vec<SecretString>,
    /// Lifetime of a session token; at most 15 minutes.
    pub session_ttl: Duration,
}

impl Keys {
    pub(super) fn read(vars: &Vars, env: AppEnv) -> Result<Self> {
        let session_ttl = vars.secs("APP_SESSION_TTL_SECS", "900")?;
        // The SPA renews its token, so it never needs a long one.
        if session_ttl > Duration::from_secs(900) {
            return Err(Error::Config("APP_SESSION_TTL_SECS must be at most 900 (15 minutes)".into()));
        }
        Ok(Self {
            encryption: key_source(vars, env, "APP_ENCRYPTION_KEY")?,
            previous_encryption: key_list(vars.get("APP_ENCRYPTION_KEY_PREVIOUS")),
            session: key_source(vars, env, "APP_SESSION_KEY")?,
            previous_session: key_list(vars.get("APP_SESSION_KEY_PREVIOUS")),
            session_ttl,
        })
    }
}

/// The Forge side: the app's id, the keys that verify its tokens, the
/// product API origins the app may call.
#[derive(Clone, Debug)]
pub struct ForgeSettings {
    /// The Forge app id (`ari:cloud:ecosystem::app/…`) for the generated manifest.
    pub app_id: Option<String>,
    /// Forge's JWKS, which verifies Forge Invocation Tokens (the operator's choice, never a claim).
    pub jwks_url: Url,
    /// Which `app.apiBaseUrl` origins the app calls with Forge tokens (`FORGE_API_BASE_ALLOWLIST`).
    pub api_allowlist: crate::connect::host_allowlist::HostAllowlist,
    /// The browser origins whose pages may call the app's API cross-origin
    /// (`FORGE_PAGE_ORIGINS`): a Forge page's `requestRemote` goes from the
    /// browser straight to the remote, so the API answers CORS for these.
    pub page_origins: crate::connect::host_allowlist::HostAllowlist,
    /// Atlassian's GraphQL gateway (`FORGE_GRAPHQL_URL`), for offline user impersonation;
    /// its origin must be in `FORGE_API_BASE_ALLOWLIST` too.
    pub graphql_url: Url,
    /// When a tenant born on Forge that Forge stopped reaching is shown
    /// silent (`FORGE_SILENT_DAYS`), and treated as uninstalled (`FORGE_GONE_DAYS`).
    pub silence: SilenceLimits,
}

impl ForgeSettings {
    pub(super) fn read(vars: &Vars) -> Result<Self> {
        Ok(Self {
            app_id: forge_app_id(vars.get("FORGE_APP_ID"))?,
            jwks_url: vars.parse("FORGE_JWKS_URL", DEFAULT_FORGE_JWKS_URL)?,
            api_allowlist: vars.allowlist("FORGE_API_BASE_ALLOWLIST", DEFAULT_FORGE_API_BASE_ALLOWLIST)?,
            page_origins: vars.allowlist("FORGE_PAGE_ORIGINS", DEFAULT_FORGE_PAGE_ORIGINS)?,
            graphql_url: vars.parse("FORGE_GRAPHQL_URL", DEFAULT_FORGE_GRAPHQL_URL)?,
            silence: silence_limits(vars)?,
        })
    }
}

/// Forge's hourly trigger reaches every installed app each hour, so days
/// without it mean Forge has stopped (or the app was unreachable that long).
fn silence_limits(vars: &Vars) -> Result<SilenceLimits> {
    let silent = vars.positive::<u64>("FORGE_SILENT_DAYS", "2")?;
    let gone = vars.positive::<u64>("FORGE_GONE_DAYS", "14")?;
    if gone <= silent {
        return Err(Error::Config(format!("FORGE_GONE_DAYS ({gone}) must be more than FORGE_SILENT_DAYS ({silent})")));
    }
    let days = |n: u64| Duration::from_secs(n.saturating_mul(86_400));
    Ok(SilenceLimits { silent_after: days(silent), gone_after: days(gone) })
}

/// The webhook queue.
#[derive(Clone, Debug)]
pub struct Queue {
    /// Runs of a job before it is parked dead.
    pub max_attempts: i64,
    /// How long a worker holds a claimed job before another may take it over.
    pub lease: Duration,
    /// Workers per instance; 0 for an instance that only receives.
    pub workers: usize,
    /// How long one job's handlers may run before the run counts as failed.
    pub handler_timeout: Duration,
    /// Unfinished jobs one tenant may have queued; a delivery above it gets 429.
    pub tenant_backlog: i64,
    /// Handler runs one worker overlaps, and the most jobs it claims at once.
    pub concurrency: usize,
    /// How long finished and dead jobs are kept (and so how long a delivery id is recognised).
    pub retention: Duration,
}

impl Queue {
    pub(super) fn read(vars: &Vars) -> Result<Self> {
        Ok(Self {
            max_attempts: vars.positive("WEBHOOK_MAX_ATTEMPTS", "5")?,
            lease: vars.secs("WEBHOOK_LEASE_SECS", "60")?,
            workers: vars.parse("WEBHOOK_WORKERS", "2")?,
            handler_timeout: vars.secs("WEBHOOK_HANDLER_TIMEOUT_SECS", "300")?,
            tenant_backlog: vars.positive("WEBHOOK_TENANT_BACKLOG", "25000")?,
            concurrency: vars.positive("WEBHOOK_CONCURRENCY", "64")?,
            retention: Duration::from_secs(86_400 * vars.positive::<u64>("WEBHOOK_RETENTION_DAYS", "14")?),
        })
    }
}

/// The operator console.
#[derive(Clone, Debug)]
pub struct OperatorSettings {
    /// The operator's credential; the console is off without one.
    pub credential: Option<OperatorCredential>,
    pub idle: Duration,
    pub max_session: Duration,
}

impl OperatorSettings {
    pub(super) fn read(vars: &Vars) -> Result<Self> {
        Ok(Self {
            credential: operator_credential(vars.get("OPERATOR_USER"), vars.get("OPERATOR_PASSWORD_HASH"))?,
            idle: vars.secs("OPERATOR_SESSION_IDLE_SECS", "1800")?,
            max_session: vars.secs("OPERATOR_SESSION_MAX_SECS", "28800")?,
        })
    }
}

/// How long the data of an inactive installation is kept.
#[derive(Clone, Debug)]
pub struct Retention {
    /// How long orphans and uninstalled installations are kept (seed 000: 30 days).
    pub keep: Duration,
    pub purge_interval: Duration,
    /// How often the stored account ids are reported to Atlassian's
    /// personal data reporting API (Atlassian's cycle: 7 days).
    pub personal_data_interval: Duration,
}

impl Retention {
    pub(super) fn read(vars: &Vars) -> Result<Self> {
        Ok(Self {
            keep: Duration::from_secs(86_400 * vars.parse::<u64>("INSTALL_RETENTION_DAYS", "30")?),
            purge_interval: vars.secs("PURGE_INTERVAL_SECS", "3600")?,
            personal_data_interval: vars.secs("PERSONAL_DATA_REPORT_INTERVAL_SECS", "604800")?,
        })
    }
}

/// Connect's side of Atlassian: where install keys come from, which sites
/// may install, who may frame the pages, and the OAuth server of the
/// act-as-user grant.
#[derive(Clone, Debug)]
pub struct ConnectSettings {
    /// Install-key servers, in fallback order (`CONNECT_KEYS_CDN_URL`).
    pub keys_cdn_urls: Vec<Url>,
    pub host_allowlist: HostAllowlist,
    pub frame_ancestors: String,
    /// Atlassian's client library (`all.js`) the iframe pages load.
    pub all_js_url: Url,
    pub legacy_install: bool,
    /// The OAuth 2.0 authorization server of the act-as-user grant.
    pub oauth_server_url: Url,
}

impl ConnectSettings {
    pub(super) fn read(vars: &Vars) -> Result<Self> {
        Ok(Self {
            keys_cdn_urls: keys_cdn_urls(vars)?,
            host_allowlist: vars.allowlist("CONNECT_HOST_ALLOWLIST", DEFAULT_HOST_ALLOWLIST)?,
            frame_ancestors: frame_ancestors(vars)?,
            all_js_url: vars.parse("CONNECT_ALL_JS_URL", DEFAULT_ALL_JS_URL)?,
            legacy_install: vars.flag("CONNECT_LEGACY_INSTALL")?,
            oauth_server_url: vars.parse("CONNECT_OAUTH_SERVER_URL", DEFAULT_OAUTH_SERVER)?,
        })
    }
}

/// How much any one client, network or site may take: refusals before 429s,
/// install-key fetches, the proxies trusted to name the client, and notes.
#[derive(Clone, Debug)]
pub struct Shares {
    /// Refused requests a client network may make a minute before 429s.
    pub refusals_per_minute: NonZeroU32,
    /// Install-key fetches started a second at most (`KEY_FETCHES_PER_SECOND`).
    pub key_fetches_per_second: NonZeroU32,
    /// Proxies whose `X-Forwarded-For` names the client (`TRUSTED_PROXIES`).
    pub trusted_proxies: TrustedProxies,
    /// Notes one site may hold (a tenant cannot fill the disk).
    pub notes_per_site: i64, // demo
}

impl Shares {
    pub(super) fn read(vars: &Vars) -> Result<Self> {
        Ok(Self {
            refusals_per_minute: vars.parse("REFUSALS_PER_MINUTE", "120")?,
            key_fetches_per_second: vars.parse("KEY_FETCHES_PER_SECOND", "20")?,
            trusted_proxies: TrustedProxies::parse(&vars.get("TRUSTED_PROXIES").unwrap_or_default())?,
            notes_per_site: vars.positive("NOTES_PER_SITE_MAX", "10000")?, // demo
        })
    }
}
