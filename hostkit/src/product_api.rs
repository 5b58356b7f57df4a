//! A stand-in for the product API that Forge tokens call
//! (`https://api.atlassian.com/ex/{product}/{cloudId}/…`), on loopback. It
//! issues system and user tokens for a site, accepts only those, answers the
//! calls the app makes as itself (server info, a user's name) and as a user
//! (who am I, am I an admin, a comment), plays Atlassian's GraphQL gateway
//! for offline user impersonation (a system token buys a token for one user
//! of its site, 1,000 a minute per app), refuses what the real API refuses
//! (the app asking about another user's permissions without being an
//! admin), records every call with the token it carried, and can refuse the
//! first calls with 403 the way Forge does while a new install's
//! permissions propagate, and plays Atlassian's rate limits
//! (`crate::rate_limits`: a points budget, bursts) with 429s, and the
//! personal data reporting API on its origin (`crate::personal_data`).

use std::sync::{Arc, Mutex};

use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde_json::{Value, json};

use crate::{
    now,
    personal_data::Accounts,
    random_hex,
    rate_limits::{Limited, RateLimits},
};

/// One call the stand-in answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiCall {
    pub path: String,
    pub token: Option<String>,
    pub status: u16,
}

/// A user of a site, as the product API knows them.
#[derive(Clone, Debug)]
struct User {
    display_name: String,
    admin: bool,
}

/// A comment a user made through the API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiComment {
    pub cloud_id: String,
    pub author: String,
    pub target: String,
    pub body: Value,
}

#[derive(Default)]
struct Inner {
    /// (token, cloudId, as whom)
    tokens: Vec<(String, String, String)>,
    calls: Vec<ApiCall>,
    refuse_next: usize,
    /// (cloudId, accountId) → the user.
    users: std::collections::HashMap<(String, String), User>,
    comments: Vec<ApiComment>,
    /// Impersonation tokens issued in the current minute, and when it began.
    impersonations: (u32, i64),
    /// Atlassian's rate limits, by cloudId.
    rate_limits: RateLimits,
    /// Closed and updated accounts, and the personal data reports made.
    accounts: Accounts,
}

