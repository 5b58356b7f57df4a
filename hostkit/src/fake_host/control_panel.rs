//! The fake host's control panel at `/`: every site with its users, links
//! that open the app's pages in the host frame as any of them, and buttons
//! that fire lifecycle events exactly as Atlassian would (signed): install,
//! disable, enable, uninstall, reinstall with a new secret, and a site
//! import (a new clientKey for the same base URL).

use axum::{
    Router,
    extract::{Path, State},
    response::{Html, IntoResponse, Redirect, Response},
    routing::{get, post},
};

use super::FakeHost;
use crate::tenant::Tenant;

pub(crate) fn routes() -> Router<FakeHost> {
    Router::new().route("/", get(panel)).route("/_control/{site}/{action}", post(act))
}

async fn panel(State(fake): State<FakeHost>) -> Html<String> {
    let mut sections = String::new();
    for name in fake.site_names() {
        let Some(site) = fake.site(&name) else { continue };
        let last = fake.lock().last_action.get(&name).cloned().unwrap_or_else(|| "–".into());
        let mut users = String::new();
        for (account, user) in fake.users(&name) {
            let role = if user.admin { "site admin" } else { "user" };
            users.push_str(&format!(
                r#"<li>{display} ({account_text}, {role}): <a class="open-app" href="{app}">general page</a> ·
<a class="open-admin" href="{admin}">admin page</a></li>"#,
                display = escape(&user.display_name),
                account_text = escape(&account),
                app = escape(&fake.host_page_url(&name, "/app", &account)),
                admin = escape(&fake.host_page_url(&name, "/admin", &account)),
            ));
        }
        let buttons: String = ["install", "disable", "enable", "uninstall", "reinstall", "import"]
            .iter()
            .map(|action| {
                let name = escape(&name);
                format!(
                    r#"<form method="post" action="/_control/{name}/{action}" style="display:inline">
<button id="{name}-{action}">{action}</button></form> "#
                )
            })
            .collect();
        sections.push_str(&format!(
            r#"<section id="site-{name}"><h2>{name} ({product})</h2>
<p>Base URL <code>{base}</code> · clientKey <code>{key}</code></p>
<ul>{users}</ul><p>{buttons}</p><p>Last action: <span id="{name}-last">{last}</span></p></section>"#,
            name = escape(&name),
            product = escape(&site.tenant.product_type),
            base = escape(&site.tenant.base_url),
            key = escape(&site.tenant.client_key),
            last = escape(&last),
        ));
    }
    Html(format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Fake Atlassian host</title>
<style>body{{font-family:sans-serif;margin:24px;max-width:900px}}
section{{border:1px solid #dcdfe4;padding:8px 16px;margin:16px 0}}</style></head>
<body><h1>Fake Atlassian host</h1><p>The app under development: <code>{app}</code>.
Everything here is signed the way Jira and Confluence sign it.</p>{sections}</body></html>"#,
        app = escape(&fake.app_base_url)
    ))
}

async fn act(State(fake): State<FakeHost>, Path((name, action)): Path<(String, String)>) -> Response {
    let Some(site) = fake.site(&name) else { return Redirect::to("/").into_response() };
    let tenant = site.tenant;
    let result = match action.as_str() {
        "install" => fake.host.install(&tenant).await.status().as_u16(),
        "disable" => fake.host.toggle(&tenant, "disabled").await.status().as_u16(),
        "enable" => fake.host.toggle(&tenant, "enabled").await.status().as_u16(),
        "uninstall" => fake.host.uninstall(&tenant).await.status().as_u16(),
        "reinstall" => replace(&fake, &name, tenant.with_new_secret()).await,
        "import" => {
            let mut imported = Tenant::new(&tenant.base_url);
            imported.product_type = tenant.product_type.clone();
            replace(&fake, &name, imported).await
        }
        _ => return Redirect::to("/").into_response(),
    };
    if (200..300).contains(&result) {
        fake.set_installed(&name, action != "uninstall");
    }
    fake.lock().last_action.insert(name, format!("{action} → {result}"));
    fake.save();
    Redirect::to("/").into_response()
}

/// Installs `tenant` (signed) and makes it the site's tenant when accepted.
async fn replace(fake: &FakeHost, name: &str, tenant: Tenant) -> u16 {
    let status = fake.host.install(&tenant).await.status().as_u16();
    if (200..300).contains(&status) {
        fake.set_tenant(name, tenant);
    }
    status
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
