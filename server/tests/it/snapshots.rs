//! What the app hands Atlassian and its users, as reviewed text: the
//! descriptor, the Forge manifests of each mode and the refusal pages. A change to any
//! of them shows up as a snapshot diff (`cargo insta review`, or
//! `INSTA_UPDATE=always`), so it is seen and meant, never a side effect.

use server::connect::{
    descriptor::{Descriptor, TEMPLATE},
    forge_manifest::{Mode, manifest_yaml},
    forge_modules::Product,
};

use crate::support::{app::TestApp, db::DbKind};

const BASE_URL: &str = "https://app.example.com";
const APP_ID: &str = "ari:cloud:ecosystem::app/00000000-0000-4000-8000-000000000001";

fn descriptor() -> Descriptor {
    Descriptor::render(TEMPLATE, BASE_URL).expect("the descriptor renders")
}

#[test]
fn the_descriptor() {
    let value: serde_json::Value = serde_json::from_slice(descriptor().bytes()).expect("JSON");
    insta::assert_json_snapshot!("descriptor", value);
}

#[test]
fn the_connect_on_forge_manifests() {
    for (name, product) in [("jira", Product::Jira), ("confluence", Product::Confluence)] {
        let yaml = manifest_yaml(&descriptor(), product, Some(APP_ID), Mode::ConnectOnForge);
        insta::assert_snapshot!(format!("manifest_connect_on_forge_{name}"), yaml);
    }
}

#[test]
fn the_migrated_manifests() {
    for (name, product) in [("jira", Product::Jira), ("confluence", Product::Confluence)] {
        let yaml = manifest_yaml(&descriptor(), product, Some(APP_ID), Mode::Migrated);
        insta::assert_snapshot!(format!("manifest_migrated_{name}"), yaml);
    }
}

#[test]
fn the_forge_native_manifests() {
    for (name, product) in [("jira", Product::Jira), ("confluence", Product::Confluence)] {
        let yaml = manifest_yaml(&descriptor(), product, Some(APP_ID), Mode::Native);
        insta::assert_snapshot!(format!("manifest_native_{name}"), yaml);
    }
}

/// The refusal pages a user can meet in the iframe, and the JSON a host gets.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_refusal_pages() {
    let app = TestApp::spawn(DbKind::Sqlite).await;
    let missing = refusal(&app, "/app").await;
    assert_eq!(refusal(&app, "/app?jwt=a.b.c").await, missing, "a forged token learns no more than none");
    insta::assert_snapshot!("refusal_page_without_a_valid_token", missing);
    insta::assert_snapshot!("refusal_unknown_route", refusal(&app, "/no/such/route").await);
    let body = app.host.body(&hostkit::Tenant::new("https://snap.atlassian.net"), "installed");
    let install = app.http.post(app.url("/installed")).json(&body).send().await.unwrap();
    let status = install.status().as_u16();
    insta::assert_snapshot!("refusal_unsigned_install", format!("{status}\n{}", install.text().await.unwrap()));

    let tenant = app.fake.add_site("snap", "jira");
    app.fake.add_user("snap", "user-1", "Uma User", false);
    assert_eq!(app.host.install(&tenant).await.status(), 204);
    let not_admin = app.open_page(&tenant, "/admin", &[], Some("user-1")).await;
    insta::assert_snapshot!("refusal_page_not_an_admin", format!("{}\n{}", not_admin.status, not_admin.html));
    // A site that cannot answer whether the user administers it.
    let unanswered = app.installed_tenant().await;
    let unknown = app.open_page(&unanswered, "/admin", &[], Some("user-1")).await;
    insta::assert_snapshot!("refusal_page_admin_check_unavailable", format!("{}\n{}", unknown.status, unknown.html));
    app.host.toggle(&tenant, "disabled").await;
    let disabled = app.open_page(&tenant, "/app", &[], Some("user-1")).await;
    insta::assert_snapshot!("refusal_page_app_disabled", format!("{}\n{}", disabled.status, disabled.html));
}

/// The status and body a GET of `path` gets.
async fn refusal(app: &TestApp, path: &str) -> String {
    let answer = app.http.get(app.url(path)).send().await.unwrap();
    let status = answer.status().as_u16();
    format!("{status}\n{}", answer.text().await.unwrap())
}