/// Forge's limit on offline impersonation tokens, per app and minute.
const IMPERSONATIONS_PER_MINUTE: u32 = 1_000;
/// How long an impersonation token lives.
const IMPERSONATION_TTL_SECS: i64 = 900;

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
            .route("/ex/jira/{cloud_id}/rest/api/3/user", get(user))
            .route("/ex/jira/{cloud_id}/rest/api/3/permissions/check", post(permissions_check))
            .route("/ex/jira/{cloud_id}/rest/api/3/mypermissions", get(my_permissions))
            .route("/ex/jira/{cloud_id}/rest/api/3/issue/{key}/comment", post(issue_comment))
            .route("/ex/confluence/{cloud_id}/wiki/rest/api/space", get(spaces))
            .route("/ex/confluence/{cloud_id}/wiki/rest/api/user/current", get(myself))
            .route("/graphql", post(graphql))
            .route("/app/report-accounts/", post(report_accounts))
            .route("/ex/confluence/{cloud_id}/wiki/rest/api/user", get(user))
            .route("/ex/confluence/{cloud_id}/wiki/rest/api/content", post(page_comment))
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
        issue(&mut self.lock(), cloud_id, whom, ttl_secs)
    }

    /// A user of the site `cloud_id`, for the app's calls about them.
    pub fn add_user(&self, cloud_id: &str, account_id: &str, display_name: &str, admin: bool) {
        let user = User { display_name: display_name.to_string(), admin };
        self.lock().users.insert((cloud_id.to_string(), account_id.to_string()), user);
    }

    /// The comments users made through the API, oldest first.
    pub fn comments(&self) -> Vec<ApiComment> {
        self.lock().comments.clone()
    }

    /// The next `n` calls answer 403, whatever token they carry.
    pub fn refuse_next(&self, n: usize) {
        self.lock().refuse_next = n;
    }

    /// The next `calls` calls for the site `cloud_id` are refused as a burst (429).
    pub fn rate_limit(&self, cloud_id: &str, calls: u32) {
        self.lock().rate_limits.burst(cloud_id, calls);
    }

    /// The site `cloud_id` may spend `points` a window of `window_secs` (`crate::rate_limits`).
    pub fn points_budget(&self, cloud_id: &str, points: u32, window_secs: i64) {
        self.lock().rate_limits.set_budget(cloud_id, points, window_secs, now());
    }

    /// The account is closed, or its data updated now (`crate::personal_data`).
    pub fn close_account(&self, account_id: &str) {
        self.lock().accounts.close(account_id);
    }

    pub fn update_account(&self, account_id: &str) {
        self.lock().accounts.update(account_id);
    }

    /// Each personal data report made here: the cloudId of its token, and how many accounts.
    pub fn personal_data_reports(&self) -> Vec<(String, usize)> {
        self.lock().accounts.reports.clone()
    }

    pub fn calls(&self) -> Vec<ApiCall> {
        self.lock().calls.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn issue(inner: &mut Inner, cloud_id: &str, whom: &str, ttl_secs: i64) -> String {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    let claims = json!({ "exp": now() + ttl_secs, "sub": whom, "jti": random_hex(8) });
    let token = format!("e30.{}.{}", URL_SAFE_NO_PAD.encode(claims.to_string()), random_hex(16));
    inner.tokens.push((token.clone(), cloud_id.to_string(), whom.to_string()));
    token
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    headers.get("authorization")?.to_str().ok()?.strip_prefix("Bearer ").map(str::to_string)
}

/// Why a call was not answered: a status, or a rate limit with its headers.
enum Refused {
    Status(StatusCode),
    Limited(Limited),
}

impl From<StatusCode> for Refused {
    fn from(status: StatusCode) -> Self {
        Self::Status(status)
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Self::Status(status) => status.into_response(),
            Self::Limited(limited) => limited.into_response(),
        }
    }
}

/// The caller's token and whom it stands for, or the refusal: the site's
/// rate limits first (they count every call), then the token.
fn authorize(
    inner: &Mutex<Inner>,
    path: String,
    cloud_id: &str,
    method: &str,
    headers: &HeaderMap,
) -> Result<String, Refused> {
    let mut inner = inner.lock().unwrap_or_else(|e| e.into_inner());
    let token = bearer(headers);
    if let Some(limited) = inner.rate_limits.charge(cloud_id, method, now()) {
        inner.calls.push(ApiCall { path, token, status: 429 });
        return Err(Refused::Limited(limited));
    }
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
    whom.filter(|_| status == StatusCode::OK).ok_or(Refused::Status(status))
}

