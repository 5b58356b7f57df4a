//! The admin page and its server function are for site administrators,
//! checked on the server with a signed call to the host.

use crate::{
    on_both_databases,
    support::{app::TestApp, db::DbKind},
};

async fn only_site_administrators_see_the_install_status(kind: DbKind) {
    let app = TestApp::spawn(kind).await;
    for (site, product) in [("acme", "jira"), ("docs", "confluence")] {
        let tenant = app.fake.add_site(site, product);
        app.fake.add_user(site, "admin-1", "Ada Admin", true);
        app.fake.add_user(site, "user-1", "Uma User", false);
        assert_eq!(app.host.install(&tenant).await.status(), 204);

        let page = app.open_page(&tenant, "/admin", &[], Some("admin-1")).await;
        assert_eq!(page.status, 200, "{product}: {}", page.html);
        assert!(page.html.contains("install-status"), "{product}: the status renders on the server");
        let token = page.session_token().unwrap();
        let (status, body) = app.call_as(&token, "/api/admin/install_status", &[]).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["state"], "installed");
        assert_eq!(body["install_generation"], 1);
        assert_eq!(body["events"][0]["event"], "installed");
        assert_eq!((body["world"].as_str(), &body["cloud_id"]), (Some("Connect only"), &serde_json::Value::Null));
        assert_eq!(body["history"][0]["kind"], "base_url");

        let denied = app.open_page(&tenant, "/admin", &[], Some("user-1")).await;
        assert_eq!(denied.status, 403, "{product}: a non-admin is refused by the page");
        assert!(denied.session_token().is_none());
        let user_token = app.session_for(&tenant, "user-1").await;
        assert_eq!(
            app.call_as(&user_token, "/api/admin/install_status", &[]).await.0,
            403,
            "and by its server function"
        );
        assert_eq!(app.open_page(&tenant, "/admin", &[], None).await.status, 403, "anonymous users are never admins");
    }
    let calls = app.fake.rest_calls();
    assert!(calls.iter().any(|c| c == "POST /acme/rest/api/3/permissions/check"), "{calls:?}");
    assert!(calls.iter().any(|c| c == "GET /docs/wiki/rest/api/user"), "{calls:?}");
}
on_both_databases!(only_site_administrators_see_the_install_status);

/// Anyone can send forged callbacks for a known clientKey; they are logged,
/// but apart: the admin page still shows the real events, and at most ten
/// of the refusals.
async fn forged_callbacks_never_push_the_real_events_off_the_admin_page(kind: DbKind) {
    let app = TestApp::spawn(kind).await;
    let tenant = app.fake.add_site("acme", "jira");
    app.fake.add_user("acme", "admin-1", "Ada Admin", true);
    assert_eq!(app.host.install(&tenant).await.status(), 204);
    let body = app.host.body(&tenant, "uninstalled");
    for _ in 0..60 {
        assert_eq!(app.host.post_lifecycle("uninstalled", &body, None).await.status(), 401);
    }
    let token = app.open_page(&tenant, "/admin", &[], Some("admin-1")).await.session_token().unwrap();
    let (status, status_page) = app.call_as(&token, "/api/admin/install_status", &[]).await;
    assert_eq!(status, 200, "{status_page}");
    let events = status_page["events"].as_array().unwrap();
    let outcome = |e: &serde_json::Value| e["outcome"].as_str().unwrap_or_default().to_string();
    assert!(events.iter().any(|e| e["event"] == "installed" && outcome(e) == "accepted"), "{events:?}");
    assert_eq!(events.iter().filter(|e| outcome(e) == "rejected").count(), 10, "the newest ten refusals");
    assert_eq!(events[0]["outcome"], "rejected", "newest first");
}
on_both_databases!(forged_callbacks_never_push_the_real_events_off_the_admin_page);

async fn the_overview_gets_the_display_name_from_the_host(kind: DbKind) {
    let app = TestApp::spawn(kind).await;
    let tenant = app.fake.add_site("acme", "jira");
    app.fake.add_user("acme", "user-1", "Uma User", false);
    app.host.install(&tenant).await;
    let token = app.session_for(&tenant, "user-1").await;
    let (status, name) = app.call_as(&token, "/api/me/display_name", &[]).await;
    assert_eq!((status, name.as_str()), (200, Some("Uma User")));
    let (status, who) = app.call_as(&token, "/api/me/identity", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(who["account_id"], "user-1");
    assert_eq!(who["product_type"], "jira");
}
on_both_databases!(the_overview_gets_the_display_name_from_the_host);

async fn an_orphaned_installation_sends_nothing_to_the_host(kind: DbKind) {
    let app = TestApp::spawn(kind).await;
    let tenant = app.fake.add_site("acme", "jira");
    app.fake.add_user("acme", "admin-1", "Ada", true);
    app.host.install(&tenant).await;
    let token = app.session_for(&tenant, "admin-1").await;
    let imported = hostkit::Tenant::new(&tenant.base_url);
    app.host.install(&imported).await;
    let before = app.fake.rest_calls().len();
    assert_eq!(app.call_as(&token, "/api/me/display_name", &[]).await.0, 401);
    assert_eq!(app.fake.rest_calls().len(), before, "no call on behalf of an orphan");
}
on_both_databases!(an_orphaned_installation_sends_nothing_to_the_host);
