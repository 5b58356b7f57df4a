//! The whole app in real headless Chromium with third-party cookies blocked:
//! a fake Jira page on http://localhost frames the app on http://127.0.0.1
//! (another site), with a stand-in `AP` that answers getToken and resize.

use std::time::Duration;

use fantoccini::Locator;

use crate::support::{
    app::TestApp,
    browser::{Browser, click, control_violation, js, type_into, wait_text},
    db::DbKind,
};

const WAIT: Duration = Duration::from_secs(20);

/// Opens the host page for `module` as `user` and enters the app's iframe.
async fn open_in_host(browser: &Browser, app: &TestApp, module: &str, user: &str) {
    browser.client.enter_parent_frame().await.ok();
    browser.client.goto(&app.fake.host_page_url("acme", module, user)).await.unwrap();
    let frame = browser
        .wait_for("the app iframe", WAIT, |c| async move { c.find(Locator::Css("#app-frame")).await.ok() })
        .await;
    frame.enter_frame().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium and the built site: run by cargo xtask test"]
async fn the_spa_works_in_a_third_party_iframe_and_outlives_its_session() {
    let app = TestApp::builder(DbKind::Sqlite).var("APP_SESSION_TTL_SECS", "6").start().await;
    let tenant = app.fake.add_site("acme", "jira");
    app.fake.add_user("acme", "admin-1", "Ada Admin", true);
    app.fake.add_user("acme", "user-1", "Uma User", false);
    assert_eq!(app.host.install(&tenant).await.status(), 204);
    let browser = Browser::start().await;
    let c = browser.client.clone();

    open_in_host(&browser, &app, "/app", "user-1").await;
    browser
        .wait_for("hydration", WAIT, |c| async move { c.find(Locator::Css(".app[data-hydrated=true]")).await.ok() })
        .await;
    assert_eq!(
        js(
            &c,
            "document.cookie = 'probe=1; SameSite=None; Secure'; document.cookie = 'probe2=1'; return document.cookie"
        )
        .await,
        "",
        "third-party cookies must be blocked in this test"
    );
    js(&c, "window.__marker = 'same-document'; return true").await;

    wait_text(&browser, "the account", "#account-id", |t| t == "user-1").await;
    wait_text(&browser, "the display name from the host", "#display-name", |t| t == "Uma User").await;

    // Client-side routing: the document (and its marker) survives each view change.
    click(&c, "a[href='/app/notes']").await;
    wait_text(&browser, "the notes view", "h1", |t| t == "Team notes").await;
    type_into(&c, "#note-title", "Release checklist").await;
    type_into(&c, "#note-body", "Tag, build, ship").await;
    click(&c, "#note-create").await;
    wait_text(&browser, "the new note", ".note .note-title", |t| t == "Release checklist").await;
    click(&c, ".note-edit").await;
    type_into(&c, ".note-title-input", "Release checklist v2").await;
    click(&c, ".note-save").await;
    wait_text(&browser, "the edited note", ".note .note-title", |t| t == "Release checklist v2").await;
    click(&c, "a[href='/app/help']").await;
    wait_text(&browser, "the help view", "#help", |t| t.contains("Team notes")).await;
    assert_eq!(js(&c, "return window.__marker").await, "same-document", "views switch without a reload");
    assert_eq!(js(&c, "return location.pathname").await, "/app/help");
    // The back button steps through the tabs inside the same document too.
    js(&c, "history.back(); return true").await;
    wait_text(&browser, "the notes view again", "h1", |t| t == "Team notes").await;
    let current = "return document.querySelector('a[aria-current=page]').getAttribute('href')";
    assert_eq!(js(&c, current).await, "/app/notes", "the tab shown is the tab marked");
    assert_eq!(js(&c, "return window.__marker").await, "same-document", "back without a reload");

    // Outlive the 6-second session: the SPA renews through AP.context.getToken(),
    // on its own timer before any call needs it.
    tokio::time::sleep(Duration::from_secs(8)).await;
    c.enter_parent_frame().await.unwrap();
    let proactive = js(&c, "return window.__tokens").await.as_i64().unwrap_or(0);
    assert!(proactive >= 1, "the session was renewed before expiry without a call ({proactive} getToken calls)");
    c.find(Locator::Css("#app-frame")).await.unwrap().enter_frame().await.unwrap();
    click(&c, "a[href='/app/notes']").await;
    type_into(&c, "#note-title", "Written after the session expired").await;
    click(&c, "#note-create").await;
    wait_text(&browser, "a note saved with a renewed session", "#notes", |t| {
        t.contains("Written after the session expired")
    })
    .await;
    assert_eq!(js(&c, "return window.__marker").await, "same-document", "no reload to renew");
    c.enter_parent_frame().await.unwrap();
    let tokens = js(&c, "return window.__tokens").await.as_i64().unwrap_or(0);
    assert!(tokens >= 1, "the host answered getToken {tokens} times");
    let resizes = js(&c, "return window.__resizes").await.as_i64().unwrap_or(0);
    assert!(resizes >= 1, "the app asked the host to resize {resizes} times");
    // The strict policy (no inline script but the page's own, by nonce) broke nothing.
    assert_eq!(js(&c, "return window.__violations").await, serde_json::json!([]), "CSP violations");
    control_violation(&browser, "#app-frame", "__violations").await;

    // The admin page: the status for an admin, a refusal for anyone else.
    open_in_host(&browser, &app, "/admin", "admin-1").await;
    wait_text(&browser, "the install status", "#state", |t| t == "installed").await;
    wait_text(&browser, "the lifecycle log", "#events", |t| t.contains("installed")).await;
    open_in_host(&browser, &app, "/admin", "user-1").await;
    wait_text(&browser, "the refusal", "#denied", |t| t.contains("site administrators")).await;

    browser.close().await;
}

/// "Share to issue" from the SPA ends as a comment by the user on the site,
/// and a webhook the site fires shows in the Activity view.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium and the built site: run by cargo xtask test"]
async fn share_to_issue_and_the_activity_view_work_in_the_iframe() {
    let app = TestApp::spawn(DbKind::Sqlite).await;
    let tenant = app.fake.add_site("acme", "jira");
    app.fake.add_user("acme", "user-1", "Uma User", false);
    assert_eq!(app.host.install(&tenant).await.status(), 204);
    let delivery = app.fake.product_event("acme", "create-issue").await.unwrap();
    assert!(delivery.delivered(), "{delivery:?}");
    let browser = Browser::start().await;
    let c = browser.client.clone();

    open_in_host(&browser, &app, "/app", "user-1").await;
    browser
        .wait_for("hydration", WAIT, |c| async move { c.find(Locator::Css(".app[data-hydrated=true]")).await.ok() })
        .await;
    click(&c, "a[href='/app/activity']").await;
    let line =
        wait_text(&browser, "the webhook in the Activity view", "li.activity-item", |t| t.contains("ACME-1")).await;
    assert!(line.contains("jira:issue_created on issue:ACME-1"), "{line}");

    click(&c, "a[href='/app/notes']").await;
    type_into(&c, "#note-title", "Shared from the SPA").await;
    click(&c, "#note-create").await;
    wait_text(&browser, "the new note", ".note-title", |t| t == "Shared from the SPA").await;
    type_into(&c, ".share-target", "ACME-1").await;
    click(&c, ".share-button").await;
    let done = wait_text(&browser, "the share confirmed", ".share-done", |t| t.contains("ACME-1")).await;
    assert!(done.starts_with("Shared to ACME-1"), "{done}");
    let comments = app.fake.comments();
    assert_eq!(comments.len(), 1);
    assert_eq!((comments[0].author.as_str(), comments[0].target.as_str()), ("Uma User", "ACME-1"), "by the user");
    // Linked to the issue, the note shows the issue's events.
    type_into(&c, ".link-key", "ACME-1").await;
    click(&c, ".link-button").await;
    let event = wait_text(&browser, "the issue's event on the note", ".note-event", |t| t.contains("ACME-1")).await;
    assert!(event.contains("jira:issue_created"), "{event}");
    browser.close().await;
}
