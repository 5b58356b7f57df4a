//! When Forge's best-effort `preUninstall` never comes: a tenant born on
//! Forge that Forge stops reaching (no hourly trigger, no call) is shown
//! silent on the console and in `server list` after FORGE_SILENT_DAYS, is
//! treated as uninstalled after FORGE_GONE_DAYS (and purged 30 days later
//! like any other), and comes back with its data when Forge delivers to it
//! again. A Connect tenant, whose uninstall Connect sends, is never judged.
//! Days pass for the app's clock and Forge's alike.

use std::time::Duration;

// demo:begin
use hostkit::{
    Tenant,
    forge::{ForgeInstall, modules},
};
use serde_json::Value;
// demo:end
use server::{
    connect::{forge_silence::SilenceLimits, lifecycle::InstallState}, // demo
    maintenance,                                                      // demo
    operator_cli,                                                     // demo
    store::{event_log, tenant_lookup},                                // no-demo: store::tenant_lookup,
    tenant::Tenant as Stored,
};

use crate::{
    console::{Operator, PASSWORD, password_hash}, // demo
    forge_native::{forge_of, install_of},
    on_both_databases,
    support::{
        app::{TestApp, jira_site}, // no-demo: app::TestApp,
        db::DbKind,
        eventually::eventually,
        rows::wait_for_row, // demo
    },
};

const DAY: i64 = 86_400;
// demo:begin
const LIMITS: SilenceLimits =
    SilenceLimits { silent_after: Duration::from_secs(2 * 86_400), gone_after: Duration::from_secs(14 * 86_400) };

/// A Forge-native Jira site `nova` and a Connect Jira site, with an operator.
async fn two_sites(kind: DbKind) -> (TestApp, Tenant) {
    let app = TestApp::builder(kind)
        .forge()
        .var("OPERATOR_USER", "ops")
        .var("OPERATOR_PASSWORD_HASH", password_hash())
        .var("FORGE_SILENT_DAYS", "2")
        .var("FORGE_GONE_DAYS", "14")
        .start()
        .await;
    app.fake.add_native_site("nova", "jira");
    app.fake.add_user("nova", "user", "Uma User", false);
    assert_eq!(app.fake.forge_install("nova").await, Ok(204));
    wait_for_row(&app.raw_db, "reachable as the app").await;
    let connect = Tenant::new(&jira_site());
    assert!(app.host.install(&connect).await.status().is_success());
    (app, connect)
}
// demo:end

fn days_pass(app: &TestApp, days: i64) {
    app.clock.advance(days * DAY);
    forge_of(app).jwks.advance_clock(days * DAY);
}

// demo:begin
async fn page_call(app: &TestApp, install: &ForgeInstall, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let fit = forge_of(app).jwks.fit_of(install, modules::GLOBAL_PAGE, Some("user"));
    app.call(path, Some(&format!("Bearer {fit}")), form).await
}
// demo:end

async fn tenant(app: &TestApp, key: &str) -> Stored {
    tenant_lookup::find_tenant(&app.raw_db, key).await.unwrap().expect("a tenant")
}

// demo:begin
/// The mark the console's list and `server list` show on the state of
/// `name`, which must agree. (The operator logs in each time: days pass.)
async fn shown_state(app: &TestApp, name: &str) -> String {
    let mut op = Operator::new(app);
    assert!(op.log_in(PASSWORD).await.status().is_redirection());
    let (_, html) = op.get("/console").await;
    let row = html.split("<tr").find(|row| row.contains(name)).unwrap_or_else(|| panic!("{name} listed: {html}"));
    let mut out = Vec::new();
    let listing = operator_cli::Listing { search: Some(name), now: app.clock.now(), silence: &LIMITS };
    operator_cli::list(&app.raw_db, &listing, &mut out).await.unwrap();
    let out = String::from_utf8(out).unwrap();
    let line = out.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("{name} in server list: {out}"));
    let state = ["(silent)", "(Forge silent)"].into_iter().find(|mark| line.contains(mark)).unwrap_or("");
    let console = ["(silent)", "(Forge silent)"].into_iter().find(|mark| row.contains(mark)).unwrap_or("");
    assert_eq!(console, state, "the console and server list agree: {row} / {line}");
    state.to_string()
}

