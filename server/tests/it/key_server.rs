//! Fetching Atlassian's install keys: failures are bounded and retryable,
//! hits are cached by kid, and a flood of made-up kids cannot block installs.

use std::time::{Duration, Instant};

use futures::StreamExt;
use hostkit::{Host, KeyServerMode, Tenant, jwt};

use crate::{
    on_both_databases,
    support::{
        app::{APP_KEY, TestApp, jira_site},
        app_builder::TestAppBuilder,
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
    let app =
        TestApp::builder(kind).var_from("CONNECT_KEYS_CDN_URL", move |good| format!("{down_url},{good}")).start().await;
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

fn behind_a_proxy(app: TestAppBuilder) -> TestAppBuilder {
    app.var("TRUSTED_PROXIES", "127.0.0.1")
}

/// The rate of the tests' fetch line, ten times the default, so that 1,000
/// forged kids take seconds, not a minute.
const FETCHES_PER_SECOND: u32 = 200;

fn behind_a_proxy_with_a_fast_line(app: TestAppBuilder) -> TestAppBuilder {
    behind_a_proxy(app).var("KEY_FETCHES_PER_SECOND", FETCHES_PER_SECOND.to_string())
}

/// Sends forged installs with the made-up `kids` from `client`, 32 at a time.
async fn flood(app: &TestApp, kids: &[String], client: &str) -> Vec<u16> {
    let sends = kids.iter().map(|kid| send_forged(app, kid, client));
    futures::stream::iter(sends).buffer_unordered(32).collect().await
}

/// R-06, L-10: 1,000 forged installs, each with a new made-up kid, sent as
/// fast as 32 connections go from the very address Atlassian's installs come
/// from (a shared egress that anyone can send from). Each kid costs one
/// fetch and no more, fetches start no faster than the line allows, and a
/// genuine install signed with a key the app has never seen, from the same
/// address, is 204 both during the flood and after it.
async fn a_flood_of_made_up_kids_never_blocks_a_genuine_install_with_a_new_kid(kind: DbKind) {
    let app = behind_a_proxy_with_a_fast_line(TestApp::builder(kind)).start().await;
    let run = hostkit::random_hex(4);
    let kids: Vec<String> = (0..1000).map(|i| format!("made-up-{run}-{i}")).collect();
    // The host's own requests come from the proxy's address, as the flood's do.
    let atlassian = "127.0.0.1";
    let started = Instant::now();
    let during = async {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let rotated = Host::with_key_server(&app.base_url, APP_KEY, app.host.key_server.clone());
        let tenant = Tenant::new(&jira_site());
        (rotated.install(&tenant).await.status(), tenant)
    };
    let (statuses, (status, tenant)) = futures::join!(flood(&app, &kids, atlassian), during);
    let elapsed = started.elapsed();
    assert_eq!(status, 204, "the genuine install with a new kid, during the flood");
    assert!(app.installation(&tenant.client_key).await.is_some());
    assert!(statuses.iter().all(|s| [401, 429].contains(s)), "refused, never 503: {:?}", &statuses[..10]);
    let fetched = app.host.key_server.requests().len();
    assert_eq!(fetched, kids.len() + 1, "one fetch per made-up kid, one for the genuine key");
    let bound = FETCHES_PER_SECOND as f64 * (1.0 + elapsed.as_secs_f64()) + 1.0;
    assert!((fetched as f64) <= bound, "{fetched} fetches in {elapsed:?}: more than the line allows");
    assert!([401, 429].contains(&send_forged(&app, &kids[0], atlassian).await), "a known-missing kid: refused");
    assert_eq!(app.host.key_server.requests().len(), fetched, "a kid known to be missing costs no fetch");

    let rotated = Host::with_key_server(&app.base_url, APP_KEY, app.host.key_server.clone());
    let tenant = Tenant::new(&jira_site());
    assert_eq!(rotated.install(&tenant).await.status(), 204, "the genuine install with a new kid, after the flood");
}
on_both_databases!(a_flood_of_made_up_kids_never_blocks_a_genuine_install_with_a_new_kid);

/// A flood faster than the line waits in it (its callers past the
/// network's places are told 503 at once, having cost nothing), and an
/// install with a new kid from another network goes ahead of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_faster_than_the_line_waits_and_another_network_goes_first() {
    let app = behind_a_proxy(TestApp::builder(DbKind::Sqlite))
        .var("KEY_FETCHES_PER_SECOND", "10")
        .var("REFUSALS_PER_MINUTE", "10000")
        .start()
        .await;
    let run = hostkit::random_hex(4);
    let kids: Vec<String> = (0..150).map(|i| format!("one-net-{run}-{i}")).collect();
    let started = Instant::now();
    let sends = kids.iter().map(|kid| send_forged(&app, kid, "203.0.113.7"));
    let flood = futures::stream::iter(sends).buffer_unordered(100).collect::<Vec<u16>>();
    let other = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let rotated = Host::with_key_server(&app.base_url, APP_KEY, app.host.key_server.clone());
        let fetched_before = app.host.key_server.requests().len();
        (rotated.install(&Tenant::new(&jira_site())).await.status(), fetched_before)
    };
    let (statuses, (status, fetched_before)) = futures::join!(flood, other);
    assert_eq!(status, 204, "Atlassian's install, from another network");
    // Counted in fetches, not seconds: the flood's network keeps up to 64
    // callers waiting, so a line in arrival order would fetch dozens of its
    // kids first; round-robin lets one or two go (a few more if the machine
    // delays the install's own request on its way in).
    let requests = app.host.key_server.requests();
    let own = requests.iter().position(|path| !path.contains("one-net-")).expect("the install's key was fetched");
    let ahead = own - fetched_before.min(own);
    println!("the install's key was fetched after {ahead} of the flood's that came later");
    assert!(ahead <= 8, "{ahead} of the flood's fetches went ahead of the install: {requests:?}");
    let (refused, busy) = (statuses.iter().filter(|s| **s == 401).count(), statuses.iter().filter(|s| **s == 503));
    assert_eq!(refused + busy.count(), kids.len(), "401 after a fetch, or 503 with no fetch: {statuses:?}");
    let fetched = app.host.key_server.requests().len();
    assert_eq!(fetched, refused + 1, "a busy answer cost no fetch");
    let bound = 10.0 * (1.0 + started.elapsed().as_secs_f64()) + 1.0;
    assert!(fetched as f64 <= bound, "{fetched} fetches in {:?}", started.elapsed());
}

/// An unsigned install (a site import's first try) always gets the 401 that
/// makes Atlassian retry it signed, even from a network over its share.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsigned_install_gets_its_401_even_from_a_network_over_its_share() {
    let app = behind_a_proxy(TestApp::builder(DbKind::Sqlite)).var("REFUSALS_PER_MINUTE", "5").start().await;
    let run = hostkit::random_hex(4);
    let kids: Vec<String> = (0..10).map(|i| format!("over-{run}-{i}")).collect();
    let statuses = flood(&app, &kids, "127.0.0.1").await;
    assert!(statuses.contains(&429), "the network is over its share: {statuses:?}");
    let tenant = Tenant::new(&jira_site());
    for _ in 0..3 {
        let unsigned = app.http.post(app.url("/installed")).json(&app.host.body(&tenant, "installed"));
        assert_eq!(unsigned.send().await.unwrap().status(), 401);
    }
}
