//! Fair queues: one tenant's flood of deliveries neither starves another
//! tenant nor grows without bound. Claims go round-robin by tenant, and a
//! tenant over its backlog quota gets a 429 that Jira retries.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use hostkit::{Tenant, payload};
use serde_json::Value;
use server::{
    store::{
        Database,
        webhook_jobs::{self, JobState},
    },
    vendor::{HandlerContext, HandlerFuture, WebhookHandler, Webhooks},
};
use tokio::sync::{Semaphore, watch};

use crate::{
    on_both_databases,
    support::{app::TestApp, db::DbKind, eventually::eventually},
};

const ISSUE_CREATED: &str = "/webhooks/jira-issue-created";

fn issue(key: &str) -> Value {
    payload::issue_event("jira:issue_created", key, "Flood", "user-1")
}

/// Records when each delivery ran. The noisy tenant's (`noisy-…`) wait
/// until the test says its flood is in, then take 20 ms each: however slowly
/// the flood arrives, none of it is worked off while it does.
#[derive(Clone)]
struct Stopwatch {
    ran_at: Arc<Mutex<HashMap<String, Instant>>>,
    flood_in: watch::Receiver<bool>,
}

impl Stopwatch {
    fn new() -> (Self, watch::Sender<bool>) {
        let (sender, flood_in) = watch::channel(false);
        (Self { ran_at: Arc::default(), flood_in }, sender)
    }

    fn ran_at(&self, delivery_id: &str) -> Option<Instant> {
        self.ran_at.lock().unwrap().get(delivery_id).copied()
    }

    /// How many of the noisy tenant's deliveries ran in `from..to`.
    fn noisy_between(&self, from: Instant, to: Instant) -> usize {
        let ran_at = self.ran_at.lock().unwrap();
        ran_at.iter().filter(|(id, at)| id.starts_with("noisy-") && **at > from && **at < to).count()
    }
}

impl WebhookHandler for Stopwatch {
    fn handle<'a>(&'a self, cx: &'a HandlerContext<'a>) -> HandlerFuture<'a> {
        Box::pin(async move {
            let event = cx.event;
            if event.delivery_id.starts_with("noisy-") {
                let _ = self.flood_in.clone().wait_for(|is_in| *is_in).await;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            self.ran_at.lock().unwrap().insert(event.delivery_id.clone(), Instant::now());
            Ok(())
        })
    }
}

async fn queued(db: &Database) -> i64 {
    let counts = webhook_jobs::counts(db).await.unwrap();
    counts.iter().filter(|(state, _)| *state == JobState::Queued).map(|(_, n)| n).sum()
}

/// Sends deliveries `noisy-{from}..noisy-{to}` for `tenant`, 200 at a time,
/// about 50 issues; returns their statuses.
async fn flood(app: &TestApp, tenant: &Tenant, from: usize, to: usize) -> Vec<u16> {
    let bodies: Vec<Value> = (0..50).map(|i| issue(&format!("NOISY-{i}"))).collect();
    let mut statuses = Vec::new();
    for start in (from..to).step_by(200) {
        let sends = (start..(start + 200).min(to)).map(|i| {
            let (id, body) = (format!("noisy-{i}"), &bodies[i % bodies.len()]);
            async move { app.host.send_webhook(tenant, ISSUE_CREATED, body, &id, 0).await }
        });
        for answer in futures::future::join_all(sends).await {
            statuses.push(answer.map(|a| a.status().as_u16()).unwrap_or(0));
        }
    }
    statuses
}

/// The app's webhook workers (`WEBHOOK_WORKERS`) and the runs each overlaps
/// (`WEBHOOK_CONCURRENCY`), set so the test knows how many can be under way.
const WORKERS: usize = 2;
const CONCURRENCY: usize = 4;

