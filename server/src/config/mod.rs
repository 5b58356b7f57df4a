//! The one typed configuration, read once at start from the environment (and
//! an optional `.env` file), in sections: HTTP limits, keys, Connect, Forge,
//! the shares one client or site may take, the queue, the operator, retention. Every value is validated here, with an
//! error that names the variable, so nothing later has to re-check it; each
//! variable is named once, where it is read (`vars.rs`). Nothing else in the
//! crate reads `std::env`.

mod sections;
mod values;
mod vars;

use std::{net::SocketAddr, path::PathBuf};

use url::Url;

pub use sections::{ConnectSettings, ForgeSettings, HttpLimits, Keys, OperatorSettings, Queue, Retention, Shares};
pub use values::{DatabaseUrl, KeySource, OperatorCredential, TlsFiles};
use vars::Vars;

use crate::error::{Error, Result};

/// Atlassian's production install-key server (connect-protocol.md).
pub(crate) const DEFAULT_KEYS_CDN_URL: &str = "https://connect-install-keys.atlassian.com";
pub(crate) const DEFAULT_HOST_ALLOWLIST: &str = "https://*.atlassian.net,https://*.jira.com";
pub(crate) const DEFAULT_FRAME_ANCESTORS: &str = "https://*.atlassian.net https://*.jira.com";
/// Atlassian's authorization server for the act-as-user grant (webhooks-and-act-as-user.md).
pub(crate) const DEFAULT_OAUTH_SERVER: &str = "https://oauth-2-authorization-server.services.atlassian.com";
/// Where Forge's `app.apiBaseUrl` points in production.
pub(crate) const DEFAULT_FORGE_API_BASE_ALLOWLIST: &str = "https://api.atlassian.com";
/// The origins a Forge page's `requestRemote` comes from: the product's
/// pages, which make the call from the browser, and Forge's Custom UI CDN.
pub(crate) const DEFAULT_FORGE_PAGE_ORIGINS: &str =
    "https://*.atlassian.net,https://*.jira.com,https://*.cdn.prod.atlassian-dev.net";
