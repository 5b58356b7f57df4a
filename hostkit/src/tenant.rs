//! One site with the app installed, as the host knows it: clientKey, shared
//! secret, base URL; and the tokens it signs as that tenant (page JWTs,
//! `AP.context.getToken()` context tokens).

use serde_json::{Value, json};

use crate::{jwt, now, qsh::qsh, random_hex};

/// One site installing the app.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Tenant {
    pub client_key: String,
    pub shared_secret: String,
    pub base_url: String,
    pub product_type: String,
    pub installation_id: Option<String>,
}

impl Tenant {
    /// A Jira site at `base_url` with a fresh clientKey and secret.
    pub fn new(base_url: &str) -> Self {
        Self {
            client_key: format!("{}-{}", random_hex(4), random_hex(12)),
            shared_secret: random_hex(32),
            base_url: base_url.trim_end_matches('/').to_string(),
            product_type: "jira".into(),
            installation_id: None,
        }
    }

    /// The same site with a rotated shared secret (what a reinstall sends).
    pub fn with_new_secret(&self) -> Self {
        Self { shared_secret: random_hex(32), ..self.clone() }
    }

    /// HS256 claims the host signs as this tenant for `method path?params`.
    pub fn claims(&self, method: &str, path: &str, params: &[(&str, &str)], account_id: Option<&str>) -> Value {
        let mut claims =
            json!({ "iss": self.client_key, "iat": now(), "exp": now() + 180, "qsh": qsh(method, path, params) });
        if let Some(sub) = account_id {
            claims["sub"] = Value::String(sub.to_string());
        }
        claims
    }

    /// An HS256 token signed with this tenant's shared secret.
    pub fn sign(&self, claims: &Value) -> String {
        jwt::hs256(claims, self.shared_secret.as_bytes())
    }

    /// What `AP.context.getToken()` returns inside this tenant's iframe.
    pub fn context_token(&self, account_id: &str, ttl_secs: i64) -> String {
        let claims = json!({
            "iss": self.client_key, "sub": account_id, "qsh": "context-qsh",
            "iat": now(), "exp": now() + ttl_secs,
            "context": { "license": { "active": true }, "url": { "displayUrl": self.base_url } },
        });
        self.sign(&claims)
    }
}
