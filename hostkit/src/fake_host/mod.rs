//! A fake Jira/Confluence site on loopback, for tests and local development:
//! - a host page per site and user that frames the app's module URL with a
//!   real page JWT, and answers the iframe's `AP` calls (context tokens,
//!   resize) over `postMessage`, as Atlassian's host does;
//! - `/all.js`, a stand-in for Atlassian's client library (`AP.context.getToken`,
//!   `AP.resize`, `AP.context.getContext`);
//! - the REST endpoints the app calls (permission check, user), which verify
//!   the app's JWT like the real site would;
//! - webhooks when something happens on a site, retried like Jira's, and
//!   the OAuth token endpoint of the act-as-user grant, with the comments
//!   users make through it;
//! - with a [`ForgeSide`], Forge too: a site moves onto Forge, lifecycle
//!   events and scheduled triggers reach the app with FITs and system tokens,
//!   and a Forge UI stand-in page calls the app through `requestRemote`.
//!
//! It listens on 127.0.0.1 but names itself `http://localhost:PORT`, so the
//! host page and the app (on 127.0.0.1) are different sites: the iframe is
//! third-party, as it is under Atlassian.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, Query, State},
    http::{HeaderMap, Method, StatusCode, Uri, header},
    response::{Html, IntoResponse, Response},
    routing::get,
};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Value, json};

mod control_panel;
mod custom_ui;
mod forge_native;
mod forge_side;
mod oauth;
mod product_events;
mod theme;

pub use forge_side::ForgeSide;
pub use oauth::{ACCESS_TOKEN_TTL_SECS, Comment};
pub use product_events::Delivery;

use crate::{forge::ForgeInstall, host::Host, qsh::qsh, tenant::Tenant};

#[derive(Clone, Debug, serde::Serialize, Deserialize)]
pub(crate) struct FakeUser {
    pub display_name: String,
    pub admin: bool,
}

#[derive(Clone, Debug, serde::Serialize, Deserialize)]
pub(crate) struct Site {
    pub tenant: Tenant,
    pub users: HashMap<String, FakeUser>,
    /// Whether the app should be installed here (an uninstall from the
    /// control panel survives a restart of the dev loop).
    #[serde(default = "installed_by_default")]
    pub installed: bool,
    /// The site's stable id on the Forge side.
    #[serde(default = "crate::forge::cloud_id")]
    pub cloud_id: String,
    /// Set once the site moved onto Forge (Connect-on-Forge), or the app was
    /// installed there through Forge (a Forge-native site).
    #[serde(default)]
    pub forge: Option<ForgeInstall>,
    /// A site that knows the app only through Forge: it never sends a
    /// Connect install (the app is a new Forge app there).
    #[serde(default)]
    pub native: bool,
    /// The same app's development environment, installed beside production.
    #[serde(default)]
    pub forge_dev: Option<ForgeInstall>,
}

fn installed_by_default() -> bool {
    true
}

impl Site {
    fn new(tenant: Tenant) -> Self {
        Self {
            tenant,
            users: HashMap::new(),
            installed: true,
            cloud_id: crate::forge::cloud_id(),
            forge: None,
            native: false,
            forge_dev: None,
        }
    }
}

#[derive(Default)]
pub(crate) struct Inner {
    pub(crate) sites: HashMap<String, Site>,
    /// REST calls the app made: "METHOD path", in order.
    calls: Vec<String>,
    /// What the last control-panel action on each site answered.
    pub(crate) last_action: HashMap<String, String>,
    /// Webhook deliveries and their answers.
    pub(crate) deliveries: Vec<Delivery>,
    pub(crate) entity_counter: u64,
    /// The newest issue key of each site (what "edit issue" edits).
    pub(crate) last_issue: HashMap<String, String>,
    /// Act-as-user: grants given, access tokens issued, sites that revoked access.
    pub(crate) grants: usize,
    pub(crate) access_tokens: HashMap<String, oauth::AccessToken>,
    pub(crate) revoked: std::collections::HashSet<String>,
    pub(crate) comments: Vec<Comment>,
    /// The fake Forge CDN that serves the app's Custom UI, once started.
    pub(crate) cdn: Option<custom_ui::Cdn>,
}

