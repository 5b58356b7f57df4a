//! A new Forge app on this project: a site that knows the app through Forge
//! alone. Forge's FIT-verified `installed` event gives birth to a tenant of
//! its own (no clientKey, no secret), reached by its FITs; it keeps its
//! notes through a Forge reinstall and a site rename, receives product
//! events exactly once however often Forge resends them, is answered as the
//! app by the product API (admin check, display names), and is purged 30
//! days after `preUninstall`. A development environment of the same app on
//! the same site is a tenant of its own. Every Forge route refuses the FIT
//! of another module, or one with a user where only Forge calls, and writes
//! nothing (threats FT-14 to FT-18).

use std::time::Duration; // demo

use hostkit::forge::{ForgeInstall, installation_id, modules};
use serde_json::{Value, json};
use server::{
    connect::{
        forge_event::ForgeEvent,
        forge_modules::{ForgeModule, PRODUCT_EVENTS_PATH},
        lifecycle::InstallState, // demo
    },
    maintenance,                                              // demo
    store::{identities, installations, purge, tenant_lookup}, // demo
    tenant::{Product, Tenant},                                // demo
};

use crate::{
    on_both_databases,
    support::{
        app::TestApp,
        app_builder::TestAppBuilder,
        db::DbKind,
        eventually::eventually,                             // demo
        rows::{dump, dump_text, rows_naming, wait_for_row}, // no-demo: rows::{dump, dump_text, wait_for_row},
    },
};

const DAY: i64 = 86_400; // demo

/// The app beside a fake host that plays Forge, with the Forge-native Jira
/// site `nova` (an admin and a plain user) where the app is installed
/// through Forge alone.
pub(crate) async fn native_site(kind: DbKind) -> TestApp {
    native_site_of(TestApp::builder(kind)).await
}

/// [`native_site`] for the app `builder` describes.
pub(crate) async fn native_site_of(builder: TestAppBuilder) -> TestApp {
    let app = builder.forge().start().await;
    app.fake.add_native_site("nova", "jira");
    app.fake.add_user("nova", "admin", "Ada Admin", true);
    app.fake.add_user("nova", "user", "Uma User", false);
    assert_eq!(app.fake.forge_install("nova").await, Ok(204), "Forge's installed event alone");
    // The app checks the new token works after its answer; once that is stored, only requests write.
    wait_for_row(&app.raw_db, "reachable as the app").await;
    app
}

pub(crate) fn forge_of(app: &TestApp) -> hostkit::fake_host::ForgeSide {
    app.fake.forge.clone().expect("the fake host plays Forge")
}

pub(crate) fn install_of(app: &TestApp) -> ForgeInstall {
    app.fake.forge_installation("nova").expect("installed through Forge")
}

/// A server function called from the app's page in Forge, as `user`.
async fn from_page(
    app: &TestApp,
    install: &ForgeInstall,
    user: &str,
    path: &str,
    form: &[(&str, &str)],
) -> (u16, Value) {
    call_as_module(app, install, modules::GLOBAL_PAGE, Some(user), path, form).await
}

async fn call_as_module(
    app: &TestApp,
    install: &ForgeInstall,
    module: &str,
    user: Option<&str>,
    path: &str,
    form: &[(&str, &str)],
) -> (u16, Value) {
    let fit = forge_of(app).jwks.fit_of(install, module, user);
    app.call(path, Some(&format!("Bearer {fit}")), form).await
}

// demo:begin
async fn tenant_of(app: &TestApp, install: &ForgeInstall) -> Tenant {
    let found = tenant_lookup::find_tenant(&app.raw_db, &install.installation_id).await.unwrap();
    found.expect("the installation names a tenant")
}

