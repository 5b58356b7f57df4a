//! Webhooks as the host sends them: verified before anything is stored,
//! persisted then answered, processed once per delivery id even across a
//! restart or a `kill -9`, retried by the host like Jira; and acting as the
//! user through the OAuth 2.0 JWT bearer grant. How the workers run the
//! handlers is in `webhook_runs.rs`.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use hostkit::{Tenant, payload};
use serde_json::{Value, json};
use server::{
    secrets::AppKey,
    store::{
        Database,
        webhook_jobs::{self, JobState},
    },
    vendor::{HandlerContext, HandlerFuture, WebhookHandler, Webhooks},
};

use crate::{
    on_both_databases,
    support::process::{ServerProcess, base_env},
    support::{
        app::{TestApp, jira_site},
        db::DbKind,
        eventually::eventually,
        rows::Unchanged,
    },
};

pub(crate) const ISSUE_CREATED: &str = "/webhooks/jira-issue-created";

pub(crate) fn issue(key: &str) -> Value {
    payload::issue_event("jira:issue_created", key, "Something broke", "user-1")
}

// demo:begin
/// Activity the app recorded for `tenant`, through its own API.
pub(crate) async fn activity(app: &TestApp, tenant: &Tenant) -> Vec<Value> {
    let session = app.session_for(tenant, "user-1").await;
    let (status, list) = app.call_as(&session, "/api/activity/list", &[]).await;
    assert_eq!(status, 200, "{list}");
    list.as_array().cloned().unwrap_or_default()
}
// demo:end

pub(crate) async fn state_counts(db: &Database) -> Vec<(JobState, i64)> {
    webhook_jobs::counts(db).await.unwrap()
}

async fn forged_and_misplaced_deliveries_are_refused_and_queue_nothing(kind: DbKind) {
    let app = TestApp::spawn(kind).await;
    let tenant = app.installed_tenant().await;
    let url = app.url(ISSUE_CREATED);
    let send = |auth: Option<String>, body: Value| {
        let mut request = app.http.post(&url).header("x-atlassian-webhook-identifier", "d-1").json(&body);
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        async move { request.send().await.unwrap().status().as_u16() }
    };
    let now = hostkit::now();
    let signed = |claims: Value| format!("JWT {}", tenant.sign(&claims));
    let qsh = |path: &str| hostkit::qsh::qsh("POST", path, &[]);
    let stranger = Tenant::new(&jira_site());
    let cases = [
        ("unsigned", None),
        (
            "wrong secret",
            Some(format!("JWT {}", tenant.with_new_secret().sign(&tenant.claims("POST", ISSUE_CREATED, &[], None)))),
        ),
        (
            "context qsh",
            Some(signed(json!({ "iss": tenant.client_key, "iat": now, "exp": now + 60, "qsh": "context-qsh" }))),
        ),
        (
            "qsh of another path",
            Some(signed(
                json!({ "iss": tenant.client_key, "iat": now, "exp": now + 60, "qsh": qsh("/webhooks/page-created") }),
            )),
        ),
        (
            "expired",
            Some(signed(
                json!({ "iss": tenant.client_key, "iat": now - 600, "exp": now - 300, "qsh": qsh(ISSUE_CREATED) }),
            )),
        ),
        ("unknown tenant", Some(format!("JWT {}", stranger.sign(&stranger.claims("POST", ISSUE_CREATED, &[], None))))),
    ];
    for (what, auth) in cases {
        let unchanged = Unchanged::record(&app.raw_db).await;
        assert_eq!(send(auth, issue("ACME-1")).await, 401, "{what}");
        unchanged.check(what).await;
    }
    let big = json!({ "issue": { "key": "ACME-1" }, "pad": "x".repeat(300 * 1024) });
    let good = format!("JWT {}", tenant.sign(&tenant.claims("POST", ISSUE_CREATED, &[], None)));
    let unchanged = Unchanged::record(&app.raw_db).await;
    assert_eq!(send(Some(good), big).await, 413, "oversized");
    unchanged.check("an oversized delivery").await;
    let in_query = app.http.post(format!("{url}?jwt=x")).json(&issue("ACME-1")).send().await.unwrap();
    assert_eq!(in_query.status(), 401, "a token in the query");
    unchanged.check("a token in the query").await;
    assert!(state_counts(&app.raw_db).await.is_empty(), "nothing queued");

    // An uninstalled tenant's late delivery: 2xx (Atlassian stops retrying), dropped, logged.
    assert_eq!(app.host.uninstall(&tenant).await.status(), 204);
    let late = app.host.send_webhook(&tenant, ISSUE_CREATED, &issue("ACME-2"), "late-1", 0).await.unwrap();
    assert_eq!(late.status(), 204);
    assert!(state_counts(&app.raw_db).await.is_empty(), "dropped, not queued");
    let events = app.events(&tenant.client_key).await;
    assert!(events[0].detail.as_deref().is_some_and(|d| d.contains("late-1") && d.contains("dropped")));
    // Many more: each answered 2xx, and the log says so once an hour, not once each.
    for i in 0..20 {
        let late = app.host.send_webhook(&tenant, ISSUE_CREATED, &issue("ACME-2"), &format!("late-{i}"), 0).await;
        assert_eq!(late.unwrap().status(), 204);
    }
    let dropped = app.events(&tenant.client_key).await.into_iter().filter(|e| e.event == "webhook").count();
    assert_eq!(dropped, 1, "one line for 21 dropped deliveries");
}
on_both_databases!(forged_and_misplaced_deliveries_are_refused_and_queue_nothing);

