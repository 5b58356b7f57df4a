//! How the workers run a vendor's webhook handlers: each delivery once on
//! one instance or two, retried with backoff and parked dead (the console
//! retries it), a panic or a hang a failed attempt, never beside itself past
//! its lease, in order per issue, and with a context that calls the site.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use hostkit::payload;
use serde_json::Value;
use server::{
    store::{
        Database, Pool,
        webhook_jobs::{self, JobState},
    },
    vendor::{HandlerContext, HandlerError, HandlerFuture, WebhookHandler, Webhooks},
};
use tokio::sync::Semaphore;

use crate::{
    console::{Operator, PASSWORD, password_hash},
    on_both_databases,
    support::{
        app::TestApp,
        db::DbKind,
        eventually::{eventually, until_some},
    },
    webhooks::activity, // demo
    webhooks::{ISSUE_CREATED, issue, state_counts},
};

/// Counts its runs per delivery; fails the first `failures` runs of each.
#[derive(Clone)]
struct Flaky {
    runs: Arc<AtomicUsize>,
    failures: usize,
}

impl WebhookHandler for Flaky {
    fn handle<'a>(&'a self, cx: &'a HandlerContext<'a>) -> HandlerFuture<'a> {
        Box::pin(async move {
            let event = cx.event;
            self.runs.fetch_add(1, Ordering::SeqCst);
            if (event.attempt as usize) <= self.failures {
                return Err(HandlerError::new(format!("failure {} of {}", event.attempt, self.failures)));
            }
            Ok(())
        })
    }
}

async fn two_instances_process_five_hundred_deliveries_sent_twice_exactly_once(kind: DbKind) {
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = Flaky { runs: runs.clone(), failures: 0 };
    let a = TestApp::builder(kind).handlers(Webhooks::new().on("jira:issue_created", counter.clone())).start().await;
    let (db_url, key) = (a.db.url.clone(), a.encryption_key.clone());
    let b = TestApp::builder(kind)
        .handlers(Webhooks::new().on("jira:issue_created", counter))
        .var("DATABASE_URL", db_url)
        .var("APP_ENCRYPTION_KEY", key)
        .start()
        .await;
    let tenant = a.installed_tenant().await;
    let deliveries: Vec<(String, Value)> =
        (0..500).map(|i| (format!("d-{i}"), issue(&format!("ACME-{}", i % 37)))).collect();
    for chunk in deliveries.chunks(50) {
        let sends = chunk.iter().flat_map(|(id, body)| {
            [
                a.host.send_webhook(&tenant, ISSUE_CREATED, body, id, 0),
                b.host.send_webhook(&tenant, ISSUE_CREATED, body, id, 1),
            ]
        });
        for answer in futures::future::join_all(sends).await {
            assert_eq!(answer.unwrap().status(), 204);
        }
    }
    eventually("500 jobs done", || async { state_counts(&a.raw_db).await == [(JobState::Done, 500)] }).await;
    assert_eq!(runs.load(Ordering::SeqCst), 500, "each delivery handled exactly once");
    assert_eq!(activity(&a, &tenant).await.len(), 100, "the Activity view shows the newest 100"); // demo
}
on_both_databases!(two_instances_process_five_hundred_deliveries_sent_twice_exactly_once);

