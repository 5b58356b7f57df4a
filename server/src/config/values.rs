//! The values that need more than a parse: URLs the app builds on, the
//! CSP's frame ancestors, keys and their files, credentials that go together.

use std::path::PathBuf;

use secrecy::SecretString;
use url::Url;

use super::{AppEnv, DEFAULT_FRAME_ANCESTORS, DEFAULT_KEYS_CDN_URL, vars::Vars};
use crate::error::{Error, Result};

/// `DATABASE_URL`: its `Debug` hides the password (a PostgreSQL URL may
/// carry one), so a logged `Config` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(pub(super) String);

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

/// An operator's name and the argon2 PHC hash of their password.
#[derive(Clone, Debug)]
pub struct OperatorCredential {
    pub user: String,
    pub password_hash: SecretString,
}

#[derive(Clone, Debug)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

pub(super) fn app_env(vars: &Vars) -> Result<AppEnv> {
    match vars.get("APP_ENV").as_deref().unwrap_or("development") {
        "development" | "dev" => Ok(AppEnv::Development),
        "production" | "prod" => Ok(AppEnv::Production),
        other => Err(Error::Config(format!("APP_ENV must be development or production, not {other:?}"))),
    }
}

pub(super) fn base_url(vars: &Vars) -> Result<Url> {
    let raw = vars.get("APP_BASE_URL").unwrap_or_else(|| "http://localhost:3000".into());
    let url = Url::parse(&raw).map_err(|e| Error::Config(format!("APP_BASE_URL {raw:?}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(Error::Config(format!("APP_BASE_URL {raw:?} must be an http(s) URL with a host")));
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(Error::Config(format!("APP_BASE_URL {raw:?} must not carry a query, fragment or user")));
    }
    Ok(url)
}

pub(super) fn database_url(vars: &Vars) -> Result<DatabaseUrl> {
    let url = vars.get("DATABASE_URL").unwrap_or_else(|| "sqlite://data/app.db".into());
    if url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(DatabaseUrl(url))
    } else {
        Err(Error::Config("DATABASE_URL must start with sqlite: or postgres://".into()))
    }
}

/// Install-key servers, tried in this order.
pub(super) fn keys_cdn_urls(vars: &Vars) -> Result<Vec<Url>> {
    let raw = vars.get("CONNECT_KEYS_CDN_URL").unwrap_or_else(|| DEFAULT_KEYS_CDN_URL.into());
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

pub(super) fn frame_ancestors(vars: &Vars) -> Result<String> {
    let raw = vars.get("CONNECT_FRAME_ANCESTORS").unwrap_or_else(|| DEFAULT_FRAME_ANCESTORS.into());
    // Each source goes straight into a CSP header: refuse anything that could
    // end the directive or the header.
    let ok = raw.split_whitespace().all(|s| s.chars().all(|c| c.is_ascii_alphanumeric() || ":/.*-_[]'".contains(c)));
    if !ok {
        return Err(Error::Config("CONNECT_FRAME_ANCESTORS holds a character a CSP source cannot".into()));
    }
    Ok(raw.split_whitespace().collect::<Vec<_>>().join(" "))
}

pub(super) fn tls(vars: &Vars) -> Result<Option<TlsFiles>> {
    match (vars.get("TLS_CERT_FILE"), vars.get("TLS_KEY_FILE")) {
        (None, None) => Ok(None),
        (Some(cert), Some(key)) => Ok(Some(TlsFiles { cert: cert.into(), key: key.into() })),
        _ => Err(Error::Config("TLS_CERT_FILE and TLS_KEY_FILE go together".into())),
    }
}

/// `ari:cloud:ecosystem::app/<uuid>`: a FIT's `aud` must equal it exactly.
pub(super) fn forge_app_id(value: Option<String>) -> Result<Option<String>> {
    let Some(id) = value else { return Ok(None) };
    let uuid = id.strip_prefix("ari:cloud:ecosystem::app/").unwrap_or_default();
    let well_formed = uuid.len() == 36 && uuid.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    if !well_formed {
        return Err(Error::Config("FORGE_APP_ID must look like ari:cloud:ecosystem::app/<uuid>".into()));
    }
    Ok(Some(id))
}

/// `name` (the key inline) or `name_FILE`; in development, a generated file.
pub(super) fn key_source(vars: &Vars, env: AppEnv, name: &str) -> Result<KeySource> {
    match (vars.get(name), vars.get(&format!("{name}_FILE"))) {
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

pub(super) fn key_list(value: Option<String>) -> Vec<SecretString> {
    value
        .map(|v| v.split(',').map(str::trim).filter(|k| !k.is_empty()).map(SecretString::from).collect())
        .unwrap_or_default()
}

pub(super) fn operator_credential(user: Option<String>, hash: Option<String>) -> Result<Option<OperatorCredential>> {
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
