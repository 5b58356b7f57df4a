//! Time to hydrated for the general page inside the fake host's frame, in
//! headless Chromium with the network throttled through the DevTools
//! protocol (10 Mbit/s each way, 40 ms latency): from the host page's
//! navigation start to the `hydrated` performance mark the bundle sets once
//! `hydrate_body` returned. Cold samples clear the browser cache first; warm
//! ones reuse it, as a user's second visit does.

use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use fantoccini::{Client, ClientBuilder, Locator, wd::WebDriverCompatibleCommand};
use serde_json::{Value, json};

const SAMPLES: usize = 5;
const WAIT: Duration = Duration::from_secs(30);

/// A Chrome DevTools command through chromedriver's `goog/cdp/execute`.
#[derive(Debug)]
struct Cdp(&'static str, Value);

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(&self, base: &url::Url, session: Option<&str>) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/goog/cdp/execute", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(json!({ "cmd": self.0, "params": self.1 }).to_string()))
    }
}

pub struct Browser {
    client: Client,
    driver: Child,
    _profile: std::path::PathBuf,
}

impl Browser {
    pub async fn start(profile: std::path::PathBuf) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let driver = Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (Debian's chromium-driver) is missing");
        let capabilities = json!({ "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            // One renderer for the host page and the app's cross-site frame: DevTools throttles the page's
            // target only, and an out-of-process frame would escape it.
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                "--disable-background-networking", "--no-first-run", "--window-size=1200,900",
                "--disable-site-isolation-trials", "--disable-features=IsolateOrigins,site-per-process",
                format!("--user-data-dir={}", profile.display())],
        }});
        let Value::Object(capabilities) = capabilities else { unreachable!() };
        let deadline = Instant::now() + Duration::from_secs(20);
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            let attempt = ClientBuilder::new(connector)
                .capabilities(capabilities.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await;
            match attempt {
                Ok(client) => break client,
                Err(e) => {
                    assert!(Instant::now() < deadline, "chromedriver did not start: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        };
        Self { client, driver, _profile: profile }
    }

    async fn cdp(&self, cmd: &'static str, params: Value) {
        self.client.issue_cmd(Cdp(cmd, params)).await.unwrap_or_else(|e| panic!("{cmd}: {e}"));
    }

    /// 10 Mbit/s down and up, 40 ms added to every request.
    pub async fn throttle(&self) {
        self.cdp("Network.enable", json!({})).await;
        let bytes_per_sec = 10_000_000 / 8;
        let conditions = json!({ "offline": false, "latency": 40,
            "downloadThroughput": bytes_per_sec, "uploadThroughput": bytes_per_sec });
        self.cdp("Network.emulateNetworkConditions", conditions).await;
    }

    /// Milliseconds from the host page's navigation start to the app frame's
    /// `hydrated` mark.
    async fn time_to_hydrated(&self, host_page: &str) -> f64 {
        self.client.enter_parent_frame().await.ok();
        self.client.goto("about:blank").await.expect("about:blank");
        self.client.goto(host_page).await.expect("host page");
        let top = self.client.execute("return performance.timeOrigin", vec![]).await.expect("top timeOrigin");
        let started = Instant::now();
        let frame = loop {
            if let Ok(frame) = self.client.find(Locator::Css("#app-frame")).await {
                break frame;
            }
            assert!(started.elapsed() < WAIT, "no app frame in the host page");
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        frame.enter_frame().await.expect("entering the app frame");
        let script = "const m = performance.getEntriesByName('hydrated')[0]; \
                      return m ? performance.timeOrigin + m.startTime : null";
        loop {
            let at = self.client.execute(script, vec![]).await.unwrap_or(Value::Null);
            if let (Some(at), Some(top)) = (at.as_f64(), top.as_f64()) {
                return at - top;
            }
            assert!(started.elapsed() < WAIT, "the app frame did not hydrate");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Prints cold and warm samples and their medians.
pub async fn measure(browser: &Browser, host_page: &str) {
    let mut cold = Vec::new();
    for _ in 0..SAMPLES {
        browser.cdp("Network.clearBrowserCache", json!({})).await;
        cold.push(browser.time_to_hydrated(host_page).await);
    }
    let mut warm = Vec::new();
    for _ in 0..SAMPLES {
        warm.push(browser.time_to_hydrated(host_page).await);
    }
    for (name, samples) in [("empty cache", &mut cold), ("warm cache", &mut warm)] {
        let shown: Vec<String> = samples.iter().map(|ms| format!("{ms:.0}")).collect();
        samples.sort_by(f64::total_cmp);
        println!("time to hydrated, {name}: median {:.0} ms (samples: {} ms)", samples[SAMPLES / 2], shown.join(", "));
    }
}