async fn a_tenant_born_on_forge_lives_through_reinstall_rename_and_events_and_is_purged_after_pre_uninstall(
    kind: DbKind,
) {
    let app = native_site(kind).await;
    let forge = forge_of(&app);
    let install = install_of(&app);
    let born = tenant_of(&app, &install).await;
    assert_eq!((born.world(), born.connect.is_none()), ("Forge", true), "no clientKey, no secret");
    assert!(born.tenant_id.as_str().starts_with("t-"), "an id of its own: {}", born.tenant_id);
    assert_eq!(born.site.cloud_id.as_deref(), Some(install.cloud_id.as_str()));
    assert_eq!(
        (born.forge.as_ref().and_then(|f| f.environment_type.as_deref()), born.environment_id()),
        (Some("PRODUCTION"), Some(install.environment_id.as_str()))
    );
    // Forge's events name no site URL (no `context` outside a page's calls): the first page call does.
    assert_eq!((born.site.base_url.as_str(), born.site.product), ("", Some(Product::Jira)));
    let id = born.tenant_id.clone();
    assert!(rows_naming(&app.raw_db, id.as_str()).await.iter().any(|r| r.contains("forge_system_tokens")), "a token");

    // Reached by its FITs: the site (from the very first call), notes, a display name asked as the app.
    let (status, me) = from_page(&app, &install, "user", "/api/me/identity", &[]).await;
    assert_eq!((status, me["base_url"].as_str()), (200, Some(install.site_url.as_str())), "{me}");
    assert_eq!(tenant_of(&app, &install).await.site.base_url, install.site_url, "and kept");
    let (status, note) =
        from_page(&app, &install, "user", "/api/notes/create", &[("title", "Born on Forge"), ("body", "")]).await;
    assert_eq!(status, 200, "{note}");
    let (status, name) = from_page(&app, &install, "user", "/api/me/display_name", &[]).await;
    assert_eq!((status, name.as_str()), (200, Some("Uma User")), "asked the product API as the app");
    // The admin page is authorized on the server, from the FIT's principal.
    let status_of =
        |user| call_as_module(&app, &install, modules::ADMIN_PAGE, Some(user), "/api/admin/install_status", &[]);
    let (status, body) = status_of("admin").await;
    assert_eq!((status, body["world"].as_str()), (200, Some("Forge")), "{body}");
    assert_eq!(status_of("user").await.0, 403, "a plain user is refused on the server");
    let (status, _) =
        call_as_module(&app, &install, modules::GLOBAL_PAGE, Some("admin"), "/api/admin/install_status", &[]).await;
    assert_eq!(status, 403, "only the admin page's FIT asks for the install status, even an admin's");

    // A Forge reinstall: a new installationId on the same site and environment keeps the tenant.
    assert_eq!(app.fake.forge_reinstall("nova").await, Ok(204));
    let reinstalled = install_of(&app);
    assert_eq!(from_page(&app, &install, "user", "/api/notes/list", &[]).await.0, 401, "the old installation is gone");
    let (status, notes) = from_page(&app, &reinstalled, "user", "/api/notes/list", &[]).await;
    assert_eq!((status, notes[0]["title"].as_str()), (200, Some("Born on Forge")), "{notes}");
    assert_eq!(tenant_of(&app, &reinstalled).await.tenant_id, id, "the same tenant");

    // A site rename: the next page's FIT names the new site URL, and the tenant follows it.
    assert_eq!(app.fake.forge_rename("nova").await, Ok(204));
    let renamed = install_of(&app);
    assert_ne!(renamed.site_url, install.site_url);
    assert_eq!(tenant_of(&app, &renamed).await.site.base_url, install.site_url, "a trigger names no site");
    let (status, me) = from_page(&app, &renamed, "user", "/api/me/identity", &[]).await;
    assert_eq!((status, me["base_url"].as_str()), (200, Some(renamed.site_url.as_str())), "{me}");
    assert_eq!(tenant_of(&app, &renamed).await.site.base_url, renamed.site_url);
    let history = identities::history(&app.raw_db, &id).await.unwrap();
    for old_or_new in [&install.site_url, &renamed.site_url, &install.installation_id, &reinstalled.installation_id] {
        assert!(history.iter().any(|h| &h.value == old_or_new), "{old_or_new} in {history:?}");
        assert_eq!(
            tenant_lookup::find_tenant(&app.raw_db, old_or_new).await.unwrap().map(|t| t.tenant_id),
            Some(id.clone())
        );
    }
    assert_eq!(from_page(&app, &renamed, "user", "/api/notes/list", &[]).await.1[0]["title"], "Born on Forge");

    // The app's development environment on the same site is a tenant of its own.
    assert_eq!(app.fake.forge_install_development("nova").await, Ok(204));
    let development = app.fake.site_forge_development("nova").unwrap();
    let dev_tenant = tenant_of(&app, &development).await;
    assert_ne!(dev_tenant.tenant_id, id);
    assert_eq!(
        (&dev_tenant.site.cloud_id, dev_tenant.forge.as_ref().and_then(|f| f.environment_type.as_deref())),
        (&born.site.cloud_id, Some("DEVELOPMENT"))
    );
    let (status, notes) = from_page(&app, &development, "user", "/api/notes/list", &[]).await;
    assert_eq!((status, notes.as_array().map(Vec::len)), (200, Some(0)), "development sees none of production's notes");
    assert_eq!(from_page(&app, &renamed, "user", "/api/notes/list", &[]).await.1.as_array().map(Vec::len), Some(1));

    // A product event, resent twice by Forge: queued once, handled once, under Connect's name.
    let delivery = app.fake.forge_product_event("nova", "create-issue", 2).await.unwrap();
    assert_eq!(delivery.statuses, [204, 204, 204], "answered within Forge's 5 s each time");
    let activity = || async { from_page(&app, &renamed, "user", "/api/activity/list", &[]).await.1 };
    eventually("the event is handled", || async { activity().await.as_array().is_some_and(|a| !a.is_empty()) }).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let entries = activity().await;
    assert_eq!(entries.as_array().map(Vec::len), Some(1), "exactly once: {entries}");
    assert_eq!(entries[0]["event"], "jira:issue_created", "the same name a Connect webhook has");
    let jobs = server::store::webhook_jobs::counts(&app.raw_db).await.unwrap();
    assert_eq!(jobs, [(server::store::webhook_jobs::JobState::Done, 1)], "one job for three deliveries");

    // preUninstall marks it uninstalled, forgets its token, and the purge removes it after 30 days.
    assert_eq!(app.fake.forge_uninstall("nova").await, Ok(204));
    let gone = tenant_of(&app, &renamed).await;
    assert_eq!(gone.state, InstallState::Uninstalled);
    assert_eq!(from_page(&app, &renamed, "user", "/api/notes/list", &[]).await.0, 401);
    assert!(!rows_naming(&app.raw_db, id.as_str()).await.iter().any(|r| r.contains("forge_system_tokens")));
    let retention = Duration::from_secs(30 * DAY as u64);
    app.clock.advance(29 * DAY);
    assert!(maintenance::purge(&app.raw_db, &app.clock, retention).await.unwrap().is_empty(), "kept for 30 days");
    app.clock.advance(2 * DAY);
    let purged = maintenance::purge(&app.raw_db, &app.clock, retention).await.unwrap();
    assert_eq!(purged.iter().map(|p| &p.tenant_id).collect::<Vec<_>>(), [&id]);
    let left = rows_naming(&app.raw_db, id.as_str()).await;
    assert!(left.is_empty(), "purged with its data: {left:?}");
    assert!(purge::log(&app.raw_db, 5).await.unwrap().iter().any(|p| p.tenant_id == id && p.client_key.is_none()));
    assert!(installations::find(&app.raw_db, &dev_tenant.tenant_id).await.unwrap().is_some_and(|t| t.is_active()));
    assert_eq!(forge.api.calls().iter().filter(|c| c.status == 401).count(), 0, "every token the app used was Forge's");
}
on_both_databases!(a_tenant_born_on_forge_lives_through_reinstall_rename_and_events_and_is_purged_after_pre_uninstall);

