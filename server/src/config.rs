//! The one typed configuration, read once at start from the environment (and
//! an optional `.env` file). Every value is validated here, with an error that
//! names the variable, so nothing later has to re-check it. Nothing else in the
//! crate reads `std::env`.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use secrecy::SecretString;
use url::Url;

use crate::{
    client_address::TrustedProxies,
    connect::host_allowlist::HostAllowlist,
    error::{Error, Result},
};

/// Atlassian's production install-key server (connect-protocol.md).
pub(crate) const DEFAULT_KEYS_CDN_URL: &str = "https://connect-install-keys.atlassian.com";
pub(crate) const DEFAULT_HOST_ALLOWLIST: &str = "https://*.atlassian.net,https://*.jira.com";
pub(crate) const DEFAULT_FRAME_ANCESTORS: &str = "https://*.atlassian.net https://*.jira.com";
/// Atlassian's authorization server for the act-as-user grant (webhooks-and-act-as-user.md).
pub(crate) const DEFAULT_OAUTH_SERVER: &str = "https://oauth-2-authorization-server.services.atlassian.com";
/// Where Forge's `app.apiBaseUrl` points in production.
pub(crate) const DEFAULT_FORGE_API_BASE_ALLOWLIST: &str = "https://api.atlassian.com";
pub(crate) const DEFAULT_FORGE_JWKS_URL: &str = "https://forge.cdn.prod.atlassian-dev.net/.well-known/jwks.json";
const DEFAULT_ALL_JS_URL: &str = "https://connect-cdn.atl-paas.net/all.js";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppEnv {
    Development,
    Production,
}

/// Where an app-owned key comes from (the key that encrypts shared secrets,
/// the key that signs session tokens). The key bytes themselves are loaded
/// by the secrets module, never printed.
#[derive(Clone, Debug)]
pub enum KeySource {
    /// `APP_..._KEY`: base64 of 32 bytes.
    Inline(SecretString),
    /// `APP_..._KEY_FILE`: a file holding that base64 text.
    File(PathBuf),
    /// Development only: generated on first run into this file.
    GeneratedDev(PathBuf),
}

/// `DATABASE_URL`: its `Debug` hides the password (a PostgreSQL URL may
/// carry one), so a logged `Config` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match url::Url::parse(&self.0) {
            Ok(mut url) if url.password().is_some() => {
                let _ = url.set_password(Some("redacted"));
                write!(f, "DatabaseUrl({url})")
            }
            Ok(url) => write!(f, "DatabaseUrl({url})"),
            Err(_) => f.write_str("DatabaseUrl(..)"),
        }
    }
}

#[derive(Clone, Debug)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

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
}

