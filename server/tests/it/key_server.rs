//! Fetching Atlassian's install keys: failures are bounded and retryable,
//! hits are cached by kid, and a flood of made-up kids cannot block installs.

use std::time::{Duration, Instant};

use futures::StreamExt;
use hostkit::{Host, KeyServerMode, Tenant, jwt};

use crate::{
    on_both_databases,
    support::{
        app::{APP_KEY, TestApp, jira_site},
        db::DbKind,
    },
};

async fn a_key_server_outage_fails_boundedly_then_a_retry_succeeds(kind: DbKind) {
    let app = TestApp::spawn(kind).await;
    let tenant = Tenant::new(&jira_site());
    for mode in
        [KeyServerMode::Down, KeyServerMode::Huge, KeyServerMode::NotPem, KeyServerMode::Slow(Duration::from_secs(8))]
    {
        app.host.key_server.set_mode(mode.clone());
        let started = Instant::now();
        let response = app.host.install(&tenant).await;
        assert_eq!(response.status(), 503, "{mode:?}: Atlassian should retry");
        assert!(started.elapsed() < Duration::from_secs(7), "{mode:?} took {:?}", started.elapsed());
        assert!(app.installation(&tenant.client_key).await.is_none(), "{mode:?}");
    }
    app.host.key_server.set_mode(KeyServerMode::Normal);
    assert_eq!(app.host.install(&tenant).await.status(), 204, "the retry succeeds");
}
on_both_databases!(a_key_server_outage_fails_boundedly_then_a_retry_succeeds);

async fn keys_are_fetched_once_per_kid(kind: DbKind) {
    let app = TestApp::spawn(kind).await;
    let installs = (0..5).map(|_| Tenant::new(&jira_site())).collect::<Vec<_>>();
    let sends = installs.iter().map(|t| app.host.install(t));
    for response in futures::future::join_all(sends).await {
        assert_eq!(response.status(), 204);
    }
    assert_eq!(app.host.key_server.requests().len(), 1, "concurrent installs share one fetch");
}
on_both_databases!(keys_are_fetched_once_per_kid);

async fn a_second_key_server_is_tried_when_the_first_is_down(kind: DbKind) {
    let down = hostkit::KeyServer::start().await;
    down.set_mode(KeyServerMode::Down);
    let down_url = down.url();
    let app = TestApp::spawn_with(kind, move |vars| {
        let good = vars["CONNECT_KEYS_CDN_URL"].clone();
        vars.insert("CONNECT_KEYS_CDN_URL".into(), format!("{down_url},{good}"));
    })
    .await;
    let tenant = Tenant::new(&jira_site());
    assert_eq!(app.host.install(&tenant).await.status(), 204);
    assert_eq!(down.requests().len(), 1);
}
on_both_databases!(a_second_key_server_is_tried_when_the_first_is_down);

/// An unsigned install claiming a made-up kid, as anyone can send it.
fn forged_install(app: &TestApp, kid: &str) -> (serde_json::Value, String) {
    let tenant = Tenant::new(&jira_site());
    let claims = app.host.install_claims(&tenant, "installed").to_string();
    let token = jwt::raw(&format!(r#"{{"alg":"RS256","typ":"JWT","kid":"{kid}"}}"#), &claims, None) + "c2ln";
    (app.host.body(&tenant, "installed"), format!("JWT {token}"))
}

/// A forged install with a made-up `kid`, sent as if from `client` (through
/// the app's trusted proxy, 127.0.0.1 in these tests).
async fn send_forged(app: &TestApp, kid: &str, client: &str) -> u16 {
    let (body, authorization) = forged_install(app, kid);
    let request = app.http.post(app.url("/installed")).json(&body).header("authorization", authorization);
    request.header("x-forwarded-for", client).send().await.unwrap().status().as_u16()
}

fn behind_a_proxy(vars: &mut std::collections::HashMap<String, String>) {
    vars.insert("TRUSTED_PROXIES".into(), "127.0.0.1".into());
}

/// 1,000 forged installs, each with a new made-up kid, from 100 networks,
/// sent as fast as 32 connections go: each kid costs one fetch and no more,
/// and then a genuine install signed with a key the app has never seen still
/// works.
async fn a_flood_of_made_up_kids_never_blocks_a_genuine_install_with_a_new_kid(kind: DbKind) {
    let app = TestApp::spawn_with(kind, behind_a_proxy).await;
    let run = hostkit::random_hex(4);
    let kids: Vec<String> = (0..1000).map(|i| format!("made-up-{run}-{i}")).collect();
    let statuses: Vec<u16> = futures::stream::iter(kids.iter().enumerate())
        .map(|(i, kid)| {
            let app = &app;
            async move { send_forged(app, kid, &format!("198.51.100.{}", i % 100)).await }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    assert!(statuses.iter().all(|s| *s == 401), "forgeries are refused, never 503: {:?}", &statuses[..10]);
    let fetched = app.host.key_server.requests().len();
    assert_eq!(fetched, kids.len(), "one fetch per made-up kid");
    assert_eq!(send_forged(&app, &kids[0], "198.51.100.1").await, 401);
    assert_eq!(app.host.key_server.requests().len(), fetched, "a kid known to be missing costs no fetch");

    let rotated = Host::with_key_server(&app.base_url, APP_KEY, app.host.key_server.clone());
    let tenant = Tenant::new(&jira_site());
    assert_eq!(rotated.install(&tenant).await.status(), 204, "the genuine install with a new kid");
    assert!(app.installation(&tenant.client_key).await.is_some());
}
on_both_databases!(a_flood_of_made_up_kids_never_blocks_a_genuine_install_with_a_new_kid);

/// One network sending made-up kids gets its share of fetches, then 429
/// (with no fetch), while an install from elsewhere with a new kid works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_network_flooding_made_up_kids_is_answered_429_after_its_share() {
    let app = TestApp::spawn_with(DbKind::Sqlite, behind_a_proxy).await;
    let run = hostkit::random_hex(4);
    let (mut statuses, started) = (Vec::new(), Instant::now());
    for i in 0..80 {
        statuses.push(send_forged(&app, &format!("one-net-{run}-{i}"), "203.0.113.7").await);
    }
    // The share refills one fetch a second, so a slow machine sees a few more.
    let refills = started.elapsed().as_secs() as usize + 1;
    let refused = statuses.iter().filter(|s| **s == 401).count();
    assert!((60..=60 + refills).contains(&refused), "its share, refused one by one: {statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 80 - refused, "then 429: {statuses:?}");
    assert_eq!(app.host.key_server.requests().len(), refused, "no fetch past the share");

    let rotated = Host::with_key_server(&app.base_url, APP_KEY, app.host.key_server.clone());
    let tenant = Tenant::new(&jira_site());
    assert_eq!(rotated.install(&tenant).await.status(), 204, "Atlassian's install, from another network");
}