/// Forge's reinstall is an uninstall, then an install with a new
/// installationId: within the 30 days the tenant comes back with its data
/// and its id, as a new generation. Confluence on the same site (the same
/// cloudId) is a tenant of its own, and joins nothing of Jira's.
async fn a_forge_tenant_installed_again_after_an_uninstall_comes_back_and_products_stay_apart(kind: DbKind) {
    let app = native_site(kind).await;
    let first = install_of(&app);
    let born = tenant_of(&app, &first).await;
    let (status, _) = from_page(&app, &first, "user", "/api/notes/create", &[("title", "Kept"), ("body", "")]).await;
    assert_eq!(status, 200);
    assert_eq!(app.fake.forge_uninstall("nova").await, Ok(204));
    assert_eq!(app.fake.forge_install("nova").await, Ok(204), "installed again");
    let again = install_of(&app);
    assert_ne!(again.installation_id, first.installation_id);
    let back = tenant_of(&app, &again).await;
    assert_eq!(back.tenant_id, born.tenant_id, "the same tenant");
    assert_eq!((back.state, back.uninstalled_at), (InstallState::Installed, None));
    assert_eq!(back.install_generation, born.install_generation + 1, "a new generation: old sessions end");
    let (status, notes) = from_page(&app, &again, "user", "/api/notes/list", &[]).await;
    assert_eq!((status, notes[0]["title"].as_str()), (200, Some("Kept")), "{notes}");
    assert_eq!(from_page(&app, &first, "user", "/api/notes/list", &[]).await.0, 401, "the old installation is gone");
    // The app installed in Confluence on the same site: another tenant, Jira's untouched.
    let forge = forge_of(&app);
    let confluence = ForgeInstall {
        site_url: again.site_url.clone(),
        ..ForgeInstall::new(&again.app_id, &again.cloud_id, &forge.api.base("confluence", &again.cloud_id))
    };
    let token = forge.api.system_token(&again.cloud_id, 3600);
    let url = app.url("/forge/events/installed");
    let answer = forge.jwks.deliver(&url, &confluence, "avi:forge:installed:app", Some(&token), 0).await;
    assert_eq!(answer.status(), 204);
    let other = tenant_of(&app, &confluence).await;
    assert_ne!(other.tenant_id, born.tenant_id);
    assert_eq!(other.site.product, Some(Product::Confluence));
    assert_eq!(
        tenant_of(&app, &again).await.installation_id().map(|i| i.as_str()),
        Some(again.installation_id.as_str())
    );
    // Installed again, it is no longer due for the purge of the uninstalled.
    let retention = Duration::from_secs(30 * DAY as u64);
    app.clock.advance(40 * DAY);
    assert!(maintenance::purge(&app.raw_db, &app.clock, retention).await.unwrap().is_empty(), "installed: kept");
}
on_both_databases!(a_forge_tenant_installed_again_after_an_uninstall_comes_back_and_products_stay_apart);
// demo:end

