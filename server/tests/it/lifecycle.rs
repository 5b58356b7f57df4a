//! The lifecycle under the golden rule: signed installs create and rotate,
//! uninstall marks, and the stored state survives any order of delivery.

use hostkit::Tenant;
use server::{
    connect::{lifecycle::InstallState, signature::Signature},
    store::event_log::Outcome,
    tenant::Product,
};

use crate::{
    on_both_databases,
    support::{
        app::{TestApp, jira_site},
        db::DbKind,
        rows::{Unchanged, dump},
    },
};

async fn first_signed_install_stores_an_encrypted_installation(kind: DbKind) {
    let app = TestApp::spawn(kind).await;
    let tenant = Tenant::new(&jira_site());
    let response = app.host.install(&tenant).await;
    assert_eq!(response.status(), 204);

    let row = app.installation(&tenant.client_key).await.expect("stored");
    assert_eq!(row.site.base_url, tenant.base_url);
    assert_eq!(row.state, InstallState::Installed);
    assert_eq!(row.install_generation, 1);
    assert_eq!(row.install_signature, Signature::AtlassianRs256);
    assert_eq!(row.site.product, Some(Product::Jira));
    assert!(row.connect.as_ref().is_some_and(|c| c.oauth_client_id.is_some()));

    // D-01: neither the secret nor its hex form is anywhere in the database.
    let raw = dump(&app.raw_db).await;
    for needle in [tenant.shared_secret.clone(), hex::encode(&tenant.shared_secret)] {
        assert!(!raw.windows(needle.len()).any(|w| w == needle.as_bytes()), "plaintext secret found in the database");
    }
    if kind == DbKind::Sqlite {
        let path = app.db.url.trim_start_matches("sqlite://");
        let mut file = std::fs::read(path).unwrap();
        file.extend(std::fs::read(format!("{path}-wal")).unwrap_or_default());
        assert!(!file.windows(tenant.shared_secret.len()).any(|w| w == tenant.shared_secret.as_bytes()));
    }
    let events = app.events(&tenant.client_key).await;
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].event.as_str(), events[0].outcome.as_str(), events[0].signature.as_str()),
        ("installed", "accepted", "rs256")
    );
}
on_both_databases!(first_signed_install_stores_an_encrypted_installation);

async fn a_reinstall_rotates_the_secret_and_only_the_new_one_works(kind: DbKind) {
    let app = TestApp::spawn(kind).await;
    let old = Tenant::new(&jira_site());
    assert_eq!(app.host.install(&old).await.status(), 204);
    let new = old.with_new_secret();
    assert_eq!(app.host.install(&new).await.status(), 204);

    let row = app.installation(&old.client_key).await.unwrap();
    assert_eq!(row.install_generation, 2, "every accepted install bumps the generation");
    let unchanged = Unchanged::record(&app.raw_db).await;
    assert_eq!(app.host.toggle(&old, "disabled").await.status(), 401, "a JWT under the old secret is refused");
    unchanged.check("a disable under the old secret").await;
    assert_eq!(app.host.toggle(&new, "disabled").await.status(), 204, "the new secret works");
    assert_eq!(app.installation(&old.client_key).await.unwrap().state, InstallState::Disabled);
}
on_both_databases!(a_reinstall_rotates_the_secret_and_only_the_new_one_works);

async fn signed_uninstall_marks_and_a_signed_reinstall_revives(kind: DbKind) {
    let app = TestApp::spawn(kind).await;
    let tenant = Tenant::new(&jira_site());
    app.host.install(&tenant).await;
    assert_eq!(app.host.toggle(&tenant, "enabled").await.status(), 204);
    assert_eq!(app.host.uninstall(&tenant).await.status(), 204);

    let row = app.installation(&tenant.client_key).await.expect("uninstall marks, never deletes");
    assert_eq!(row.state, InstallState::Uninstalled);
    assert!(row.uninstalled_at.is_some());
    // An enabled arriving afterwards is acknowledged but changes nothing.
    assert_eq!(app.host.toggle(&tenant, "enabled").await.status(), 204);
    assert_eq!(app.installation(&tenant.client_key).await.unwrap().state, InstallState::Uninstalled);

    let reinstalled = tenant.with_new_secret();
    assert_eq!(app.host.install(&reinstalled).await.status(), 204);
    let row = app.installation(&tenant.client_key).await.unwrap();
    assert_eq!(row.state, InstallState::Installed);
    assert_eq!(row.install_generation, 2);
    assert!(row.uninstalled_at.is_none());
}
on_both_databases!(signed_uninstall_marks_and_a_signed_reinstall_revives);

