//! Forge product events the app does not handle are acknowledged, never a
//! 4xx that Forge retries four times: an event type the app never heard
//! of, one it does not subscribe to, one its own change caused
//! (`selfGenerated`), and a comment's edit when only new comments have a
//! handler (Forge sends `avi:jira:commented:issue` for both; the comment's
//! dates tell them apart). Each is logged; none is queued.

use hostkit::payload;
use serde_json::{Value, json};
use server::store::{event_log, tenant_lookup, webhook_jobs};

use crate::{
    forge_native::{forge_of, install_of, native_site},
    on_both_databases,
    support::{app::TestApp, db::DbKind, eventually::eventually},
};

async fn deliver(app: &TestApp, event: &Value) -> u16 {
    let (forge, install) = (forge_of(app), install_of(app));
    let token = forge.api.system_token(&install.cloud_id, 3600);
    let url = app.url(server::connect::forge_modules::PRODUCT_EVENTS_PATH);
    let answer = forge.jwks.deliver_product_event(&url, &install, event, Some(&token), 0).await;
    answer.expect("the app answers").status().as_u16()
}

async fn jobs(app: &TestApp) -> i64 {
    webhook_jobs::counts(&app.raw_db).await.unwrap().iter().map(|(_, n)| n).sum()
}

async fn events_not_handled_are_acknowledged_logged_and_never_queued(kind: DbKind) {
    let app = native_site(kind).await;
    let unknown = json!({ "eventType": "avi:jira:teleported:issue", "selfGenerated": false, "issue": { "id": "1" } });
    let not_subscribed = payload::forge_issue_event("avi:jira:deleted:issue", "NOVA-1", "Gone", "user");
    let mut own = payload::forge_issue_event("avi:jira:created:issue", "NOVA-2", "Mine", "user");
    own["selfGenerated"] = json!(true);
    let edit = payload::forge_comment_edit("NOVA-3", "user");
    for event in [&unknown, &not_subscribed, &own, &edit] {
        assert_eq!(deliver(&app, event).await, 204, "acknowledged: {event}");
    }
    assert_eq!(jobs(&app).await, 0, "none of them queued");
    let install = install_of(&app);
    let tenant = tenant_lookup::find_tenant(&app.raw_db, &install.installation_id).await.unwrap().unwrap();
    let log = event_log::for_tenant(&app.raw_db, &tenant.tenant_id, 100).await.unwrap();
    let dropped = log.iter().filter_map(|e| e.detail.as_deref()).find(|d| d.contains("avi:jira:teleported:issue"));
    assert!(dropped.is_some_and(|d| d.contains("dropped")), "the first is in the log: {:?}", log);

    // The control: a new comment is the comment_created the app handles.
    let new_comment = payload::forge_issue_event("avi:jira:commented:issue", "NOVA-3", "Commented", "user");
    assert_eq!(deliver(&app, &new_comment).await, 204);
    eventually("the new comment is queued", || async { jobs(&app).await == 1 }).await;
}
on_both_databases!(events_not_handled_are_acknowledged_logged_and_never_queued);
