//! A vendor's webhook handler calls the tenant's site through one client:
//! any method, as the app or as the user, against the fake site that checks
//! the app's JWT (qsh included) on every call. An empty answer (200 or 204
//! with no body) is `null`. Atlassian's rate limits (429 with `Retry-After`
//! and `RateLimit-Reason`, from the fake's burst refusals and points
//! budget): a handler's job is put back at `Retry-After` without counting an
//! attempt; a page's call waits a short limit out; one site's limit never
//! delays another's calls; the metrics count every 429.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use server::{
    store::webhook_jobs::{self, JobState},
    vendor::{AccountId, HandlerContext, HandlerError, HandlerFuture, Method, WebhookHandler, Webhooks},
};

use crate::{
    on_both_databases,
    support::{app::TestApp, app_builder::TestAppBuilder, db::DbKind, eventually::eventually},
};

/// Tags each new issue with a property as the app, reads it back, deletes
/// it, then comments as the user who created the issue.
#[derive(Clone, Default)]
struct Triage {
    answers: Arc<Mutex<Vec<Value>>>,
    errors: Arc<Mutex<Vec<String>>>,
}

impl WebhookHandler for Triage {
    fn handle<'a>(&'a self, cx: &'a HandlerContext<'a>) -> HandlerFuture<'a> {
        Box::pin(async move {
            let done = self.triage(cx).await;
            if let Err(e) = &done {
                self.errors.lock().map_err(|_| HandlerError::new("poisoned"))?.push(e.to_string());
            }
            done
        })
    }
}

impl Triage {
    async fn triage(&self, cx: &HandlerContext<'_>) -> Result<(), HandlerError> {
        {
            let key = cx.event.payload["issue"]["key"].as_str().ok_or_else(|| HandlerError::new("no issue key"))?;
            let reporter = cx.event.payload["user"]["accountId"].as_str().unwrap_or_default();
            let property = format!("/rest/api/3/issue/{key}/properties/triaged");
            let put = cx.send_as_app(Method::PUT, &property, &[], Some(json!({ "by": "app" }))).await?;
            let read = cx.get_as_app(&property, &[]).await?;
            let deleted = cx.send_as_app(Method::DELETE, &property, &[], None).await?;
            let comment = json!({ "body": { "type": "doc", "version": 1, "content": [
                { "type": "paragraph", "content": [{ "type": "text", "text": "Triaged" }] }
            ]}});
            let path = format!("/rest/api/3/issue/{key}/comment");
            let user = AccountId::new(reporter);
            let commented = cx.send_as_user(&user, Method::POST, &path, &[], Some(comment)).await?;
            let mut answers = self.answers.lock().map_err(|_| HandlerError::new("poisoned"))?;
            answers.extend([put, read, deleted, commented, json!(key)]);
            Ok(())
        }
    }
}

/// The Jira site `acme` (its user `user-1`) with `Triage` installed, and
/// `limit` applied to it before an issue is created there.
async fn new_issue_on(builder: TestAppBuilder, limit: impl FnOnce(&TestApp)) -> (TestApp, Triage) {
    let triage = Triage::default();
    let app = builder.handlers(Webhooks::new().on("jira:issue_created", triage.clone())).start().await;
    let tenant = app.fake.add_site("acme", "jira");
    app.fake.add_user("acme", "user-1", "Uma User", false);
    assert_eq!(app.host.install(&tenant).await.status(), 204);
    limit(&app);
    assert!(app.fake.product_event("acme", "create-issue").await.unwrap().delivered());
    (app, triage)
}