async fn server_info(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(cloud_id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, Refused> {
    authorize(&inner, "/rest/api/3/serverInfo".into(), &cloud_id, "GET", &headers)?;
    Ok(Json(json!({ "baseUrl": format!("https://{cloud_id}.atlassian.net"), "deploymentType": "Cloud" })))
}

/// Who the token's user is (Jira's `/myself`, Confluence's `/user/current`,
/// with `expand=operations` telling an administrator).
async fn myself(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(cloud_id): Path<String>,
    Query(q): Query<UserQuery>,
    headers: HeaderMap,
) -> Result<Json<Value>, Refused> {
    let whom = authorize(&inner, "myself".into(), &cloud_id, "GET", &headers)?;
    let known = lock(&inner).users.get(&(cloud_id, whom.clone())).cloned();
    let name = known.as_ref().map_or_else(|| format!("User {whom}"), |u| u.display_name.clone());
    let mut answer = json!({ "accountId": whom, "displayName": name });
    if q.expand.split(',').any(|e| e == "operations") {
        answer["operations"] = operations(known.is_some_and(|u| u.admin));
    }
    Ok(Json(answer))
}

fn operations(admin: bool) -> Value {
    let mut operations = vec![json!({ "operation": "use", "targetType": "application" })];
    if admin {
        operations.push(json!({ "operation": "administer", "targetType": "application" }));
    }
    Value::Array(operations)
}

#[derive(serde::Deserialize)]
struct PermissionsQuery {
    #[serde(default)]
    permissions: String,
}

/// Jira's `mypermissions`: the permissions asked (required, as Jira
/// requires it) and whether the token's user holds each.
async fn my_permissions(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(cloud_id): Path<String>,
    Query(q): Query<PermissionsQuery>,
    headers: HeaderMap,
) -> Result<Json<Value>, Refused> {
    let whom = authorize(&inner, "mypermissions".into(), &cloud_id, "GET", &headers)?;
    if q.permissions.is_empty() {
        return Err(StatusCode::BAD_REQUEST.into());
    }
    let admin = lock(&inner).users.get(&(cloud_id, whom)).is_some_and(|u| u.admin);
    let permissions: serde_json::Map<String, Value> = q
        .permissions
        .split(',')
        .map(|p| (p.to_string(), json!({ "key": p, "havePermission": p == "ADMINISTER" && admin })))
        .collect();
    Ok(Json(json!({ "permissions": permissions })))
}

/// Atlassian's GraphQL gateway, for `offlineUserAuthToken` alone: a system
/// token buys a token acting as a user of its own site who may use the app.
async fn graphql(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    Json(request): Json<Value>,
) -> Result<Json<Value>, StatusCode> {
    let mut inner = lock(&inner);
    let token = bearer(&headers);
    let site = token.as_deref().and_then(|t| inner.tokens.iter().find(|(k, _, whom)| k == t && whom == "app"));
    let site = site.map(|(_, cloud, _)| cloud.clone());
    let input = &request["variables"]["input"];
    let user = input["userId"].as_str().unwrap_or_default().to_string();
    let status = match (&site, request["query"].as_str()) {
        (None, _) => StatusCode::UNAUTHORIZED,
        (_, Some(q)) if q.contains("offlineUserAuthToken") => StatusCode::OK,
        _ => StatusCode::BAD_REQUEST,
    };
    inner.calls.push(ApiCall { path: format!("graphql impersonate {user}"), token, status: status.as_u16() });
    let site = site.filter(|_| status == StatusCode::OK).ok_or(status)?;
    let minute = now() / 60;
    inner.impersonations =
        if inner.impersonations.1 == minute { (inner.impersonations.0 + 1, minute) } else { (1, minute) };
    if inner.impersonations.0 > IMPERSONATIONS_PER_MINUTE {
        return Err(StatusCode::TOO_MANY_REQUESTS);
    }
    let named_site = input["contextIds"][0].as_str().is_some_and(|c| c.ends_with(&format!("::site/{site}")));
    let may_use_app = inner.users.contains_key(&(site.clone(), user.clone()));
    let refusal = match (named_site, may_use_app) {
        (false, _) => Some("the context is not the token's installation"),
        (true, false) => Some("cannot impersonate a user who has no access to the app"),
        (true, true) => None,
    };
    let result = match refusal {
        Some(message) => json!({ "success": false, "errors": [{ "message": message }], "authToken": null }),
        None => {
            let token = issue(&mut inner, &site, &user, IMPERSONATION_TTL_SECS);
            json!({ "success": true, "errors": [], "authToken": { "token": token, "ttl": IMPERSONATION_TTL_SECS } })
        }
    };
    Ok(Json(json!({ "data": { "offlineUserAuthToken": result } })))
}

async fn spaces(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(cloud_id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, Refused> {
    authorize(&inner, "/wiki/rest/api/space".into(), &cloud_id, "GET", &headers)?;
    Ok(Json(json!({ "results": [], "size": 0 })))
}

#[derive(serde::Deserialize)]
struct UserQuery {
    #[serde(default, rename = "accountId")]
    account_id: String,
    #[serde(default)]
    expand: String,
}

/// A user by accountId (Jira's `/user`, Confluence's `/user`, with
/// `expand=operations` telling an administrator), asked as the app.
async fn user(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(cloud_id): Path<String>,
    Query(q): Query<UserQuery>,
    headers: HeaderMap,
) -> Result<Json<Value>, Refused> {
    authorize(&inner, "user".into(), &cloud_id, "GET", &headers)?;
    let found = lock(&inner).users.get(&(cloud_id, q.account_id.clone())).cloned().ok_or(StatusCode::NOT_FOUND)?;
    let mut answer = json!({ "accountId": q.account_id, "displayName": found.display_name });
    if q.expand.split(',').any(|e| e == "operations") {
        answer["operations"] = operations(found.admin);
    }
    Ok(Json(answer))
}

/// Jira's permission check: the global permissions the user has of those
/// asked. About another user only for a caller who administers Jira (the
/// exemption Jira documents is Connect's, not a Forge token's).
async fn permissions_check(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(cloud_id): Path<String>,
    headers: HeaderMap,
    Json(request): Json<Value>,
) -> Result<Json<Value>, Refused> {
    let whom = authorize(&inner, "permissions/check".into(), &cloud_id, "POST", &headers)?;
    let account = request["accountId"].as_str().unwrap_or(&whom).to_string();
    let is_admin =
        |account: &str| lock(&inner).users.get(&(cloud_id.clone(), account.to_string())).is_some_and(|u| u.admin);
    if account != whom && !is_admin(&whom) {
        return Err(StatusCode::FORBIDDEN.into());
    }
    let admin = is_admin(&account);
    let asked = request["globalPermissions"].as_array().is_some_and(|p| p.iter().any(|p| p == "ADMINISTER"));
    let granted: Vec<&str> = if admin && asked { vec!["ADMINISTER"] } else { vec![] };
    Ok(Json(json!({ "globalPermissions": granted, "projectPermissions": [] })))
}

/// A comment on a Jira issue, as the user whose token it carries.
async fn issue_comment(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path((cloud_id, key)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<Json<Value>, Refused> {
    let whom = authorize(&inner, format!("comment {key}"), &cloud_id, "POST", &headers)?;
    Ok(Json(comment(&inner, cloud_id, whom, key, body)))
}

/// A comment on a Confluence page (`type: comment`, its `container`), as the user.
async fn page_comment(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(cloud_id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<Json<Value>, Refused> {
    let whom = authorize(&inner, "content".into(), &cloud_id, "POST", &headers)?;
    let page = body["container"]["id"].as_str().unwrap_or_default().to_string();
    Ok(Json(comment(&inner, cloud_id, whom, page, body)))
}

fn comment(inner: &Mutex<Inner>, cloud_id: String, author: String, target: String, body: Value) -> Value {
    let mut inner = lock(inner);
    inner.comments.push(ApiComment { cloud_id, author, target, body });
    json!({ "id": (10_000 + inner.comments.len()).to_string() })
}

fn lock(inner: &Mutex<Inner>) -> std::sync::MutexGuard<'_, Inner> {
    inner.lock().unwrap_or_else(|e| e.into_inner())
}

/// Atlassian's personal data reporting API (`https://api.atlassian.com/app/report-accounts/`),
/// as the app with a system token: the token names the site whose report it is.
async fn report_accounts(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let mut inner = lock(&inner);
    let token = bearer(&headers);
    let site = token.as_deref().and_then(|t| inner.tokens.iter().find(|(k, _, whom)| k == t && whom == "app"));
    let Some(cloud_id) = site.map(|(_, cloud_id, _)| cloud_id.clone()) else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    if let Some(limited) = inner.rate_limits.charge(&cloud_id, "POST", now()) {
        return limited.into_response();
    }
    inner.calls.push(ApiCall { path: "/app/report-accounts/".into(), token, status: 200 });
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    inner.accounts.answer(&cloud_id, &body)
}