/// W-11: 20,000 deliveries of one tenant wait, most of them behind 50
/// issues; another tenant's single delivery goes next. Counted in runs, not
/// milliseconds: of the noisy tenant's jobs, only those the workers already
/// held (a batch each) and one more batch each (a claim under way, or the
/// jobs sharing the quiet tenant's batch) may run before it, however loaded
/// the machine. Strict order by arrival would put 20,000 first.
async fn a_twenty_thousand_delivery_backlog_lets_another_tenant_go_next(kind: DbKind) {
    let (stopwatch, flood_in) = Stopwatch::new();
    let app = TestApp::builder(kind)
        .handlers(Webhooks::new().on("*", stopwatch.clone()))
        .var("WEBHOOK_WORKERS", WORKERS.to_string())
        .var("WEBHOOK_CONCURRENCY", CONCURRENCY.to_string())
        .start()
        .await;
    let (noisy, quiet) = (app.installed_tenant().await, app.installed_tenant().await);
    let statuses = flood(&app, &noisy, 0, 20_000).await;
    assert!(statuses.iter().all(|s| *s == 204), "every delivery of the flood is queued");
    let waiting = queued(&app.raw_db).await;
    assert!(waiting >= (20_000 - WORKERS * CONCURRENCY) as i64, "the backlog is all there: {waiting} queued");
    flood_in.send(true).unwrap();
    let sent = Instant::now();
    let answer = app.host.send_webhook(&quiet, ISSUE_CREATED, &issue("QUIET-1"), "quiet-1", 0).await.unwrap();
    assert_eq!(answer.status(), 204);
    let stored = Instant::now();
    eventually("the quiet tenant's delivery ran", || async { stopwatch.ran_at("quiet-1").is_some() }).await;
    let ran = stopwatch.ran_at("quiet-1").unwrap();
    let ahead = stopwatch.noisy_between(stored, ran);
    println!(
        "the quiet tenant's delivery ran {} ms after it was sent, behind {waiting} jobs, {ahead} of them run first",
        (ran - sent).as_millis()
    );
    assert!(ahead <= 2 * WORKERS * CONCURRENCY, "{ahead} of the noisy tenant's jobs ran before the quiet tenant's");
    assert!(queued(&app.raw_db).await > 17_000, "the noisy tenant was not simply drained first");
}
on_both_databases!(a_twenty_thousand_delivery_backlog_lets_another_tenant_go_next);

/// Blocks every run until the test lets it go.
#[derive(Clone)]
struct Gate(Arc<Semaphore>);

impl WebhookHandler for Gate {
    fn handle<'a>(&'a self, _: &'a HandlerContext<'a>) -> HandlerFuture<'a> {
        Box::pin(async move {
            let _permit = self.0.acquire().await;
            Ok(())
        })
    }
}

/// A tenant at `WEBHOOK_TENANT_BACKLOG` unfinished jobs gets 429 with
/// `Retry-After` and nothing stored; a resend of a queued delivery is still
/// 204, another tenant is not affected, and once the backlog is worked down
/// the refused delivery is accepted.
async fn a_tenant_over_its_backlog_quota_gets_a_429_and_others_do_not(kind: DbKind) {
    let gate = Gate(Arc::new(Semaphore::new(0)));
    let app = TestApp::builder(kind)
        .handlers(Webhooks::new().on("*", gate.clone()))
        .var("WEBHOOK_TENANT_BACKLOG", "5")
        .start()
        .await;
    let (noisy, other) = (app.installed_tenant().await, app.installed_tenant().await);
    assert_eq!(flood(&app, &noisy, 0, 5).await, [204; 5]);
    let refused = app.host.send_webhook(&noisy, ISSUE_CREATED, &issue("NOISY-9"), "noisy-5", 0).await.unwrap();
    assert_eq!(refused.status(), 429);
    assert_eq!(refused.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("60"));
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "this site's webhook backlog is full, retry later");
    assert_eq!(flood(&app, &noisy, 0, 1).await, [204], "a resend of a queued delivery is acknowledged");
    assert_eq!(unfinished(&app.raw_db).await, 5, "nothing stored for the refused one");
    let answer = app.host.send_webhook(&other, ISSUE_CREATED, &issue("OTHER-1"), "other-1", 0).await.unwrap();
    assert_eq!(answer.status(), 204, "another tenant's backlog is its own");
    gate.0.add_permits(1_000);
    eventually("the backlog worked down", || async { unfinished(&app.raw_db).await == 0 }).await;
    let retried = app.host.send_webhook(&noisy, ISSUE_CREATED, &issue("NOISY-9"), "noisy-5", 1).await.unwrap();
    assert_eq!(retried.status(), 204, "Jira's retry gets in once there is room");
}
on_both_databases!(a_tenant_over_its_backlog_quota_gets_a_429_and_others_do_not);

/// Queued and running jobs, read in one query: two reads would count a job
/// claimed between them twice.
async fn unfinished(db: &Database) -> i64 {
    let counts = webhook_jobs::counts(db).await.unwrap();
    counts.iter().filter(|(state, _)| matches!(state, JobState::Queued | JobState::Running)).map(|(_, n)| n).sum()
}