async fn disabled_without_a_jwt_is_acknowledged_only_for_gone_tenants(kind: DbKind) {
    let app = TestApp::spawn(kind).await;
    let tenant = Tenant::new(&jira_site());
    let body = app.host.body(&tenant, "disabled");
    let unchanged = Unchanged::record(&app.raw_db).await;
    assert_eq!(app.host.post_lifecycle("disabled", &body, None).await.status(), 204, "unknown tenant");
    unchanged.check("an unsigned disable of an unknown tenant").await;

    app.host.install(&tenant).await;
    let unchanged = Unchanged::record(&app.raw_db).await;
    assert_eq!(app.host.post_lifecycle("disabled", &body, None).await.status(), 401, "active tenant needs a JWT");
    unchanged.check("an unsigned disable of an active tenant").await;

    app.host.uninstall(&tenant).await;
    let unchanged = Unchanged::record(&app.raw_db).await;
    assert_eq!(app.host.post_lifecycle("disabled", &body, None).await.status(), 204, "uninstalled tenant");
    unchanged.check("an unsigned disable of an uninstalled tenant").await;
}
on_both_databases!(disabled_without_a_jwt_is_acknowledged_only_for_gone_tenants);

async fn disabled_and_uninstalled_racing_always_end_uninstalled(kind: DbKind) {
    let app = TestApp::spawn(kind).await;
    for round in 0..100 {
        let tenant = Tenant::new(&jira_site());
        assert_eq!(app.host.install(&tenant).await.status(), 204);
        let (disabled, uninstalled) = tokio::join!(app.host.toggle(&tenant, "disabled"), app.host.uninstall(&tenant));
        assert_eq!(disabled.status(), 204, "round {round}");
        assert_eq!(uninstalled.status(), 204, "round {round}");
        let state = app.installation(&tenant.client_key).await.unwrap().state;
        assert_eq!(state, InstallState::Uninstalled, "round {round}");
    }
}
on_both_databases!(disabled_and_uninstalled_racing_always_end_uninstalled);

async fn a_stale_install_after_a_newer_one_is_ignored(kind: DbKind) {
    let app = TestApp::spawn(kind).await;
    let tenant = Tenant::new(&jira_site());
    app.host.install(&tenant).await;
    let stale = tenant.with_new_secret();
    let mut claims = app.host.install_claims(&stale, "installed");
    claims["iat"] = serde_json::json!(hostkit::now() - 120);
    let token = hostkit::jwt::rs256(&claims, &app.host.key);
    let response =
        app.host.post_lifecycle("installed", &app.host.body(&stale, "installed"), Some(format!("JWT {token}"))).await;
    assert_eq!(response.status(), 204);
    assert_eq!(app.installation(&tenant.client_key).await.unwrap().install_generation, 1);
    assert_eq!(app.host.toggle(&tenant, "disabled").await.status(), 204, "the newer secret still rules");
    let unchanged = Unchanged::record(&app.raw_db).await;
    assert_eq!(app.host.toggle(&stale, "enabled").await.status(), 401);
    unchanged.check("an enable under the stale install's secret").await;
    let last = app.events(&tenant.client_key).await;
    assert!(last.iter().any(|e| e.outcome == Outcome::Ignored && e.detail.as_deref().unwrap_or("").contains("stale")));
}
on_both_databases!(a_stale_install_after_a_newer_one_is_ignored);