async fn failing_handlers_are_retried_then_parked_dead_and_an_operator_retries_them(kind: DbKind) {
    let flaky_runs = Arc::new(AtomicUsize::new(0));
    let broken_runs = Arc::new(AtomicUsize::new(0));
    let handlers = Webhooks::new()
        .on("jira:issue_created", Flaky { runs: flaky_runs.clone(), failures: 2 })
        .on("jira:issue_updated", Flaky { runs: broken_runs.clone(), failures: 3 });
    let app = TestApp::builder(kind)
        .handlers(handlers)
        .var("WEBHOOK_MAX_ATTEMPTS", "3")
        .var("OPERATOR_USER", "ops")
        .var("OPERATOR_PASSWORD_HASH", password_hash())
        .start()
        .await;
    let tenant = app.installed_tenant().await;
    let updated = payload::issue_event("jira:issue_updated", "ACME-5", "Edited", "user-1");
    let send = app.host.send_webhook(&tenant, ISSUE_CREATED, &issue("ACME-4"), "flaky-1", 0).await.unwrap();
    assert_eq!(send.status(), 204);
    let send = app.host.send_webhook(&tenant, "/webhooks/jira-issue-updated", &updated, "broken-1", 0).await.unwrap();
    assert_eq!(send.status(), 204);
    eventually("one done, one dead", || async {
        let counts = state_counts(&app.raw_db).await;
        counts.contains(&(JobState::Done, 1)) && counts.contains(&(JobState::Dead, 1))
    })
    .await;
    assert_eq!(flaky_runs.load(Ordering::SeqCst), 3, "failed twice, then succeeded once");
    assert_eq!(broken_runs.load(Ordering::SeqCst), 3, "three runs, then parked");
    // demo:begin
    // The app's own handler runs first on every run; it records by delivery id, so once each.
    let items = activity(&app, &tenant).await;
    assert_eq!(items.len(), 2, "{items:?}");
    // demo:end

    let mut op = Operator::new(&app);
    op.log_in(PASSWORD).await;
    let (_, page) = op.get("/console/webhooks").await;
    assert!(page.contains("dead 1") && page.contains("failure 3 of 3"), "{page}");
    let dead =
        webhook_jobs::recent(&app.raw_db, 10).await.unwrap().into_iter().find(|j| j.state == JobState::Dead).unwrap();
    let csrf = op.csrf("/console/webhooks").await;
    let retried = op.post(&format!("/console/webhooks/{}/retry", dead.id), &[("csrf", &csrf)]).await;
    assert_eq!(retried.status(), 303);
    // A fresh count of runs: the handler now fails three more times and is dead again.
    eventually("the retried job dead again", || async {
        broken_runs.load(Ordering::SeqCst) == 6 && state_counts(&app.raw_db).await.contains(&(JobState::Dead, 1))
    })
    .await;
    let refused = op.post(&format!("/console/webhooks/{}/retry", dead.id), &[("csrf", "wrong")]).await;
    assert_eq!(refused.status(), 403, "CSRF checked");
}
on_both_databases!(failing_handlers_are_retried_then_parked_dead_and_an_operator_retries_them);

/// Records the order it sees deliveries in; the first one is slow.
#[derive(Clone, Default)]
struct InOrder {
    seen: Arc<std::sync::Mutex<Vec<String>>>,
}

impl WebhookHandler for InOrder {
    fn handle<'a>(&'a self, cx: &'a HandlerContext<'a>) -> HandlerFuture<'a> {
        Box::pin(async move {
            let event = cx.event;
            if event.delivery_id == "same-issue-0" {
                tokio::time::sleep(Duration::from_millis(400)).await;
            }
            self.seen.lock().unwrap().push(event.delivery_id.clone());
            Ok(())
        })
    }
}

/// Two events about one issue run one after the other, in the order they
/// were queued, even when a free worker could take the second at once.
async fn events_about_one_issue_are_processed_in_order(kind: DbKind) {
    let recorder = InOrder::default();
    let app = TestApp::builder(kind).handlers(Webhooks::new().on("*", recorder.clone())).start().await;
    let tenant = app.installed_tenant().await;
    let same_issue = issue("ACME-1");
    for i in 0..4 {
        let (same_id, other_id, other_issue) =
            (format!("same-issue-{i}"), format!("other-{i}"), issue(&format!("O-{i}")));
        let same = app.host.send_webhook(&tenant, ISSUE_CREATED, &same_issue, &same_id, 0).await;
        assert_eq!(same.unwrap().status(), 204);
        let other = app.host.send_webhook(&tenant, ISSUE_CREATED, &other_issue, &other_id, 0).await;
        assert_eq!(other.unwrap().status(), 204);
    }
    eventually("all eight processed", || async { recorder.seen.lock().unwrap().len() == 8 }).await;
    let seen = recorder.seen.lock().unwrap().clone();
    let same: Vec<&String> = seen.iter().filter(|d| d.starts_with("same-issue")).collect();
    assert_eq!(same, ["same-issue-0", "same-issue-1", "same-issue-2", "same-issue-3"], "{seen:?}");
    assert_ne!(seen[0], "same-issue-0", "other issues did not wait for the slow one: {seen:?}");
}
on_both_databases!(events_about_one_issue_are_processed_in_order);

/// Runs until the test lets it go, counting runs and the most that ever ran at once.
#[derive(Clone)]
struct Overlap {
    running: Arc<AtomicUsize>,
    most: Arc<AtomicUsize>,
    runs: Arc<AtomicUsize>,
    release: Arc<Semaphore>,
}

impl Default for Overlap {
    fn default() -> Self {
        let count = || Arc::new(AtomicUsize::new(0));
        Self { running: count(), most: count(), runs: count(), release: Arc::new(Semaphore::new(0)) }
    }
}

