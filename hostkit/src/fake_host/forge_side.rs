//! The fake host playing Forge (Connect-on-Forge): moving a site onto Forge
//! (a signed Connect install that carries an installationId, then Forge's
//! `installed` event with a system token), Forge's lifecycle events and
//! scheduled trigger to the endpoints the app's manifest names, and a Forge
//! UI stand-in page whose `requestRemote` shim reaches the app's API through
//! the host with a fresh FIT, as Forge's proxy does (no OAuth tokens).

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, Query, State},
    http::{StatusCode, header},
    response::{Html, IntoResponse, Response},
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::json;

use super::{FakeHost, html_escape};
use crate::{
    ProductApi,
    forge::{self, ForgeInstall, ForgeJwks},
};

/// Forge's side of the fake host: its JWKS, the product API its tokens
/// call, and the app's Forge id (`FORGE_APP_ID`).
#[derive(Clone)]
pub struct ForgeSide {
    pub jwks: ForgeJwks,
    pub api: ProductApi,
    pub app_id: String,
}

/// The endpoints the app's manifest declares (`server forge-manifest`).
const INSTALLED: (&str, &str) = ("/forge/events/installed", "avi:forge:installed:app");
const UPGRADED: (&str, &str) = ("/forge/events/upgraded", "avi:forge:upgraded:app");
const PRE_UNINSTALL: (&str, &str) = ("/forge/events/pre-uninstall", "preUninstall");
const HOURLY: (&str, &str) = ("/forge/scheduled/hourly", "scheduledTrigger");
/// How long the system tokens the host hands out live (Forge: up to about 4 h).
pub(crate) const SYSTEM_TOKEN_TTL_SECS: i64 = 4 * 3600;

pub(crate) fn routes() -> Router<FakeHost> {
    Router::new().route("/{site}/forge-ui", get(forge_ui)).route("/{site}/forge-ui/remote", post(request_remote))
}

impl FakeHost {
    pub(crate) fn forge_side(&self) -> Result<&ForgeSide, String> {
        self.forge.as_ref().ok_or_else(|| "this fake host does not play Forge".to_string())
    }

    /// Moves `site` onto Forge: a new Forge installation, joined by the signed
    /// Connect install that carries its installationId, then Forge's
    /// `installed` event. Returns the two answers, "install → event".
    pub async fn move_to_forge(&self, site: &str) -> Result<String, String> {
        let forge = self.forge_side()?;
        let s = self.site(site).ok_or("no such site")?;
        let api_base = forge.api.base(&s.tenant.product_type, &s.cloud_id);
        let install = ForgeInstall::new(&forge.app_id, &s.cloud_id, &api_base);
        let tenant = crate::Tenant { installation_id: Some(install.installation_id.clone()), ..s.tenant.clone() };
        let signed = self.host.install(&tenant).await.status().as_u16();
        if !(200..300).contains(&signed) {
            return Err(format!("the signed install answered {signed}"));
        }
        self.set_tenant(site, tenant);
        self.set_forge(site, Some(install));
        let event = self.forge_event(site, "installed").await?;
        self.save();
        Ok(format!("install {signed} → Forge installed {event}"))
    }

    /// Sends a Forge delivery (`installed`, `upgraded`, `pre-uninstall`,
    /// `hourly`) for `site`, with a fresh system token except on preUninstall.
    pub async fn forge_event(&self, site: &str, which: &str) -> Result<u16, String> {
        let s = self.site(site).ok_or("no such site")?;
        let install = s.forge.ok_or("the site is not on Forge")?;
        self.forge_event_for(&install, which).await
    }

    /// As [`FakeHost::forge_event`], for one installation of the app.
    pub(crate) async fn forge_event_for(&self, install: &ForgeInstall, which: &str) -> Result<u16, String> {
        let forge = self.forge_side()?;
        let (path, event_type) = match which {
            "installed" => INSTALLED,
            "upgraded" => UPGRADED,
            "pre-uninstall" => PRE_UNINSTALL,
            "hourly" => HOURLY,
            other => return Err(format!("no Forge event {other:?}")),
        };
        let token =
            (which != "pre-uninstall").then(|| forge.api.system_token(&install.cloud_id, SYSTEM_TOKEN_TTL_SECS));
        let url = format!("{}{path}", self.app_base_url);
        Ok(forge.jwks.deliver(&url, install, event_type, token.as_deref(), 0).await.status().as_u16())
    }

