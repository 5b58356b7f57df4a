//! How a worker takes its work: a batch of jobs whose handlers run
//! overlapped, never more at once than `WEBHOOK_CONCURRENCY`, their outcomes
//! written together; and jobs that ended are purged after their retention,
//! the queued ones kept.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use server::{
    maintenance,
    store::webhook_jobs::JobState,
    vendor::{HandlerContext, HandlerError, HandlerFuture, WebhookHandler, Webhooks},
};

use crate::{
    on_both_databases,
    support::{app::TestApp, db::DbKind, eventually::eventually, rows},
    webhooks::{ISSUE_CREATED, issue, state_counts},
};

const DAY: i64 = 86_400;

/// Holds each run for a while and keeps the most runs it saw at once.
#[derive(Clone, Default)]
struct Overlap {
    now: Arc<AtomicUsize>,
    most: Arc<AtomicUsize>,
}

impl WebhookHandler for Overlap {
    fn handle<'a>(&'a self, _: &'a HandlerContext<'a>) -> HandlerFuture<'a> {
        Box::pin(async move {
            let running = self.now.fetch_add(1, Ordering::SeqCst) + 1;
            self.most.fetch_max(running, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(300)).await;
            self.now.fetch_sub(1, Ordering::SeqCst);
            Ok(())
        })
    }
}

/// A backlog of 12 deliveries about 12 issues, queued by an instance without
/// workers, is run by one worker four at a time: overlapped, and never more.
async fn one_worker_overlaps_its_handlers_up_to_its_concurrency(kind: DbKind) {
    let receiver = TestApp::builder(kind).var("WEBHOOK_WORKERS", "0").start().await;
    let tenant = receiver.installed_tenant().await;
    for i in 0..12 {
        let body = issue(&format!("ACME-{i}"));
        let answer = receiver.host.send_webhook(&tenant, ISSUE_CREATED, &body, &format!("o-{i}"), 0).await;
        assert_eq!(answer.unwrap().status(), 204);
    }
    assert_eq!(state_counts(&receiver.raw_db).await, [(JobState::Queued, 12)]);
    let overlap = Overlap::default();
    let _worker = TestApp::builder(kind)
        .handlers(Webhooks::new().on("jira:issue_created", overlap.clone()))
        .var("DATABASE_URL", receiver.db.url.clone())
        .var("APP_ENCRYPTION_KEY", receiver.encryption_key.clone())
        .var("WEBHOOK_WORKERS", "1")
        .var("WEBHOOK_CONCURRENCY", "4")
        .start()
        .await;
    eventually("12 jobs done", || async { state_counts(&receiver.raw_db).await == [(JobState::Done, 12)] }).await;
    assert_eq!(overlap.most.load(Ordering::SeqCst), 4, "four runs at once, the worker's concurrency");
}
on_both_databases!(one_worker_overlaps_its_handlers_up_to_its_concurrency);

/// Fails every run, so that a job with one attempt is parked dead at once.
struct Failing;

impl WebhookHandler for Failing {
    fn handle<'a>(&'a self, _: &'a HandlerContext<'a>) -> HandlerFuture<'a> {
        Box::pin(async { Err(HandlerError::new("always fails")) })
    }
}

/// Done and dead jobs are kept for the retention (14 days by default), then
/// deleted, and nothing else is.
async fn ended_jobs_are_purged_after_their_retention_and_nothing_else(kind: DbKind) {
    let app = TestApp::builder(kind)
        .handlers(Webhooks::new().on("jira:issue_updated", Failing))
        .var("WEBHOOK_MAX_ATTEMPTS", "1")
        .start()
        .await;
    let tenant = app.installed_tenant().await;
    for i in 0..3 {
        let body = issue(&format!("ACME-{i}"));
        let answer = app.host.send_webhook(&tenant, ISSUE_CREATED, &body, &format!("d-{i}"), 0).await;
        assert_eq!(answer.unwrap().status(), 204);
    }
    let updated = hostkit::payload::issue_event("jira:issue_updated", "ACME-9", "Changed", "u");
    let answer = app.host.send_webhook(&tenant, "/webhooks/jira-issue-updated", &updated, "dead-1", 0);
    assert_eq!(answer.await.unwrap().status(), 204);
    eventually("three done, one dead", || async {
        state_counts(&app.raw_db).await == [(JobState::Dead, 1), (JobState::Done, 3)]
    })
    .await;

    let retention = Duration::from_secs(14 * DAY as u64);
    app.clock.advance(13 * DAY);
    assert_eq!(maintenance::purge_finished_jobs(&app.raw_db, &app.clock, retention).await.unwrap(), 0);

    app.clock.advance(2 * DAY);
    let before = rows::dump(&app.raw_db).await;
    assert_eq!(maintenance::purge_finished_jobs(&app.raw_db, &app.clock, retention).await.unwrap(), 4);
    assert!(state_counts(&app.raw_db).await.is_empty(), "every ended job is gone");
    let after = rows::dump(&app.raw_db).await;
    assert_eq!(without_jobs(&rows::dump_text(&before)), without_jobs(&rows::dump_text(&after)), "nothing else");
}
on_both_databases!(ended_jobs_are_purged_after_their_retention_and_nothing_else);

/// The dump without the queue's table (a dump is a section a table, each headed `== "name" (n rows)`).
fn without_jobs(dump: &str) -> Vec<&str> {
    dump.split("== ")
        .filter(|section| !section.lines().next().is_some_and(|head| head.contains("webhook_jobs")))
        .collect()
}
