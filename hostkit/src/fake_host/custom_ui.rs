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

use super::{
    FakeHost,
    custom_ui_scripts::{BRIDGE_JS, PRODUCT_PAGE_JS},
    html_escape,
    theme::APPLY_THEME_JS,
};
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
/// The manifest's remote, the one `requestRemote` may name.
const FORGE_REMOTE: &str = "remote-backend";
/// The UI modules a Custom UI page may be opened as.
const UI_MODULES: [&str; 2] = [modules::GLOBAL_PAGE, modules::ADMIN_PAGE];

pub(crate) fn routes() -> Router<FakeHost> {
    Router::new().route("/{site}/forge-ui", get(product_page)).route("/{site}/forge-ui/fit", post(page_fit))
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
        self.custom_ui_url_at(site, module, user, "/")
    }

    /// As [`FakeHost::custom_ui_url`], deep-linked to `path` in the app.
    pub fn custom_ui_url_at(&self, site: &str, module: &str, user: &str, path: &str) -> String {
        let mut url = url::Url::parse(&self.url).expect("fake host URL");
        url.path_segments_mut().expect("base URL").push(site).push("forge-ui");
        url.query_pairs_mut().append_pair("module", module).append_pair("user", user).append_pair("path", path);
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

#[derive(Deserialize)]
struct PageQuery {
    #[serde(default)]
    user: String,
    #[serde(default)]
    module: String,
    #[serde(default)]
    theme: String,
    /// A deep link: the path in the app the page opens at.
    #[serde(default)]
    path: String,
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
    let fit_url = {
        let mut query = url::form_urlencoded::Serializer::new(String::from("forge-ui/fit?"));
        query.append_pair("user", &q.user).append_pair("module", module);
        query.finish()
    };
    let script = PRODUCT_PAGE_JS
        .replace("__CONTEXT__", &script_json(&context))
        .replace("__FIT_URL__", &script_json(&json!(fit_url)))
        .replace("__REMOTE__", &script_json(&json!(fake.app_base_url)))
        .replace("__CDN__", &script_json(&json!(cdn.url)))
        .replace("__THEME__", &script_json(&json!(theme)))
        .replace("__START__", &script_json(&json!(if q.path.starts_with('/') { q.path.as_str() } else { "/" })));
    Html(format!(
        r#"<!DOCTYPE html><html lang="en" data-color-mode="{theme}"><head><meta charset="utf-8">
<title>Fake Forge {module}: {site}</title>
<style>body{{font-family:sans-serif;margin:0}}header{{background:#0c66e4;color:#fff;padding:8px 16px}}
html[data-color-mode=dark] body{{background:#161a1d;color:#b6c2cf}}
iframe{{width:100%;border:0;height:720px}}</style></head>
<body><header id="host-header">Fake Forge · site <b>{site}</b> · user <b>{user}</b> · module <code>{module}</code>
· <button id="theme-switch" type="button">Switch to {other}</button>
· <button id="history-back" type="button">Back</button> <button id="history-forward" type="button">Forward</button>
</header>
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

#[derive(Deserialize)]
struct FitQuery {
    #[serde(default)]
    user: String,
    module: String,
}

/// What the product's own server hands its page for a `requestRemote` of
/// the remote `remoteKey`: a fresh FIT of the page's module, for its user.
async fn page_fit(
    State(fake): State<FakeHost>,
    UrlPath(site): UrlPath<String>,
    Query(q): Query<FitQuery>,
    Json(call): Json<Value>,
) -> Response {
    let (Ok(forge), Some(install)) = (fake.forge_side(), fake.site(&site).and_then(|s| s.forge)) else {
        return (StatusCode::CONFLICT, "the site is not on Forge").into_response();
    };
    if call["remoteKey"] != FORGE_REMOTE {
        return (StatusCode::BAD_REQUEST, "only the manifest's remote").into_response();
    }
    if !UI_MODULES.contains(&q.module.as_str()) {
        return (StatusCode::BAD_REQUEST, "not a Custom UI module").into_response();
    }
    let user = Some(q.user.as_str()).filter(|u| !u.is_empty());
    Json(json!({ "token": forge.jwks.fit_of(&install, &q.module, user) })).into_response()
}