#[derive(Clone, Debug)]
pub struct Config {
    pub env: AppEnv,
    pub base_url: Url,
    pub site_addr: SocketAddr,
    pub site_root: PathBuf,
    pub database_url: DatabaseUrl,
    pub keys_cdn_urls: Vec<Url>,
    pub host_allowlist: HostAllowlist,
    pub frame_ancestors: String,
    pub encryption_key: KeySource,
    /// Keys that only open (during a rotation): `APP_ENCRYPTION_KEY_PREVIOUS`.
    pub previous_encryption_keys: Vec<SecretString>,
    /// The app-owned key that signs session tokens (never a tenant secret).
    pub session_key: KeySource,
    /// Older session keys still accepted until their tokens expire.
    pub previous_session_keys: Vec<SecretString>,
    /// Lifetime of a session token; at most 15 minutes.
    pub session_ttl: Duration,
    /// Atlassian's client library (`all.js`) the iframe pages load.
    pub all_js_url: Url,
    pub legacy_install: bool,
    pub tls: Option<TlsFiles>,
    pub http: HttpLimits,
    pub log_json: bool,
    /// How long orphans and uninstalled installations are kept (seed 000: 30 days).
    pub retention: Duration,
    pub purge_interval: Duration,
    /// The operator console's credential; the console is off without one.
    pub operator: Option<OperatorCredential>,
    pub operator_idle: Duration,
    pub operator_max_session: Duration,
    /// The Forge app id (`ari:cloud:ecosystem::app/…`) for the generated manifest.
    pub forge_app_id: Option<String>,
    /// Forge's JWKS, which verifies Forge Invocation Tokens (the operator's choice, never a claim).
    pub forge_jwks_url: Url,
    /// Which `app.apiBaseUrl` origins the app calls with Forge tokens (`FORGE_API_BASE_ALLOWLIST`).
    pub forge_api_allowlist: HostAllowlist,
    /// Runs of a webhook job before it is parked dead.
    pub webhook_max_attempts: i64,
    /// How long a worker holds a claimed job before another may take it over.
    pub webhook_lease: Duration,
    /// Webhook workers per instance; 0 for an instance that only receives.
    pub webhook_workers: usize,
    /// How long one job's handlers may run before the run counts as failed.
    pub webhook_handler_timeout: Duration,
    /// Where Prometheus metrics are served (`METRICS_ADDR`); None: not at all.
    pub metrics_addr: Option<SocketAddr>,
    /// Install-key fetches started a second at most (`KEY_FETCHES_PER_SECOND`).
    pub key_fetches_per_second: std::num::NonZeroU32,
    /// Unfinished jobs one tenant may have queued; a delivery above it gets 429.
    pub webhook_tenant_backlog: i64,
    /// The OAuth 2.0 authorization server of the act-as-user grant.
    pub oauth_server_url: Url,
    /// Proxies whose `X-Forwarded-For` names the client (`TRUSTED_PROXIES`).
    pub trusted_proxies: TrustedProxies,
    /// Refused requests a client network may make a minute before 429s.
    pub refusals_per_minute: std::num::NonZeroU32,
    /// Notes one site may hold (a tenant cannot fill the disk).
    pub notes_per_site: i64,
}

/// An operator's name and the argon2 PHC hash of their password.
#[derive(Clone, Debug)]
pub struct OperatorCredential {
    pub user: String,
    pub password_hash: SecretString,
}

