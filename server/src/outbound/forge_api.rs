//! Calls from the app to the product as a Forge app: `{app.apiBaseUrl}/…`
//! with `Authorization: Bearer` and the system token (as the app) or a token
//! Forge's offline impersonation gave for the user (`impersonation`). The
//! base URL must match `FORGE_API_BASE_ALLOWLIST` before anything is sent,
//! so a token never goes to a host the operator did not name. Right after an
//! install Forge answers 401/403 while permissions propagate: those are
//! retried with a bounded backoff, and a rate limit as `answer` says. Time,
//! size and redirects are bounded; an empty answer is `null`.

use std::time::Duration;

use ids::{AccountId, TenantId, UnixTime};
use reqwest::Method;
use serde_json::Value;
use url::Url;

use super::{
    answer::{self, Patience, RateLimit},
    capped_body::read_capped,
    host_api, impersonation,
    system_tokens::binding,
    user_tokens::UserTokens,
};
use crate::{
    connect::host_allowlist::HostAllowlist,
    error::{Error, Result},
    secrets::{Keyring, SharedSecret},
    store::{Database, Tenant, forge_tokens},
};

const TIMEOUT: Duration = Duration::from_secs(5);
const MAX_RESPONSE_BYTES: usize = 1024 * 1024;
/// Whether the user of the token holds Jira's global "Administer Jira".
const JIRA_MY_ADMIN_PERMISSION: &str = "/rest/api/3/mypermissions?permissions=ADMINISTER";
/// The user of the token, with what they may do (`administer` the `application`: a site admin).
const CONFLUENCE_OWN_OPERATIONS: &str = "/wiki/rest/api/user/current?expand=operations";
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
    #[error("the product API limited the app's calls ({0})")]
    RateLimited(answer::RateLimit),
    #[error("the product API could not be reached")]
    Unreachable,
    #[error("the product API's answer was not usable")]
    BadResponse,
    #[error("Forge would not let the app act for you ({0})")]
    NoImpersonation(String),
}

pub(crate) struct ForgeApi {
    http: reqwest::Client,
    allowlist: HostAllowlist,
    graphql_url: Url,
    /// Impersonation tokens per (tenant, install generation, user).
    as_users: UserTokens<(TenantId, i64, AccountId)>,
}

