//! Acting as Atlassian towards an app: lifecycle callbacks signed the way
//! Atlassian signs them (install key, key server) and iframe URLs with page
//! JWTs, for any [`Tenant`].

use reqwest::Response;
use serde_json::{Value, json};

use crate::{jwt, key_server::KeyServer, keys::InstallKey, now, payload, qsh::qsh, random_hex, tenant::Tenant};

/// Atlassian's side towards one app: its install key, its key server, and
/// an HTTP client that calls the app.
pub struct Host {
    pub app_base_url: String,
    pub app_key: String,
    pub key: InstallKey,
    pub key_server: KeyServer,
    pub http: reqwest::Client,
}

impl Host {
    /// A host with a fresh install key served by a new local key server.
    pub async fn start(app_base_url: &str, app_key: &str) -> Self {
        Self::with_key_server(app_base_url, app_key, KeyServer::start().await)
    }

    /// A host with a fresh install key, published on `key_server`.
    pub fn with_key_server(app_base_url: &str, app_key: &str, key_server: KeyServer) -> Self {
        let key = InstallKey::generate(&format!("test-key-{}", random_hex(6)));
        key_server.add_key(&key.kid, &key.public_pem);
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("http client");
        Self {
            app_base_url: app_base_url.trim_end_matches('/').to_string(),
            app_key: app_key.to_string(),
            key,
            key_server,
            http,
        }
    }

    /// The signed-install claims for `event` of `tenant`, ready to tamper with.
    pub fn install_claims(&self, tenant: &Tenant, event: &str) -> Value {
        json!({
            "iss": tenant.client_key,
            "aud": [self.app_base_url],
            "qsh": qsh("POST", &format!("/{event}"), &[]),
            "iat": now(),
            "exp": now() + 180,
            // RS256 signatures are deterministic: without this, two installs in
            // one second would carry the same token, which the app refuses as a replay.
            "jti": random_hex(8),
        })
    }

    /// An RS256 token for `event` of `tenant`, as Atlassian signs it.
    pub fn install_token(&self, tenant: &Tenant, event: &str) -> String {
        jwt::rs256(&self.install_claims(tenant, event), &self.key)
    }

    pub fn body(&self, tenant: &Tenant, event: &str) -> Value {
        payload::lifecycle(event, tenant, &self.app_key)
    }

    /// POSTs `body` to `/{event}` with `authorization` as the header, if any.
    pub async fn post_lifecycle(&self, event: &str, body: &Value, authorization: Option<String>) -> Response {
        let mut request = self.http.post(format!("{}/{event}", self.app_base_url)).json(body);
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        request.send().await.expect("lifecycle request")
    }

    /// A webhook delivery as the site sends it to `path` (the descriptor's
    /// URL): `Authorization: JWT` with the qsh of this POST, the delivery's
    /// identifier (the same on every retry) and, on a retry,
    /// `X-Atlassian-Webhook-Retry`.
    pub async fn send_webhook(
        &self,
        tenant: &Tenant,
        path: &str,
        payload: &Value,
        delivery_id: &str,
        retry: u32,
    ) -> reqwest::Result<Response> {
        let token = tenant.sign(&tenant.claims("POST", path, &[], None));
        let mut request = self
            .http
            .post(format!("{}{path}", self.app_base_url))
            .header("authorization", format!("JWT {token}"))
            .header("x-atlassian-webhook-identifier", delivery_id)
            .timeout(std::time::Duration::from_secs(10))
            .json(payload);
        if retry > 0 {
            request = request.header("x-atlassian-webhook-retry", retry.to_string());
        }
        request.send().await
    }

    /// A signed install, as Jira sends it.
    pub async fn install(&self, tenant: &Tenant) -> Response {
        let token = self.install_token(tenant, "installed");
        self.post_lifecycle("installed", &self.body(tenant, "installed"), Some(format!("JWT {token}"))).await
    }

    /// A signed uninstall.
    pub async fn uninstall(&self, tenant: &Tenant) -> Response {
        let token = self.install_token(tenant, "uninstalled");
        self.post_lifecycle("uninstalled", &self.body(tenant, "uninstalled"), Some(format!("JWT {token}"))).await
    }

    /// `enabled` or `disabled`, HS256-signed with the tenant's secret.
    pub async fn toggle(&self, tenant: &Tenant, event: &str) -> Response {
        let token = tenant.sign(&tenant.claims("POST", &format!("/{event}"), &[], None));
        self.post_lifecycle(event, &self.body(tenant, event), Some(format!("JWT {token}"))).await
    }

    /// The URL the host puts in an iframe for the module at `path`.
    pub fn page_url(&self, tenant: &Tenant, path: &str, params: &[(&str, &str)], account_id: Option<&str>) -> String {
        let token = tenant.sign(&tenant.claims("GET", path, params, account_id));
        let mut url = url::Url::parse(&format!("{}{path}", self.app_base_url)).expect("page URL");
        {
            let mut query = url.query_pairs_mut();
            for (k, v) in params {
                query.append_pair(k, v);
            }
            query.append_pair("jwt", &token);
        }
        url.to_string()
    }
}
