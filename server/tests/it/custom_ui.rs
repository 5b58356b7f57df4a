//! The same Leptos app as a Forge Custom UI, in real headless Chromium: the
//! fake host serves `target/forge/ui` from an origin of its own (its Forge
//! CDN), under the policy the real `@forge/csp` computes for the app's
//! manifest, in a sandboxed iframe, and answers the real `@forge/bridge`
//! bundled in the page. Every call the page makes reaches the app through
//! `requestRemote`, with a fresh FIT of the page's module.

use std::time::Duration;

use fantoccini::Locator; // demo
use serde_json::Value; // demo

use crate::support::browser::wait_for_theme; // demo
use crate::support::{
    app::TestApp,
    browser::{Browser, click, control_violation, js, type_into, wait_text}, // no-demo: browser::{Browser, js},
    db::DbKind,
};

const WAIT: Duration = Duration::from_secs(20);

// demo:begin
/// Opens the product page that frames `module` as `user`, enters the
/// Custom UI's frame and waits until the app has rendered.
async fn open_custom_ui(browser: &Browser, app: &TestApp, module: &str, user: &str) {
    open_custom_ui_of(browser, app, "acme", module, user).await
}

async fn open_custom_ui_of(browser: &Browser, app: &TestApp, site: &str, module: &str, user: &str) {
    open_frame(browser, &app.fake.custom_ui_url(site, module, user)).await
}

/// Opens the product page at `url` and enters its Custom UI once rendered.
async fn open_frame(browser: &Browser, url: &str) {
    browser.open_frame(url, "#forge-frame", "[data-hydrated=true]").await;
}

/// What the frame reported to the product page: errors and CSP violations.
async fn reported(browser: &Browser) -> (Value, Value) {
    let c = &browser.client;
    c.enter_parent_frame().await.unwrap();
    let errors = js(c, "return window.__forgeErrors").await;
    let violations = js(c, "return window.__forgeViolations").await;
    c.find(Locator::Css("#forge-frame")).await.unwrap().enter_frame().await.unwrap();
    (errors, violations)
}

/// The Jira site `acme` (an admin and a plain user), installed through
/// Connect and then moved onto Forge, as a vendor's existing tenant is.
async fn acme_moved_onto_forge() -> (TestApp, hostkit::Tenant) {
    acme_moved_onto_forge_with(TestApp::builder(DbKind::Sqlite).forge()).await
}
// demo:end

async fn acme_moved_onto_forge_with(
    builder: crate::support::app_builder::TestAppBuilder,
) -> (TestApp, hostkit::Tenant) {
    let app = builder.start().await;
    let tenant = app.fake.add_site("acme", "jira");
    app.fake.add_user("acme", "admin", "Ada Admin", true);
    app.fake.add_user("acme", "user", "Uma User", false);
    assert_eq!(app.host.install(&tenant).await.status(), 204);
    app.fake.move_to_forge("acme").await.unwrap();
    (app, tenant)
}