#[derive(Clone)]
pub struct FakeHost {
    /// `http://localhost:PORT`
    pub url: String,
    pub app_base_url: String,
    pub app_key: String,
    pub context_ttl_secs: i64,
    /// Atlassian's side: signs installs and lifecycle callbacks.
    pub host: Arc<Host>,
    /// Where sites and users are saved between runs (the dev loop), if anywhere.
    pub state_file: Option<std::path::PathBuf>,
    /// Forge's side (JWKS, product API), when the host plays Forge too.
    pub forge: Option<ForgeSide>,
    pub(crate) inner: Arc<Mutex<Inner>>,
    _task: Arc<tokio::task::JoinHandle<()>>,
}

impl FakeHost {
    pub async fn start(host: Arc<Host>) -> Self {
        Self::start_on("127.0.0.1:0", host, None, None).await
    }

    /// As [`FakeHost::start`], playing Forge too: sites can move onto Forge.
    pub async fn start_with_forge(host: Arc<Host>, forge: ForgeSide) -> Self {
        Self::start_on("127.0.0.1:0", host, None, Some(forge)).await
    }

    /// As [`FakeHost::start`], on a chosen address (the dev loop uses a fixed
    /// port), saving its sites to `state_file`.
    pub async fn start_on(
        addr: &str,
        host: Arc<Host>,
        state_file: Option<std::path::PathBuf>,
        forge: Option<ForgeSide>,
    ) -> Self {
        let listener = tokio::net::TcpListener::bind(addr).await.expect("bind fake host");
        let port = listener.local_addr().expect("fake host address").port();
        let inner = Arc::new(Mutex::new(Inner::default()));
        let mut fake = Self {
            url: format!("http://localhost:{port}"),
            app_base_url: host.app_base_url.clone(),
            app_key: host.app_key.clone(),
            context_ttl_secs: 900,
            host,
            state_file,
            forge,
            inner,
            _task: Arc::new(tokio::spawn(async {})),
        };
        let app = Router::new()
            .route("/all.js", get(all_js))
            .route("/{site}/host", get(host_page))
            .route("/{site}/context-token", get(context_token))
            .route("/oauth2/token", axum::routing::post(oauth::token))
            .merge(control_panel::routes())
            .merge(custom_ui::routes())
            .fallback(rest)
            .with_state(fake.clone());
        fake._task = Arc::new(tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        }));
        fake
    }

    /// Adds a site named `name` ("jira" or "confluence" product) and returns
    /// its tenant, ready to install. Confluence sites live under `/wiki`.
    pub fn add_site(&self, name: &str, product: &str) -> Tenant {
        self.insert_site(name, product, false)
    }

    pub(crate) fn insert_site(&self, name: &str, product: &str, native: bool) -> Tenant {
        let suffix = if product == "confluence" && !native { "/wiki" } else { "" };
        let mut tenant = Tenant::new(&format!("{}/{name}{suffix}", self.url));
        tenant.product_type = product.to_string();
        let site = Site { native, installed: !native, ..Site::new(tenant.clone()) };
        self.lock().sites.insert(name.to_string(), site);
        self.save();
        tenant
    }

    /// Loads the sites saved by an earlier run, if their base URLs still
    /// point at this host. Returns how many it loaded.
    pub fn load(&self) -> usize {
        let Some(path) = &self.state_file else { return 0 };
        let Ok(text) = std::fs::read_to_string(path) else { return 0 };
        let Ok(sites) = serde_json::from_str::<HashMap<String, Site>>(&text) else { return 0 };
        let mut sites: HashMap<String, Site> =
            sites.into_iter().filter(|(_, s)| s.tenant.base_url.starts_with(&self.url)).collect();
        // Installations saved before environments were: the app's production one.
        for install in sites.values_mut().filter_map(|s| s.forge.as_mut()).filter(|f| f.environment_id.is_empty()) {
            let production = ForgeInstall::new(&install.app_id, &install.cloud_id, &install.api_base_url);
            install.environment_id = production.environment_id;
        }
        let count = sites.len();
        self.lock().sites = sites;
        count
    }

    /// Saves the sites (tenants and users) to the state file, if any.
    pub(crate) fn save(&self) {
        let Some(path) = &self.state_file else { return };
        let text = serde_json::to_string_pretty(&self.lock().sites).unwrap_or_default();
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        if let Err(e) = std::fs::write(path, text) {
            eprintln!("fakehost: cannot save {}: {e}", path.display());
        }
    }

    pub fn add_user(&self, site: &str, account_id: &str, display_name: &str, admin: bool) {
        if let Some(s) = self.lock().sites.get_mut(site) {
            s.users.insert(account_id.to_string(), FakeUser { display_name: display_name.to_string(), admin });
        }
        self.save();
    }

    /// Replaces the site's tenant (after a reinstall with a new secret, or a
    /// site import with a new clientKey).
    pub(crate) fn set_tenant(&self, site: &str, tenant: Tenant) {
        if let Some(s) = self.lock().sites.get_mut(site) {
            s.tenant = tenant;
        }
    }

    /// Records the site's Forge installation (it moved onto Forge, or Forge reinstalled it).
    pub(crate) fn set_forge(&self, site: &str, install: Option<ForgeInstall>) {
        if let Some(s) = self.lock().sites.get_mut(site) {
            s.forge = install;
        }
    }

    /// Records whether the app is meant to be installed on `site`.
    pub(crate) fn set_installed(&self, site: &str, installed: bool) {
        if let Some(s) = self.lock().sites.get_mut(site) {
            s.installed = installed;
        }
    }

    /// Whether `site` moved onto Forge.
    pub fn site_is_on_forge(&self, site: &str) -> bool {
        self.site_forge_installation(site).is_some()
    }

    /// The site's Forge installation (what its FITs say), once on Forge.
    pub fn forge_installation(&self, site: &str) -> Option<ForgeInstall> {
        self.site(site).and_then(|s| s.forge)
    }

    /// The installationId of the site's Forge installation, once on Forge.
    pub fn site_forge_installation(&self, site: &str) -> Option<String> {
        self.site(site).and_then(|s| s.forge).map(|f| f.installation_id)
    }

    /// The sites where the app is meant to be installed.
    pub fn installed_sites(&self) -> Vec<String> {
        self.site_names().into_iter().filter(|name| self.site(name).is_some_and(|s| s.installed)).collect()
    }

    pub fn tenant(&self, site: &str) -> Option<Tenant> {
        self.lock().sites.get(site).map(|s| s.tenant.clone())
    }

    pub(crate) fn site_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.lock().sites.keys().cloned().collect();
        names.sort();
        names
    }

    pub(crate) fn users(&self, site: &str) -> Vec<(String, FakeUser)> {
        let mut users: Vec<(String, FakeUser)> =
            self.lock().sites.get(site).map(|s| s.users.clone().into_iter().collect()).unwrap_or_default();
        users.sort_by(|a, b| a.0.cmp(&b.0));
        users
    }

    /// The host page that frames `module` (e.g. `/app`) for `user` of `site`.
    pub fn host_page_url(&self, site: &str, module: &str, user: &str) -> String {
        let mut url = url::Url::parse(&self.url).expect("fake host URL");
        url.path_segments_mut().expect("base URL").push(site).push("host");
        url.query_pairs_mut().append_pair("module", module).append_pair("user", user);
        url.to_string()
    }

    /// The module URL with a fresh page JWT, as the host puts it in the iframe.
    pub(crate) fn module_url(&self, tenant: &Tenant, module: &str, user: Option<&str>) -> String {
        let params =
            [("xdm_e", self.url.as_str()), ("xdm_c", "channel-1"), ("cp", ""), ("lic", "none"), ("cv", "1001.0.0")];
        let claims = tenant.claims("GET", module, &params, user);
        let token = tenant.sign(&claims);
        let mut url = url::Url::parse(&format!("{}{module}", self.app_base_url)).expect("module URL");
        url.query_pairs_mut().extend_pairs(params).append_pair("jwt", &token);
        url.to_string()
    }

    pub fn rest_calls(&self) -> Vec<String> {
        self.lock().calls.clone()
    }

    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn site(&self, name: &str) -> Option<Site> {
        self.lock().sites.get(name).cloned()
    }
}

