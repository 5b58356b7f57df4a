//! Calls from the app to the product as a Forge app: `{app.apiBaseUrl}/…`
//! with `Authorization: Bearer` and the system token (as the app) or the
//! invocation's user token (as the user, only during that invocation). The
//! base URL must match `FORGE_API_BASE_ALLOWLIST` before anything is sent,
//! so a token never goes to a host the operator did not name. Right after an
//! install Forge answers 401/403 while permissions propagate: those are
//! retried with a bounded backoff. Time, size and redirects are bounded.

use std::time::Duration;

use ids::AccountId;
use reqwest::Method;
use serde_json::Value;
use url::Url;

use super::{capped_body::read_capped, host_api, system_tokens::binding};
use crate::{
    connect::host_allowlist::HostAllowlist,
    error::{Error, Result},
    secrets::Keyring,
    store::{Database, Installation, forge_tokens},
};

const TIMEOUT: Duration = Duration::from_secs(5);
const MAX_RESPONSE_BYTES: usize = 1024 * 1024;
/// Waits before each retry of an early 401/403: at most three, about 3 s in all.
const BACKOFF: [Duration; 3] = [Duration::from_millis(250), Duration::from_secs(1), Duration::from_secs(2)];

#[derive(Debug, thiserror::Error)]
pub(crate) enum ForgeApiError {
    #[error("no Forge system token is held for this tenant yet (Forge sends one with its next event)")]
    NoToken,
    #[error("the API base URL is not in FORGE_API_BASE_ALLOWLIST")]
    NotAllowed,
    #[error("the product API answered {0}")]
    Status(u16),
    #[error("the product API could not be reached")]
    Unreachable,
    #[error("the product API's answer was not usable")]
    BadResponse,
}

pub(crate) struct ForgeApi {
    http: reqwest::Client,
    allowlist: HostAllowlist,
}