// demo:begin
async fn one_delivery_sent_many_times_is_processed_once_even_across_a_restart(kind: DbKind) {
    let app = TestApp::spawn(kind).await;
    let tenant = app.installed_tenant().await;
    let body = issue("ACME-9");
    let sends = (0..10).map(|retry| app.host.send_webhook(&tenant, ISSUE_CREATED, &body, "same-1", retry));
    for answer in futures::future::join_all(sends).await {
        assert_eq!(answer.unwrap().status(), 204);
    }
    eventually("the delivery processed", || async { activity(&app, &tenant).await.len() == 1 }).await;
    // Another instance on the same database (a restart) gets the retry again.
    let (db_url, key) = (app.db.url.clone(), app.encryption_key.clone());
    let restarted = TestApp::builder(kind).var("DATABASE_URL", db_url).var("APP_ENCRYPTION_KEY", key).start().await;
    let again = restarted.host.send_webhook(&tenant, ISSUE_CREATED, &issue("ACME-9"), "same-1", 11).await.unwrap();
    assert_eq!(again.status(), 204);
    tokio::time::sleep(Duration::from_millis(600)).await;
    let events = activity(&app, &tenant).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(
        (events[0]["delivery_id"].as_str(), events[0]["event"].as_str()),
        (Some("same-1"), Some("jira:issue_created"))
    );
    assert_eq!(state_counts(&app.raw_db).await, [(JobState::Done, 1)]);
    // W-06: another tenant's Activity view never shows it.
    let other = app.installed_tenant().await;
    assert!(activity(&app, &other).await.is_empty());
}
on_both_databases!(one_delivery_sent_many_times_is_processed_once_even_across_a_restart);
// demo:end

/// Takes 30 s per delivery.
struct Slow;

impl WebhookHandler for Slow {
    fn handle<'a>(&'a self, _: &'a HandlerContext<'a>) -> HandlerFuture<'a> {
        Box::pin(async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            Ok(())
        })
    }
}

/// W-04: the answer never waits for the handler.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_handler_does_not_delay_the_answer() {
    let app = TestApp::builder(DbKind::Sqlite).handlers(Webhooks::new().on("*", Slow)).start().await;
    let tenant = app.installed_tenant().await;
    for i in 0..5 {
        let started = Instant::now();
        let answer = app.host.send_webhook(&tenant, ISSUE_CREATED, &issue("ACME-1"), &format!("slow-{i}"), 0).await;
        assert_eq!(answer.unwrap().status(), 204);
        assert!(started.elapsed() < Duration::from_secs(3), "answered in {:?}", started.elapsed());
    }
}

