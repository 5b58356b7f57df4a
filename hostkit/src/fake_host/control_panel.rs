//! The fake host's control panel at `/`: every site with its users, links
//! that open the app's pages in the host frame as any of them, and buttons
//! that fire lifecycle events exactly as Atlassian would (signed): install,
//! disable, enable, uninstall, reinstall with a new secret, a site import (a
//! new clientKey for the same base URL), and with Forge on: moving the site
//! onto Forge, Forge's lifecycle events and its hourly scheduled trigger;
//! for a Forge-native site, Forge alone: install, reinstall, rename, a
//! development environment beside production, product events, uninstall;
//! and for every site, selling or lapsing its licence for the app.

use axum::{
    Router,
    extract::{Path, State},
    response::{Html, IntoResponse, Redirect, Response},
    routing::{get, post},
};

use super::{FakeHost, html_escape as escape};
use crate::{
    forge::{ForgeInstall, modules},
    tenant::Tenant,
};

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
        let mut buttons = buttons(&name, &actions(&fake, &site));
        if site.forge.is_some() || !site.native {
            buttons.push_str(&self::buttons(&name, product_events(&site)));
        }
        let history = history(&fake, &name);
        let forge = match (&site.forge, site.native) {
            (Some(install), _) => format!(
                r#"<p>On Forge ({env}): installation <code id="{name}-installation">{id}</code> ·
cloudId <code>{cloud}</code> ·
<a class="open-forge-ui" href="{ui}">Custom UI</a> ·
<a class="open-forge-admin" href="{admin}">Custom UI admin page</a>{dev}</p>"#,
                name = escape(&name),
                env = escape(&install.environment_type),
                id = escape(&install.installation_id),
                cloud = escape(&install.cloud_id),
                ui = escape(&fake.custom_ui_url(&name, modules::GLOBAL_PAGE, "user")),
                admin = escape(&fake.custom_ui_url(&name, modules::ADMIN_PAGE, "admin")),
                dev = site.forge_dev.as_ref().map_or(String::new(), |d| {
                    format!(" · development installation <code>{}</code>", escape(&d.installation_id))
                }),
            ),
            (None, true) => "<p>Forge-native: the app is not installed yet.</p>".to_string(),
            (None, false) => "<p>Connect only.</p>".to_string(),
        };
        sections.push_str(&format!(
            r#"<section id="site-{name}"><h2>{name} ({product})</h2>
<p>Base URL <code>{base}</code> · clientKey <code>{key}</code></p>
<ul>{users}</ul>{forge}<p>{buttons}</p>{history}<p>Last action: <span id="{name}-last">{last}</span></p></section>"#,
            name = escape(&name),
            product = escape(&site.tenant.product_type),
            base = escape(&site.tenant.base_url),
            key = escape(if site.native { "none (Forge-native)" } else { &site.tenant.client_key }),
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

/// What the panel offers for a site: Connect's lifecycle, and once the site
/// is on Forge, Forge's deliveries instead of `enabled`/`disabled` (which
/// stop for Connect-on-Forge apps).
fn actions(fake: &FakeHost, site: &super::Site) -> Vec<&'static str> {
    let mut actions = lifecycle_actions(fake, site);
    actions.push(if site.licensed { "lapse-licence" } else { "sell-licence" });
    actions
}

fn lifecycle_actions(fake: &FakeHost, site: &super::Site) -> Vec<&'static str> {
    if site.native {
        return match &site.forge {
            Some(_) if site.installed => vec![
                "forge-upgrade",
                "forge-hourly",
                "forge-reinstall",
                "forge-rename",
                "forge-install-development",
                "forge-uninstall",
            ],
            _ => vec!["forge-install"],
        };
    }
    match (&site.forge, &fake.forge) {
        (Some(_), _) => vec!["install", "uninstall", "forge-upgrade", "forge-hourly", "forge-reinstall", "import"],
        (None, Some(_)) => vec!["install", "disable", "enable", "uninstall", "reinstall", "import", "move-to-forge"],
        (None, None) => vec!["install", "disable", "enable", "uninstall", "reinstall", "import"],
    }
}

/// What can happen on a site, each firing its webhook.
fn product_events(site: &super::Site) -> &'static [&'static str] {
    match (site.tenant.product_type == "confluence", site.native) {
        (true, _) => &["create-page", "edit-page"],
        (false, true) => &["create-issue", "edit-issue", "comment-issue", "edit-comment"],
        (false, false) => &["create-issue", "edit-issue"],
    }
}

/// The site's recent webhook deliveries (failed ones say so) and the comments users made through the app.
fn history(fake: &FakeHost, name: &str) -> String {
    let deliveries: String = fake
        .deliveries()
        .iter()
        .rev()
        .filter(|d| d.site == name)
        .take(8)
        .map(|d| {
            let tries: Vec<String> = d.statuses.iter().map(u16::to_string).collect();
            let verdict = if d.delivered() { "delivered" } else { "FAILED" };
            format!(
                r#"<li class="delivery {verdict}">{} <code>{}</code>: {verdict} ({})</li>"#,
                escape(&d.event),
                escape(&d.delivery_id),
                tries.join(" → ")
            )
        })
        .collect();
    let comments: String = fake
        .comments()
        .iter()
        .filter(|c| c.site == name)
        .map(|c| {
            format!(
                r#"<li class="comment">commented by {} on {}: {}</li>"#,
                escape(&c.author),
                escape(&c.target),
                escape(&c.text)
            )
        })
        .collect();
    format!(
        r#"<p>Webhook deliveries:</p><ul id="{n}-deliveries">{deliveries}</ul>
<p>Comments:</p><ul id="{n}-comments">{comments}</ul>"#,
        n = escape(name)
    )
}

