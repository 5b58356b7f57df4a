//! A stand-in for the product API that Forge tokens call
//! (`https://api.atlassian.com/ex/{product}/{cloudId}/…`), on loopback. It
//! issues system and user tokens for a site, accepts only those, answers the
//! reads the app makes as itself, records every call, and can refuse the
//! first calls with 403 the way Forge does while a new install's permissions
//! propagate.

use std::sync::{Arc, Mutex};

use axum::{
    Json, Router,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    routing::get,
};
use serde_json::{Value, json};

use crate::{now, random_hex};

/// One call the stand-in answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiCall {
    pub path: String,
    pub token: Option<String>,
    pub status: u16,
}

#[derive(Default)]
struct Inner {
    /// (token, cloudId, as whom)
    tokens: Vec<(String, String, String)>,
    calls: Vec<ApiCall>,
    refuse_next: usize,
}

#[derive(Clone)]
pub struct ProductApi {
    /// `http://127.0.0.1:port`
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

impl ProductApi {
    pub async fn start() -> Self {
        Self::start_on("127.0.0.1:0").await
    }

    /// As [`ProductApi::start`], on a chosen address (the dev loop's fixed port).
    pub async fn start_on(addr: &str) -> Self {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = Router::new()
            .route("/ex/jira/{cloud_id}/rest/api/3/serverInfo", get(server_info))
            .route("/ex/jira/{cloud_id}/rest/api/3/myself", get(myself))
            .route("/ex/confluence/{cloud_id}/wiki/rest/api/space", get(spaces))
            .route("/ex/confluence/{cloud_id}/wiki/rest/api/user/current", get(myself))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind(addr).await.expect("bind the product API");
        let url = format!("http://{}", listener.local_addr().expect("product API address"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, inner }
    }

    /// The `app.apiBaseUrl` Forge names for a Jira site.
    pub fn jira_base(&self, cloud_id: &str) -> String {
        self.base("jira", cloud_id)
    }

    /// The `app.apiBaseUrl` for a site of `product` ("jira" or "confluence").
    pub fn base(&self, product: &str, cloud_id: &str) -> String {
        format!("{}/ex/{product}/{cloud_id}", self.url)
    }

    /// A system token for the site, as an unsigned-looking JWT whose `exp`
    /// is `ttl_secs` away (the app reads the expiry, never trusts it further).
    pub fn system_token(&self, cloud_id: &str, ttl_secs: i64) -> String {
        self.issue(cloud_id, "app", ttl_secs)
    }

    /// A user token for `account_id`, for one invocation.
    pub fn user_token(&self, cloud_id: &str, account_id: &str) -> String {
        self.issue(cloud_id, account_id, 300)
    }

    fn issue(&self, cloud_id: &str, whom: &str, ttl_secs: i64) -> String {
        use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
        let claims = json!({ "exp": now() + ttl_secs, "sub": whom, "jti": random_hex(8) });
        let token = format!("e30.{}.{}", URL_SAFE_NO_PAD.encode(claims.to_string()), random_hex(16));
        self.lock().tokens.push((token.clone(), cloud_id.to_string(), whom.to_string()));
        token
    }

    /// The next `n` calls answer 403, whatever token they carry.
    pub fn refuse_next(&self, n: usize) {
        self.lock().refuse_next = n;
    }

    pub fn calls(&self) -> Vec<ApiCall> {
        self.lock().calls.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The caller's token and whom it stands for, or the refusal.
fn authorize(inner: &Mutex<Inner>, path: String, cloud_id: &str, headers: &HeaderMap) -> Result<String, StatusCode> {
    let mut inner = inner.lock().unwrap_or_else(|e| e.into_inner());
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string);
    let whom = token
        .as_deref()
        .and_then(|t| inner.tokens.iter().find(|(known, site, _)| known == t && site == cloud_id))
        .map(|(_, _, whom)| whom.clone());
    let status = match (&whom, inner.refuse_next) {
        (_, n) if n > 0 => {
            inner.refuse_next = n - 1;
            StatusCode::FORBIDDEN
        }
        (None, _) => StatusCode::UNAUTHORIZED,
        (Some(_), _) => StatusCode::OK,
    };
    inner.calls.push(ApiCall { path, token, status: status.as_u16() });
    whom.filter(|_| status == StatusCode::OK).ok_or(status)
}

async fn server_info(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(cloud_id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, StatusCode> {
    authorize(&inner, "/rest/api/3/serverInfo".into(), &cloud_id, &headers)?;
    Ok(Json(json!({ "baseUrl": format!("https://{cloud_id}.atlassian.net"), "deploymentType": "Cloud" })))
}

async fn myself(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(cloud_id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, StatusCode> {
    let whom = authorize(&inner, "myself".into(), &cloud_id, &headers)?;
    Ok(Json(json!({ "accountId": whom, "displayName": format!("User {whom}") })))
}

async fn spaces(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(cloud_id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, StatusCode> {
    authorize(&inner, "/wiki/rest/api/space".into(), &cloud_id, &headers)?;
    Ok(Json(json!({ "results": [], "size": 0 })))
}
