//! The vendor's own page and server function (`app/src/vendor/`): declared
//! with their proof in the vendor's folder, routed by the house's table,
//! and answering through the one `Services` facade in both worlds.

use hostkit::forge::modules;

use crate::{
    forge_native::{forge_of, install_of, native_site},
    on_both_databases,
    support::{
        app::TestApp,
        browser::{Browser, click, wait_text},
        db::DbKind,
    },
};

const GREETING: &str = "/api/vendor/greeting";

async fn the_vendors_server_function_greets_the_caller_by_the_name_their_site_knows(kind: DbKind) {
    let app = TestApp::spawn(kind).await;
    let jira = app.fake.add_site("acme", "jira");
    app.fake.add_user("acme", "user-1", "Uma User", false);
    let confluence = app.fake.add_site("docs", "confluence");
    app.fake.add_user("docs", "user-2", "Carl Confluence", false);
    app.host.install(&jira).await;
    app.host.install(&confluence).await;

    let token = app.session_for(&jira, "user-1").await;
    assert_eq!(app.call_as(&token, GREETING, &[]).await, (200, "Hello, Uma User (visit 1)".into()));
    assert_eq!(
        app.call_as(&token, GREETING, &[]).await,
        (200, "Hello, Uma User (visit 2)".into()),
        "the vendor's table"
    );
    let token = app.session_for(&confluence, "user-2").await;
    let (status, greeting) = app.call_as(&token, GREETING, &[]).await;
    assert_eq!((status, greeting.as_str()), (200, Some("Hello, Carl Confluence (visit 1)")), "Confluence's path");
    let asked = app.fake.rest_calls();
    assert!(asked.iter().any(|c| c.contains("/rest/api/user")), "Confluence's user record was asked: {asked:?}");

    assert_eq!(app.call(GREETING, None, &[]).await.0, 401, "the proof the vendor's list gives it");
    let page = app.http.get(app.url("/app/hello")).send().await.unwrap();
    assert_eq!(page.status(), 401, "the vendor's page needs the host's page token");
}
on_both_databases!(the_vendors_server_function_greets_the_caller_by_the_name_their_site_knows);

async fn under_forge_the_same_function_calls_the_product_api_as_the_app(kind: DbKind) {
    let app = native_site(kind).await;
    let fit = forge_of(&app).jwks.fit_of(&install_of(&app), modules::GLOBAL_PAGE, Some("user"));
    let (status, greeting) = app.call(GREETING, Some(&format!("Bearer {fit}")), &[]).await;
    assert_eq!((status, greeting.as_str()), (200, Some("Hello, Uma User (visit 1)")), "{greeting}");
}
on_both_databases!(under_forge_the_same_function_calls_the_product_api_as_the_app);

/// The tab opened from the host over HTTP, as the host's iframe would: it
/// renders on the server beside the house's tabs (and, in an app made with
/// `new-app --no-demo`, without the demo's).
async fn the_vendors_tab_renders_inside_the_host(kind: DbKind) {
    let app = TestApp::spawn(kind).await;
    let tenant = app.fake.add_site("acme", "jira");
    assert_eq!(app.host.install(&tenant).await.status(), 204);
    let page = app.get_page(&app.host.page_url(&tenant, "/app/hello", &[], Some("user-1"))).await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(page.html.contains("<h1>Hello</h1>") && page.html.contains(r#"id="hello""#), "{}", page.html);
    assert!(page.html.contains(">Help</a>"), "the house's tabs beside it");
    let demo_tab = page.html.contains(">Notes</a>");
    assert!(demo_tab, "the demo's tab"); // no-demo: assert!(!demo_tab, "an app without the demo has no Notes tab");
}
on_both_databases!(the_vendors_tab_renders_inside_the_host);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium and the built site: run by cargo xtask test"]
async fn the_vendors_page_is_a_tab_of_the_general_page() {
    let app = TestApp::spawn(DbKind::Sqlite).await;
    let tenant = app.fake.add_site("acme", "jira");
    app.fake.add_user("acme", "user-1", "Uma User", false);
    assert_eq!(app.host.install(&tenant).await.status(), 204);
    let browser = Browser::start().await;
    let c = browser.client.clone();
    browser
        .open_frame(&app.fake.host_page_url("acme", "/app", "user-1"), "#app-frame", ".app[data-hydrated=true]")
        .await;
    click(&c, "a[href='/app/hello']").await;
    wait_text(&browser, "the vendor's page", "h1", |t| t == "Hello").await;
    wait_text(&browser, "the greeting from the site", "#greeting", |t| t == "Hello, Uma User (visit 1)").await;
    browser.close().await;
}
