//! The fake host playing a Forge Custom UI as the product does: the app's
//! resource folder (`target/forge/ui`) served from an origin of its own (the
//! fake Forge CDN) with the Content-Security-Policy that the real
//! `@forge/csp` computes for the generated manifest, framed by a product
//! page in a sandboxed iframe. The page reaches the app only through its
//! `__bridge`: `fetchRemote` is made by the host side with a fresh FIT of
//! the page's module, signed by the fake JWKS, with the user as principal
//! (no OAuth tokens, as for `requestRemote`); `getContext`, theming and
//! history are answered as `@forge/bridge` asks for them.

use std::path::{Path, PathBuf};

use axum::{
    Json, Router,
    extract::{Path as UrlPath, Query, State},
    http::{StatusCode, header},
    response::{Html, IntoResponse, Response},
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{FakeHost, html_escape, theme::APPLY_THEME_JS};
use crate::forge::modules;

/// What the CDN serves and the policy it serves the page with.
#[derive(Clone)]
pub(crate) struct Cdn {
    /// `http://127.0.0.1:PORT`: another origin than the product page's.
    pub(crate) url: String,
    dir: PathBuf,
    csp: String,
}

/// The iframe's sandbox, as Forge sets it.
const SANDBOX: &str = "allow-scripts allow-same-origin allow-forms allow-modals allow-downloads allow-pointer-lock \
                       allow-popups allow-popups-to-escape-sandbox";
/// The UI modules a Custom UI page may be opened as.
const UI_MODULES: [&str; 2] = [modules::GLOBAL_PAGE, modules::ADMIN_PAGE];

pub(crate) fn routes() -> Router<FakeHost> {
    Router::new().route("/{site}/forge-ui", get(product_page)).route("/{site}/forge-ui/fetch", post(fetch_remote))
}

impl FakeHost {
    /// Serves the Custom UI resource in `workspace/target/forge/ui` on
    /// `addr`, under the policy `@forge/csp` (in `workspace/tools/forge-ui`)
    /// computes from `manifest_json` (`server forge-manifest --json`).
    pub async fn serve_custom_ui(&self, workspace: &Path, manifest_json: &str, addr: &str) -> Result<String, String> {
        let dir = workspace.join("target/forge/ui");
        if !dir.join("index.html").exists() {
            return Err(format!("no Custom UI in {}: run cargo xtask forge-ui", dir.display()));
        }
        let csp = forge_csp(workspace, &dir, manifest_json, &self.url)?;
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| format!("bind {addr}: {e}"))?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        let cdn = Cdn { url: format!("http://127.0.0.1:{port}"), dir, csp };
        let app = Router::new()
            .route("/__forge-bridge.js", get(bridge_js))
            .route("/{file}", get(resource_file))
            .with_state(cdn.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let url = cdn.url.clone();
        self.lock().cdn = Some(cdn);
        Ok(url)
    }

    /// The product page that frames the Custom UI of `site` as `module` for `user`.
    pub fn custom_ui_url(&self, site: &str, module: &str, user: &str) -> String {
        let mut url = url::Url::parse(&self.url).expect("fake host URL");
        url.path_segments_mut().expect("base URL").push(site).push("forge-ui");
        url.query_pairs_mut().append_pair("module", module).append_pair("user", user);
        url.to_string()
    }

    /// The policy the CDN sends the page with, once it serves one.
    pub fn custom_ui_csp(&self) -> Option<String> {
        self.lock().cdn.as_ref().map(|c| c.csp.clone())
    }
}

/// Runs the real `@forge/csp` on the resource's index.html and the manifest.
fn forge_csp(workspace: &Path, dir: &Path, manifest_json: &str, host: &str) -> Result<String, String> {
    // One file per call: fake hosts of one test process compute their policies at once.
    static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let manifest = dir.with_file_name(format!("manifest-{}-{call}.json", std::process::id()));
    std::fs::write(&manifest, manifest_json).map_err(|e| e.to_string())?;
    let output = std::process::Command::new("node")
        .arg("csp.mjs")
        .arg(&manifest)
        .arg(dir.join("index.html"))
        .arg(host)
        .current_dir(workspace.join("tools/forge-ui"))
        .output()
        .map_err(|e| format!("node: {e}"))?;
    let _ = std::fs::remove_file(&manifest);
    if !output.status.success() {
        return Err(format!("@forge/csp: {}", String::from_utf8_lossy(&output.stderr).trim()));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// A file of the resource folder, by its plain name (the build writes no folders).
async fn resource_file(State(cdn): State<Cdn>, UrlPath(file): UrlPath<String>) -> Response {
    let plain = !file.is_empty() && file.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if !plain || file.starts_with('.') {
        return StatusCode::NOT_FOUND.into_response();
    }
    let Ok(bytes) = tokio::fs::read(cdn.dir.join(&file)).await else { return StatusCode::NOT_FOUND.into_response() };
    if file == "index.html" {
        return index_page(&cdn, &bytes);
    }
    let kind = match file.rsplit('.').next().unwrap_or_default() {
        "js" => "text/javascript",
        "wasm" => "application/wasm",
        "css" => "text/css",
        _ => "application/octet-stream",
    };
    ([(header::CONTENT_TYPE, kind)], bytes).into_response()
}

/// index.html as Forge serves it: under the computed policy, with the
/// bridge the product puts in every Custom UI loaded first.
fn index_page(cdn: &Cdn, bytes: &[u8]) -> Response {
    let html =
        String::from_utf8_lossy(bytes).replacen("<head>", r#"<head><script src="./__forge-bridge.js"></script>"#, 1);
    let headers = [
        (header::CONTENT_TYPE, "text/html; charset=utf-8".to_string()),
        (header::CONTENT_SECURITY_POLICY, cdn.csp.clone()),
        (header::CACHE_CONTROL, "no-store".to_string()),
    ];
    (headers, html).into_response()
}

async fn bridge_js() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript")], format!("{APPLY_THEME_JS}{BRIDGE_JS}")).into_response()
}

/// What Forge puts in the frame: `__bridge.callBridge`, answered by the
/// product page through postMessage, and a report of every error and CSP
/// violation to that page (the tests read them there).
const BRIDGE_JS: &str = r#"(function () {
  var pending = {}, next = 1;
  function tell(message) { window.parent.postMessage(message, '*'); }
  var consoleError = console.error;
  console.error = function () {
    tell({ type: 'forge.error', text: Array.prototype.map.call(arguments, String).join(' ') });
    return consoleError.apply(console, arguments);
  };
  window.addEventListener('error', function (e) { tell({ type: 'forge.error', text: String(e.message) }); });
  window.addEventListener('unhandledrejection', function (e) {
    tell({ type: 'forge.error', text: String(e.reason && e.reason.message || e.reason) });
  });
  document.addEventListener('securitypolicyviolation', function (e) {
    tell({ type: 'forge.violation', text: e.violatedDirective + ' ' + e.blockedURI });
  });
  var themed = false;
  function applyTheme(mode) { if (themed) applyProductTheme(mode); }
  window.addEventListener('message', function (e) {
    if (e.source !== window.parent) return;
    var m = e.data || {};
    if (m.type === 'forge.answer' && pending[m.id]) {
      var p = pending[m.id]; delete pending[m.id];
      if (m.error) p.reject(new Error(m.error)); else p.resolve(m.result);
    }
    if (m.type === 'forge.theme') applyTheme(m.colorMode);
  });
  function ask(name, payload) {
    var id = next++;
    return new Promise(function (resolve, reject) {
      pending[id] = { resolve: resolve, reject: reject };
      tell({ type: 'forge.call', id: id, name: name, payload: payload });
    });
  }
  function createHistory() {
    var listeners = [];
    var history = {
      location: { pathname: '/' },
      push: function (path) {
        history.location = { pathname: path };
        tell({ type: 'forge.history', path: path });
        listeners.forEach(function (l) { l(history.location, 'PUSH'); });
      },
      listen: function (l) {
        listeners.push(l);
        return function () { listeners = listeners.filter(function (x) { return x !== l; }); };
      }
    };
    return Promise.resolve(history);
  }
  window.__bridge = { callBridge: function (name, payload) {
    if (name === 'createHistory') return createHistory();
    if (name === 'enableTheming') {
      return ask('enableTheming').then(function (theme) { themed = true; applyTheme(theme.colorMode); });
    }
    return ask(name, payload);
  } };
})();
"#;

#[derive(Deserialize)]
struct PageQuery {
    #[serde(default)]
    user: String,
    #[serde(default)]
    module: String,
    #[serde(default)]
    theme: String,
}

/// The product page around the Custom UI, with a light/dark switch.
async fn product_page(
    State(fake): State<FakeHost>,
    UrlPath(site): UrlPath<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    let Some(s) = fake.site(&site) else { return (StatusCode::NOT_FOUND, "no such site").into_response() };
    let (Some(install), Some(cdn)) = (s.forge.clone(), fake.lock().cdn.clone()) else {
        let why = "the site is not on Forge, or the Custom UI is not built (cargo xtask forge-ui)";
        return (StatusCode::CONFLICT, why).into_response();
    };
    let module = if q.module.is_empty() { modules::GLOBAL_PAGE } else { q.module.as_str() };
    if !UI_MODULES.contains(&module) {
        return (StatusCode::BAD_REQUEST, "module must be a Custom UI module of the manifest").into_response();
    }
    let theme = if q.theme == "dark" { "dark" } else { "light" };
    let context = json!({
        "accountId": q.user, "cloudId": install.cloud_id, "siteUrl": install.site_url,
        "moduleKey": module, "environmentId": install.environment_id, "environmentType": install.environment_type,
        "locale": "en-US", "timezone": "UTC", "theme": { "colorMode": theme },
        "extension": { "type": if module == modules::ADMIN_PAGE { "jira:adminPage" } else { "jira:globalPage" } },
    });
    let fetch_url = {
        let mut query = url::form_urlencoded::Serializer::new(String::from("forge-ui/fetch?"));
        query.append_pair("user", &q.user).append_pair("module", module);
        query.finish()
    };
    let script = PRODUCT_PAGE_JS
        .replace("__CONTEXT__", &script_json(&context))
        .replace("__FETCH_URL__", &script_json(&json!(fetch_url)))
        .replace("__CDN__", &script_json(&json!(cdn.url)))
        .replace("__THEME__", &script_json(&json!(theme)));
    Html(format!(
        r#"<!DOCTYPE html><html lang="en" data-color-mode="{theme}"><head><meta charset="utf-8">
<title>Fake Forge {module}: {site}</title>
<style>body{{font-family:sans-serif;margin:0}}header{{background:#0c66e4;color:#fff;padding:8px 16px}}
html[data-color-mode=dark] body{{background:#161a1d;color:#b6c2cf}}
iframe{{width:100%;border:0;height:720px}}</style></head>
<body><header id="host-header">Fake Forge · site <b>{site}</b> · user <b>{user}</b> · module <code>{module}</code>
· <button id="theme-switch" type="button">Switch to {other}</button></header>
<iframe id="forge-frame" title="Custom UI" sandbox="{SANDBOX}" src="{src}"></iframe>
<script>{script}</script></body></html>"#,
        site = html_escape(&site),
        user = html_escape(&q.user),
        module = html_escape(module),
        other = if theme == "dark" { "light" } else { "dark" },
        src = html_escape(&format!("{}/index.html", cdn.url)),
    ))
    .into_response()
}

/// A JSON value safe inside a `<script>` element.
fn script_json(value: &Value) -> String {
    value.to_string().replace('<', "\\u003c")
}

/// The product side of the bridge: answers the frame's calls, keeps what it
/// reported, and follows the light/dark switch.
const PRODUCT_PAGE_JS: &str = r#"
window.__forgeErrors = []; window.__forgeViolations = []; window.__forgeHistory = []; window.__forgeCalls = 0;
var context = __CONTEXT__, fetchUrl = __FETCH_URL__, cdn = __CDN__, theme = __THEME__;
var frame = document.getElementById('forge-frame');
function answer(name, payload) {
  if (name === 'getContext') return Promise.resolve(context);
  if (name === 'enableTheming') return Promise.resolve({ colorMode: theme });
  if (name === 'fetchRemote') {
    window.__forgeCalls++;
    return fetch(fetchUrl, { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify(payload) }).then(function (r) {
        if (!r.ok) return r.text().then(function (t) { throw new Error(t); });
        return r.json();
      });
  }
  return Promise.reject(new Error('the fake host does not play ' + name));
}
window.addEventListener('message', function (e) {
  if (e.source !== frame.contentWindow) return;
  var m = e.data || {};
  if (m.type === 'forge.error') window.__forgeErrors.push(m.text);
  if (m.type === 'forge.violation') window.__forgeViolations.push(m.text);
  if (m.type === 'forge.history') window.__forgeHistory.push(m.path);
  if (m.type !== 'forge.call') return;
  answer(m.name, m.payload).then(function (result) {
    frame.contentWindow.postMessage({ type: 'forge.answer', id: m.id, result: result }, cdn);
  }, function (error) {
    frame.contentWindow.postMessage({ type: 'forge.answer', id: m.id, error: String(error.message) }, cdn);
  });
});
document.getElementById('theme-switch').addEventListener('click', function (e) {
  theme = theme === 'dark' ? 'light' : 'dark';
  document.documentElement.setAttribute('data-color-mode', theme);
  e.target.textContent = 'Switch to ' + (theme === 'dark' ? 'light' : 'dark');
  frame.contentWindow.postMessage({ type: 'forge.theme', colorMode: theme }, cdn);
});
"#;

#[derive(Deserialize)]
struct FetchQuery {
    #[serde(default)]
    user: String,
    module: String,
}

/// `fetchRemote` as `@forge/bridge` sends it (`{ remoteKey, fetchRequestInit:
/// { path, method, headers: [[name, value]], body } }`), made by the host
/// with a FIT of the page's module; answered as the bridge reads it.
async fn fetch_remote(
    State(fake): State<FakeHost>,
    UrlPath(site): UrlPath<String>,
    Query(q): Query<FetchQuery>,
    Json(call): Json<Value>,
) -> Response {
    let (Ok(forge), Some(install)) = (fake.forge_side(), fake.site(&site).and_then(|s| s.forge)) else {
        return (StatusCode::CONFLICT, "the site is not on Forge").into_response();
    };
    let init = &call["fetchRequestInit"];
    let path = init["path"].as_str().unwrap_or_default();
    if call["remoteKey"] != "connect" || !path.starts_with('/') || path.starts_with("//") {
        return (StatusCode::BAD_REQUEST, "only paths of the manifest's remote").into_response();
    }
    if !UI_MODULES.contains(&q.module.as_str()) {
        return (StatusCode::BAD_REQUEST, "not a Custom UI module").into_response();
    }
    let method = reqwest::Method::from_bytes(init["method"].as_str().unwrap_or("GET").as_bytes());
    let Ok(method) = method else { return (StatusCode::BAD_REQUEST, "no such method").into_response() };
    let user = Some(q.user.as_str()).filter(|u| !u.is_empty());
    let mut request = reqwest::Client::new()
        .request(method, format!("{}{path}", fake.app_base_url))
        .bearer_auth(forge.jwks.fit_of(&install, &q.module, user))
        .timeout(std::time::Duration::from_secs(25));
    for pair in init["headers"].as_array().into_iter().flatten() {
        if let (Some(name), Some(value)) = (pair[0].as_str(), pair[1].as_str())
            && !name.eq_ignore_ascii_case("authorization")
        {
            request = request.header(name, value);
        }
    }
    if let Some(body) = init["body"].as_str() {
        request = request.body(body.to_string());
    }
    let Ok(answer) = request.send().await else {
        return (StatusCode::BAD_GATEWAY, "the remote did not answer").into_response();
    };
    let status = answer.status();
    let headers = header_map(answer.headers());
    let body = answer.text().await.unwrap_or_default();
    Json(json!({
        "status": status.as_u16(), "statusText": status.canonical_reason().unwrap_or_default(),
        "headers": headers, "body": body, "isAttachment": false,
    }))
    .into_response()
}

fn header_map(headers: &reqwest::header::HeaderMap) -> Value {
    let map: serde_json::Map<String, Value> = headers
        .iter()
        .filter_map(|(name, value)| Some((name.as_str().to_string(), json!(value.to_str().ok()?))))
        .collect();
    Value::Object(map)
}
