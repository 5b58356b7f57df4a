//! Forge's side towards a remote backend: a JWKS on loopback (keys can be
//! added to rotate, fetches are counted) and Forge Invocation Tokens signed
//! under its keys, each for the module of the app's manifest that makes the
//! call, as Forge sends them: with `invokeRemote`/`requestRemote` from a UI
//! page (the user as `principal`), and with its lifecycle events, scheduled
//! trigger and product events (no principal).

use std::sync::{Arc, Mutex};

use axum::{Json, Router, extract::State, routing::get};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use std::time::Duration;

use rsa::{RsaPublicKey, pkcs8::DecodePublicKey, traits::PublicKeyParts};
use serde_json::{Value, json};

use crate::{jwt, keys::InstallKey, now, random_hex};

/// How long Forge waits for a remote to answer an event or a trigger.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);
/// Forge retries a failed remote delivery (a lifecycle event, a trigger, a
/// product event) up to four times, a minute apart; the fake host does it quickly.
pub(crate) const RETRY_DELAYS: [Duration; 4] =
    [Duration::from_millis(200), Duration::from_millis(400), Duration::from_millis(800), Duration::from_millis(1600)];
/// How long the system tokens the host hands out live (Forge: up to about 4 h).
pub(crate) const SYSTEM_TOKEN_TTL_SECS: i64 = 4 * 3600;

/// A Forge app id, as `FORGE_APP_ID` takes it.
pub fn app_id() -> String {
    format!("ari:cloud:ecosystem::app/{}", uuid())
}

/// The module keys of the app's manifest (`server forge-manifest`), which
/// Forge names in each FIT as `app.module.key`; a test in the app checks
/// that they are the manifest's.
pub mod modules {
    pub const GLOBAL_PAGE: &str = "notes-page";
    pub const ADMIN_PAGE: &str = "notes-admin";
    pub const INSTALLED: &str = "forge-installed";
    pub const UPGRADED: &str = "forge-upgraded";
    pub const PRE_UNINSTALL: &str = "forge-pre-uninstall";
    pub const HOURLY: &str = "forge-hourly";
    pub const PRODUCT_EVENTS: &str = "product-events";

    /// The module that delivers a lifecycle event or the scheduled trigger.
    pub fn of_event(event_type: &str) -> &'static str {
        match event_type {
            "avi:forge:installed:app" => INSTALLED,
            "avi:forge:upgraded:app" => UPGRADED,
            "preUninstall" => PRE_UNINSTALL,
            "scheduledTrigger" => HOURLY,
            _ => PRODUCT_EVENTS,
        }
    }
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
    /// Seconds Forge's clock runs ahead of the machine's (tests of days passing).
    clock_offset: i64,
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

    /// A FIT as Forge sends it for `installation` of `app_id` from the app's
    /// global page, by `principal` (none for calls no user made), signed
    /// under the key `kid`.
    pub fn fit(&self, kid: &str, app_id: &str, installation: &str, principal: Option<&str>) -> String {
        self.sign(kid, &fit_claims(app_id, installation, principal))
    }

    /// A FIT of the app's global page for a Forge installation described in
    /// full, under `forge-1`: what `requestRemote` from that page carries.
    pub fn fit_for(&self, install: &ForgeInstall, principal: Option<&str>) -> String {
        self.fit_of(install, modules::GLOBAL_PAGE, principal)
    }

    /// A FIT minted for the manifest's module `module_key`, under `forge-1`,
    /// at Forge's time.
    pub fn fit_of(&self, install: &ForgeInstall, module_key: &str, principal: Option<&str>) -> String {
        let mut claims = install.claims_for(module_key, principal);
        let offset = self.lock().clock_offset;
        for time in ["iat", "nbf", "exp"] {
            if let Some(at) = claims[time].as_i64() {
                claims[time] = (at + offset).into();
            }
        }
        self.sign("forge-1", &claims)
    }

    /// Moves the time Forge's FITs carry by `secs`, as the app's clock is
    /// moved in a test where days pass (the machine's clock stays).
    pub fn advance_clock(&self, secs: i64) {
        self.lock().clock_offset += secs;
    }

    /// Delivers a Forge lifecycle event or scheduled trigger to the app's
    /// endpoint `url`, as Forge does: a FIT of the module that delivers it,
    /// the system token when the endpoint asks for one, and the event under
    /// `payload`, with `retryContext` on a retry.
    pub async fn deliver(
        &self,
        url: &str,
        install: &ForgeInstall,
        event_type: &str,
        system_token: Option<&str>,
        retry: u32,
    ) -> reqwest::Response {
        let event = lifecycle_event(install, event_type);
        let fit = self.fit_of(install, modules::of_event(event_type), None);
        let answer = self.post_delivery(url, &fit, event, system_token, retry).await;
        answer.expect("the app answers a Forge delivery")
    }

    /// Delivers a product event (`avi:jira:created:issue`, …) with the FIT of
    /// the app's `product-events` trigger. `Err` when the app did not answer.
    pub async fn deliver_product_event(
        &self,
        url: &str,
        install: &ForgeInstall,
        event: &Value,
        system_token: Option<&str>,
        retry: u32,
    ) -> reqwest::Result<reqwest::Response> {
        let fit = self.fit_of(install, modules::PRODUCT_EVENTS, None);
        self.post_delivery(url, &fit, event.clone(), system_token, retry).await
    }

    /// A delivery as Forge posts it to a remote (given up after Forge's 5 s): `{"payload": event}`, the
    /// retry's context inside the event.
    pub async fn post_delivery(
        &self,
        url: &str,
        fit: &str,
        mut event: Value,
        system_token: Option<&str>,
        retry: u32,
    ) -> reqwest::Result<reqwest::Response> {
        if retry > 0 {
            event["retryContext"] = json!({ "retryCount": retry, "retryReason": "TIMEOUT_ERROR", "retryData": null });
        }
        let mut request = reqwest::Client::new()
            .post(url)
            .bearer_auth(fit)
            .json(&json!({ "payload": event }))
            .timeout(DELIVERY_TIMEOUT);
        if let Some(token) = system_token {
            request = request.header("x-forge-oauth-system", token);
        }
        request.send().await
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
    /// `app.environment`: the app's production environment unless made otherwise.
    #[serde(default = "production")]
    pub environment_type: String,
    #[serde(default)]
    pub environment_id: String,
    /// Whether the site's licence is active (what a production FIT's
    /// `app.license.active` says; the other environments' FITs carry none).
    #[serde(default = "active")]
    pub licensed: bool,
}

