//! Signed calls from the app to a tenant's site (Jira or Confluence REST):
//! a JWT as the app (`iss` = app key, qsh over the host path relative to the
//! site's base URL, three minutes to live), bounded time and size, and no
//! redirects. Inactive installations (uninstalled, disabled, orphaned by a
//! site import) get nothing sent on their behalf. A rate-limited call is
//! retried as `answer` says; an empty answer is `null`.

use std::time::Duration;

use ids::UnixTime;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::Method;
use serde_json::{Value, json};
use url::Url;

pub(crate) use super::answer::Patience;
use super::{
    answer::{self, RateLimit},
    capped_body::read_capped,
};
use crate::{connect::qsh::qsh, secrets::SharedSecret, store::Tenant};

const TIMEOUT: Duration = Duration::from_secs(5);
const MAX_RESPONSE_BYTES: usize = 1024 * 1024;
const TOKEN_TTL_SECS: i64 = 180;

#[derive(Debug, thiserror::Error)]
pub(crate) enum HostError {
    #[error("the installation is not active")]
    Inactive,
    #[error("the host answered {0}")]
    Status(u16),
    #[error("the host limited the app's calls ({0})")]
    RateLimited(answer::RateLimit),
    #[error("the host could not be reached")]
    Unreachable,
    #[error("the host's answer was not usable")]
    BadResponse,
}

pub struct HostClient {
    http: reqwest::Client,
    app_key: String,
}

/// A request relative to the site's base URL, e.g. `/rest/api/3/user`.
pub(crate) struct HostRequest<'a> {
    pub method: Method,
    pub path: &'a str,
    pub query: &'a [(&'a str, &'a str)],
    pub body: Option<Value>,
    pub patience: Patience,
}

impl HostClient {
    pub(crate) fn new(app_key: &str) -> crate::error::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| crate::error::Error::Config(format!("host client: {e}")))?;
        Ok(Self { http, app_key: app_key.to_string() })
    }

    /// Sends `request` to the installation's site as the app and returns its JSON answer.
    pub(crate) async fn send(
        &self,
        installation: &Tenant,
        secret: &SharedSecret,
        request: HostRequest<'_>,
        now: UnixTime,
    ) -> Result<Value, HostError> {
        let url = self.url(&installation.site.base_url, &request)?;
        let token = self.token(&request, url.query().unwrap_or_default(), secret, now)?;
        self.exchange(installation, url, request, &format!("JWT {token}")).await
    }

    /// Sends `request` as a user, with the access token the act-as-user grant gave.
    pub(crate) async fn send_as_user(
        &self,
        installation: &Tenant,
        access_token: &SharedSecret,
        request: HostRequest<'_>,
    ) -> Result<Value, HostError> {
        let url = self.url(&installation.site.base_url, &request)?;
        let token = std::str::from_utf8(access_token.expose()).map_err(|_| HostError::BadResponse)?;
        self.exchange(installation, url, request, &format!("Bearer {token}")).await
    }

    async fn exchange(
        &self,
        installation: &Tenant,
        url: Url,
        request: HostRequest<'_>,
        authorization: &str,
    ) -> Result<Value, HostError> {
        if !installation.is_active() {
            return Err(HostError::Inactive);
        }
        let mut retried = 0;
        loop {
            let mut builder =
                self.http.request(request.method.clone(), url.clone()).header("authorization", authorization);
            builder = builder.header("accept", "application/json");
            if let Some(body) = &request.body {
                builder = builder.json(body);
            }
            let response = builder.send().await.map_err(|_| HostError::Unreachable)?;
            let status = response.status();
            if status.is_success() {
                let body = read_capped(response, MAX_RESPONSE_BYTES).await.ok_or(HostError::BadResponse)?;
                return answer::json_of(&body).ok_or(HostError::BadResponse);
            }
            let Some(limit) = RateLimit::of(&request.method, status.as_u16(), response.headers()) else {
                return Err(HostError::Status(status.as_u16()));
            };
            answer::count("connect", &limit);
            let Some(wait) = answer::rate_limit_wait(&limit, request.patience, retried, rand::random()) else {
                return Err(HostError::RateLimited(limit));
            };
            tokio::time::sleep(wait).await;
            retried += 1;
        }
    }

    fn url(&self, base_url: &str, request: &HostRequest<'_>) -> Result<Url, HostError> {
        let mut url = Url::parse(&format!("{}{}", base_url.trim_end_matches('/'), request.path))
            .map_err(|_| HostError::BadResponse)?;
        if !request.query.is_empty() {
            url.query_pairs_mut().extend_pairs(request.query);
        }
        Ok(url)
    }

    fn token(
        &self,
        request: &HostRequest<'_>,
        query: &str,
        secret: &SharedSecret,
        now: UnixTime,
    ) -> Result<String, HostError> {
        let claims = json!({
            "iss": self.app_key,
            "iat": now,
            "exp": now + TOKEN_TTL_SECS,
            "qsh": qsh(request.method.as_str(), request.path, query, ""),
        });
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret.expose()))
            .map_err(|_| HostError::BadResponse)
    }
}