const ALL_JS: &str = r#"(function () {
  var pending = {}, next = 1;
  window.addEventListener('message', function (e) {
    if (e.source !== window.parent) return;
    var m = e.data || {};
    if (m.type === 'ap.token' && pending[m.id]) { pending[m.id](m.token); delete pending[m.id]; }
    if (m.type === 'ap.theme' && themed) applyProductTheme(m.colorMode);
  });
  var themed = false;
  function getToken(callback) {
    var id = next++;
    var promise = new Promise(function (resolve) { pending[id] = resolve; });
    window.parent.postMessage({ type: 'ap.getToken', id: id }, '*');
    if (callback) promise.then(callback);
    return promise;
  }
  function resize() {
    window.parent.postMessage({ type: 'ap.resize', height: document.documentElement.scrollHeight }, '*');
  }
  window.AP = {
    context: { getToken: getToken, getContext: function (cb) { if (cb) cb({}); return Promise.resolve({}); } },
    resize: resize,
    sizeToParent: resize,
    theming: {
      initializeTheming: function () { themed = true; window.parent.postMessage({ type: 'ap.theming' }, '*'); }
    }
  };
  window.addEventListener('load', resize);
  // The host page keeps every CSP violation of the frame, for tests to read.
  document.addEventListener('securitypolicyviolation', function (e) {
    window.parent.postMessage({ type: 'ap.violation', text: e.violatedDirective + ' ' + e.blockedURI }, '*');
  });
})();
"#;

