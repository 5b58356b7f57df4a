//! The example app of `docs/vendor.md` (`server/examples/vendor_app`),
//! its parts run as written against the fake Atlassian: a new issue gets
//! the vendor's issue property and a row in the vendor's own table.

#[path = "../../examples/vendor_app/app.rs"]
mod app;

use hostkit::Tenant;
use serde_json::json;
use server::store::tenant_lookup;

use crate::support::{
    app::{TestApp, jira_site},
    db::DbKind,
    eventually::eventually,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_vendor_example_tags_a_new_issue_in_the_site_and_in_its_own_table() {
    let app = TestApp::builder(DbKind::Sqlite)
        .handlers(app::webhooks())
        .lifecycle(app::hooks())
        .migrations(app::migrations())
        .start()
        .await;
    let tenant = app.fake.add_site("acme", "jira");
    assert_eq!(app.host.install(&tenant).await.status(), 204);
    assert!(app.fake.product_event("acme", "create-issue").await.unwrap().delivered());
    let id = tenant_lookup::find_tenant(&app.raw_db, &tenant.client_key).await.unwrap().unwrap().tenant_id;
    let db = server::store::TenantDb::new(&app.raw_db, &id);
    eventually("the vendor's row", || async {
        db.column("SELECT tag FROM vendor_tags WHERE tenant_id = $1", &[]).await.unwrap().len() == 1
    })
    .await;
    let tag = db.column("SELECT tag FROM vendor_tags WHERE tenant_id = $1", &[]).await.unwrap().remove(0);
    assert_eq!(app.fake.issue_property("acme", &tag, "tagged"), Some(json!({ "by": "vendor-app" })));
    let other = Tenant::new(&jira_site());
    assert_eq!(app.host.install(&other).await.status(), 204);
    let other_id = tenant_lookup::find_tenant(&app.raw_db, &other.client_key).await.unwrap().unwrap().tenant_id;
    let other_db = server::store::TenantDb::new(&app.raw_db, &other_id);
    let seen = other_db.column("SELECT tag FROM vendor_tags WHERE tenant_id = $1", &[]).await.unwrap();
    assert!(seen.is_empty(), "another tenant's handle sees none of it");
}