impl ForgeApi {
    pub(crate) fn new(allowlist: HostAllowlist) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::Config(format!("Forge API client: {e}")))?;
        Ok(Self { http, allowlist })
    }

    /// GET `path` (e.g. `/rest/api/3/serverInfo`) as the app, with the
    /// newest system token held for `installation`.
    pub(crate) async fn get_as_app(
        &self,
        db: &Database,
        keyring: &Keyring,
        installation: &Installation,
        path: &str,
    ) -> std::result::Result<Value, ForgeApiError> {
        let (base, token) = system_token(db, keyring, installation).await?;
        self.send(&base, &token, ApiRequest { method: Method::GET, path, body: None }).await
    }

    /// Is `account_id` an administrator of the tenant's site? Asked as the
    /// app, the questions Connect asks its host (`host_api`).
    pub(crate) async fn is_site_admin(
        &self,
        db: &Database,
        keyring: &Keyring,
        installation: &Installation,
        account_id: &AccountId,
    ) -> std::result::Result<bool, ForgeApiError> {
        let (base, token) = system_token(db, keyring, installation).await?;
        if is_confluence(installation) {
            let path = format!("/wiki/rest/api/user?{}", query(&[("accountId", account_id), ("expand", "operations")]));
            let user = self.send(&base, &token, ApiRequest { method: Method::GET, path: &path, body: None }).await?;
            Ok(host_api::is_confluence_admin(&user))
        } else {
            let body = Some(host_api::admin_check(account_id));
            let request = ApiRequest { method: Method::POST, path: host_api::JIRA_PERMISSION_CHECK, body };
            Ok(host_api::is_jira_admin(&self.send(&base, &token, request).await?))
        }
    }

    /// The display name of `account_id`, asked as the app.
    pub(crate) async fn display_name(
        &self,
        db: &Database,
        keyring: &Keyring,
        installation: &Installation,
        account_id: &AccountId,
    ) -> std::result::Result<Option<String>, ForgeApiError> {
        let (base, token) = system_token(db, keyring, installation).await?;
        let prefix = if is_confluence(installation) { "/wiki/rest/api/user" } else { "/rest/api/3/user" };
        let path = format!("{prefix}?{}", query(&[("accountId", account_id)]));
        let user = self.send(&base, &token, ApiRequest { method: Method::GET, path: &path, body: None }).await?;
        Ok(host_api::display_name_of(&user))
    }

    /// GET `path` under `api_base_url` with `token`, retrying early 401/403.
    pub(crate) async fn get(
        &self,
        api_base_url: &Url,
        token: &str,
        path: &str,
    ) -> std::result::Result<Value, ForgeApiError> {
        self.send(api_base_url, token, ApiRequest { method: Method::GET, path, body: None }).await
    }

    /// Sends `request` under `api_base_url` with `token` (a system token or
    /// the invocation's user token), retrying early 401/403.
    pub(crate) async fn send(
        &self,
        api_base_url: &Url,
        token: &str,
        request: ApiRequest<'_>,
    ) -> std::result::Result<Value, ForgeApiError> {
        let origin = api_base_url.origin().ascii_serialization();
        if !self.allowlist.allows(&origin) {
            return Err(ForgeApiError::NotAllowed);
        }
        let url = format!("{}{}", api_base_url.as_str().trim_end_matches('/'), request.path);
        let mut waits = BACKOFF.iter();
        loop {
            let answer = self.send_once(&url, token, &request).await;
            let early_refusal = matches!(answer, Err(ForgeApiError::Status(401 | 403)));
            match waits.next() {
                Some(wait) if early_refusal => tokio::time::sleep(*wait).await,
                _ => return answer,
            }
        }
    }

    async fn send_once(
        &self,
        url: &str,
        token: &str,
        request: &ApiRequest<'_>,
    ) -> std::result::Result<Value, ForgeApiError> {
        let mut builder = self
            .http
            .request(request.method.clone(), url)
            .bearer_auth(token)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(body) = &request.body {
            builder = builder.json(body);
        }
        let response = builder.send().await.map_err(|_| ForgeApiError::Unreachable)?;
        if !response.status().is_success() {
            return Err(ForgeApiError::Status(response.status().as_u16()));
        }
        let body = read_capped(response, MAX_RESPONSE_BYTES).await.ok_or(ForgeApiError::BadResponse)?;
        serde_json::from_slice(&body).map_err(|_| ForgeApiError::BadResponse)
    }
}

/// One call to the product API: a path under the API base URL, with its query.
pub(crate) struct ApiRequest<'a> {
    pub method: Method,
    pub path: &'a str,
    pub body: Option<Value>,
}

/// The API base URL and the newest system token held for the tenant.
async fn system_token(
    db: &Database,
    keyring: &Keyring,
    installation: &Installation,
) -> std::result::Result<(Url, String), ForgeApiError> {
    let id = &installation.tenant_id;
    let stored = forge_tokens::find(db, id).await.ok().flatten().ok_or(ForgeApiError::NoToken)?;
    let base = stored.api_base_url.as_deref().and_then(|u| Url::parse(u).ok()).ok_or(ForgeApiError::NoToken)?;
    let token = keyring.open(&binding(id), &stored.sealed()).map_err(|_| ForgeApiError::NoToken)?;
    let token = String::from_utf8(token.expose().to_vec()).map_err(|_| ForgeApiError::NoToken)?;
    Ok((base, token))
}

fn query(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

fn is_confluence(installation: &Installation) -> bool {
    installation.product_type.as_deref() == Some("confluence")
}

/// A cheap read that shows the app can reach the tenant's product as itself.
pub(crate) fn health_path(installation: &Installation) -> &'static str {
    match installation.product_type.as_deref() {
        Some("confluence") => "/wiki/rest/api/space?limit=1",
        _ => "/rest/api/3/serverInfo",
    }
}

/// Who the user of a user token is.
pub(crate) fn myself_path(installation: &Installation) -> &'static str {
    match installation.product_type.as_deref() {
        Some("confluence") => "/wiki/rest/api/user/current",
        _ => "/rest/api/3/myself",
    }
}
