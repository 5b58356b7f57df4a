//! Fetching Atlassian's install keys: failures are bounded and retryable,
//! hits are cached by kid.

use std::time::{Duration, Instant};

use hostkit::{KeyServerMode, Tenant};

use crate::{
    on_both_databases,
    support::{
        app::{TestApp, jira_site},
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
