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
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = Router::new().route("/.well-known/jwks.json", get(jwks)).with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind Forge JWKS");
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

/// The claims of a FIT, as Forge's documentation shows them.
pub fn fit_claims(app_id: &str, installation: &str, principal: Option<&str>) -> Value {
    let now = now();
    let mut claims = json!({
        "iss": "forge/invocation-token", "aud": app_id, "iat": now, "nbf": now, "exp": now + 25,
        "jti": random_hex(16),
        "app": {
            "id": app_id, "appVersion": "1.0.0", "installationId": installation,
            "apiBaseUrl": "https://api.atlassian.com/ex/jira/c0ffee",
            "environment": { "type": "DEVELOPMENT", "id": "env-1" },
            "module": { "type": "xen:macro", "key": "notes" },
            "license": { "isActive": true },
            "installation": { "contexts": [{ "cloudId": "c0ffee" }] },
        },
        "context": { "cloudId": "c0ffee", "siteUrl": "https://c0ffee.atlassian.net" },
    });
    if let Some(principal) = principal {
        claims["principal"] = Value::String(principal.to_string());
    }
    claims
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
