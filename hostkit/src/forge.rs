//! Forge's side towards a remote backend: a JWKS on loopback (keys can be
//! added to rotate, fetches are counted) and Forge Invocation Tokens signed
//! under its keys, as Forge sends them with `invokeRemote`/`requestRemote`.

use std::sync::{Arc, Mutex};

use axum::{Json, Router, extract::State, routing::get};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rsa::{RsaPublicKey, pkcs8::DecodePublicKey, traits::PublicKeyParts};
use serde_json::{Value, json};

use crate::{jwt, keys::InstallKey, now, random_hex};

/// A Forge app id, as `FORGE_APP_ID` takes it.
pub fn app_id() -> String {
    format!("ari:cloud:ecosystem::app/{}", uuid())
}

/// A fresh Forge installation id.
pub fn installation_id() -> String {
    format!("ari:cloud:ecosystem::installation/{}", uuid())
}

fn uuid() -> String {
    let h = random_hex(16);
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

#[derive(Default)]
struct Inner {
    keys: Vec<Arc<InstallKey>>,
    fetches: usize,
}

/// Forge's JWKS endpoint and signing keys.
#[derive(Clone)]
pub struct ForgeJwks {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

impl ForgeJwks {
    /// A JWKS on 127.0.0.1 with one key, `forge-1`.
    pub async fn start() -> Self {
        Self::start_on("127.0.0.1:0").await
    }

    /// As [`ForgeJwks::start`], on a chosen address (the dev loop's fixed port).
    pub async fn start_on(addr: &str) -> Self {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = Router::new().route("/.well-known/jwks.json", get(jwks)).with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind(addr).await.expect("bind Forge JWKS");
        let url = format!("http://{}/.well-known/jwks.json", listener.local_addr().expect("JWKS address"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let forge = Self { url, inner };
        forge.add_key("forge-1");
        forge
    }

    /// Publishes a new key (a rotation): the JWKS serves it from now on.
    pub fn add_key(&self, kid: &str) {
        let key = Arc::new(InstallKey::generate(kid));
        self.lock().keys.push(key);
    }

    /// How many times the JWKS was fetched.
    pub fn fetches(&self) -> usize {
        self.lock().fetches
    }

    /// A FIT as Forge sends it for `installation` of `app_id`, by `principal`
    /// (none for calls no user made), signed under the key `kid`.
    pub fn fit(&self, kid: &str, app_id: &str, installation: &str, principal: Option<&str>) -> String {
        self.sign(kid, &fit_claims(app_id, installation, principal))
    }

    /// A FIT for a Forge installation described in full, under `forge-1`.
    pub fn fit_for(&self, install: &ForgeInstall, principal: Option<&str>) -> String {
        self.sign("forge-1", &install.claims(principal))
    }

    /// Delivers a Forge lifecycle event or scheduled trigger to the app's
    /// endpoint `url`, as Forge does: a FIT, the system token when the
    /// endpoint asks for one, and `retryContext` on a retry.
    pub async fn deliver(
        &self,
        url: &str,
        install: &ForgeInstall,
        event_type: &str,
        system_token: Option<&str>,
        retry: u32,
    ) -> reqwest::Response {
        let mut body = json!({
            "eventType": event_type,
            "id": random_hex(8),
            "context": format!("ari:cloud:jira::site/{}", install.cloud_id),
            "app": { "id": install.app_id },
        });
        if retry > 0 {
            body["retryContext"] = json!({ "retryCount": retry, "retryReason": "TIMEOUT" });
        }
        let mut request = reqwest::Client::new()
            .post(url)
            .bearer_auth(self.fit_for(install, None))
            .json(&body)
            .timeout(std::time::Duration::from_secs(10));
        if let Some(token) = system_token {
            request = request.header("x-forge-oauth-system", token);
        }
        request.send().await.expect("the app answers a Forge delivery")
    }

    /// Any claims, signed RS256 under the key `kid` (which must be published).
    pub fn sign(&self, kid: &str, claims: &Value) -> String {
        let key = self.lock().keys.iter().find(|k| k.kid == kid).cloned().expect("a published Forge key");
        jwt::rs256(claims, &key)
    }

    /// The public PEM of the key `kid` (for key-confusion attacks).
    pub fn public_pem(&self, kid: &str) -> String {
        self.lock().keys.iter().find(|k| k.kid == kid).map(|k| k.public_pem.clone()).expect("a published Forge key")
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One Forge installation of the app on a site: what its FITs say.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ForgeInstall {
    pub app_id: String,
    pub installation_id: String,
    pub cloud_id: String,
    pub site_url: String,
    pub api_base_url: String,
}

impl ForgeInstall {
    /// A new installation of `app_id` on the site `cloud_id`, whose product
    /// API answers at `api_base_url`.
    pub fn new(app_id: &str, cloud_id: &str, api_base_url: &str) -> Self {
        Self {
            app_id: app_id.to_string(),
            installation_id: installation_id(),
            cloud_id: cloud_id.to_string(),
            site_url: format!("https://{cloud_id}.atlassian.net"),
            api_base_url: api_base_url.to_string(),
        }
    }

    /// The claims of a FIT, as Forge's documentation shows them.
    pub fn claims(&self, principal: Option<&str>) -> Value {
        let now = now();
        let mut claims = json!({
            "iss": "forge/invocation-token", "aud": self.app_id, "iat": now, "nbf": now, "exp": now + 25,
            "jti": random_hex(16),
            "app": {
                "id": self.app_id, "appVersion": "1.0.0", "installationId": self.installation_id,
                "apiBaseUrl": self.api_base_url,
                "environment": { "type": "DEVELOPMENT", "id": "env-1" },
                "module": { "type": "xen:macro", "key": "notes" },
                "license": { "isActive": true },
                "installation": { "contexts": [{ "cloudId": self.cloud_id }] },
            },
            "context": { "cloudId": self.cloud_id, "siteUrl": self.site_url },
        });
        if let Some(principal) = principal {
            claims["principal"] = Value::String(principal.to_string());
        }
        claims
    }
}

/// A fresh site id, in the form Atlassian's cloudIds take.
pub fn cloud_id() -> String {
    uuid()
}

/// The claims of a FIT for `installation` on the site `c0ffee`.
pub fn fit_claims(app_id: &str, installation: &str, principal: Option<&str>) -> Value {
    let install = ForgeInstall {
        installation_id: installation.to_string(),
        ..ForgeInstall::new(app_id, "c0ffee", "https://api.atlassian.com/ex/jira/c0ffee")
    };
    install.claims(principal)
}

async fn jwks(State(inner): State<Arc<Mutex<Inner>>>) -> Json<Value> {
    let mut inner = inner.lock().unwrap_or_else(|e| e.into_inner());
    inner.fetches += 1;
    let keys: Vec<Value> = inner.keys.iter().map(|k| jwk(k)).collect();
    Json(json!({ "keys": keys }))
}

fn jwk(key: &InstallKey) -> Value {
    let public = RsaPublicKey::from_public_key_pem(&key.public_pem).expect("own public PEM");
    let b64 = |n: &rsa::BigUint| URL_SAFE_NO_PAD.encode(n.to_bytes_be());
    json!({ "kty": "RSA", "kid": key.kid, "alg": "RS256", "use": "sig", "n": b64(public.n()), "e": b64(public.e()) })
}
