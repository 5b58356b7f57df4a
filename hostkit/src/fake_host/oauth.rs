//! The fake host's side of acting as a user: the OAuth 2.0 token endpoint
//! (`POST /oauth2/token`, JWT bearer grant) that checks the assertion the way
//! Atlassian's authorization server does, and the REST calls made with the
//! access tokens it issued: comments, recorded with their author.

use axum::{
    Form, Json,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{FakeHost, Site};
use crate::{now, random_hex};

/// How long the access tokens it issues live.
pub const ACCESS_TOKEN_TTL_SECS: i64 = 900;

/// A comment a user made through the app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    pub site: String,
    /// The issue key or page id.
    pub target: String,
    pub author_account_id: String,
    pub author: String,
    pub text: String,
}

#[derive(Clone)]
pub(crate) struct AccessToken {
    site: String,
    account_id: String,
    expires_at: i64,
}

#[derive(Deserialize)]
pub(crate) struct TokenRequest {
    grant_type: String,
    assertion: String,
    #[serde(default)]
    scope: String,
}

fn refuse(status: StatusCode, error: &str, why: &str) -> Response {
    (status, Json(json!({ "error": error, "error_description": why }))).into_response()
}

pub(crate) async fn token(State(fake): State<FakeHost>, Form(request): Form<TokenRequest>) -> Response {
    if request.grant_type != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
        return refuse(StatusCode::BAD_REQUEST, "unsupported_grant_type", "jwt-bearer only");
    }
    match check_assertion(&fake, &request.assertion) {
        Ok((site, account_id)) => {
            if fake.lock().revoked.contains(&site) {
                return refuse(StatusCode::BAD_REQUEST, "invalid_grant", "the site revoked the app's access");
            }
            let token = format!("fake-at-{}", random_hex(16));
            let mut inner = fake.lock();
            inner.grants += 1;
            let entry = AccessToken { site, account_id, expires_at: now() + ACCESS_TOKEN_TTL_SECS };
            inner.access_tokens.insert(token.clone(), entry);
            let scope = request.scope.to_ascii_uppercase();
            let answer = json!({
                "access_token": token, "expires_in": ACCESS_TOKEN_TTL_SECS, "token_type": "Bearer", "scope": scope,
            });
            Json(answer).into_response()
        }
        Err(why) => refuse(StatusCode::BAD_REQUEST, "invalid_grant", why),
    }
}

/// The site and user of a valid assertion: HS256 under the site's shared
/// secret, `iss` its OAuth client id, `sub` a user, `tnt` its base URL,
/// `aud` this server, short-lived.
fn check_assertion(fake: &FakeHost, assertion: &str) -> Result<(String, String), &'static str> {
    let unverified: Value = jsonwebtoken::dangerous::insecure_decode(assertion).map_err(|_| "not a JWT")?.claims;
    let tnt = unverified["tnt"].as_str().ok_or("no tnt")?;
    let (name, site) = fake.site_by_base_url(tnt).ok_or("tnt names no site")?;
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&[fake.url.as_str()]);
    validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
    let key = DecodingKey::from_secret(site.tenant.shared_secret.as_bytes());
    let claims =
        jsonwebtoken::decode::<Value>(assertion, &key, &validation).map_err(|_| "bad signature, aud or exp")?;
    let claims = claims.claims;
    let client_id = format!("urn:atlassian:connect:clientid:oauth-{}", &site.tenant.client_key[..8]);
    if claims["iss"] != client_id.as_str() {
        return Err("iss is not the installation's OAuth client id");
    }
    let lifetime = claims["exp"].as_i64().unwrap_or(0) - claims["iat"].as_i64().unwrap_or(0);
    if !(1..=300).contains(&lifetime) {
        return Err("an assertion lives at most five minutes");
    }
    let sub = claims["sub"].as_str().and_then(|s| s.strip_prefix("urn:atlassian:connect:useraccountid:"));
    let account_id = sub.filter(|a| !a.is_empty()).ok_or("sub is not a user")?;
    Ok((name, account_id.to_string()))
}

/// A REST call with `Authorization: Bearer`: only a token this host issued
/// for this site, unexpired and not revoked.
pub(crate) fn bearer_call(
    fake: &FakeHost,
    site: &str,
    method: &str,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let token = headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    let grant = token.and_then(|t| fake.lock().access_tokens.get(t).cloned());
    let Some(grant) = grant.filter(|g| g.site == site && g.expires_at > now()) else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    if fake.lock().revoked.contains(site) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let request: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let target = match (method, path.strip_prefix("/rest/api/3/issue/").and_then(|p| p.strip_suffix("/comment"))) {
        ("POST", Some(key)) => key.to_string(),
        _ if method == "POST" && path == "/rest/api/content" && request["type"] == "comment" => {
            request["container"]["id"].as_str().unwrap_or_default().to_string()
        }
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let text = comment_text(&request);
    let author = fake.site(site).and_then(|s| s.users.get(&grant.account_id).map(|u| u.display_name.clone()));
    let comment = Comment {
        site: site.to_string(),
        target,
        author_account_id: grant.account_id.clone(),
        author: author.unwrap_or_else(|| grant.account_id.clone()),
        text,
    };
    let mut inner = fake.lock();
    inner.comments.push(comment);
    let id = 10_000 + inner.comments.len();
    (StatusCode::CREATED, Json(json!({ "id": id.to_string() }))).into_response()
}

/// A comment's text: Jira's document's first paragraph, or Confluence's storage value.
fn comment_text(request: &Value) -> String {
    let jira = request["body"]["content"][0]["content"][0]["text"].as_str();
    jira.or_else(|| request["body"]["storage"]["value"].as_str()).unwrap_or_default().to_string()
}

impl FakeHost {
    /// The comments users made through the app, oldest first: through the
    /// site's REST API (Connect's act-as-user), then through Forge's product
    /// API (offline impersonation), each on its site as its author.
    pub fn comments(&self) -> Vec<Comment> {
        let mut comments = self.lock().comments.clone();
        let through_forge = self.forge.as_ref().map(|f| f.api.comments()).unwrap_or_default();
        for c in through_forge {
            let site = self.site_names().into_iter().find(|n| self.site(n).is_some_and(|s| s.cloud_id == c.cloud_id));
            let Some(site) = site else { continue };
            let author = self.site(&site).and_then(|s| s.users.get(&c.author).map(|u| u.display_name.clone()));
            comments.push(Comment {
                site,
                target: c.target.clone(),
                author_account_id: c.author.clone(),
                author: author.unwrap_or_else(|| c.author.clone()),
                text: comment_text(&c.body),
            });
        }
        comments
    }

    /// How many act-as-user grants the token endpoint gave.
    pub fn grants(&self) -> usize {
        self.lock().grants
    }

    /// The site revokes the app's right to act for its users.
    pub fn revoke_grants(&self, site: &str) {
        self.lock().revoked.insert(site.to_string());
    }

    pub(crate) fn site_by_base_url(&self, base_url: &str) -> Option<(String, Site)> {
        let inner = self.lock();
        inner.sites.iter().find(|(_, s)| s.tenant.base_url == base_url).map(|(n, s)| (n.clone(), s.clone()))
    }
}
