//! A fake Jira/Confluence site on loopback, for tests and local development:
//! - a host page per site and user that frames the app's module URL with a
//!   real page JWT, and answers the iframe's `AP` calls (context tokens,
//!   resize) over `postMessage`, as Atlassian's host does;
//! - `/all.js`, a stand-in for Atlassian's client library (`AP.context.getToken`,
//!   `AP.resize`, `AP.context.getContext`);
//! - the REST endpoints the app calls (permission check, user, issue
//!   properties), which verify the app's JWT like the real site would, and
//!   its rate limit (429 with `Retry-After`) when told to;
//! - webhooks when something happens on a site, retried like Jira's, and
//!   the OAuth token endpoint of the act-as-user grant, with the comments
//!   users make through it;
//! - with a [`ForgeSide`], Forge too: a site moves onto Forge, lifecycle
//!   events and scheduled triggers reach the app with FITs and system tokens,
//!   and a Forge UI stand-in page calls the app through `requestRemote`.
//!
//! It listens on 127.0.0.1 but names itself `http://localhost:PORT`, so the
//! host page and the app (on 127.0.0.1) are different sites: the iframe is
//! third-party, as it is under Atlassian.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use axum::{Router, routing::get};
use serde_json::Value;

mod all_js;
mod control_panel;
mod custom_ui;
mod custom_ui_scripts;
mod forge_native;
mod forge_side;
mod host_page;
mod issue_properties;
mod oauth;
mod platform;
mod product_events;
mod rest;
mod sites;
mod theme;

pub use forge_side::ForgeSide;
pub use oauth::{ACCESS_TOKEN_TTL_SECS, Comment};
pub use product_events::Delivery;
pub(crate) use sites::Site;

use crate::host::Host;

#[derive(Default)]
pub(crate) struct Inner {
    pub(crate) sites: HashMap<String, Site>,
    /// REST calls the app made: "METHOD path", in order.
    calls: Vec<String>,
    /// What the last control-panel action on each site answered.
    pub(crate) last_action: HashMap<String, String>,
    /// Webhook deliveries and their answers.
    pub(crate) deliveries: Vec<Delivery>,
    pub(crate) entity_counter: u64,
    /// The newest issue key of each site (what "edit issue" edits).
    pub(crate) last_issue: HashMap<String, String>,
    /// Act-as-user: grants given, access tokens issued, sites that revoked access.
    pub(crate) grants: usize,
    pub(crate) access_tokens: HashMap<String, oauth::AccessToken>,
    pub(crate) revoked: std::collections::HashSet<String>,
    pub(crate) comments: Vec<Comment>,
    /// The fake Forge CDN that serves the app's Custom UI, once started.
    pub(crate) cdn: Option<custom_ui::Cdn>,
    /// Issue properties by "site/issue/name".
    pub(crate) issue_properties: HashMap<String, Value>,
    /// How many more REST calls each site answers 429.
    pub(crate) rate_limits: crate::rate_limits::RateLimits,
    /// Closed and updated accounts, and the personal data reports made through Connect.
    pub(crate) accounts: crate::personal_data::Accounts,
}

#[derive(Clone)]
pub struct FakeHost {
    /// `http://localhost:PORT`
    pub url: String,
    pub app_base_url: String,
    pub app_key: String,
    pub context_ttl_secs: i64,
    /// Atlassian's side: signs installs and lifecycle callbacks.
    pub host: Arc<Host>,
    /// Where sites and users are saved between runs (the dev loop), if anywhere.
    pub state_file: Option<std::path::PathBuf>,
    /// Forge's side (JWKS, product API), when the host plays Forge too.
    pub forge: Option<ForgeSide>,
    pub(crate) inner: Arc<Mutex<Inner>>,
    _task: Arc<tokio::task::JoinHandle<()>>,
}

impl FakeHost {
    pub async fn start(host: Arc<Host>) -> Self {
        Self::start_on("127.0.0.1:0", host, None, None).await
    }

    /// As [`FakeHost::start`], playing Forge too: sites can move onto Forge.
    pub async fn start_with_forge(host: Arc<Host>, forge: ForgeSide) -> Self {
        Self::start_on("127.0.0.1:0", host, None, Some(forge)).await
    }

    /// As [`FakeHost::start`], on a chosen address (the dev loop uses a fixed
    /// port), saving its sites to `state_file`.
    pub async fn start_on(
        addr: &str,
        host: Arc<Host>,
        state_file: Option<std::path::PathBuf>,
        forge: Option<ForgeSide>,
    ) -> Self {
        let listener = tokio::net::TcpListener::bind(addr).await.expect("bind fake host");
        let port = listener.local_addr().expect("fake host address").port();
        let inner = Arc::new(Mutex::new(Inner::default()));
        let mut fake = Self {
            url: format!("http://localhost:{port}"),
            app_base_url: host.app_base_url.clone(),
            app_key: host.app_key.clone(),
            context_ttl_secs: 900,
            host,
            state_file,
            forge,
            inner,
            _task: Arc::new(tokio::spawn(async {})),
        };
        let app = Router::new()
            .route("/all.js", get(all_js::all_js))
            .route("/{site}/host", get(host_page::host_page))
            .route("/{site}/context-token", get(host_page::context_token))
            .route("/oauth2/token", axum::routing::post(oauth::token))
            .merge(control_panel::routes())
            .merge(custom_ui::routes())
            .fallback(rest::rest)
            .with_state(fake.clone());
        fake._task = Arc::new(tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        }));
        fake
    }

    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The fake host's one HTML escaper (`html-escape`): safe in text and in quoted attributes.
pub(crate) fn html_escape(text: &str) -> String {
    html_escape::encode_quoted_attribute(text).into_owned()
}