async fn forge_silent_too_long_is_shown_then_treated_as_uninstalled_then_purged(kind: DbKind) {
    let (app, connect) = two_sites(kind).await;
    let install = install_of(&app);
    let id = tenant(&app, &install.installation_id).await.tenant_id;
    let (status, note) = page_call(&app, &install, "/api/notes/create", &[("title", "Kept"), ("body", "")]).await;
    assert_eq!(status, 200, "{note}");
    assert_eq!(shown_state(&app, id.as_str()).await, "", "just reached");

    // Three days without a word: silent, still installed and served.
    days_pass(&app, 3);
    assert_eq!(shown_state(&app, id.as_str()).await, "(silent)");
    assert_eq!(shown_state(&app, &connect.client_key).await, "", "Connect sends its own uninstall");
    assert!(maintenance::give_up_on_silent(&app.raw_db, &app.clock, &LIMITS).await.unwrap().is_empty());
    // The hourly trigger reaches it; three more days, then a page call does.
    assert_eq!(app.fake.forge_event("nova", "hourly").await, Ok(204));
    assert_eq!(shown_state(&app, id.as_str()).await, "", "the hourly trigger reached it");
    days_pass(&app, 3);
    assert_eq!(shown_state(&app, id.as_str()).await, "(silent)");
    assert_eq!(page_call(&app, &install, "/api/notes/list", &[]).await.0, 200, "silent is still installed");
    assert_eq!(shown_state(&app, id.as_str()).await, "", "a page call reached it");

    // Fifteen days of silence: treated as uninstalled, with a line in its log; Connect's tenant stays.
    days_pass(&app, 15);
    let given_up = maintenance::give_up_on_silent(&app.raw_db, &app.clock, &LIMITS).await.unwrap();
    assert_eq!(given_up, std::slice::from_ref(&id));
    assert!(maintenance::give_up_on_silent(&app.raw_db, &app.clock, &LIMITS).await.unwrap().is_empty(), "once");
    let gone = tenant(&app, id.as_str()).await;
    assert_eq!((gone.state, gone.uninstalled_at), (InstallState::Uninstalled, Some(app.clock.now())));
    assert_eq!(shown_state(&app, id.as_str()).await, "(Forge silent)");
    assert!(tenant(&app, &connect.client_key).await.is_active(), "a Connect tenant is never given up on");
    let log = event_log::for_tenant(&app.raw_db, &id, 5).await.unwrap();
    let line = log.iter().find(|e| e.event == "uninstalled").expect("logged");
    assert!(line.detail.as_deref().unwrap_or("").contains("preUninstall never came"), "{line:?}");
    assert_eq!(line.signature.as_str(), "housekeeping");
    assert_eq!(page_call(&app, &install, "/api/notes/list", &[]).await.0, 401, "uninstalled: refused");

    // Forge delivers again: it was installed after all, and comes back with its notes.
    assert_eq!(app.fake.forge_event("nova", "hourly").await, Ok(204));
    let back = tenant(&app, id.as_str()).await;
    assert!(back.is_active() && back.given_up_at.is_none() && back.uninstalled_at.is_none(), "{back:?}");
    assert_eq!(back.install_generation, gone.install_generation + 1, "as a new generation");
    let (status, notes) = page_call(&app, &install, "/api/notes/list", &[]).await;
    assert_eq!((status, notes[0]["title"].as_str()), (200, Some("Kept")), "{notes}");
    assert_eq!(shown_state(&app, id.as_str()).await, "");

    // Given up on again, then Forge's preUninstall confirms it: no later delivery brings it back.
    days_pass(&app, 15);
    let given_up = maintenance::give_up_on_silent(&app.raw_db, &app.clock, &LIMITS).await.unwrap();
    assert_eq!(given_up, std::slice::from_ref(&id));
    assert_eq!(app.fake.forge_event("nova", "pre-uninstall").await, Ok(204));
    let confirmed = tenant(&app, id.as_str()).await;
    assert_eq!((confirmed.state, confirmed.given_up_at), (InstallState::Uninstalled, None));
    assert_eq!(shown_state(&app, id.as_str()).await, "", "uninstalled, no longer for Forge's silence");
    assert_eq!(app.fake.forge_event("nova", "hourly").await, Ok(204));
    assert_eq!(tenant(&app, id.as_str()).await.state, InstallState::Uninstalled, "stays uninstalled");

    // And it is purged 30 days after it was given up on, like any uninstalled tenant.
    let retention = Duration::from_secs(30 * 86_400);
    days_pass(&app, 29);
    assert!(maintenance::purge(&app.raw_db, &app.clock, retention).await.unwrap().is_empty(), "kept 30 days");
    days_pass(&app, 2);
    let purged = maintenance::purge(&app.raw_db, &app.clock, retention).await.unwrap();
    assert_eq!(purged.iter().map(|p| &p.tenant_id).collect::<Vec<_>>(), [&id]);
    assert!(tenant_lookup::find_tenant(&app.raw_db, id.as_str()).await.unwrap().is_none());
    assert!(tenant(&app, &connect.client_key).await.is_active(), "Connect's tenant is still installed");
}
on_both_databases!(forge_silent_too_long_is_shown_then_treated_as_uninstalled_then_purged);
// demo:end

/// The server's own housekeeping does it, hourly (here every second), with
/// no one calling it.
async fn the_housekeeping_job_gives_up_on_a_silent_tenant_by_itself(kind: DbKind) {
    let app = TestApp::builder(kind).forge().var("PURGE_INTERVAL_SECS", "1").start().await;
    app.fake.add_native_site("nova", "jira");
    assert_eq!(app.fake.forge_install("nova").await, Ok(204));
    let id = tenant(&app, &install_of(&app).installation_id).await.tenant_id;
    days_pass(&app, 13);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(tenant(&app, id.as_str()).await.is_active(), "13 days: silent, not gone");
    days_pass(&app, 2);
    eventually("the job gave up on the tenant", || async { tenant(&app, id.as_str()).await.given_up_at.is_some() })
        .await;
}
on_both_databases!(the_housekeeping_job_gives_up_on_a_silent_tenant_by_itself);
