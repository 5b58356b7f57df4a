//! The host page that frames the app's module URL with a fresh page JWT, and
//! the context tokens it hands the frame when `AP.context.getToken` asks.

use axum::{
    Json,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{Html, IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::json;

use super::{FakeHost, html_escape};
use crate::tenant::Tenant;

impl FakeHost {
    /// The host page that frames `module` (e.g. `/app`) for `user` of `site`.
    pub fn host_page_url(&self, site: &str, module: &str, user: &str) -> String {
        let mut url = url::Url::parse(&self.url).expect("fake host URL");
        url.path_segments_mut().expect("base URL").push(site).push("host");
        url.query_pairs_mut().append_pair("module", module).append_pair("user", user);
        url.to_string()
    }

    /// The module URL with a fresh page JWT, as the host puts it in the iframe.
    pub(crate) fn module_url(&self, tenant: &Tenant, module: &str, user: Option<&str>, licensed: bool) -> String {
        let lic = if licensed { "active" } else { "none" };
        let params =
            [("xdm_e", self.url.as_str()), ("xdm_c", "channel-1"), ("cp", ""), ("lic", lic), ("cv", "1001.0.0")];
        let claims = tenant.claims("GET", module, &params, user);
        let token = tenant.sign(&claims);
        let mut url = url::Url::parse(&format!("{}{module}", self.app_base_url)).expect("module URL");
        url.query_pairs_mut().extend_pairs(params).append_pair("jwt", &token);
        url.to_string()
    }
}

#[derive(Deserialize)]
pub(super) struct PageQuery {
    module: String,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    theme: String,
}

pub(super) async fn host_page(
    State(host): State<FakeHost>,
    Path(site): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    let Some(s) = host.site(&site) else { return (StatusCode::NOT_FOUND, "no such site").into_response() };
    // Only a path of the app: a signed page JWT must never go to another host.
    if !q.module.starts_with('/') || q.module.starts_with("//") {
        return (StatusCode::BAD_REQUEST, "module must be a path such as /app").into_response();
    }
    let user = q.user.filter(|u| !u.is_empty());
    let src = host.module_url(&s.tenant, &q.module, user.as_deref(), s.licensed);
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
pub(super) struct TokenQuery {
    #[serde(default)]
    user: Option<String>,
}

pub(super) async fn context_token(
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