impl ForgeApi {
    pub(crate) fn new(allowlist: HostAllowlist, graphql_url: Url) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::Config(format!("Forge API client: {e}")))?;
        Ok(Self { http, allowlist, graphql_url, as_users: UserTokens::default() })
    }

    /// GET `path` (e.g. `/rest/api/3/serverInfo`) as the app, with the
    /// newest system token held for `installation`.
    pub(crate) async fn get_as_app(
        &self,
        db: &Database,
        keyring: &Keyring,
        installation: &Tenant,
        path: &str,
    ) -> std::result::Result<Value, ForgeApiError> {
        self.send_as_app(
            db,
            keyring,
            installation,
            ApiRequest { method: Method::GET, path, body: None, patience: Patience::Retry },
        )
        .await
    }

    /// Sends `request` as the app, with the newest system token held for `installation`.
    pub(crate) async fn send_as_app(
        &self,
        db: &Database,
        keyring: &Keyring,
        installation: &Tenant,
        request: ApiRequest<'_>,
    ) -> std::result::Result<Value, ForgeApiError> {
        let (base, token) = system_token(db, keyring, installation).await?;
        self.send(&base, &token, request).await
    }

    /// Sends `request` as the app to the API's own origin (Atlassian's
    /// `https://api.atlassian.com`, not the site's `/ex/…` base), where
    /// app-wide APIs such as the personal data report live.
    pub(crate) async fn send_as_app_to_origin(
        &self,
        db: &Database,
        keyring: &Keyring,
        installation: &Tenant,
        request: ApiRequest<'_>,
    ) -> std::result::Result<Value, ForgeApiError> {
        let (base, token) = system_token(db, keyring, installation).await?;
        let origin = Url::parse(&base.origin().ascii_serialization()).map_err(|_| ForgeApiError::NotAllowed)?;
        self.send(&origin, &token, request).await
    }

    /// Is `account_id` an administrator of the tenant's site? Asked as that
    /// user (Jira's `mypermissions`, Confluence's own operations): the
    /// product tells the app about another user only when the app is an
    /// administrator itself, which a Forge app is not.
    pub(crate) async fn is_site_admin(
        &self,
        db: &Database,
        keyring: &Keyring,
        installation: &Tenant,
        account_id: &AccountId,
        now: UnixTime,
    ) -> std::result::Result<bool, ForgeApiError> {
        let path = if installation.is_confluence() { CONFLUENCE_OWN_OPERATIONS } else { JIRA_MY_ADMIN_PERMISSION };
        let request = ApiRequest { method: Method::GET, path, body: None, patience: Patience::Retry };
        let answer = self.send_as_user(db, keyring, installation, account_id, request, now).await?;
        Ok(if installation.is_confluence() {
            host_api::is_confluence_admin(&answer)
        } else {
            answer["permissions"]["ADMINISTER"]["havePermission"].as_bool() == Some(true)
        })
    }

    /// Sends `request` as `account_id`, with a token Forge's offline
    /// impersonation gave for them (kept until shortly before it expires).
    pub(crate) async fn send_as_user(
        &self,
        db: &Database,
        keyring: &Keyring,
        installation: &Tenant,
        account_id: &AccountId,
        request: ApiRequest<'_>,
        now: UnixTime,
    ) -> std::result::Result<Value, ForgeApiError> {
        let (base, system) = system_token(db, keyring, installation).await?;
        let key = (installation.tenant_id.clone(), installation.install_generation, account_id.clone());
        let token = match self.as_users.cached(&key, now) {
            Some(token) => token,
            None => {
                let (token, ttl) = self.impersonate(&system, installation, account_id).await?;
                let token = std::sync::Arc::new(SharedSecret::new(token.into_bytes()));
                self.as_users.keep(key.clone(), token.clone(), now + ttl);
                token
            }
        };
        let text = std::str::from_utf8(token.expose()).map_err(|_| ForgeApiError::BadResponse)?;
        let answer = self.send(&base, text, request).await;
        if matches!(answer, Err(ForgeApiError::Status(401))) {
            self.as_users.forget(|k| *k == key);
        }
        answer
    }

    /// Asks the GraphQL gateway, with the system token, for a token acting as `account_id`.
    async fn impersonate(
        &self,
        system_token: &str,
        installation: &Tenant,
        account_id: &AccountId,
    ) -> std::result::Result<(String, i64), ForgeApiError> {
        if !self.allowlist.allows(&self.graphql_url.origin().ascii_serialization()) {
            return Err(ForgeApiError::NotAllowed);
        }
        let context = impersonation::context_ari(installation)
            .ok_or_else(|| ForgeApiError::NoImpersonation("the site's cloudId is not known yet".into()))?;
        let body = impersonation::request(&context, account_id);
        let sent = self.http.post(self.graphql_url.clone()).bearer_auth(system_token).json(&body).send().await;
        let response = sent.map_err(|_| ForgeApiError::Unreachable)?;
        // Forge's 1,000 tokens a minute per app is a rate limit like the product's.
        if !response.status().is_success() {
            return Err(refusal(&Method::POST, &response));
        }
        let body = read_capped(response, MAX_RESPONSE_BYTES).await.ok_or(ForgeApiError::BadResponse)?;
        let answer: Value = serde_json::from_slice(&body).map_err(|_| ForgeApiError::BadResponse)?;
        impersonation::answer(&answer).map_err(|reason| {
            tracing::warn!(tenant_id = %installation.tenant_id, %reason, "offline impersonation refused");
            ForgeApiError::NoImpersonation(reason)
        })
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
        let (mut waits, mut rate_limited) = (BACKOFF.iter(), 0);
        loop {
            let outcome = self.send_once(&url, token, &request).await;
            let early_refusal = matches!(outcome, Err(ForgeApiError::Status(401 | 403)));
            if let Err(ForgeApiError::RateLimited(limit)) = &outcome {
                answer::count("forge", limit);
                if let Some(wait) = answer::rate_limit_wait(limit, request.patience, rate_limited, rand::random()) {
                    tokio::time::sleep(wait).await;
                    rate_limited += 1;
                    continue;
                }
            }
            match waits.next() {
                Some(wait) if early_refusal => tokio::time::sleep(*wait).await,
                _ => return outcome,
            }
        }
    }

    /// One attempt; a refusal that is a rate limit says so.
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
        let Ok(response) = builder.send().await else { return Err(ForgeApiError::Unreachable) };
        if !response.status().is_success() {
            return Err(refusal(&request.method, &response));
        }
        let body = read_capped(response, MAX_RESPONSE_BYTES).await;
        body.as_deref().and_then(answer::json_of).ok_or(ForgeApiError::BadResponse)
    }
}

/// A refused answer: a rate limit (`answer::RateLimit`) or its status.
fn refusal(method: &Method, response: &reqwest::Response) -> ForgeApiError {
    let status = response.status().as_u16();
    match RateLimit::of(method, status, response.headers()) {
        Some(limit) => ForgeApiError::RateLimited(limit),
        None => ForgeApiError::Status(status),
    }
}

/// One call to the product API: a path under the API base URL, with its query.
pub(crate) struct ApiRequest<'a> {
    pub method: Method,
    pub path: &'a str,
    pub body: Option<Value>,
    pub patience: Patience,
}

/// The API base URL and the newest system token held for the tenant.
async fn system_token(
    db: &Database,
    keyring: &Keyring,
    installation: &Tenant,
) -> std::result::Result<(Url, String), ForgeApiError> {
    let id = &installation.tenant_id;
    let stored = forge_tokens::find(db, id).await.ok().flatten().ok_or(ForgeApiError::NoToken)?;
    let base = stored.api_base_url.as_deref().and_then(|u| Url::parse(u).ok()).ok_or(ForgeApiError::NoToken)?;
    let token = keyring.open(&binding(id), &stored.sealed()).map_err(|_| ForgeApiError::NoToken)?;
    let token = String::from_utf8(token.expose().to_vec()).map_err(|_| ForgeApiError::NoToken)?;
    Ok((base, token))
}

/// A cheap read that shows the app can reach the tenant's product as itself.
pub(crate) fn health_path(installation: &Tenant) -> &'static str {
    if installation.is_confluence() { "/wiki/rest/api/space?limit=1" } else { "/rest/api/3/serverInfo" }
}
