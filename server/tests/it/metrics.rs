//! Metrics as an operator scrapes them: Prometheus text on `METRICS_ADDR`
//! only, whose counters move with requests, refusals, key fetches and
//! webhook runs, and whose gauges read the queue and the pool.

use hostkit::payload;
use server::store::webhook_jobs::{self, JobState};

use crate::support::{app::TestApp, db::DbKind, eventually::eventually};

/// The sum of the samples of `name` whose labels include all of `labels`.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (metric, rest) = series.split_once('{').unwrap_or((series, "}"));
            let wanted = labels.iter().all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")));
            (metric == name && wanted).then(|| value.parse::<f64>().ok()).flatten()
        })
        .sum()
}

async fn scrape(app: &TestApp) -> String {
    let addr = app.metrics_addr.expect("METRICS_ADDR is set");
    let answer = app.http.get(format!("http://{addr}/metrics")).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    answer.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scrape_shows_requests_refusals_key_fetches_and_the_queue_moving() {
    let app = TestApp::builder(DbKind::Sqlite).var("METRICS_ADDR", "127.0.0.1:0").start().await;
    let before = scrape(&app).await;
    let tenant = app.installed_tenant().await;
    let body = payload::issue_event("jira:issue_created", "ACME-1", "Counted", "user-1");
    let path = "/webhooks/jira-issue-created";
    assert_eq!(app.host.send_webhook(&tenant, path, &body, "counted-1", 0).await.unwrap().status(), 204);
    let forged = app.http.post(app.url(path)).header("authorization", "JWT not.a.token").json(&body);
    assert_eq!(forged.send().await.unwrap().status(), 401);
    eventually("the delivery processed", || async {
        webhook_jobs::counts(&app.raw_db).await.unwrap() == [(JobState::Done, 1)]
    })
    .await;
    let after = scrape(&app).await;

    let moved = |name: &str, labels: &[(&str, &str)]| sample(&after, name, labels) - sample(&before, name, labels);
    let installed = [("route", "/installed"), ("proof", "lifecycle"), ("status", "204")];
    assert!(moved("http_requests_total", &installed) >= 1.0, "{after}");
    assert!(moved("http_requests_total", &[("route", path), ("proof", "webhook"), ("status", "401")]) >= 1.0);
    assert!(moved("proof_refusals_total", &[("proof", "webhook")]) >= 1.0, "{after}");
    assert!(moved("key_fetches_total", &[("keys", "install"), ("outcome", "found")]) >= 1.0, "{after}");
    assert!(moved("webhook_runs_total", &[("outcome", "done")]) >= 1.0, "{after}");
    assert!(moved("webhook_handler_duration_seconds_count", &[("event", "jira:issue_created")]) >= 1.0);
    let pool = |state: &str| sample(&after, "db_pool_connections", &[("state", state)]);
    assert!(pool("idle") + pool("in_use") >= 1.0, "the pool's connections, idle or in use: {after}");
    assert!(after.contains("webhook_oldest_ready_job_age_seconds"), "{after}");
    assert_eq!(sample(&after, "webhook_jobs", &[("state", "queued")]), 0.0, "this app's queue is empty: {after}");
    let public = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(public.status(), 404, "metrics are never on the app's own address");
}