async fn all_js() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript")], format!("{}{ALL_JS}", theme::APPLY_THEME_JS)).into_response()
}

#[derive(Deserialize)]
struct PageQuery {
    module: String,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    theme: String,
}

async fn host_page(State(host): State<FakeHost>, Path(site): Path<String>, Query(q): Query<PageQuery>) -> Response {
    let Some(s) = host.site(&site) else { return (StatusCode::NOT_FOUND, "no such site").into_response() };
    // Only a path of the app: a signed page JWT must never go to another host.
    if !q.module.starts_with('/') || q.module.starts_with("//") {
        return (StatusCode::BAD_REQUEST, "module must be a path such as /app").into_response();
    }
    let user = q.user.filter(|u| !u.is_empty());
    let src = host.module_url(&s.tenant, &q.module, user.as_deref());
    let who = html_escape(user.as_deref().unwrap_or("anonymous"));
    let token_url = {
        let mut query = url::form_urlencoded::Serializer::new(String::from("context-token?"));
        query.append_pair("user", user.as_deref().unwrap_or_default());
        serde_json::to_string(&query.finish()).unwrap_or_default().replace('<', "\\u003c")
    };
    Html(format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Fake {product}: {site}</title>
<style>body{{font-family:sans-serif;margin:0}}header{{background:#0c66e4;color:#fff;padding:8px 16px}}
iframe{{width:100%;border:0;height:600px}}</style></head>
<body><header id="host-header">Fake {product} · site <b>{site}</b> · user <b>{who}</b> ·
module <code>{module}</code> · <button id="theme-switch" type="button">Switch theme</button></header>
<iframe id="app-frame" title="app" src="{src}"></iframe>
<script>
window.__tokens = 0; window.__resizes = 0; window.__violations = [];
var frame = document.getElementById('app-frame'), theme = {theme};
document.getElementById('theme-switch').addEventListener('click', function () {{
  theme = theme === 'dark' ? 'light' : 'dark';
  frame.contentWindow.postMessage({{ type: 'ap.theme', colorMode: theme }}, '*');
}});
window.addEventListener('message', function (e) {{
  if (e.source !== frame.contentWindow) return;
  var m = e.data || {{}};
  if (m.type === 'ap.getToken') {{
    fetch({token_url}).then(function (r) {{ return r.json(); }}).then(function (j) {{
      window.__tokens++;
      frame.contentWindow.postMessage({{ type: 'ap.token', id: m.id, token: j.token }}, '*');
    }});
  }}
  if (m.type === 'ap.violation') window.__violations.push(m.text);
  if (m.type === 'ap.theming') frame.contentWindow.postMessage({{ type: 'ap.theme', colorMode: theme }}, '*');
  if (m.type === 'ap.resize') {{
    window.__resizes++;
    if (m.height) frame.style.height = Math.max(m.height, 200) + 'px';
  }}
}});
</script></body></html>"#,
        product = html_escape(&s.tenant.product_type),
        module = html_escape(&q.module),
        site = html_escape(&site),
        src = html_escape(&src),
        theme = if q.theme == "dark" { "'dark'" } else { "'light'" },
    ))
    .into_response()
}

#[derive(Deserialize)]
struct TokenQuery {
    #[serde(default)]
    user: Option<String>,
}

async fn context_token(
    State(host): State<FakeHost>,
    Path(site): Path<String>,
    Query(q): Query<TokenQuery>,
) -> Response {
    let Some(s) = host.site(&site) else { return (StatusCode::NOT_FOUND, "no such site").into_response() };
    let token = match q.user.filter(|u| !u.is_empty()) {
        Some(user) => s.tenant.context_token(&user, host.context_ttl_secs),
        None => {
            let now = crate::now();
            let exp = now + host.context_ttl_secs;
            let claims = json!({"iss": s.tenant.client_key, "qsh": "context-qsh", "iat": now, "exp": exp});
            s.tenant.sign(&claims)
        }
    };
    Json(json!({ "token": token })).into_response()
}

/// The host REST API the app calls: `/{site}[/wiki]/rest/...`.
async fn rest(State(host): State<FakeHost>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let path = uri.path().to_string();
    let Some((site_name, _)) = path.trim_start_matches('/').split_once('/') else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Some(site) = host.site(site_name) else { return StatusCode::NOT_FOUND.into_response() };
    host.lock().calls.push(format!("{method} {path}"));
    let site_prefix = url::Url::parse(&site.tenant.base_url).map(|u| u.path().to_string()).unwrap_or_default();
    let relative = path.strip_prefix(site_prefix.trim_end_matches('/')).unwrap_or(&path).to_string();
    let bearer =
        headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("Bearer "));
    if bearer {
        return oauth::bearer_call(&host, site_name, method.as_str(), &relative, &headers, &body);
    }
    if let Err(why) = verify_app_jwt(&host, &site, &method, &relative, uri.query().unwrap_or_default(), &headers) {
        return (StatusCode::UNAUTHORIZED, why).into_response();
    }
    let query: HashMap<String, String> =
        url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()).into_owned().collect();
    match (method.as_str(), relative.as_str()) {
        ("POST", "/rest/api/3/permissions/check") => {
            let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let account = request["accountId"].as_str().unwrap_or_default();
            let admin = site.users.get(account).is_some_and(|u| u.admin);
            let granted: Vec<&str> = if admin { vec!["ADMINISTER"] } else { vec![] };
            Json(json!({ "globalPermissions": granted, "projectPermissions": [] })).into_response()
        }
        ("GET", "/rest/api/3/user") | ("GET", "/rest/api/user") => {
            let account = query.get("accountId").cloned().unwrap_or_default();
            let Some(user) = site.users.get(&account) else { return StatusCode::NOT_FOUND.into_response() };
            let operations = if user.admin {
                json!([
                    { "operation": "administer", "targetType": "application" },
                    { "operation": "use", "targetType": "application" }
                ])
            } else {
                json!([{ "operation": "use", "targetType": "application" }])
            };
            Json(json!({ "accountId": account, "displayName": user.display_name, "operations": operations }))
                .into_response()
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The real site checks the app's JWT: HS256 under the shared secret,
/// `iss` = the app key, and the qsh of this very request.
fn verify_app_jwt(
    host: &FakeHost,
    site: &Site,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
) -> Result<(), &'static str> {
    let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).ok_or("missing JWT")?;
    let token = auth.strip_prefix("JWT ").ok_or("not a JWT")?;
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_required_spec_claims(&["exp", "iss"]);
    validation.validate_aud = false;
    let claims = jsonwebtoken::decode::<Value>(
        token,
        &DecodingKey::from_secret(site.tenant.shared_secret.as_bytes()),
        &validation,
    )
    .map_err(|_| "bad signature")?
    .claims;
    if claims["iss"] != host.app_key.as_str() {
        return Err("wrong issuer");
    }
    let params: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    if claims["qsh"] != qsh(method.as_str(), path, &pairs).as_str() {
        return Err("wrong qsh");
    }
    Ok(())
}

/// The fake host's one HTML escaper (`html-escape`): safe in text and in quoted attributes.
pub(crate) fn html_escape(text: &str) -> String {
    html_escape::encode_quoted_attribute(text).into_owned()
}