// demo:begin
async fn share_to_issue_comments_as_the_user_with_one_cached_grant(kind: DbKind) {
    let app = TestApp::spawn(kind).await;
    let tenant = app.fake.add_site("acme", "jira");
    app.fake.add_user("acme", "user-1", "Uma User", false);
    assert_eq!(app.host.install(&tenant).await.status(), 204);
    let session = app.session_for(&tenant, "user-1").await;
    let (_, note) = app.call_as(&session, "/api/notes/create", &[("title", "Root cause"), ("body", "DNS")]).await;
    let id = note["id"].to_string();
    let app = &app;
    let share = |target: &str| {
        let form = [("id", id.clone()), ("target", target.to_string())];
        let session = session.clone();
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.call_as(&session, "/api/notes/share", &form).await
        }
    };
    let (status, shared) = share("ACME-1").await;
    assert_eq!(status, 200, "{shared}");
    assert_eq!(shared["target"], "ACME-1");
    assert_eq!(share("ACME-2").await.0, 200);
    let comments = app.fake.comments();
    assert_eq!(comments.len(), 2);
    assert_eq!((comments[0].author.as_str(), comments[0].target.as_str()), ("Uma User", "ACME-1"));
    assert_eq!(comments[0].text, "Root cause\n\nDNS");
    assert_eq!(app.fake.grants(), 1, "one grant for many calls");
    // After the token's lifetime the app asks for a new one.
    app.clock.advance(hostkit::fake_host::ACCESS_TOKEN_TTL_SECS);
    assert_eq!(share("ACME-3").await.0, 200);
    assert_eq!(app.fake.grants(), 2, "refreshed after expiry");
    assert_eq!(share("acme 3").await.0, 400, "a malformed target");
    // A revoked grant is a clear error, not a 500.
    app.fake.revoke_grants("acme");
    let (status, error) = share("ACME-4").await;
    assert_eq!(status, 502, "{error}");
    assert!(
        error.to_string().contains("did not let the app act for you") || error.to_string().contains("refused"),
        "{error}"
    );
    assert_eq!(app.fake.comments().len(), 3);
}
on_both_databases!(share_to_issue_comments_as_the_user_with_one_cached_grant);
// demo:end

/// Nothing lost: an instance that only receives acknowledges a delivery and
/// is killed with `kill -9` before any worker ran it; the next start runs it.
async fn an_acknowledged_delivery_survives_kill_9_before_it_is_processed(kind: DbKind) {
    let db = crate::support::db::TestDb::new(kind).await;
    let keys = [
        ("APP_ENCRYPTION_KEY", AppKey::generate_base64().unwrap()),
        ("APP_SESSION_KEY", AppKey::generate_base64().unwrap()),
    ];
    let dir = tempfile::tempdir().unwrap();
    let (base_url, mut vars) = base_env(dir.path());
    let host = hostkit::Host::start(&base_url, "rust-connect-app").await;
    vars.insert("DATABASE_URL".into(), db.url.clone());
    vars.insert("CONNECT_KEYS_CDN_URL".into(), host.key_server.url());
    vars.insert("WEBHOOK_WORKERS".into(), "0".into());
    vars.extend(keys.iter().map(|(k, v)| (k.to_string(), v.clone())));
    let receiver = ServerProcess::start(dir, base_url.clone(), vars.clone()).await;
    let tenant = Tenant::new(&jira_site());
    assert_eq!(host.install(&tenant).await.status(), 204);
    let answer = host.send_webhook(&tenant, ISSUE_CREATED, &issue("ACME-1"), "kept-1", 0).await.unwrap();
    assert_eq!(answer.status(), 204, "acknowledged");
    let raw = Database::connect(&db.url).await.unwrap();
    assert_eq!(state_counts(&raw).await, [(JobState::Queued, 1)], "persisted before the answer");
    receiver.kill_hard();

    let dir = tempfile::tempdir().unwrap();
    vars.insert("WEBHOOK_WORKERS".into(), "2".into());
    let port = base_url.rsplit(':').next().unwrap().to_string();
    vars.insert("LEPTOS_SITE_ADDR".into(), format!("127.0.0.1:{port}"));
    let worker = ServerProcess::start(dir, base_url, vars).await;
    eventually("the job run after the restart", || async { state_counts(&raw).await == [(JobState::Done, 1)] }).await;
    worker.stop();
}
on_both_databases!(an_acknowledged_delivery_survives_kill_9_before_it_is_processed);