fn buttons(name: &str, actions: &[&str]) -> String {
    actions
        .iter()
        .map(|action| {
            let name = escape(name);
            format!(
                r#"<form method="post" action="/_control/{name}/{action}" style="display:inline">
<button id="{name}-{action}">{action}</button></form> "#
            )
        })
        .collect()
}

async fn act(State(fake): State<FakeHost>, Path((name, action)): Path<(String, String)>) -> Response {
    let Some(site) = fake.site(&name) else { return Redirect::to("/").into_response() };
    if product_events(&site).contains(&action.as_str()) {
        let delivered = if site.native {
            fake.forge_product_event(&name, &action, 0).await
        } else {
            fake.product_event(&name, &action).await
        };
        let answer = match delivered {
            Ok(d) => format!("{action} → {} {}", d.event, d.statuses.last().copied().unwrap_or_default()),
            Err(e) => format!("{action}: {e}"),
        };
        fake.lock().last_action.insert(name, answer);
        return Redirect::to("/").into_response();
    }
    if !actions(&fake, &site).contains(&action.as_str()) {
        fake.lock().last_action.insert(name, format!("{action}: not offered for this site"));
        return Redirect::to("/").into_response();
    }
    if let Some(active) = licence_action(&action) {
        if active {
            fake.sell_license(&name)
        } else {
            fake.lapse_license(&name)
        }
        let now = if active { "active" } else { "lapsed: its pages say lic=none" };
        fake.lock().last_action.insert(name, format!("licence {now}"));
        return Redirect::to("/").into_response();
    }
    let on_forge = site.forge.is_some();
    let tenant = site.tenant;
    let forge = |result: Result<u16, String>| {
        result.unwrap_or_else(|e| {
            eprintln!("fakehost: {e}");
            0
        })
    };
    let result = match action.as_str() {
        "install" => fake.host.install(&tenant).await.status().as_u16(),
        "disable" => fake.host.toggle(&tenant, "disabled").await.status().as_u16(),
        "enable" => fake.host.toggle(&tenant, "enabled").await.status().as_u16(),
        "uninstall" if on_forge => {
            // Forge runs the preUninstall hook, then the Connect side hears `uninstalled`.
            forge(fake.forge_event(&name, "pre-uninstall").await);
            fake.host.uninstall(&tenant).await.status().as_u16()
        }
        "uninstall" => fake.host.uninstall(&tenant).await.status().as_u16(),
        "move-to-forge" => match fake.move_to_forge(&name).await {
            Ok(answer) => {
                fake.lock().last_action.insert(name, format!("move-to-forge → {answer}"));
                return Redirect::to("/").into_response();
            }
            Err(e) => forge(Err(e)),
        },
        "forge-upgrade" => forge(fake.forge_event(&name, "upgraded").await),
        "forge-hourly" => forge(fake.forge_event(&name, "hourly").await),
        "forge-reinstall" => forge(fake.forge_reinstall(&name).await),
        "forge-install" => forge(fake.forge_install(&name).await),
        "forge-rename" => forge(fake.forge_rename(&name).await),
        "forge-install-development" => forge(fake.forge_install_development(&name).await),
        "forge-uninstall" => forge(fake.forge_uninstall(&name).await),
        "reinstall" => replace(&fake, &name, tenant.with_new_secret()).await,
        "import" => {
            let mut imported = Tenant::new(&tenant.base_url);
            imported.product_type = tenant.product_type.clone();
            // On Forge, the imported site's install is a new Forge installation too.
            if let Some(old) = site.forge {
                let install = ForgeInstall { installation_id: crate::forge::installation_id(), ..old };
                imported.installation_id = Some(install.installation_id.clone());
                fake.set_forge(&name, Some(install));
            }
            replace(&fake, &name, imported).await
        }
        _ => return Redirect::to("/").into_response(),
    };
    if (200..300).contains(&result) && !site.native {
        fake.set_installed(&name, action != "uninstall");
    }
    fake.lock().last_action.insert(name, format!("{action} → {result}"));
    fake.save();
    Redirect::to("/").into_response()
}

/// Whether a licence action sells (true) or lapses (false) the site's licence.
fn licence_action(action: &str) -> Option<bool> {
    match action {
        "sell-licence" => Some(true),
        "lapse-licence" => Some(false),
        _ => None,
    }
}

/// Installs `tenant` (signed) and makes it the site's tenant when accepted.
async fn replace(fake: &FakeHost, name: &str, tenant: Tenant) -> u16 {
    let status = fake.host.install(&tenant).await.status().as_u16();
    if (200..300).contains(&status) {
        fake.set_tenant(name, tenant);
    }
    status
}