/// Atlassian's GraphQL gateway, where a system token buys an impersonation token.
pub(crate) const DEFAULT_FORGE_GRAPHQL_URL: &str = "https://api.atlassian.com/graphql";
pub(crate) const DEFAULT_FORGE_JWKS_URL: &str = "https://forge.cdn.prod.atlassian-dev.net/.well-known/jwks.json";
const DEFAULT_ALL_JS_URL: &str = "https://connect-cdn.atl-paas.net/all.js";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppEnv {
    Development,
    Production,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub env: AppEnv,
    pub base_url: Url,
    pub site_addr: SocketAddr,
    pub site_root: PathBuf,
    pub database_url: DatabaseUrl,
    pub log_json: bool,
    pub tls: Option<TlsFiles>,
    pub http: HttpLimits,
    pub keys: Keys,
    pub forge: ForgeSettings,
    pub queue: Queue,
    pub operator: OperatorSettings,
    pub retention: Retention,
    pub connect: ConnectSettings,
    pub shares: Shares,
    /// Where Prometheus metrics are served (`METRICS_ADDR`); None: not at all.
    pub metrics_addr: Option<SocketAddr>,
    /// A paid app (`APP_LICENSING`): the descriptor and manifests ask for
    /// licensing, and a site without an active licence is served nothing.
    pub licensing: bool,
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
        let vars = Vars::new(&lookup);
        let env = values::app_env(&vars)?;
        let config = Config {
            env,
            base_url: values::base_url(&vars)?,
            site_addr: vars.parse("LEPTOS_SITE_ADDR", "127.0.0.1:3000")?,
            site_root: PathBuf::from(vars.get("LEPTOS_SITE_ROOT").unwrap_or_else(|| "target/site".into())),
            database_url: values::database_url(&vars)?,
            log_json: vars.get("LOG_FORMAT").is_some_and(|f| f == "json"),
            tls: values::tls(&vars)?,
            http: HttpLimits::read(&vars)?,
            keys: Keys::read(&vars, env)?,
            forge: ForgeSettings::read(&vars)?,
            queue: Queue::read(&vars)?,
            operator: OperatorSettings::read(&vars)?,
            retention: Retention::read(&vars)?,
            connect: ConnectSettings::read(&vars)?,
            shares: Shares::read(&vars)?,
            metrics_addr: vars.parse_optional("METRICS_ADDR")?,
            licensing: vars.flag("APP_LICENSING")?,
        };
        config.check_production()?;
        Ok(config)
    }

    /// The descriptor the app serves: the template with this base URL, a
    /// paid app when `APP_LICENSING` or the template's `enableLicensing` says
    /// so (never silently free: a paid app's descriptor must stay paid).
    pub fn descriptor(&self) -> Result<crate::connect::descriptor::Descriptor> {
        use crate::connect::descriptor::{Descriptor, TEMPLATE};
        let paid = self.licensing || Descriptor::render(TEMPLATE, self.base_url_str())?.licensing();
        Descriptor::render_licensed(TEMPLATE, self.base_url_str(), paid)
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
        for (name, source) in [("APP_ENCRYPTION_KEY", &self.keys.encryption), ("APP_SESSION_KEY", &self.keys.session)] {
            if matches!(source, KeySource::GeneratedDev(_)) {
                return Err(Error::Config(format!(
                    "production needs {name} or {name}_FILE (a development key is never generated)"
                )));
            }
        }
        if self.connect.legacy_install {
            return Err(Error::Config("CONNECT_LEGACY_INSTALL=true is refused in production".into()));
        }
        let wide_lists = [
            ("TRUSTED_PROXIES", self.shares.trusted_proxies.networks()),
            ("ATLASSIAN_EGRESS_RANGES", &self.http.atlassian_egress),
        ];
        for (name, networks) in wide_lists {
            if let Some(entry) = networks.too_wide() {
                return Err(Error::Config(format!(
                    "{name} names {entry}, wider than a /8 (IPv4) or /7 (IPv6): in production that is refused, \
                     as it would let most of the internet choose the address it is counted under or use the \
                     connections kept for Atlassian; name your own proxies' or Atlassian's ranges"
                )));
            }
        }
        if self.forge.api_allowlist.names_loopback() {
            return Err(Error::Config("FORGE_API_BASE_ALLOWLIST may name loopback only outside production".into()));
        }
        let sqlite = sqlite_folder(self.database_url.as_str());
        if let (KeySource::File(key), Some(folder)) = (&self.keys.encryption, sqlite)
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
        assert_eq!(c.connect.keys_cdn_urls[0].as_str(), "https://connect-install-keys.atlassian.com/");
        assert!(!c.connect.legacy_install);
        assert!(matches!(c.keys.encryption, KeySource::GeneratedDev(_)));
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
    fn production_refuses_a_trusted_proxy_or_egress_range_as_wide_as_the_internet() {
        let production = |name: &str, value: &str| {
            config(&[
                ("APP_ENV", "production"),
                ("APP_BASE_URL", "https://app.example.com"),
                ("APP_ENCRYPTION_KEY", "x"),
                ("APP_SESSION_KEY", "y"),
                (name, value),
            ])
        };
        for name in ["TRUSTED_PROXIES", "ATLASSIAN_EGRESS_RANGES"] {
            for wide in ["0.0.0.0/0", "10.0.0.0/8, ::/0", "0.0.0.0/1,128.0.0.0/1", "::/1"] {
                let refused = production(name, wide).unwrap_err().to_string();
                assert!(refused.contains(name) && refused.contains("/"), "{name}={wide}: {refused}");
            }
            assert!(production(name, "10.0.0.0/8, fc00::/7, 192.0.2.7").is_ok(), "{name}: private ranges are fine");
            assert!(config(&[(name, "0.0.0.0/0")]).is_ok(), "{name}: development takes what it is given");
        }
    }

    #[test]
    fn a_quarter_of_the_connections_is_reserved_unless_said_otherwise() {
        let c = config(&[]).unwrap();
        assert_eq!((c.http.max_connections, c.http.reserved_connections), (4096, 1024));
        assert!(c.http.atlassian_egress.is_empty(), "no egress ranges are assumed");
        let c = config(&[("HTTP_MAX_CONNECTIONS", "100"), ("HTTP_RESERVED_CONNECTIONS", "10")]).unwrap();
        assert_eq!(c.http.reserved_connections, 10);
        let all = config(&[("HTTP_MAX_CONNECTIONS", "100"), ("HTTP_RESERVED_CONNECTIONS", "100")]).unwrap_err();
        assert!(all.to_string().contains("HTTP_RESERVED_CONNECTIONS"), "{all}");
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
            ("NOTES_PER_SITE_MAX", "0"), // demo
            ("WEBHOOK_WORKERS", "none"),
            ("WEBHOOK_HANDLER_TIMEOUT_SECS", "0"),
            ("WEBHOOK_TENANT_BACKLOG", "0"),
            ("KEY_FETCHES_PER_SECOND", "0"),
            ("METRICS_ADDR", "everywhere"),
            ("CONNECT_OAUTH_SERVER_URL", "not a url"),
            ("ATLASSIAN_EGRESS_RANGES", "atlassian.com"),
            ("HTTP_RESERVED_CONNECTIONS", "-1"),
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
    fn forge_silence_limits_default_to_2_and_14_days_and_the_second_is_later() {
        let days = |c: Config| {
            (c.forge.silence.silent_after.as_secs() / 86_400, c.forge.silence.gone_after.as_secs() / 86_400)
        };
        assert_eq!(days(config(&[]).unwrap()), (2, 14));
        assert_eq!(days(config(&[("FORGE_SILENT_DAYS", "5"), ("FORGE_GONE_DAYS", "40")]).unwrap()), (5, 40));
        let same = config(&[("FORGE_SILENT_DAYS", "14")]).unwrap_err().to_string();
        assert!(same.contains("FORGE_GONE_DAYS (14) must be more than FORGE_SILENT_DAYS (14)"), "{same}");
        assert!(config(&[("FORGE_SILENT_DAYS", "0")]).unwrap_err().to_string().contains("FORGE_SILENT_DAYS"));
    }

    #[test]
    fn keys_cdn_urls_keep_their_fallback_order() {
        let c = config(&[("CONNECT_KEYS_CDN_URL", "http://127.0.0.1:1/a, http://127.0.0.1:2/b")]).unwrap();
        let urls: Vec<_> = c.connect.keys_cdn_urls.iter().map(Url::as_str).collect();
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