fn triaged_puts(app: &TestApp) -> usize {
    app.fake.rest_calls().iter().filter(|c| c.starts_with("PUT ") && c.ends_with("/triaged")).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_puts_reads_deletes_and_comments_through_one_client() {
    let (app, triage) = new_issue_on(TestApp::builder(DbKind::Sqlite), |_| {}).await;
    eventually("the handler ran", || async { triage.answers.lock().unwrap().len() == 5 }).await;

    let answers = triage.answers.lock().unwrap().clone();
    assert_eq!(answers[0], Value::Null, "PUT answered 200 with no body: null, not an error");
    assert_eq!(answers[1]["value"], json!({ "by": "app" }), "read back as the app");
    assert_eq!(answers[2], Value::Null, "DELETE answered 204");
    assert!(answers[3]["id"].is_string(), "the comment the site made: {}", answers[3]);
    let issue = answers[4].as_str().unwrap_or_default();
    assert_eq!(app.fake.issue_property("acme", issue, "triaged"), None, "deleted");
    let comments = app.fake.comments();
    assert!(comments.iter().any(|c| c.author == "Uma User" && c.text.contains("Triaged")), "as the user");
    assert_eq!(triaged_puts(&app), 1);
}

/// Three 429s in a row, with one attempt allowed: each puts the job back at
/// its `Retry-After` (1 s) without counting an attempt, so the job is done
/// on its first counted attempt and never parked dead.
async fn a_rate_limited_handler_is_put_back_at_retry_after_without_counting_an_attempt(kind: DbKind) {
    let builder = TestApp::builder(kind).var("WEBHOOK_MAX_ATTEMPTS", "1");
    let started = Instant::now();
    let (app, triage) = new_issue_on(builder, |app| app.fake.rate_limit("acme", 3)).await;
    eventually("the handler ran", || async { triage.answers.lock().unwrap().len() == 5 }).await;
    assert!(started.elapsed() >= Duration::from_secs(3), "each 429 was waited out: {:?}", started.elapsed());
    let errors = triage.errors.lock().unwrap().clone();
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(errors.iter().all(|e| e.contains("429") && e.contains("jira-burst-based")), "{errors:?}");
    assert_eq!(triaged_puts(&app), 4, "the PUT was sent again after each limit, never waited on in place");
    eventually("the job done", || async { webhook_jobs::counts(&app.raw_db).await.unwrap() == [(JobState::Done, 1)] })
        .await;
    let job = webhook_jobs::recent(&app.raw_db, 1).await.unwrap().remove(0);
    assert_eq!(job.attempts, 1, "the limited runs were not counted");
}
on_both_databases!(a_rate_limited_handler_is_put_back_at_retry_after_without_counting_an_attempt);

/// A page's server function waits a burst limit out in place and answers;
/// a site over its quota gets 429 with `Retry-After` at once, and while it
/// waits, another site's page calls and handlers are served without delay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_call_waits_out_a_burst_and_one_sites_quota_never_delays_another_site() {
    let builder = TestApp::builder(DbKind::Sqlite).var("METRICS_ADDR", "127.0.0.1:0");
    let (app, triage) = new_issue_on(builder, |_| {}).await;
    eventually("acme's first issue handled", || async { triage.answers.lock().unwrap().len() == 5 }).await;
    let acme = app.fake.tenant("acme").unwrap();
    let beta = app.fake.add_site("beta", "jira");
    app.fake.add_user("beta", "user-2", "Bea Beta", false);
    assert_eq!(app.host.install(&beta).await.status(), 204);
    let (acme_session, beta_session) = (app.session_for(&acme, "user-1").await, app.session_for(&beta, "user-2").await);
    let user_calls = |site: &str| {
        let prefix = format!("GET /{site}/rest/api/3/user");
        app.fake.rest_calls().iter().filter(|c| c.starts_with(&prefix)).count()
    };

    app.fake.rate_limit("acme", 1);
    let (status, name) = app.call_as(&acme_session, "/api/me/display_name", &[]).await;
    assert_eq!((status, name), (200, json!("Uma User")), "after one wait");
    assert_eq!(user_calls("acme"), 2, "sent again once");

    app.fake.points_budget("acme", 0, 60);
    let answer = app.http.post(app.url("/api/me/display_name")).header("authorization", format!("JWT {acme_session}"));
    let answer = answer.send().await.unwrap();
    assert_eq!(answer.status(), 429, "a quota a page cannot wait out");
    let retry_after: u64 = answer.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((30..=60).contains(&retry_after), "the site's own Retry-After: {retry_after}");
    let sent = app.fake.product_event("acme", "create-issue").await.unwrap();
    assert!(sent.delivered());

    let started = Instant::now();
    let (status, name) = app.call_as(&beta_session, "/api/me/display_name", &[]).await;
    let took = started.elapsed();
    println!("beta's page call while acme waits out its quota: {} ms", took.as_millis());
    assert_eq!((status, name), (200, json!("Bea Beta")));
    assert!(took < Duration::from_secs(retry_after), "not held behind acme's limit: {took:?}");
    assert_eq!(user_calls("beta"), 1, "beta's call went once");
    let beta_issue = app.fake.product_event("beta", "create-issue").await.unwrap();
    assert!(beta_issue.delivered());
    eventually("beta's issue handled while acme's waits", || async { triage.answers.lock().unwrap().len() == 10 })
        .await;
    let jobs = webhook_jobs::recent(&app.raw_db, 10).await.unwrap();
    let waiting = jobs.iter().filter(|j| j.state == JobState::Queued && j.attempts == 0).count();
    assert_eq!(waiting, 1, "acme's job waits for its Retry-After, no attempt counted: {jobs:?}");

    let addr = app.metrics_addr.expect("METRICS_ADDR is set");
    let metrics = app.http.get(format!("http://{addr}/metrics")).send().await.unwrap().text().await.unwrap();
    let counted = |reason: &str| {
        metrics.lines().any(|l| l.starts_with("site_rate_limited_total") && l.contains(reason) && !l.ends_with(" 0"))
    };
    assert!(counted("jira-burst-based") && counted("jira-quota-tenant-based"), "{metrics}");
}

/// Under Forge the same: a page's call through the product API waits out a
/// burst and answers; a quota answers 429 with the site's `Retry-After`.
async fn a_forge_page_call_waits_out_a_burst_of_the_product_api(kind: DbKind) {
    let app = crate::forge_native::native_site(kind).await;
    let (forge, install) = (crate::forge_native::forge_of(&app), crate::forge_native::install_of(&app));
    let fit = || forge.jwks.fit_of(&install, hostkit::forge::modules::GLOBAL_PAGE, Some("user"));
    let user_calls =
        || forge.api.calls().into_iter().filter(|c| c.path == "user").map(|c| c.status).collect::<Vec<_>>();
    let before = user_calls().len();
    app.fake.rate_limit("nova", 1);
    let (status, name) = app.call("/api/me/display_name", Some(&format!("Bearer {}", fit())), &[]).await;
    assert_eq!((status, name), (200, json!("Uma User")), "after one wait");
    assert_eq!(user_calls()[before..], [429, 200]);

    app.fake.points_budget("nova", 0, 60);
    let answer = app.http.post(app.url("/api/me/display_name")).header("authorization", format!("Bearer {}", fit()));
    let answer = answer.send().await.unwrap();
    assert_eq!(answer.status(), 429);
    assert!(answer.headers().contains_key("retry-after"));
}
on_both_databases!(a_forge_page_call_waits_out_a_burst_of_the_product_api);