// demo:begin
async fn assert_clean(browser: &Browser, when: &str) {
    let (errors, violations) = reported(browser).await;
    assert_eq!(errors, serde_json::json!([]), "console errors {when}");
    assert_eq!(violations, serde_json::json!([]), "CSP violations {when}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium and the built Custom UI: run by cargo xtask test"]
async fn the_custom_ui_is_the_same_app_through_the_real_forge_bridge() {
    let (app, tenant) = acme_moved_onto_forge().await;
    let session = app.session_for(&tenant, "user").await;
    let (status, _) =
        app.call_as(&session, "/api/notes/create", &[("title", "Written in Connect"), ("body", "")]).await;
    assert_eq!(status, 200);
    assert!(app.fake.product_event("acme", "create-issue").await.unwrap().delivered());
    let cdn = app.serve_custom_ui().await;
    let policy = app.fake.custom_ui_csp().unwrap();
    let script_src = policy.split("; ").find(|d| d.starts_with("script-src")).unwrap_or_default();
    assert!(script_src.contains("'unsafe-eval'") && !script_src.contains("unsafe-inline"), "{script_src}");
    let browser = Browser::start().await;
    let c = browser.client.clone();

    open_custom_ui(&browser, &app, "notes-page", "user").await;
    assert_eq!(js(&c, "return location.origin").await, cdn, "served from the CDN's origin, not the app's");
    assert_eq!(js(&c, "return typeof window.__bridge.callBridge").await, "function");
    wait_text(&browser, "the account", "#account-id", |t| t == "user").await;
    wait_text(&browser, "the display name", "#display-name", |t| t == "Uma User").await;
    let rendered = js(&c, "return performance.getEntriesByName('rendered')[0].startTime").await;
    eprintln!("custom UI: first render {:.0} ms after navigation start", rendered.as_f64().unwrap_or(-1.0));

    // The notes of the tenant, through requestRemote; tabs move Forge's history.
    click(&c, "a[href='/app/notes']").await;
    wait_text(&browser, "the note written in Connect", ".note .note-title", |t| t == "Written in Connect").await;
    type_into(&c, "#note-title", "Custom UI note").await;
    type_into(&c, "#note-body", "From Forge").await;
    click(&c, "#note-create").await;
    wait_text(&browser, "the new note", "#notes", |t| t.contains("Custom UI note")).await;
    let first_title = "return document.querySelector('.note .note-title').textContent";
    assert_eq!(js(&c, first_title).await, "Custom UI note", "newest first");
    click(&c, ".note .note-edit").await;
    type_into(&c, ".note-title-input", "Custom UI note v2").await;
    click(&c, ".note-save").await;
    wait_text(&browser, "the edited note", ".note .note-title", |t| t == "Custom UI note v2").await;
    type_into(&c, "#note-title", "Doomed").await;
    click(&c, "#note-create").await;
    wait_text(&browser, "the doomed note", ".note .note-title", |t| t == "Doomed").await;
    click(&c, ".note .note-delete").await;
    wait_text(&browser, "the note deleted", ".note .note-title", |t| t == "Custom UI note v2").await;

    // Share a note to an issue: a comment by the user on the site, as the user through Forge's impersonation.
    type_into(&c, ".share-target", "ACME-1").await;
    click(&c, ".share-button").await;
    let done = wait_text(&browser, "the share confirmed", ".share-done", |t| t.contains("ACME-1")).await;
    assert!(done.starts_with("Shared to ACME-1"), "{done}");
    let comments = app.fake.comments();
    assert_eq!(comments.len(), 1, "{comments:?}");
    assert_eq!((comments[0].author.as_str(), comments[0].target.as_str()), ("Uma User", "ACME-1"));
    let api_calls = app.fake.forge.as_ref().unwrap().api.calls();
    assert!(api_calls.iter().any(|c| c.path == "graphql impersonate user" && c.status == 200), "{api_calls:?}");

    click(&c, "a[href='/app/activity']").await;
    let line = wait_text(&browser, "the Activity tab", "li.activity-item", |t| t.contains("ACME-1")).await;
    assert!(line.contains("issue:ACME-1"), "{line}");
    c.enter_parent_frame().await.unwrap();
    let history = js(&c, "return window.__forgeHistory").await;
    assert_eq!(history, serde_json::json!(["/app/notes", "/app/activity"]), "tabs go through view.createHistory()");
    let calls = js(&c, "return window.__forgeCalls").await.as_i64().unwrap_or(0);
    assert!(calls >= 8, "every server function went through fetchRemote ({calls})");
    c.find(Locator::Css("#forge-frame")).await.unwrap().enter_frame().await.unwrap();

    // The product's theme, switched from the product page, reaches the page.
    let background = "return getComputedStyle(document.body).backgroundColor";
    let light = js(&c, background).await;
    assert_eq!(js(&c, "return document.documentElement.dataset.colorMode").await, "light");
    c.enter_parent_frame().await.unwrap();
    click(&c, "#theme-switch").await;
    c.find(Locator::Css("#forge-frame")).await.unwrap().enter_frame().await.unwrap();
    browser
        .wait_for("the dark theme", WAIT, |c| async move {
            (js(&c, "return document.documentElement.dataset.colorMode").await == "dark").then_some(())
        })
        .await;
    assert_ne!(js(&c, background).await, light, "the page follows the product's palette");
    assert_clean(&browser, "on the global page").await;

    // The same notes as the Connect page of the tenant.
    let (status, notes) = app.call_as(&session, "/api/notes/list", &[]).await;
    let titles: Vec<&str> = notes.as_array().unwrap().iter().filter_map(|n| n["title"].as_str()).collect();
    assert_eq!((status, titles), (200, vec!["Custom UI note v2", "Written in Connect"]));

    // The admin page: the status for an admin, refused on the server for anyone else.
    open_custom_ui(&browser, &app, "notes-admin", "admin").await;
    wait_text(&browser, "the install status", "#state", |t| t == "installed").await;
    wait_text(&browser, "the world", "#world", |t| t == "Connect-on-Forge").await;
    assert_clean(&browser, "on the admin page").await;
    control_violation(&browser, "#forge-frame", "__forgeViolations").await;
    open_custom_ui(&browser, &app, "notes-admin", "user").await;
    let refusal = wait_text(&browser, "the refusal", ".error-box .error", |t| !t.is_empty()).await;
    assert_eq!(refusal, "You are not allowed to do that.", "the server answered 403");
    assert!(browser.text("#install-status").await.is_none(), "and showed nothing of the status");
    browser.close().await;
}
// demo:end

/// The control for the clean runs above: the product page's origin is not
/// among FORGE_PAGE_ORIGINS, so the app answers no CORS, Chromium refuses
/// the cross-origin answer to the page's call, and the product page hears
/// of it, as the clean runs would have.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium and the built Custom UI: run by cargo xtask test"]
async fn a_page_origin_the_app_does_not_list_is_refused_by_the_browser_and_reported() {
    let builder = TestApp::builder(DbKind::Sqlite).forge().var("FORGE_PAGE_ORIGINS", "https://*.atlassian.net");
    let (app, _) = acme_moved_onto_forge_with(builder).await;
    app.serve_custom_ui().await;
    let browser = Browser::start().await;
    browser.client.goto(&app.fake.custom_ui_url("acme", "notes-page", "user")).await.unwrap();
    let errors = browser
        .wait_for("the refused call reported", WAIT, |c| async move {
            js(&c, "return window.__forgeErrors").await.as_array().filter(|e| !e.is_empty()).cloned()
        })
        .await;
    assert!(errors.iter().any(|e| e.as_str().is_some_and(|e| e.starts_with("fetchRemote /api/"))), "{errors:?}");
}

// demo:begin
/// A tenant born on Forge (no Connect install, no Connect secret) has the
/// same pages: the user's identity through the product API as the app,
/// notes, the admin page. Sharing posts as the user: `requestRemote`
/// carries no token of theirs, so the app impersonates them through Forge.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium and the built Custom UI: run by cargo xtask test"]
async fn a_tenant_born_on_forge_has_the_custom_ui_and_shares_as_the_user() {
    let app = TestApp::builder(DbKind::Sqlite).forge().start().await;
    app.fake.add_native_site("nova", "jira");
    app.fake.add_user("nova", "admin", "Ada Admin", true);
    app.fake.add_user("nova", "user", "Uma User", false);
    assert_eq!(app.fake.forge_install("nova").await, Ok(204));
    app.serve_custom_ui().await;
    let browser = Browser::start().await;
    let c = browser.client.clone();

    open_custom_ui_of(&browser, &app, "nova", "notes-page", "user").await;
    wait_text(&browser, "the display name, asked as the app", "#display-name", |t| t == "Uma User").await;
    // The product owns the history: a deep link opens the page there; back and forward move it.
    open_frame(&browser, &app.fake.custom_ui_url_at("nova", "notes-page", "user", "/app/notes")).await;
    wait_text(&browser, "the deep-linked notes tab", "#no-notes", |t| !t.is_empty()).await;
    click(&c, "a[href='/app/activity']").await;
    wait_text(&browser, "the activity tab", "#no-activity", |t| !t.is_empty()).await;
    let host_button = |id: &'static str| {
        let c = c.clone();
        async move {
            c.enter_parent_frame().await.unwrap();
            click(&c, id).await;
            c.find(Locator::Css("#forge-frame")).await.unwrap().enter_frame().await.unwrap();
        }
    };
    host_button("#history-back").await;
    wait_text(&browser, "back on the notes tab", "#no-notes", |t| !t.is_empty()).await;
    host_button("#history-forward").await;
    wait_text(&browser, "forward to the activity tab", "#no-activity", |t| !t.is_empty()).await;
    host_button("#history-back").await;
    wait_text(&browser, "back again", "#no-notes", |t| !t.is_empty()).await;
    type_into(&c, "#note-title", "Born on Forge").await;
    click(&c, "#note-create").await;
    wait_text(&browser, "the new note", ".note .note-title", |t| t == "Born on Forge").await;
    type_into(&c, ".share-target", "NOVA-1").await;
    click(&c, ".share-button").await;
    let done = wait_text(&browser, "the share confirmed", ".share-done", |t| t.contains("NOVA-1")).await;
    assert!(done.starts_with("Shared to NOVA-1"), "{done}");
    let comments = app.fake.comments();
    assert_eq!(comments.len(), 1, "{comments:?}");
    assert_eq!((comments[0].site.as_str(), comments[0].author.as_str()), ("nova", "Uma User"), "as the user");
    assert_clean(&browser, "on a Forge-born tenant's page").await;

    open_custom_ui_of(&browser, &app, "nova", "notes-admin", "admin").await;
    wait_text(&browser, "the install status", "#world", |t| t == "Forge").await;
    open_custom_ui_of(&browser, &app, "nova", "notes-admin", "user").await;
    wait_text(&browser, "the refusal", ".error-box .error", |t| t == "You are not allowed to do that.").await;
    browser.close().await;
}

