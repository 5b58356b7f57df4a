//! The shell page renders on the server and hydrates in real headless
//! Chromium: effects run, clicks update the DOM, and the wasm calls a server
//! function over HTTP.

use std::time::Duration;

use fantoccini::Locator;

use crate::support::{app::TestApp, browser::Browser, db::DbKind};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium and the built site: run by cargo xtask test"]
async fn the_shell_page_hydrates_in_headless_chromium() {
    let app = TestApp::spawn(DbKind::Sqlite).await;
    let browser = Browser::start().await;
    browser.client.goto(&app.url("/")).await.unwrap();

    let wait = Duration::from_secs(20);
    browser
        .wait_for("hydration", wait, |_| async { browser.text("#hydrated").await.filter(|t| t == "hydrated=yes") })
        .await;
    let version = format!("version={}", env!("CARGO_PKG_VERSION"));
    browser
        .wait_for("the server function", wait, |_| async {
            browser.text("#server-version").await.filter(|t| *t == version)
        })
        .await;
    let button = browser.client.find(Locator::Css("#inc")).await.unwrap();
    button.click().await.unwrap();
    button.click().await.unwrap();
    browser
        .wait_for("two clicks", wait, |_| async { browser.text("#inc").await.filter(|t| t == "Clicked 2 times") })
        .await;
    browser.close().await;
}