impl Config {
    /// Reads `.env` (if present) and the process environment.
    pub fn from_env() -> Result<Self> {
        // A missing .env is the normal case; a malformed one is an error.
        match dotenvy::dotenv() {
            Ok(_) => {}
            Err(e) if e.not_found() => {}
            Err(e) => return Err(Error::Config(format!(".env: {e}"))),
        }
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds the configuration from any variable source (tests pass a map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let get = |name: &str| lookup(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let env = parse_env(get("APP_ENV"))?;
        let base_url = parse_base_url(get("APP_BASE_URL"))?;
        let config = Config {
            env,
            site_addr: parse_with("LEPTOS_SITE_ADDR", get("LEPTOS_SITE_ADDR"), "127.0.0.1:3000")?,
            site_root: PathBuf::from(get("LEPTOS_SITE_ROOT").unwrap_or_else(|| "target/site".into())),
            database_url: DatabaseUrl(parse_database_url(get("DATABASE_URL"))?),
            keys_cdn_urls: parse_keys_cdn_urls(get("CONNECT_KEYS_CDN_URL"))?,
            host_allowlist: HostAllowlist::parse(
                &get("CONNECT_HOST_ALLOWLIST").unwrap_or_else(|| DEFAULT_HOST_ALLOWLIST.into()),
            )
            .map_err(|e| Error::Config(format!("CONNECT_HOST_ALLOWLIST: {e}")))?,
            frame_ancestors: parse_frame_ancestors(get("CONNECT_FRAME_ANCESTORS"))?,
            encryption_key: key_source(
                env,
                "APP_ENCRYPTION_KEY",
                get("APP_ENCRYPTION_KEY"),
                get("APP_ENCRYPTION_KEY_FILE"),
            )?,
            previous_encryption_keys: key_list(get("APP_ENCRYPTION_KEY_PREVIOUS")),
            session_key: key_source(env, "APP_SESSION_KEY", get("APP_SESSION_KEY"), get("APP_SESSION_KEY_FILE"))?,
            previous_session_keys: key_list(get("APP_SESSION_KEY_PREVIOUS")),
            session_ttl: session_ttl(get("APP_SESSION_TTL_SECS"))?,
            all_js_url: parse_with("CONNECT_ALL_JS_URL", get("CONNECT_ALL_JS_URL"), DEFAULT_ALL_JS_URL)?,
            legacy_install: parse_bool("CONNECT_LEGACY_INSTALL", get("CONNECT_LEGACY_INSTALL"))?,
            tls: parse_tls(get("TLS_CERT_FILE"), get("TLS_KEY_FILE"))?,
            http: HttpLimits {
                body_limit_bytes: parse_with("HTTP_BODY_LIMIT_BYTES", get("HTTP_BODY_LIMIT_BYTES"), "1048576")?,
                request_timeout: secs("HTTP_REQUEST_TIMEOUT_SECS", get("HTTP_REQUEST_TIMEOUT_SECS"), "15")?,
                header_read_timeout: secs("HTTP_HEADER_READ_TIMEOUT_SECS", get("HTTP_HEADER_READ_TIMEOUT_SECS"), "10")?,
                write_timeout: secs("HTTP_WRITE_TIMEOUT_SECS", get("HTTP_WRITE_TIMEOUT_SECS"), "30")?,
                max_connections: parse_with("HTTP_MAX_CONNECTIONS", get("HTTP_MAX_CONNECTIONS"), "4096")?,
                max_connections_per_network: parse_with(
                    "HTTP_MAX_CONNECTIONS_PER_NETWORK",
                    get("HTTP_MAX_CONNECTIONS_PER_NETWORK"),
                    "512",
                )?,
            },
            retention: Duration::from_secs(
                86_400 * parse_with::<u64>("INSTALL_RETENTION_DAYS", get("INSTALL_RETENTION_DAYS"), "30")?,
            ),
            purge_interval: secs("PURGE_INTERVAL_SECS", get("PURGE_INTERVAL_SECS"), "3600")?,
            operator: parse_operator(get("OPERATOR_USER"), get("OPERATOR_PASSWORD_HASH"))?,
            operator_idle: secs("OPERATOR_SESSION_IDLE_SECS", get("OPERATOR_SESSION_IDLE_SECS"), "1800")?,
            operator_max_session: secs("OPERATOR_SESSION_MAX_SECS", get("OPERATOR_SESSION_MAX_SECS"), "28800")?,
            forge_app_id: parse_forge_app_id(get("FORGE_APP_ID"))?,
            forge_jwks_url: parse_with("FORGE_JWKS_URL", get("FORGE_JWKS_URL"), DEFAULT_FORGE_JWKS_URL)?,
            forge_api_allowlist: HostAllowlist::parse(
                &get("FORGE_API_BASE_ALLOWLIST").unwrap_or_else(|| DEFAULT_FORGE_API_BASE_ALLOWLIST.into()),
            )
            .map_err(|e| Error::Config(format!("FORGE_API_BASE_ALLOWLIST: {e}")))?,
            webhook_max_attempts: parse_with("WEBHOOK_MAX_ATTEMPTS", get("WEBHOOK_MAX_ATTEMPTS"), "5")
                .and_then(|n: i64| positive("WEBHOOK_MAX_ATTEMPTS", n))?,
            webhook_lease: secs("WEBHOOK_LEASE_SECS", get("WEBHOOK_LEASE_SECS"), "60")?,
            webhook_workers: parse_with("WEBHOOK_WORKERS", get("WEBHOOK_WORKERS"), "2")?,
            webhook_handler_timeout: secs("WEBHOOK_HANDLER_TIMEOUT_SECS", get("WEBHOOK_HANDLER_TIMEOUT_SECS"), "300")?,
            webhook_tenant_backlog: parse_with("WEBHOOK_TENANT_BACKLOG", get("WEBHOOK_TENANT_BACKLOG"), "25000")
                .and_then(|n: i64| positive("WEBHOOK_TENANT_BACKLOG", n))?,
            trusted_proxies: TrustedProxies::parse(&get("TRUSTED_PROXIES").unwrap_or_default())?,
            refusals_per_minute: parse_with("REFUSALS_PER_MINUTE", get("REFUSALS_PER_MINUTE"), "120")?,
            metrics_addr: get("METRICS_ADDR")
                .filter(|addr| !addr.is_empty())
                .map(|addr| parse_with("METRICS_ADDR", Some(addr), ""))
                .transpose()?,
            key_fetches_per_second: parse_with("KEY_FETCHES_PER_SECOND", get("KEY_FETCHES_PER_SECOND"), "20")?,
            oauth_server_url: parse_with(
                "CONNECT_OAUTH_SERVER_URL",
                get("CONNECT_OAUTH_SERVER_URL"),
                DEFAULT_OAUTH_SERVER,
            )?,
            notes_per_site: parse_with("NOTES_PER_SITE_MAX", get("NOTES_PER_SITE_MAX"), "10000")
                .and_then(|n: i64| positive("NOTES_PER_SITE_MAX", n))?,
            log_json: get("LOG_FORMAT").is_some_and(|f| f == "json"),
            base_url,
        };
        config.check_production()?;
        Ok(config)
    }

    /// The base URL without a trailing slash, as it appears in the descriptor.
    pub fn base_url_str(&self) -> &str {
        self.base_url.as_str().trim_end_matches('/')
    }

    fn check_production(&self) -> Result<()> {
        if self.env != AppEnv::Production {
            return Ok(());
        }
        if self.base_url.scheme() != "https" {
            return Err(Error::Config("APP_BASE_URL must be https in production".into()));
        }
        for (name, source) in [("APP_ENCRYPTION_KEY", &self.encryption_key), ("APP_SESSION_KEY", &self.session_key)] {
            if matches!(source, KeySource::GeneratedDev(_)) {
                return Err(Error::Config(format!(
                    "production needs {name} or {name}_FILE (a development key is never generated)"
                )));
            }
        }
        if self.legacy_install {
            return Err(Error::Config("CONNECT_LEGACY_INSTALL=true is refused in production".into()));
        }
        if self.forge_api_allowlist.names_loopback() {
            return Err(Error::Config("FORGE_API_BASE_ALLOWLIST may name loopback only outside production".into()));
        }
        let sqlite = sqlite_folder(self.database_url.as_str());
        if let (KeySource::File(key), Some(folder)) = (&self.encryption_key, sqlite)
            && real_path(key).starts_with(real_path(&folder))
        {
            return Err(Error::Config(format!(
                "APP_ENCRYPTION_KEY_FILE is inside the SQLite database's folder ({}): a copy or backup of that \
                 folder would carry the key that opens every secret in it; keep the key elsewhere",
                folder.display()
            )));
        }
        Ok(())
    }
}

/// `path` with symlinks and `..` resolved when it exists, else made absolute.
fn real_path(path: &std::path::Path) -> PathBuf {
    std::fs::canonicalize(path).or_else(|_| std::path::absolute(path)).unwrap_or_else(|_| path.to_path_buf())
}

/// The folder of a SQLite database file (`sqlite://data/app.db?mode=rwc`
/// gives `<cwd>/data`); None for PostgreSQL and in-memory databases.
fn sqlite_folder(url: &str) -> Option<PathBuf> {
    let path = url.strip_prefix("sqlite:")?;
    let path = path.strip_prefix("//").unwrap_or(path);
    let path = path.split('?').next().filter(|p| !p.is_empty() && !p.starts_with(":memory:"))?;
    let file = std::path::absolute(path).ok()?;
    file.parent().map(std::path::Path::to_path_buf)
}

/// A count that must be at least one.
fn positive<T: PartialOrd + Default + std::fmt::Display>(name: &str, value: T) -> Result<T> {
    if value > T::default() { Ok(value) } else { Err(Error::Config(format!("{name} must be at least 1, not {value}"))) }
}

/// `ari:cloud:ecosystem::app/<uuid>`: a FIT's `aud` must equal it exactly.
fn parse_forge_app_id(value: Option<String>) -> Result<Option<String>> {
    let Some(id) = value else { return Ok(None) };
    let uuid = id.strip_prefix("ari:cloud:ecosystem::app/").unwrap_or_default();
    let well_formed = uuid.len() == 36 && uuid.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    if !well_formed {
        return Err(Error::Config("FORGE_APP_ID must look like ari:cloud:ecosystem::app/<uuid>".into()));
    }
    Ok(Some(id))
}

fn parse_env(value: Option<String>) -> Result<AppEnv> {
    match value.as_deref().unwrap_or("development") {
        "development" | "dev" => Ok(AppEnv::Development),
        "production" | "prod" => Ok(AppEnv::Production),
        other => Err(Error::Config(format!("APP_ENV must be development or production, not {other:?}"))),
    }
}

fn parse_base_url(value: Option<String>) -> Result<Url> {
    let raw = value.unwrap_or_else(|| "http://localhost:3000".into());
    let url = Url::parse(&raw).map_err(|e| Error::Config(format!("APP_BASE_URL {raw:?}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(Error::Config(format!("APP_BASE_URL {raw:?} must be an http(s) URL with a host")));
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(Error::Config(format!("APP_BASE_URL {raw:?} must not carry a query, fragment or user")));
    }
    Ok(url)
}

fn parse_database_url(value: Option<String>) -> Result<String> {
    let url = value.unwrap_or_else(|| "sqlite://data/app.db".into());
    if url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(url)
    } else {
        Err(Error::Config("DATABASE_URL must start with sqlite: or postgres://".into()))
    }
}

fn parse_keys_cdn_urls(value: Option<String>) -> Result<Vec<Url>> {
    let raw = value.unwrap_or_else(|| DEFAULT_KEYS_CDN_URL.into());
    let mut urls = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let url = Url::parse(part).map_err(|e| Error::Config(format!("CONNECT_KEYS_CDN_URL {part:?}: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") || url.query().is_some() {
            return Err(Error::Config(format!("CONNECT_KEYS_CDN_URL {part:?} must be an http(s) base URL")));
        }
        urls.push(url);
    }
    if urls.is_empty() {
        return Err(Error::Config("CONNECT_KEYS_CDN_URL names no URL".into()));
    }
    Ok(urls)
}

fn parse_frame_ancestors(value: Option<String>) -> Result<String> {
    let raw = value.unwrap_or_else(|| DEFAULT_FRAME_ANCESTORS.into());
    // Each source goes straight into a CSP header: refuse anything that could
    // end the directive or the header.
    let ok = raw.split_whitespace().all(|s| s.chars().all(|c| c.is_ascii_alphanumeric() || ":/.*-_[]'".contains(c)));
    if !ok {
        return Err(Error::Config("CONNECT_FRAME_ANCESTORS holds a character a CSP source cannot".into()));
    }
    Ok(raw.split_whitespace().collect::<Vec<_>>().join(" "))
}

fn key_source(env: AppEnv, name: &str, inline: Option<String>, file: Option<String>) -> Result<KeySource> {
    match (inline, file) {
        (Some(_), Some(_)) => Err(Error::Config(format!("set {name} or {name}_FILE, not both"))),
        (Some(key), None) => Ok(KeySource::Inline(SecretString::from(key))),
        (None, Some(path)) => Ok(KeySource::File(PathBuf::from(path))),
        (None, None) if env == AppEnv::Development => {
            let file = format!(
                "data/dev-{}.key",
                name.trim_start_matches("APP_").trim_end_matches("_KEY").to_ascii_lowercase()
            );
            Ok(KeySource::GeneratedDev(PathBuf::from(file)))
        }
        (None, None) => {
            Err(Error::Config(format!("production needs {name} or {name}_FILE (a development key is never generated)")))
        }
    }
}

fn key_list(value: Option<String>) -> Vec<SecretString> {
    value
        .map(|v| v.split(',').map(str::trim).filter(|k| !k.is_empty()).map(SecretString::from).collect())
        .unwrap_or_default()
}

/// Session tokens live at most 15 minutes (the SPA renews them).
fn session_ttl(value: Option<String>) -> Result<Duration> {
    let ttl = secs("APP_SESSION_TTL_SECS", value, "900")?;
    if ttl > Duration::from_secs(900) {
        return Err(Error::Config("APP_SESSION_TTL_SECS must be at most 900 (15 minutes)".into()));
    }
    Ok(ttl)
}

fn parse_operator(user: Option<String>, hash: Option<String>) -> Result<Option<OperatorCredential>> {
    match (user, hash) {
        (None, None) => Ok(None),
        (Some(user), Some(hash)) => {
            if !hash.starts_with("$argon2") {
                return Err(Error::Config(
                    "OPERATOR_PASSWORD_HASH must be an argon2 hash (server create-operator prints one)".into(),
                ));
            }
            Ok(Some(OperatorCredential { user, password_hash: SecretString::from(hash) }))
        }
        _ => Err(Error::Config("OPERATOR_USER and OPERATOR_PASSWORD_HASH go together".into())),
    }
}

fn parse_tls(cert: Option<String>, key: Option<String>) -> Result<Option<TlsFiles>> {
    match (cert, key) {
        (None, None) => Ok(None),
        (Some(cert), Some(key)) => Ok(Some(TlsFiles { cert: cert.into(), key: key.into() })),
        _ => Err(Error::Config("TLS_CERT_FILE and TLS_KEY_FILE go together".into())),
    }
}

fn parse_bool(name: &str, value: Option<String>) -> Result<bool> {
    match value.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("false" | "0" | "no" | "off") => Ok(false),
        Some("true" | "1" | "yes" | "on") => Ok(true),
        Some(other) => Err(Error::Config(format!("{name} must be true or false, not {other:?}"))),
    }
}

fn parse_with<T: std::str::FromStr>(name: &str, value: Option<String>, default: &str) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    let raw = value.unwrap_or_else(|| default.into());
    raw.parse().map_err(|e| Error::Config(format!("{name} {raw:?}: {e}")))
}

fn secs(name: &str, value: Option<String>, default: &str) -> Result<Duration> {
    let n: u64 = parse_with(name, value, default)?;
    if n == 0 {
        return Err(Error::Config(format!("{name} must be at least 1")));
    }
    Ok(Duration::from_secs(n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_describe_a_local_development_app() {
        let c = config(&[]).unwrap();
        assert_eq!(c.env, AppEnv::Development);
        assert_eq!(c.base_url_str(), "http://localhost:3000");
        assert_eq!(c.site_addr.to_string(), "127.0.0.1:3000");
        assert_eq!(c.database_url.as_str(), "sqlite://data/app.db");
        assert_eq!(c.keys_cdn_urls[0].as_str(), "https://connect-install-keys.atlassian.com/");
        assert!(!c.legacy_install);
        assert!(matches!(c.encryption_key, KeySource::GeneratedDev(_)));
    }

    #[test]
    fn production_refuses_http_base_url_and_missing_key_and_legacy() {
        let http =
            config(&[("APP_ENV", "production"), ("APP_ENCRYPTION_KEY", "x"), ("APP_SESSION_KEY", "y")]).unwrap_err();
        assert!(http.to_string().contains("https"), "{http}");
        let no_key = config(&[("APP_ENV", "production"), ("APP_BASE_URL", "https://app.example.com")]).unwrap_err();
        assert!(no_key.to_string().contains("APP_ENCRYPTION_KEY"), "{no_key}");
        let no_session_key = config(&[
            ("APP_ENV", "production"),
            ("APP_BASE_URL", "https://app.example.com"),
            ("APP_ENCRYPTION_KEY", "x"),
        ])
        .unwrap_err();
        assert!(no_session_key.to_string().contains("APP_SESSION_KEY"), "{no_session_key}");
        let legacy = config(&[
            ("APP_ENV", "production"),
            ("APP_BASE_URL", "https://app.example.com"),
            ("APP_ENCRYPTION_KEY", "x"),
            ("APP_SESSION_KEY", "y"),
            ("CONNECT_LEGACY_INSTALL", "true"),
        ])
        .unwrap_err();
        assert!(legacy.to_string().contains("CONNECT_LEGACY_INSTALL"), "{legacy}");
        let loopback_api = config(&[
            ("APP_ENV", "production"),
            ("APP_BASE_URL", "https://app.example.com"),
            ("APP_ENCRYPTION_KEY", "x"),
            ("APP_SESSION_KEY", "y"),
            ("FORGE_API_BASE_ALLOWLIST", "http://127.0.0.1:*"),
        ])
        .unwrap_err();
        assert!(loopback_api.to_string().contains("FORGE_API_BASE_ALLOWLIST"), "{loopback_api}");
    }

    #[test]
    fn production_refuses_an_encryption_key_file_inside_the_sqlite_folder() {
        let production = |db: &str, key_file: &str| {
            config(&[
                ("APP_ENV", "production"),
                ("APP_BASE_URL", "https://app.example.com"),
                ("APP_SESSION_KEY", "y"),
                ("DATABASE_URL", db),
                ("APP_ENCRYPTION_KEY_FILE", key_file),
            ])
        };
        for (db, key) in [
            ("sqlite://data/app.db?mode=rwc", "data/app.key"),
            ("sqlite:data/app.db", "./data/keys/app.key"),
            ("sqlite:///srv/app/app.db", "/srv/app/secret.key"),
        ] {
            let refused = production(db, key).unwrap_err().to_string();
            assert!(refused.contains("APP_ENCRYPTION_KEY_FILE is inside"), "{db} {key}: {refused}");
        }
        for (db, key) in [
            ("sqlite://data/app.db", "/run/secrets/app.key"),
            ("sqlite:///srv/app/app.db", "/srv/keys/app.key"),
            ("postgres://app@db/app", "data/app.key"),
        ] {
            assert!(production(db, key).is_ok(), "{db} {key}");
        }
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (name, value) in [
            ("APP_ENV", "staging"),
            ("APP_BASE_URL", "ftp://x"),
            ("LEPTOS_SITE_ADDR", "nowhere"),
            ("DATABASE_URL", "mysql://x"),
            ("CONNECT_KEYS_CDN_URL", "not a url"),
            ("CONNECT_LEGACY_INSTALL", "maybe"),
            ("HTTP_REQUEST_TIMEOUT_SECS", "0"),
            ("CONNECT_FRAME_ANCESTORS", "https://a.example; script-src *"),
            ("TLS_CERT_FILE", "cert.pem"),
            ("APP_SESSION_TTL_SECS", "3600"),
            ("CONNECT_ALL_JS_URL", "not a url"),
            ("OPERATOR_PASSWORD_HASH", "plaintext"),
            ("FORGE_API_BASE_ALLOWLIST", "api.atlassian.com"),
            ("WEBHOOK_MAX_ATTEMPTS", "0"),
            ("NOTES_PER_SITE_MAX", "0"),
            ("WEBHOOK_WORKERS", "none"),
            ("WEBHOOK_HANDLER_TIMEOUT_SECS", "0"),
            ("WEBHOOK_TENANT_BACKLOG", "0"),
            ("KEY_FETCHES_PER_SECOND", "0"),
            ("METRICS_ADDR", "everywhere"),
            ("CONNECT_OAUTH_SERVER_URL", "not a url"),
        ] {
            let err = config(&[(name, value)]).unwrap_err().to_string();
            let expected = match name {
                "TLS_CERT_FILE" => "TLS_KEY_FILE",
                "OPERATOR_PASSWORD_HASH" => "OPERATOR_USER",
                other => other,
            };
            assert!(err.contains(expected), "{name}={value}: {err}");
        }
    }

    #[test]
    fn keys_cdn_urls_keep_their_fallback_order() {
        let c = config(&[("CONNECT_KEYS_CDN_URL", "http://127.0.0.1:1/a, http://127.0.0.1:2/b")]).unwrap();
        let urls: Vec<_> = c.keys_cdn_urls.iter().map(Url::as_str).collect();
        assert_eq!(urls, ["http://127.0.0.1:1/a", "http://127.0.0.1:2/b"]);
    }

    #[test]
    fn debug_output_never_shows_an_inline_key() {
        let c = config(&[("APP_ENCRYPTION_KEY", "c2VjcmV0LWtleS1ieXRlcw==")]).unwrap();
        assert!(!format!("{c:?}").contains("c2VjcmV0"));
    }

    #[test]
    fn debug_output_never_shows_the_database_password() {
        let c = config(&[("DATABASE_URL", "postgres://app:s3cr3t-pw@db.internal:5432/notes")]).unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("s3cr3t-pw"), "{shown}");
        assert!(shown.contains("db.internal:5432/notes"), "the rest stays readable: {shown}");
        assert_eq!(c.database_url.as_str(), "postgres://app:s3cr3t-pw@db.internal:5432/notes");
    }
}
