//! Acting as a user (OAuth 2.0 JWT bearer grant, `ACT_AS_USER`): an
//! assertion signed HS256 with the tenant's shared secret names the
//! installation's `oauthClientId` and the user, the authorization server at
//! `CONNECT_OAUTH_SERVER_URL` exchanges it for an access token, and the token
//! is kept in memory per (tenant, install generation, user, scopes) until a
//! minute before it expires (`user_tokens`).

use std::{sync::Arc, time::Duration};

use ids::{AccountId, TenantId, UnixTime};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Deserialize;
use serde_json::json;
use url::Url;

use super::{capped_body::read_capped, user_tokens::UserTokens};
use crate::{
    error::{Error, Result},
    secrets::SharedSecret,
    store::Tenant,
};

const TIMEOUT: Duration = Duration::from_secs(5);
const ASSERTION_TTL_SECS: i64 = 60;
const MAX_RESPONSE_BYTES: usize = 64 * 1024;
const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

#[derive(Debug, thiserror::Error)]
pub(crate) enum GrantError {
    #[error("the installation has no OAuth client id (it was not installed with ACT_AS_USER)")]
    NoClientId,
    #[error("the authorization server refused the grant ({0})")]
    Refused(u16),
    #[error("the authorization server could not be reached")]
    Unreachable,
    #[error("the authorization server's answer was not usable")]
    BadResponse,
}

type CacheKey = (TenantId, i64, AccountId, String);

pub(crate) struct ActAsUser {
    http: reqwest::Client,
    server: Url,
    tokens: UserTokens<CacheKey>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: i64,
}

impl ActAsUser {
    pub(crate) fn new(server: Url) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::Config(format!("act-as-user client: {e}")))?;
        Ok(Self { http, server, tokens: UserTokens::default() })
    }

    /// An access token for `account_id` on `installation` with `scopes`
    /// (upper-case Connect scope names), from the cache or a new grant.
    pub(crate) async fn token(
        &self,
        installation: &Tenant,
        secret: &SharedSecret,
        account_id: &AccountId,
        scopes: &[&str],
        now: UnixTime,
    ) -> std::result::Result<Arc<SharedSecret>, GrantError> {
        let scope = scopes.join(" ");
        let key = (installation.tenant_id.clone(), installation.install_generation, account_id.clone(), scope);
        if let Some(token) = self.tokens.cached(&key, now) {
            return Ok(token);
        }
        let assertion = self.assertion(installation, secret, account_id, now)?;
        let form = [("grant_type", GRANT_TYPE), ("assertion", assertion.as_str()), ("scope", key.3.as_str())];
        let url = format!("{}/oauth2/token", self.audience());
        let response = self.http.post(url).form(&form).send().await.map_err(|_| GrantError::Unreachable)?;
        if !response.status().is_success() {
            return Err(GrantError::Refused(response.status().as_u16()));
        }
        let body = read_capped(response, MAX_RESPONSE_BYTES).await.ok_or(GrantError::BadResponse)?;
        let answer: TokenAnswer = serde_json::from_slice(&body).map_err(|_| GrantError::BadResponse)?;
        let token = Arc::new(SharedSecret::new(answer.access_token.into_bytes()));
        self.tokens.keep(key, token.clone(), now + answer.expires_in.clamp(0, 24 * 3600));
        Ok(token)
    }

    /// Forgets a user's tokens (the site refused one: it may be revoked).
    pub(crate) fn forget(&self, tenant_id: &TenantId, account_id: &AccountId) {
        self.tokens.forget(|(tenant, _, user, _)| tenant == tenant_id && user == account_id);
    }

    fn audience(&self) -> &str {
        self.server.as_str().trim_end_matches('/')
    }

    fn assertion(
        &self,
        installation: &Tenant,
        secret: &SharedSecret,
        account_id: &AccountId,
        now: UnixTime,
    ) -> std::result::Result<String, GrantError> {
        let client_id = installation
            .connect
            .as_ref()
            .and_then(|c| c.oauth_client_id.as_deref())
            .filter(|c| !c.is_empty())
            .ok_or(GrantError::NoClientId)?;
        let claims = json!({
            "iss": format!("urn:atlassian:connect:clientid:{client_id}"),
            "sub": format!("urn:atlassian:connect:useraccountid:{account_id}"),
            "tnt": installation.site.base_url,
            "aud": self.audience(),
            "iat": now,
            "exp": now + ASSERTION_TTL_SECS,
        });
        let key = EncodingKey::from_secret(secret.expose());
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key).map_err(|_| GrantError::BadResponse)
    }
}
