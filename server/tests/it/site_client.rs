//! A vendor's webhook handler calls the tenant's site through one client:
//! any method, as the app or as the user. An empty answer (200 or 204 with
//! no body) is `null`, and Atlassian's rate limit (429 with `Retry-After`)
//! is waited out, against the fake site that checks the app's JWT (qsh
//! included) on every call.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use server::vendor::{AccountId, HandlerContext, HandlerError, HandlerFuture, Method, WebhookHandler, Webhooks};

use crate::support::{app::TestApp, db::DbKind, eventually::eventually};

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
                self.errors.lock().map_err(|_| HandlerError::new("poisoned"))?.push(e.0.clone());
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

/// The Jira site `acme` (its user `user-1`) with `Triage` installed, told to
/// refuse the app's next `refusals` calls, and an issue created there.
async fn new_issue_on_a_rate_limited_site(refusals: u32) -> (TestApp, Triage) {
    let triage = Triage::default();
    let app = TestApp::builder(DbKind::Sqlite)
        .handlers(Webhooks::new().on("jira:issue_created", triage.clone()))
        .start()
        .await;
    let tenant = app.fake.add_site("acme", "jira");
    app.fake.add_user("acme", "user-1", "Uma User", false);
    assert_eq!(app.host.install(&tenant).await.status(), 204);
    app.fake.rate_limit("acme", refusals);
    assert!(app.fake.product_event("acme", "create-issue").await.unwrap().delivered());
    (app, triage)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_puts_reads_deletes_and_comments_through_one_client_and_waits_out_a_rate_limit() {
    let (app, triage) = new_issue_on_a_rate_limited_site(1).await;
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
    let puts = app.fake.rest_calls().iter().filter(|c| c.starts_with("PUT ") && c.ends_with("/triaged")).count();
    assert_eq!(puts, 2, "the rate-limited PUT was sent again once");
    assert_eq!(triage.errors.lock().unwrap().clone(), Vec::<String>::new(), "by the client, not a failed run");
}

/// A site that keeps refusing is not waited on forever: the handler hears
/// 429 after two retries, and the queue retries the job later.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_that_keeps_rate_limiting_is_reported_after_two_retries() {
    let (app, triage) = new_issue_on_a_rate_limited_site(3).await;
    eventually("the handler heard 429", || async { !triage.errors.lock().unwrap().is_empty() }).await;
    let errors = triage.errors.lock().unwrap().clone();
    assert!(errors[0].contains("429"), "{errors:?}");
    let puts = app.fake.rest_calls().iter().filter(|c| c.starts_with("PUT ")).count();
    assert!(puts >= 3, "sent three times before giving up: {puts}");
}