/// The body each Forge route takes: an event it would act on if it let the FIT in.
fn body_for(path: &str) -> Value {
    if path == PRODUCT_EVENTS_PATH {
        hostkit::payload::forge_issue_event("avi:jira:created:issue", "NOVA-9", "Smuggled", "user")
    } else {
        json!({ "eventType": "avi:forge:installed:app", "id": "e-1" })
    }
}

/// Threats FT-14 and FT-17: on every Forge route, a UI page's FIT (with or
/// without its user), the route's own module with a principal, and another
/// trigger's FIT are each a 401 with the same body, for the tenant's own
/// installation and for one the app has never seen; no row of any table
/// changes. The route's own FIT, sent last, is accepted: the battery could fail.
async fn every_forge_route_refuses_the_fit_of_another_module_and_writes_nothing(kind: DbKind) {
    let app = native_site(kind).await;
    let forge = forge_of(&app);
    let install = install_of(&app);
    let (status, _) = from_page(&app, &install, "user", "/api/me/identity", &[]).await;
    assert_eq!(status, 200);
    let token = forge.api.system_token(&install.cloud_id, 4 * 3600);
    let stranger = ForgeInstall { installation_id: installation_id(), ..install.clone() };
    let routes: Vec<(ForgeModule, &str)> =
        ForgeModule::ALL.into_iter().filter_map(|m| m.path().map(|path| (m, path))).collect();
    assert_eq!(routes.len(), 5, "installed, upgraded, preUninstall, hourly, product events");
    let mut refusals = 0;
    for (own, path) in &routes {
        let other_trigger = routes.iter().map(|(m, _)| *m).find(|m| m != own).unwrap();
        let cases = [
            ("the global page's FIT with its user", modules::GLOBAL_PAGE, Some("user")),
            ("the global page's FIT without a user", modules::GLOBAL_PAGE, None),
            ("the admin page's FIT with an admin", modules::ADMIN_PAGE, Some("admin")),
            ("the route's own module with a principal", own.key(), Some("admin")),
            ("another trigger's FIT", other_trigger.key(), None),
        ];
        for (what, module, user) in cases {
            for target in [&install, &stranger] {
                let before = dump(&app.raw_db).await;
                let fit = forge.jwks.fit_of(target, module, user);
                let answer =
                    forge.jwks.post_delivery(&app.url(path), &fit, body_for(path), Some(&token), 0).await.unwrap();
                assert_eq!(answer.status(), 401, "{path}: {what}");
                let body: Value = answer.json().await.unwrap();
                assert_eq!(body, json!({ "error": "token not accepted on this route" }), "{path}: {what}");
                assert_eq!(dump_text(&dump(&app.raw_db).await), dump_text(&before), "{path}: {what} wrote something");
                refusals += 1;
            }
        }
    }
    // A trigger's FIT on the API, and an installed event with no FIT or a made-up one, are refused too.
    for module in [modules::INSTALLED, modules::PRE_UNINSTALL, modules::PRODUCT_EVENTS] {
        let before = dump(&app.raw_db).await;
        assert_eq!(call_as_module(&app, &install, module, None, "/api/me/identity", &[]).await.0, 401, "{module}");
        assert_eq!(dump_text(&dump(&app.raw_db).await), dump_text(&before));
    }
    let before = dump(&app.raw_db).await;
    let installed = app.url(ForgeEvent::Installed.path());
    let unsigned = app.http.post(&installed).json(&json!({ "payload": body_for(&installed) })).send().await.unwrap();
    assert_eq!(unsigned.status(), 401, "an installed without a FIT creates nothing");
    let forged = hostkit::jwt::hs256(&stranger.claims_for(modules::INSTALLED, None), b"not forge's key");
    let answer = forge.jwks.post_delivery(&installed, &forged, body_for(&installed), None, 0).await.unwrap();
    assert_eq!(answer.status(), 401, "nor one whose FIT Forge did not sign");
    assert_eq!(dump_text(&dump(&app.raw_db).await), dump_text(&before));
    assert_eq!(refusals, 50);

    // The right FIT on the install route does create the stranger's tenant.
    let own = forge.jwks.fit_of(&stranger, modules::INSTALLED, None);
    let answer = forge.jwks.post_delivery(&installed, &own, body_for(&installed), None, 0).await.unwrap();
    assert_eq!(answer.status(), 204);
    assert_ne!(dump(&app.raw_db).await, before, "the battery's requests would have been seen");
}
on_both_databases!(every_forge_route_refuses_the_fit_of_another_module_and_writes_nothing);

