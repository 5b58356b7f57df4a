//! Real headless Chromium through chromedriver (Debian's packages), driven
//! with fantoccini. Third-party cookies are blocked, as Safari, Brave and
//! incognito Chrome do inside Atlassian's iframe.

use std::{
    process::{Child, Command, Stdio},
    time::Duration,
};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use super::eventually::until_some;

pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let driver = Command::new(std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into()))
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver is missing: run the tests with `cargo xtask test`, which installs it");
        let profile = tempfile::tempdir().unwrap();
        let capabilities = json!({
            "goog:chromeOptions": {
                "binary": std::env::var("CHROME").unwrap_or_else(|_| "/usr/bin/chromium".into()),
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", "--window-size=1200,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
                "prefs": { "profile.block_third_party_cookies": true, "profile.cookie_controls_mode": 1 }
            }
        });
        let capabilities = match capabilities {
            serde_json::Value::Object(map) => map,
            _ => unreachable!(),
        };
        let url = format!("http://127.0.0.1:{port}");
        let client = until_some("chromedriver started", Duration::from_secs(20), || async {
            let mut builder = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
            builder.capabilities(capabilities.clone()).connect(&url).await.ok()
        })
        .await;
        Self { client, driver, _profile: profile }
    }

    /// Polls `probe` until it returns Some or the timeout ends.
    pub async fn wait_for<T, F, Fut>(&self, what: &str, timeout: Duration, mut probe: F) -> T
    where
        F: FnMut(Client) -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        until_some(what, timeout, || probe(self.client.clone())).await
    }

    /// Opens the host page at `url`, enters its frame `frame_css` and waits
    /// until the frame shows `ready_css` (20 s at most for each).
    pub async fn open_frame(&self, url: &str, frame_css: &str, ready_css: &str) {
        const WAIT: Duration = Duration::from_secs(20);
        self.client.enter_parent_frame().await.ok();
        self.client.goto(url).await.unwrap();
        let frame = self.wait_for(frame_css, WAIT, |c| async move { c.find(Locator::Css(frame_css)).await.ok() }).await;
        frame.enter_frame().await.unwrap();
        self.wait_for(ready_css, WAIT, |c| async move { c.find(Locator::Css(ready_css)).await.ok() }).await;
    }

    /// The text of the first element matching `css`, if any.
    pub async fn text(&self, css: &str) -> Option<String> {
        let element = self.client.find(fantoccini::Locator::Css(css)).await.ok()?;
        element.text().await.ok()
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}

/// How long the page helpers below wait for what they look for.
const WAIT: Duration = Duration::from_secs(20);

/// The value a script returns in the current frame (null if it fails).
pub async fn js(client: &Client, script: &str) -> Value {
    client.execute(script, vec![]).await.unwrap_or(Value::Null)
}

/// Waits until `css` inside the current frame has text satisfying `ok`.
pub async fn wait_text(browser: &Browser, what: &str, css: &str, ok: impl Fn(&str) -> bool) -> String {
    browser.wait_for(what, WAIT, |_| async { browser.text(css).await.filter(|t| ok(t)) }).await
}

/// Waits until the current frame wears the product's `theme` (`light`,
/// `dark`): the host set `data-color-mode` and the stylesheet's surface is `surface`.
pub async fn wait_for_theme(browser: &Browser, theme: &str, surface: &str) {
    browser
        .wait_for("the product's theme", WAIT, |c| async move {
            let mode = js(&c, "return document.documentElement.dataset.colorMode").await;
            let body = js(&c, "return getComputedStyle(document.body).backgroundColor").await;
            (mode == theme && body == surface).then_some(())
        })
        .await;
}

pub async fn click(client: &Client, css: &str) {
    client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}")).click().await.unwrap();
}

// demo:begin
pub async fn type_into(client: &Client, css: &str, text: &str) {
    let field = client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}
// demo:end

// demo:begin
/// The control for a frame's CSP collector: the frame `frame_css` adds an
/// inline script without the page's nonce, which its policy must refuse,
/// and the host page's `collector` (a list) must then hold that one report.
/// Without it, a collector that never receives anything passes every
/// "no violations" check. Starts in any frame and ends in the host page.
pub async fn control_violation(browser: &Browser, frame_css: &str, collector: &str) {
    let c = &browser.client;
    c.enter_parent_frame().await.ok();
    c.find(Locator::Css(frame_css)).await.unwrap().enter_frame().await.unwrap();
    let inject = "var s = document.createElement('script'); s.textContent = 'window.__controlRan = true'; \
                  document.body.appendChild(s); return true";
    js(c, inject).await;
    assert_eq!(js(c, "return window.__controlRan === true").await, json!(false), "the policy ran an unsigned script");
    c.enter_parent_frame().await.unwrap();
    let read = format!("return window.{collector}");
    let reports = browser
        .wait_for("the control violation reported", WAIT, |c| {
            let read = read.clone();
            async move { js(&c, &read).await.as_array().filter(|a| !a.is_empty()).cloned() }
        })
        .await;
    assert_eq!(reports.len(), 1, "one report for one violation: {reports:?}");
    assert!(reports[0].as_str().is_some_and(|t| t.starts_with("script-src")), "{reports:?}");
}
// demo:end