    /// A Forge reinstall: a new installationId for the site, joined by
    /// Forge's `installed` event alone (no Connect callback).
    pub async fn forge_reinstall(&self, site: &str) -> Result<u16, String> {
        let s = self.site(site).ok_or("no such site")?;
        let old = s.forge.ok_or("the site is not on Forge")?;
        let install = ForgeInstall { installation_id: forge::installation_id(), ..old };
        self.set_forge(site, Some(install));
        let status = self.forge_event(site, "installed").await?;
        self.save();
        Ok(status)
    }

    /// The Forge UI stand-in page of `site` for `user`.
    pub fn forge_ui_url(&self, site: &str, user: &str) -> String {
        let mut url = url::Url::parse(&self.url).expect("fake host URL");
        url.path_segments_mut().expect("base URL").push(site).push("forge-ui");
        url.query_pairs_mut().append_pair("user", user);
        url.to_string()
    }
}

#[derive(Deserialize)]
struct UiQuery {
    #[serde(default)]
    user: String,
}

/// A Custom UI page as Forge would frame it: it knows nothing of Connect and
/// reaches the app only through `requestRemote`.
async fn forge_ui(State(fake): State<FakeHost>, Path(site): Path<String>, Query(q): Query<UiQuery>) -> Response {
    let Some(s) = fake.site(&site) else { return (StatusCode::NOT_FOUND, "no such site").into_response() };
    if s.forge.is_none() {
        return (StatusCode::CONFLICT, "move the site onto Forge first").into_response();
    }
    let remote = serde_json::to_string(&format!("forge-ui/remote?user={}", url_encode(&q.user))).unwrap_or_default();
    Html(format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Forge UI: {site}</title></head>
<body><header>Forge UI stand-in · site <b>{site}</b> · user <b>{user}</b></header>
<h1>Notes (through requestRemote)</h1><p id="forge-status">loading…</p><ul id="forge-notes"></ul>
<script>
// @forge/bridge's requestRemote: Forge's proxy adds the FIT, the page never sees a token.
function requestRemote(remoteKey, options) {{
  return fetch({remote}, {{ method: 'POST', headers: {{ 'content-type': 'application/json' }},
    body: JSON.stringify({{ remote: remoteKey, path: options.path, body: options.body || '' }}) }});
}}
requestRemote('connect', {{ path: '/api/notes/list' }})
  .then(function (r) {{ if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); }})
  .then(function (notes) {{
    var list = document.getElementById('forge-notes');
    notes.forEach(function (n) {{ var li = document.createElement('li'); li.className = 'forge-note';
      li.textContent = n.title; list.appendChild(li); }});
    document.getElementById('forge-status').textContent = notes.length + ' notes';
  }})
  .catch(function (e) {{ document.getElementById('forge-status').textContent = 'failed: ' + e.message; }});
</script></body></html>"#,
        site = html_escape(&site),
        user = html_escape(&q.user),
    ))
    .into_response()
}

#[derive(Deserialize)]
struct RemoteRequest {
    remote: String,
    path: String,
    #[serde(default)]
    body: String,
}

/// Forge's proxy for `requestRemote`: a FIT for the site's installation and
/// the user, to a path of the app's `connect` remote only.
async fn request_remote(
    State(fake): State<FakeHost>,
    Path(site): Path<String>,
    Query(q): Query<UiQuery>,
    body: Bytes,
) -> Response {
    let Ok(request) = serde_json::from_slice::<RemoteRequest>(&body) else {
        return (StatusCode::BAD_REQUEST, "a JSON body with remote and path").into_response();
    };
    let (Ok(forge), Some(install)) = (fake.forge_side(), fake.site(&site).and_then(|s| s.forge)) else {
        return (StatusCode::CONFLICT, "the site is not on Forge").into_response();
    };
    if request.remote != "connect" || !request.path.starts_with('/') || request.path.starts_with("//") {
        return (StatusCode::BAD_REQUEST, "only paths of the connect remote").into_response();
    }
    let user = Some(q.user.as_str()).filter(|u| !u.is_empty());
    let answer = reqwest::Client::new()
        .post(format!("{}{}", fake.app_base_url, request.path))
        .bearer_auth(forge.jwks.fit_for(&install, user))
        .header(header::CONTENT_TYPE.as_str(), "application/x-www-form-urlencoded")
        .body(request.body)
        .timeout(std::time::Duration::from_secs(25))
        .send()
        .await;
    match answer {
        Ok(r) => {
            let status = StatusCode::from_u16(r.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
            let json = r.json::<serde_json::Value>().await.unwrap_or_else(|_| json!(null));
            (status, Json(json)).into_response()
        }
        Err(_) => (StatusCode::BAD_GATEWAY, "the remote did not answer").into_response(),
    }
}

fn url_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