async fn duplicate_concurrent_installs_make_one_row_once(kind: DbKind) {
    let app = TestApp::spawn(kind).await;
    let tenant = Tenant::new(&jira_site());
    let token = app.host.install_token(&tenant, "installed");
    let body = app.host.body(&tenant, "installed");
    let sends = (0..10).map(|_| app.host.post_lifecycle("installed", &body, Some(format!("JWT {token}"))));
    for response in futures::future::join_all(sends).await {
        assert_eq!(response.status(), 204);
    }
    let row = app.installation(&tenant.client_key).await.unwrap();
    assert_eq!(row.install_generation, 1, "duplicates are idempotent");
    let all = server::store::installations::list(&app.raw_db).await.unwrap();
    assert_eq!(all.iter().filter(|i| i.client_key().is_some_and(|k| k.as_str() == tenant.client_key)).count(), 1);
}
on_both_databases!(duplicate_concurrent_installs_make_one_row_once);

async fn a_site_rename_updates_the_base_url_and_records_it(kind: DbKind) {
    let app = TestApp::spawn(kind).await;
    let tenant = Tenant::new(&jira_site());
    app.host.install(&tenant).await;
    let renamed = Tenant { base_url: jira_site(), ..tenant.clone() };
    assert_eq!(app.host.install(&renamed).await.status(), 204);
    let row = app.installation(&tenant.client_key).await.unwrap();
    assert_eq!(row.site.base_url, renamed.base_url);
    let events = app.events(&tenant.client_key).await;
    let detail = events[0].detail.clone().unwrap_or_default();
    assert!(detail.contains(&tenant.base_url) && detail.contains(&renamed.base_url), "{detail}");
}
on_both_databases!(a_site_rename_updates_the_base_url_and_records_it);

async fn enabled_needs_the_tenant_secret_and_its_own_qsh(kind: DbKind) {
    let app = TestApp::spawn(kind).await;
    let tenant = Tenant::new(&jira_site());
    app.host.install(&tenant).await;
    let body = app.host.body(&tenant, "enabled");
    let wrong_qsh = tenant.sign(&tenant.claims("POST", "/disabled", &[], None));
    let wrong_key = Tenant { shared_secret: "not-the-secret".into(), ..tenant.clone() };
    let wrong_sig = wrong_key.sign(&wrong_key.claims("POST", "/enabled", &[], None));
    for (what, token) in [("qsh of another callback", wrong_qsh), ("another secret", wrong_sig)] {
        let unchanged = Unchanged::record(&app.raw_db).await;
        let response = app.host.post_lifecycle("enabled", &body, Some(format!("JWT {token}"))).await;
        assert_eq!(response.status(), 401, "{what}");
        unchanged.check(what).await;
    }
    assert_eq!(app.installation(&tenant.client_key).await.unwrap().state, InstallState::Installed);
    assert_eq!(app.host.toggle(&tenant, "enabled").await.status(), 204);
    assert_eq!(app.installation(&tenant.client_key).await.unwrap().state, InstallState::Enabled);
}
on_both_databases!(enabled_needs_the_tenant_secret_and_its_own_qsh);

async fn many_tenants_installing_while_others_toggle_never_see_a_server_error(kind: DbKind) {
    let app = TestApp::spawn(kind).await;
    let existing: Vec<Tenant> = (0..10).map(|_| Tenant::new(&jira_site())).collect();
    for t in &existing {
        app.host.install(t).await;
    }
    let newcomers: Vec<Tenant> = (0..50).map(|_| Tenant::new(&jira_site())).collect();
    let installs = newcomers.iter().map(|t| app.host.install(t));
    let toggles = (0..200)
        .map(|i| app.host.toggle(&existing[i % existing.len()], if i % 2 == 0 { "disabled" } else { "enabled" }));
    let (installed, toggled) = tokio::join!(futures::future::join_all(installs), futures::future::join_all(toggles));
    for response in installed.iter().chain(toggled.iter()) {
        assert_eq!(response.status(), 204, "D-07: no database-locked errors surface");
    }
    assert_eq!(server::store::installations::list(&app.raw_db).await.unwrap().len(), 60);
}
on_both_databases!(many_tenants_installing_while_others_toggle_never_see_a_server_error);