impl WebhookHandler for Overlap {
    fn handle<'a>(&'a self, _: &'a HandlerContext<'a>) -> HandlerFuture<'a> {
        Box::pin(async move {
            self.runs.fetch_add(1, Ordering::SeqCst);
            let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
            self.most.fetch_max(now, Ordering::SeqCst);
            drop(self.release.acquire().await);
            self.running.fetch_sub(1, Ordering::SeqCst);
            Ok(())
        })
    }
}

/// The running job's attempt and lease end (Unix seconds), if one runs.
async fn running_lease(db: &Database) -> Option<(i64, i64)> {
    let sql = "SELECT CAST(attempts AS BIGINT), locked_until FROM webhook_jobs WHERE state = 'running'";
    let row: Option<(i64, Option<i64>)> = match &db.pool {
        Pool::Sqlite(pool) => sqlx::query_as(sql).fetch_optional(pool).await,
        Pool::Postgres(pool) => sqlx::query_as(sql).fetch_optional(pool).await,
    }
    .unwrap();
    row.and_then(|(attempt, until)| Some((attempt, until?)))
}

/// A handler that runs for more than three lease lengths runs once, alone:
/// the same attempt's lease is seen renewed past three times its first end
/// (without renewal the job is requeued once that end passes, and its next
/// claim is attempt 2), and only then is the handler let go.
async fn a_handler_that_outlives_its_lease_runs_once_and_alone(kind: DbKind) {
    let overlap = Overlap::default();
    let app = TestApp::builder(kind)
        .handlers(Webhooks::new().on("jira:issue_created", overlap.clone()))
        .var("WEBHOOK_LEASE_SECS", "1")
        .var("WEBHOOK_WORKERS", "3")
        .start()
        .await;
    let tenant = app.installed_tenant().await;
    let sent = app.host.send_webhook(&tenant, ISSUE_CREATED, &issue("ACME-1"), "long-1", 0).await.unwrap();
    assert_eq!(sent.status(), 204);
    let claimed = until_some("the job claimed", Duration::from_secs(20), || running_lease(&app.raw_db)).await;
    assert_eq!(claimed.0, 1, "the first attempt");
    let renewed =
        |lease: Option<(i64, i64)>| lease.is_some_and(|(attempt, until)| attempt == 1 && until >= claimed.1 + 3);
    eventually("the first attempt's lease renewed past three lengths", || async {
        renewed(running_lease(&app.raw_db).await)
    })
    .await;
    assert_eq!(overlap.runs.load(Ordering::SeqCst), 1, "not taken over, long after its first lease ended");
    overlap.release.add_permits(1);
    eventually("the long job done", || async { state_counts(&app.raw_db).await == [(JobState::Done, 1)] }).await;
    assert_eq!(overlap.runs.load(Ordering::SeqCst), 1, "run once");
    assert_eq!(overlap.most.load(Ordering::SeqCst), 1, "never two runs at once");
    let job = webhook_jobs::recent(&app.raw_db, 1).await.unwrap().remove(0);
    assert_eq!((job.attempts, job.last_error), (1, None));
}
on_both_databases!(a_handler_that_outlives_its_lease_runs_once_and_alone);

/// Panics on its first run, sleeps past the handler timeout on its second
/// (for `stuck-*` deliveries), succeeds on the third.
#[derive(Clone, Default)]
struct Misbehaving {
    runs: Arc<AtomicUsize>,
}

impl WebhookHandler for Misbehaving {
    fn handle<'a>(&'a self, cx: &'a HandlerContext<'a>) -> HandlerFuture<'a> {
        Box::pin(async move {
            let event = cx.event;
            self.runs.fetch_add(1, Ordering::SeqCst);
            match event.attempt {
                1 => panic!("the vendor's handler broke on {}", event.delivery_id),
                2 => tokio::time::sleep(Duration::from_secs(30)).await,
                _ => {}
            }
            Ok(())
        })
    }
}