/// The fake host retries a delivery the way Jira does (same identifier,
/// `X-Atlassian-Webhook-Retry`) and lists it as failed when no try got a
/// 2xx. The app here is a stub that answers 503 as often as told.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fake_host_retries_like_jira_and_lists_failed_deliveries() {
    use axum::{Json, Router, extract::State, http::HeaderMap, routing::get, routing::post};
    type Seen = Arc<std::sync::Mutex<Vec<(Option<String>, Option<String>)>>>;
    let seen: Seen = Arc::default();
    let failures = Arc::new(AtomicUsize::new(2));
    let hook = |State((seen, failures)): State<(Seen, Arc<AtomicUsize>)>, headers: HeaderMap| async move {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        seen.lock().unwrap().push((header("x-atlassian-webhook-identifier"), header("x-atlassian-webhook-retry")));
        let left = failures.load(Ordering::SeqCst);
        if left > 0 {
            failures.store(left - 1, Ordering::SeqCst);
            return axum::http::StatusCode::SERVICE_UNAVAILABLE;
        }
        axum::http::StatusCode::NO_CONTENT
    };
    let descriptor = json!({ "modules": { "webhooks": [{ "event": "jira:issue_created", "url": "/hook" }] } });
    let stub = Router::new()
        .route("/atlassian-connect.json", get(move || async move { Json(descriptor.clone()) }))
        .route("/hook", post(hook))
        .with_state((seen.clone(), failures.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let stub_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, stub).await });
    let host = Arc::new(hostkit::Host::start(&stub_url, "rust-connect-app").await);
    let fake = hostkit::FakeHost::start(host).await;
    fake.add_site("acme", "jira");

    let delivery = fake.product_event("acme", "create-issue").await.unwrap();
    assert_eq!(delivery.statuses, [503, 503, 204]);
    let seen_now = seen.lock().unwrap().clone();
    assert!(seen_now.iter().all(|(id, _)| id.as_deref() == Some(delivery.delivery_id.as_str())), "one identifier");
    let retries: Vec<Option<&str>> = seen_now.iter().map(|(_, r)| r.as_deref()).collect();
    assert_eq!(retries, [None, Some("1"), Some("2")]);

    failures.store(10, Ordering::SeqCst);
    let failed = fake.product_event("acme", "create-issue").await.unwrap();
    assert_eq!((failed.statuses.len(), failed.delivered()), (4, false), "{failed:?}");
    let panel = reqwest::get(format!("{}/", fake.url)).await.unwrap().text().await.unwrap();
    assert!(panel.contains("FAILED") && panel.contains(&failed.delivery_id), "the panel lists it as failed");
}

// demo:begin
/// A note linked to an issue shows that issue's events, and only its author links it.
async fn a_note_linked_to_an_issue_shows_its_events(kind: DbKind) {
    let app = TestApp::spawn(kind).await;
    let tenant = app.installed_tenant().await;
    let session = app.session_for(&tenant, "user-1").await;
    let (_, note) = app.call_as(&session, "/api/notes/create", &[("title", "Outage"), ("body", "")]).await;
    let id = note["id"].to_string();
    let (status, linked) = app.call_as(&session, "/api/notes/link", &[("id", &id), ("issue_key", "ACME-7")]).await;
    assert_eq!((status, linked["issue_key"].as_str()), (200, Some("ACME-7")), "{linked}");
    assert_eq!(app.call_as(&session, "/api/notes/link", &[("id", &id), ("issue_key", "not a key")]).await.0, 400);
    let other = app.session_for(&tenant, "user-2").await;
    assert_eq!(app.call_as(&other, "/api/notes/link", &[("id", &id), ("issue_key", "ACME-8")]).await.0, 403);

    let edited = payload::issue_event("jira:issue_updated", "ACME-7", "Root cause found", "user-1");
    let sent = app.host.send_webhook(&tenant, "/webhooks/jira-issue-updated", &edited, "link-1", 0).await.unwrap();
    assert_eq!(sent.status(), 204);
    let unrelated = app.host.send_webhook(&tenant, ISSUE_CREATED, &issue("ACME-9"), "link-2", 0).await.unwrap();
    assert_eq!(unrelated.status(), 204);
    eventually("both processed", || async { activity(&app, &tenant).await.len() == 2 }).await;
    let (_, notes) = app.call_as(&session, "/api/notes/list", &[]).await;
    let events = notes[0]["issue_events"].as_array().cloned().unwrap_or_default();
    assert_eq!(events.len(), 1, "only ACME-7's events: {notes}");
    assert_eq!(events[0]["delivery_id"], "link-1");
    assert_eq!(
        app.call_as(&session, "/api/notes/link", &[("id", &id), ("issue_key", "")]).await.1["issue_key"],
        Value::Null
    );
}
on_both_databases!(a_note_linked_to_an_issue_shows_its_events);
// demo:end
