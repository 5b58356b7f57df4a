//! The fake host as a developer uses it, in headless Chromium: install from
//! the control panel, open the app in the host frame, switch users, fire
//! lifecycle events and watch the app react; then move a site onto Forge and
//! see the same notes in the app's Custom UI, which only has `@forge/bridge`.

use std::time::Duration;

use fantoccini::Locator;

use crate::support::{app::TestApp, browser::Browser, db::DbKind};

const WAIT: Duration = Duration::from_secs(20);

async fn panel_action(browser: &Browser, app: &TestApp, id: &str) {
    browser.client.enter_parent_frame().await.ok();
    browser.client.goto(&format!("{}/", app.fake.url)).await.unwrap();
    browser.client.find(Locator::Css(&format!("#{id}"))).await.unwrap().click().await.unwrap();
    // The answer to this action: the last one's 204 stays on the panel until it comes.
    let action = id.trim_start_matches("acme-");
    let answered = |t: &String| t.starts_with(action) && t.contains("204");
    browser.wait_for(id, WAIT, |_| async { browser.text("#acme-last").await.filter(answered) }).await;
}

async fn open_from_panel(browser: &Browser, app: &TestApp, link: &str) {
    browser.client.enter_parent_frame().await.ok();
    browser.client.goto(&format!("{}/", app.fake.url)).await.unwrap();
    browser.client.find(Locator::Css(link)).await.unwrap().click().await.unwrap();
    let frame =
        browser.wait_for("the app frame", WAIT, |c| async move { c.find(Locator::Css("#app-frame")).await.ok() }).await;
    frame.enter_frame().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium and the built site: run by cargo xtask test"]
async fn a_developer_drives_the_app_through_the_fake_host() {
    let app = TestApp::spawn(DbKind::Sqlite).await;
    app.fake.add_site("acme", "jira");
    app.fake.add_user("acme", "admin", "Ada Admin", true);
    app.fake.add_user("acme", "user", "Uma User", false);
    let browser = Browser::start().await;

    panel_action(&browser, &app, "acme-install").await;
    open_from_panel(&browser, &app, "a.open-app[href*='user=admin']").await;
    browser
        .wait_for("the overview", WAIT, |_| async { browser.text("#display-name").await.filter(|t| t == "Ada Admin") })
        .await;

    open_from_panel(&browser, &app, "a.open-admin[href*='user=admin']").await;
    browser
        .wait_for("the install status", WAIT, |_| async { browser.text("#state").await.filter(|t| t == "installed") })
        .await;
    open_from_panel(&browser, &app, "a.open-admin[href*='user=user']").await;
    browser
        .wait_for("the admin page refused", WAIT, |_| async {
            browser.text("#denied").await.filter(|t| t.contains("administrators"))
        })
        .await;

    panel_action(&browser, &app, "acme-uninstall").await;
    open_from_panel(&browser, &app, "a.open-app[href*='user=user']").await;
    browser
        .wait_for("the app refusing", WAIT, |_| async {
            browser.text("#denied").await.filter(|t| t.contains("could not be opened"))
        })
        .await;

    panel_action(&browser, &app, "acme-reinstall").await;
    open_from_panel(&browser, &app, "a.open-app[href*='user=user']").await;
    browser
        .wait_for("the app working again", WAIT, |_| async {
            browser.text("#display-name").await.filter(|t| t == "Uma User")
        })
        .await;
    browser.close().await;
}

// demo:begin
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium and the built site: run by cargo xtask test"]
async fn a_site_moved_onto_forge_shows_its_notes_in_the_custom_ui() {
    let app = TestApp::builder(DbKind::Sqlite).forge().start().await;
    let forge = app.fake.forge.clone().expect("the fake host plays Forge");
    app.fake.add_site("acme", "jira");
    app.fake.add_user("acme", "user", "Uma User", false);
    app.fake.add_user("acme", "admin", "Ada Admin", true);
    let browser = Browser::start().await;
    panel_action(&browser, &app, "acme-install").await;
    let tenant = app.fake.tenant("acme").unwrap();
    let session = app.session_for(&tenant, "user").await;
    let (status, _) =
        app.call_as(&session, "/api/notes/create", &[("title", "Written in Connect"), ("body", "")]).await;
    assert_eq!(status, 200);

    panel_action(&browser, &app, "acme-move-to-forge").await;
    let last = browser.text("#acme-last").await.unwrap_or_default();
    assert!(last.contains("Forge installed 204"), "{last}");
    assert!(browser.client.find(Locator::Css("#acme-disable")).await.is_err(), "no enabled/disabled on Forge");
    // The app checked it can call the product as itself with the token of Forge's installed event.
    let called = browser
        .wait_for("a product API call as the app", WAIT, |_| async {
            forge.api.calls().into_iter().find(|c| c.status == 200 && c.path == "/rest/api/3/serverInfo")
        })
        .await;
    assert!(called.token.is_some());

    // The admin page's status names the world, the site's cloudId and until when a token is held, never the token.
    let tenant = app.fake.tenant("acme").unwrap();
    let page = app.open_page(&tenant, "/admin", &[], Some("admin")).await;
    let token = page.session_token().expect("an admin session");
    let (status, body) = app.call_as(&token, "/api/admin/install_status", &[]).await;
    assert_eq!((status, body["world"].as_str()), (200, Some("Connect-on-Forge")), "{body}");
    assert_eq!(body["installation_id"].as_str(), app.fake.site_forge_installation("acme").as_deref());
    assert!(body["cloud_id"].is_string() && body["system_token_until"].is_i64(), "{body}");
    assert!(body["history"].as_array().is_some_and(|h| h.iter().any(|e| e["kind"] == "installation_id")));
    assert!(!body.to_string().contains(called.token.as_deref().unwrap()), "never the token");

    app.serve_custom_ui().await;
    let list_in_forge_ui = || async {
        browser.client.enter_parent_frame().await.ok();
        browser.client.goto(&app.fake.custom_ui_url("acme", "notes-page", "user")).await.unwrap();
        let frame = browser
            .wait_for("the Custom UI", WAIT, |c| async move { c.find(Locator::Css("#forge-frame")).await.ok() })
            .await;
        frame.enter_frame().await.unwrap();
        let tab = browser
            .wait_for("the notes tab", WAIT, |c| async move { c.find(Locator::Css("a[href='/app/notes']")).await.ok() })
            .await;
        tab.click().await.unwrap();
        browser
            .wait_for("the notes in the Custom UI", WAIT, |_| async { browser.text(".note .note-title").await })
            .await
    };
    assert_eq!(list_in_forge_ui().await, "Written in Connect");

    // Forge's deliveries from the panel: the hourly trigger and a Forge reinstall (new installationId).
    panel_action(&browser, &app, "acme-forge-hourly").await;
    let before = app.fake.site_forge_installation("acme");
    panel_action(&browser, &app, "acme-forge-reinstall").await;
    assert_ne!(app.fake.site_forge_installation("acme"), before, "a new installationId");
    assert_eq!(list_in_forge_ui().await, "Written in Connect", "the same tenant after a reinstall");
    browser.close().await;
}
// demo:end