/// A panic and a run past `WEBHOOK_HANDLER_TIMEOUT_SECS` are failed attempts
/// with backoff, recorded with why; the one worker lives on and handles the
/// next delivery.
async fn a_panicking_or_stuck_handler_is_a_failed_attempt_and_the_worker_lives_on(kind: DbKind) {
    let handler = Misbehaving::default();
    let app = TestApp::builder(kind)
        .handlers(Webhooks::new().on("jira:issue_created", handler.clone()))
        .var("WEBHOOK_WORKERS", "1")
        .var("WEBHOOK_HANDLER_TIMEOUT_SECS", "1")
        .var("WEBHOOK_MAX_ATTEMPTS", "2")
        .start()
        .await;
    let tenant = app.installed_tenant().await;
    for (id, key) in [("broken-1", "ACME-1"), ("broken-2", "ACME-2")] {
        let sent = app.host.send_webhook(&tenant, ISSUE_CREATED, &issue(key), id, 0).await.unwrap();
        assert_eq!(sent.status(), 204);
    }
    eventually("both parked dead", || async { state_counts(&app.raw_db).await == [(JobState::Dead, 2)] }).await;
    assert_eq!(handler.runs.load(Ordering::SeqCst), 4, "two runs each: a panic, then a run past the timeout");
    for job in webhook_jobs::recent(&app.raw_db, 10).await.unwrap() {
        let error = job.last_error.unwrap_or_default();
        assert_eq!((job.attempts, error.as_str()), (2, "the handlers ran past 1 s"), "{}", job.delivery_id);
    }
    // The worker still takes new work: a third delivery panics, is recorded, and waits for its retry.
    let sent = app.host.send_webhook(&tenant, ISSUE_CREATED, &issue("ACME-3"), "broken-3", 0).await.unwrap();
    assert_eq!(sent.status(), 204);
    let panicked = Some("a handler panicked: the vendor's handler broke on broken-3");
    eventually("the third delivery's panic recorded", || async {
        let jobs = webhook_jobs::recent(&app.raw_db, 10).await.unwrap();
        jobs.iter().any(|j| j.delivery_id == "broken-3" && j.last_error.as_deref() == panicked)
    })
    .await;
}
on_both_databases!(a_panicking_or_stuck_handler_is_a_failed_attempt_and_the_worker_lives_on);

/// Asks the tenant's site who `user-1` is, as the app, through its context.
#[derive(Clone, Default)]
struct AsksTheSite {
    names: Arc<std::sync::Mutex<Vec<String>>>,
}

impl WebhookHandler for AsksTheSite {
    fn handle<'a>(&'a self, cx: &'a HandlerContext<'a>) -> HandlerFuture<'a> {
        Box::pin(async move {
            let user = cx.get_as_app("/rest/api/3/user", &[("accountId", "user-1")]).await?;
            let name = user["displayName"].as_str().unwrap_or("?").to_string();
            self.names.lock().unwrap().push(format!("{}: {name}", cx.event.delivery_id));
            Ok(())
        })
    }
}

/// A vendor's handler gets a context, not the database: with it, it calls
/// the tenant's site as the app (the fake host checks the app's JWT).
async fn a_handler_calls_the_tenants_site_as_the_app_through_its_context(kind: DbKind) {
    let asks = AsksTheSite::default();
    let app = TestApp::builder(kind).handlers(Webhooks::new().on("jira:issue_created", asks.clone())).start().await;
    let tenant = app.fake.add_site("acme", "jira");
    app.fake.add_user("acme", "user-1", "Uma User", false);
    assert_eq!(app.host.install(&tenant).await.status(), 204);
    let sent = app.host.send_webhook(&tenant, ISSUE_CREATED, &issue("ACME-1"), "asks-1", 0).await.unwrap();
    assert_eq!(sent.status(), 204);
    eventually("the handler asked the site", || async { !asks.names.lock().unwrap().is_empty() }).await;
    assert_eq!(*asks.names.lock().unwrap(), ["asks-1: Uma User"]);
    assert!(app.fake.rest_calls().iter().any(|call| call.ends_with("/rest/api/3/user")), "{:?}", app.fake.rest_calls());
}
on_both_databases!(a_handler_calls_the_tenants_site_as_the_app_through_its_context);

/// A handler for an event the descriptor does not declare would never run:
/// the start stops and names it, before any database is opened.
#[tokio::test]
async fn a_handler_for_an_event_the_descriptor_does_not_declare_stops_the_start() {
    let config = server::vendor::Config::from_lookup(|_| None).expect("the default configuration");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let counter = Flaky { runs: Arc::new(AtomicUsize::new(0)), failures: 0 };
    let misspelt = Webhooks::new().on("jira:issue_created", counter.clone()).on("jira:issue_craeted", counter);
    let refused = server::vendor::Application::builder(config).webhooks(misspelt).listener(listener).build().await;
    let message = refused.err().expect("the start is refused").to_string();
    assert!(message.contains("handlers for jira:issue_craeted, which"), "only the misspelt one: {message}");
    assert!(message.contains("declares jira:issue_created"), "the declared ones are named: {message}");
}