/// The product's light and dark themes reach the page in both worlds: the
/// Connect page asks with `AP.theming.initializeTheming()`, the Custom UI
/// with `view.theme.enable()`, and the stylesheet reads the tokens the
/// product sets. With `SCREENSHOTS_DIR` set, each page is saved as a PNG
/// there (the screenshots in docs/forge.md come from this test).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium and the built Custom UI: run by cargo xtask test"]
async fn both_worlds_wear_the_products_light_and_dark_themes() {
    let (app, tenant) = acme_moved_onto_forge().await;
    let session = app.session_for(&tenant, "user").await;
    let note = [("title", "Release checklist"), ("body", "Tag, build, ship")];
    assert_eq!(app.call_as(&session, "/api/notes/create", &note).await.0, 200);
    app.serve_custom_ui().await;
    let browser = Browser::start().await;
    let c = browser.client.clone();
    let pages = [
        ("connect", format!("{}&theme=", app.fake.host_page_url("acme", "/app/notes", "user")), "#app-frame"),
        ("custom-ui", format!("{}&theme=", app.fake.custom_ui_url("acme", "notes-page", "user")), "#forge-frame"),
    ];
    for (world, url, frame) in pages {
        for (theme, surface) in [("light", "rgb(255, 255, 255)"), ("dark", "rgb(31, 31, 33)")] {
            c.enter_parent_frame().await.ok();
            c.goto(&format!("{url}{theme}")).await.unwrap();
            let element =
                browser.wait_for("the frame", WAIT, |c| async move { c.find(Locator::Css(frame)).await.ok() }).await;
            element.clone().enter_frame().await.unwrap();
            browser
                .wait_for("the app", WAIT, |c| async move { c.find(Locator::Css("[data-hydrated=true]")).await.ok() })
                .await;
            if world == "custom-ui" {
                click(&c, "a[href='/app/notes']").await;
            }
            wait_text(&browser, "the note", ".note .note-title", |t| t == "Release checklist").await;
            wait_for_theme(&browser, theme, surface).await;
            c.enter_parent_frame().await.unwrap();
            if let Some(dir) = std::env::var_os("SCREENSHOTS_DIR") {
                let png = element.screenshot().await.unwrap();
                std::fs::write(std::path::Path::new(&dir).join(format!("{world}-{theme}.png")), png).unwrap();
            }
        }
    }
    browser.close().await;
}
// demo:end