/// The fake host plays the app's manifest: each delivery carries the FIT of
/// the module the generated manifest declares for it.
#[test]
fn the_fake_host_names_the_modules_the_manifest_declares() {
    let pairs = [
        (modules::GLOBAL_PAGE, ForgeModule::GlobalPage),
        (modules::ADMIN_PAGE, ForgeModule::AdminPage),
        (modules::INSTALLED, ForgeModule::Installed),
        (modules::UPGRADED, ForgeModule::Upgraded),
        (modules::PRE_UNINSTALL, ForgeModule::PreUninstall),
        (modules::HOURLY, ForgeModule::Hourly),
        (modules::PRODUCT_EVENTS, ForgeModule::ProductEvents),
    ];
    assert_eq!(pairs.len(), ForgeModule::ALL.len());
    for (fake, module) in pairs {
        assert_eq!(fake, module.key());
    }
    for event in ForgeEvent::ALL {
        assert_eq!(modules::of_event(event.as_str()), ForgeModule::of_event(event).key(), "{event:?}");
    }
}

// demo:begin
/// Calls out for a tenant born on Forge: with no system token yet, asking
/// the site as the app is a clear 502, not a retry-later, and so is sharing
/// (acting as the user is bought with the system token). With one, the
/// comment is made as the FIT's user through Forge's offline impersonation;
/// a user token the page put in a header is never used.
async fn a_forge_tenant_calls_out_with_the_token_it_has_and_says_why_when_it_has_none(kind: DbKind) {
    let app = TestApp::builder(kind).forge().start().await;
    let forge = forge_of(&app);
    let cloud_id = hostkit::forge::cloud_id();
    let install = ForgeInstall::new(&forge.app_id, &cloud_id, &forge.api.jira_base(&cloud_id));
    forge.api.add_user(&cloud_id, "user", "Uma User", false);
    // Born from an installed event that brought no system token.
    let url = app.url(ForgeEvent::Installed.path());
    assert_eq!(forge.jwks.deliver(&url, &install, ForgeEvent::Installed.as_str(), None, 0).await.status(), 204);
    let (status, why) = from_page(&app, &install, "user", "/api/me/display_name", &[]).await;
    assert_eq!(status, 502, "{why}");
    assert!(why.to_string().contains("no Forge system token"), "says why: {why}");
    let admin = call_as_module(&app, &install, modules::ADMIN_PAGE, Some("user"), "/api/admin/install_status", &[]);
    assert_eq!(admin.await.0, 502, "the admin check cannot be asked either");

    let (_, note) =
        from_page(&app, &install, "user", "/api/notes/create", &[("title", "Share me"), ("body", "b")]).await;
    let id = note["id"].to_string();
    let form = [("id", id.as_str()), ("target", "NOVA-1")];
    let (status, why) = from_page(&app, &install, "user", "/api/notes/share", &form).await;
    assert_eq!(status, 502, "no system token to buy the user's with: {why}");
    assert!(why.to_string().contains("no Forge system token"), "{why}");

    // The hourly trigger brings a system token: the site is asked as the app from then on.
    let token = forge.api.system_token(&cloud_id, 3600);
    let hourly = app.url(ForgeEvent::Hourly.path());
    assert_eq!(forge.jwks.deliver(&hourly, &install, ForgeEvent::Hourly.as_str(), Some(&token), 0).await.status(), 204);
    let (status, name) = from_page(&app, &install, "user", "/api/me/display_name", &[]).await;
    assert_eq!((status, name.as_str()), (200, Some("Uma User")));

    // Shared as the FIT's user, twice: one impersonation, and the page's own "user token" never used.
    forge.api.add_user(&cloud_id, "admin", "Ada Admin", true);
    let planted = forge.api.user_token(&cloud_id, "admin");
    for _ in 0..2 {
        let fit = forge.jwks.fit_for(&install, Some("user"));
        let shared = app.http.post(app.url("/api/notes/share")).bearer_auth(fit).header("x-forge-oauth-user", &planted);
        let shared = shared.form(&form).send().await.unwrap();
        assert_eq!(shared.status(), 200, "{}", shared.text().await.unwrap_or_default());
    }
    let comments = forge.api.comments();
    assert_eq!((comments.len(), comments[0].author.as_str(), comments[0].target.as_str()), (2, "user", "NOVA-1"));
    assert!(comments[0].body.to_string().contains("Share me"));
    let calls = forge.api.calls();
    assert!(calls.iter().all(|c| c.token.as_deref() != Some(planted.as_str())), "the page's token: {calls:?}");
    let impersonations: Vec<_> = calls.iter().filter(|c| c.path.starts_with("graphql")).collect();
    assert_eq!(impersonations.len(), 1, "one token bought, then kept: {calls:?}");
    assert_eq!(impersonations[0].token.as_deref(), Some(token.as_str()), "bought with the system token");
}
on_both_databases!(a_forge_tenant_calls_out_with_the_token_it_has_and_says_why_when_it_has_none);
// demo:end