fn production() -> String {
    "PRODUCTION".into()
}

fn active() -> bool {
    true
}

impl ForgeInstall {
    /// A new installation of `app_id`, in its production environment, on the
    /// site `cloud_id`, whose product API answers at `api_base_url`.
    pub fn new(app_id: &str, cloud_id: &str, api_base_url: &str) -> Self {
        Self {
            app_id: app_id.to_string(),
            installation_id: installation_id(),
            cloud_id: cloud_id.to_string(),
            site_url: format!("https://{cloud_id}.atlassian.net"),
            api_base_url: api_base_url.to_string(),
            environment_type: production(),
            environment_id: environment_id(app_id, "production"),
            licensed: true,
        }
    }

    /// A new installation of the same app on the same site, in another of
    /// the app's environments (`DEVELOPMENT`, `STAGING`).
    pub fn in_environment(&self, kind: &str) -> Self {
        Self {
            installation_id: installation_id(),
            environment_type: kind.to_string(),
            environment_id: environment_id(&self.app_id, &kind.to_ascii_lowercase()),
            ..self.clone()
        }
    }

    /// The claims of a FIT of the app's global page.
    pub fn claims(&self, principal: Option<&str>) -> Value {
        self.claims_for(modules::GLOBAL_PAGE, principal)
    }

    /// The claims of a FIT for the manifest's module `module_key`, as
    /// Forge's invocation contract lists them: a UI module's type and the
    /// `context` of the page for a page's calls; `core:endpoint` and no
    /// `context` for Forge's own invocations (events, triggers), which name
    /// the site only through `app.installation.contexts`. The licence is
    /// there in production alone, as for a paid app.
    pub fn claims_for(&self, module_key: &str, principal: Option<&str>) -> Value {
        let now = now();
        let product = if self.api_base_url.contains("/confluence/") { "confluence" } else { "jira" };
        let ui_type = match module_key {
            modules::GLOBAL_PAGE => Some(format!("{product}:globalPage")),
            modules::ADMIN_PAGE => Some(format!("{product}:adminPage")),
            _ => None,
        };
        let module_type = ui_type.clone().unwrap_or_else(|| "core:endpoint".into());
        let mut claims = json!({
            "iss": "forge/invocation-token", "aud": self.app_id, "iat": now, "nbf": now, "exp": now + 25,
            "jti": random_hex(16),
            "app": {
                "id": self.app_id, "appVersion": "1.0.0", "installationId": self.installation_id,
                "apiBaseUrl": self.api_base_url,
                "environment": { "type": self.environment_type, "id": self.environment_id },
                "module": { "type": module_type, "key": module_key },
                "installation": { "id": self.installation_id, "contexts": [{
                    "name": format!("ari:cloud:{product}::site/{}", self.cloud_id),
                    "apiBaseUrl": self.api_base_url, "cloudId": self.cloud_id,
                }] },
            },
        });
        if self.environment_type == "PRODUCTION" {
            let active = self.licensed;
            claims["app"]["license"] =
                json!({ "active": active, "isActive": active, "type": "commercial", "isEvaluation": false });
        }
        if let Some(extension_type) = ui_type {
            let local_id = format!("{}/static/{module_key}", self.environment_id.replace("environment", "extension"));
            claims["context"] = json!({
                "localId": local_id, "cloudId": self.cloud_id, "moduleKey": module_key, "siteUrl": self.site_url,
                "extension": { "type": extension_type },
            });
        }
        if let Some(principal) = principal {
            claims["principal"] = Value::String(principal.to_string());
        }
        claims
    }
}

/// A Forge lifecycle event or trigger's body for `install` (the same on each retry).
pub fn lifecycle_event(install: &ForgeInstall, event_type: &str) -> Value {
    json!({
        "eventType": event_type,
        "id": random_hex(8),
        "context": format!("ari:cloud:jira::site/{}", install.cloud_id),
        "app": { "id": install.app_id },
        "environment": { "id": install.environment_id },
    })
}

/// An environment's id: an ARI naming the app and the environment.
fn environment_id(app_id: &str, name: &str) -> String {
    let app = app_id.rsplit('/').next().unwrap_or(app_id);
    format!("ari:cloud:ecosystem::environment/{app}/{name}")
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
