//! Site imports (seed 000): a new clientKey for a known base URL becomes the
//! site's installation, the old one an orphan, purged with its data after
//! the retention window; the legacy unsigned install is off unless asked for.

use hostkit::Tenant;
use server::{
    connect::{lifecycle::InstallState, signature::Signature},
    maintenance,
    store::{installations, purge},
    vendor::BaseUrl,
};

use crate::{
    on_both_databases,
    support::{
        app::{TestApp, jira_site},
        db::DbKind,
        rows::{Unchanged, rows_naming},
    },
};

const DAY: i64 = 86_400;

async fn a_site_import_orphans_the_old_install_and_purges_it_after_30_days(kind: DbKind) {
    let app = TestApp::spawn(kind).await;
    let site = jira_site();
    let before_import = Tenant::new(&site);
    let bystander = Tenant::new(&jira_site());
    app.host.install(&before_import).await;
    app.host.install(&bystander).await;
    app.clock.advance(10);
    let after_import = Tenant::new(&site);
    assert_eq!(app.host.install(&after_import).await.status(), 204);

    let newest = installations::newest_active_by_base_url(&app.raw_db, &BaseUrl::new(&site)).await.unwrap().unwrap();
    assert_eq!(
        newest.client_key().map(|k| k.as_str()),
        Some(after_import.client_key.as_str()),
        "lookups by base URL return the newest"
    );
    let orphan = app.installation(&before_import.client_key).await.unwrap();
    assert!(orphan.orphaned_at.is_some() && !orphan.is_active());
    assert!(app.events(&before_import.client_key).await.iter().any(|e| e.event == "orphaned"));
    // The orphan's JWTs change nothing any more.
    assert_eq!(app.host.toggle(&before_import, "disabled").await.status(), 204);
    assert_eq!(app.installation(&before_import.client_key).await.unwrap().state, InstallState::Installed);

    let retention = std::time::Duration::from_secs(30 * DAY as u64);
    app.clock.advance(29 * DAY);
    assert!(maintenance::purge(&app.raw_db, &app.clock, retention).await.unwrap().is_empty(), "kept for 30 days");
    app.clock.advance(2 * DAY);
    let dry = purge::expired(&app.raw_db, app.clock.now(), 30 * DAY).await.unwrap();
    assert_eq!(dry.len(), 1);
    assert!(app.installation(&before_import.client_key).await.is_some(), "a dry run changes nothing");
    let purged = maintenance::purge(&app.raw_db, &app.clock, retention).await.unwrap();
    assert_eq!(purged.iter().map(|p| &p.tenant_id).collect::<Vec<_>>(), [&orphan.tenant_id]);
    assert!(app.installation(&before_import.client_key).await.is_none());
    let left = rows_naming(&app.raw_db, orphan.tenant_id.as_str()).await;
    assert!(left.is_empty(), "its data goes with it: {left:?}");
    assert!(app.installation(&after_import.client_key).await.is_some());
    assert!(app.installation(&bystander.client_key).await.is_some());
    let log = purge::log(&app.raw_db, 10).await.unwrap();
    assert_eq!(log[0].client_key.as_deref(), Some(before_import.client_key.as_str()));
    assert_eq!(log[0].reason, "orphaned");
}
on_both_databases!(a_site_import_orphans_the_old_install_and_purges_it_after_30_days);

async fn uninstalled_installations_are_purged_after_the_window_too(kind: DbKind) {
    let app = TestApp::spawn(kind).await;
    let tenant = Tenant::new(&jira_site());
    app.host.install(&tenant).await;
    app.host.uninstall(&tenant).await;
    app.clock.advance(31 * DAY);
    let purged =
        maintenance::purge(&app.raw_db, &app.clock, std::time::Duration::from_secs(30 * DAY as u64)).await.unwrap();
    assert_eq!(purged.len(), 1);
    assert_eq!(purged[0].reason, "uninstalled");
}
on_both_databases!(uninstalled_installations_are_purged_after_the_window_too);

async fn legacy_mode_accepts_only_a_first_unsigned_install(kind: DbKind) {
    let app = TestApp::builder(kind).var("CONNECT_LEGACY_INSTALL", "true").start().await;
    let tenant = Tenant::new(&jira_site());
    let body = app.host.body(&tenant, "installed");
    assert_eq!(app.host.post_lifecycle("installed", &body, None).await.status(), 204, "first unsigned install");
    assert_eq!(app.installation(&tenant.client_key).await.unwrap().install_signature, Signature::Unsigned);

    let hijack = tenant.with_new_secret();
    let unchanged = Unchanged::record(&app.raw_db).await;
    let response = app.host.post_lifecycle("installed", &app.host.body(&hijack, "installed"), None).await;
    assert_eq!(response.status(), 401, "unsigned reinstall");
    unchanged.check("an unsigned reinstall").await;

    let same_site = Tenant::new(&tenant.base_url);
    let response = app.host.post_lifecycle("installed", &app.host.body(&same_site, "installed"), None).await;
    assert_eq!(response.status(), 401, "unsigned install on a base URL with an active installation");
    unchanged.check("an unsigned install on a base URL with an active installation").await;

    // A later install signed with the stored secret is accepted.
    let rotated = tenant.with_new_secret();
    let token = tenant.sign(&tenant.claims("POST", "/installed", &[], None));
    let response =
        app.host.post_lifecycle("installed", &app.host.body(&rotated, "installed"), Some(format!("JWT {token}"))).await;
    assert_eq!(response.status(), 204);
    assert_eq!(app.installation(&tenant.client_key).await.unwrap().install_generation, 2);
    assert_eq!(app.host.toggle(&rotated, "enabled").await.status(), 204);
}
on_both_databases!(legacy_mode_accepts_only_a_first_unsigned_install);

async fn without_legacy_mode_an_unsigned_first_install_is_refused(kind: DbKind) {
    let app = TestApp::spawn(kind).await;
    let tenant = Tenant::new(&jira_site());
    let unchanged = Unchanged::record(&app.raw_db).await;
    let response = app.host.post_lifecycle("installed", &app.host.body(&tenant, "installed"), None).await;
    assert_eq!(response.status(), 401);
    unchanged.check("an unsigned first install without legacy mode").await;
}
on_both_databases!(without_legacy_mode_an_unsigned_first_install_is_refused);
