//! Tenant and user isolation in the notes demo: identity comes only from the
//! verified token (route_proofs.rs proves that every server function but the
//! public ones demands one, threat H-09).

use crate::{
    on_both_databases,
    support::{app::TestApp, db::DbKind},
};

async fn create(app: &TestApp, token: &str, title: &str) -> i64 {
    let (status, note) = app.call_as(token, "/api/notes/create", &[("title", title), ("body", "text")]).await;
    assert_eq!(status, 200, "{note}");
    note["id"].as_i64().unwrap()
}

async fn one_tenant_never_sees_or_changes_another_tenants_notes(kind: DbKind) {
    let app = TestApp::spawn(kind).await;
    let a = app.installed_tenant().await;
    let b = app.installed_tenant().await;
    let a_token = app.session_for(&a, "alice").await;
    let b_token = app.session_for(&b, "bob").await;
    let a_note = create(&app, &a_token, "A's secret plan").await;

    let (_, b_list) = app.call_as(&b_token, "/api/notes/list", &[]).await;
    assert_eq!(b_list, serde_json::json!([]), "B sees none of A's notes");
    let id = a_note.to_string();
    let (status, _) =
        app.call_as(&b_token, "/api/notes/update", &[("id", &id), ("title", "pwned"), ("body", "x")]).await;
    assert_eq!(status, 404, "another site's note does not exist for B");
    let (status, _) = app.call_as(&b_token, "/api/notes/delete", &[("id", &id)]).await;
    assert_eq!(status, 404);

    // C-07: a clientKey smuggled into the arguments is ignored or refused, never obeyed.
    let (status, note) = app
        .call_as(
            &b_token,
            "/api/notes/create",
            &[("title", "mine"), ("body", "x"), ("client_key", &a.client_key), ("clientKey", &a.client_key)],
        )
        .await;
    if status == 200 {
        let (_, a_list) = app.call_as(&a_token, "/api/notes/list", &[]).await;
        assert!(a_list.as_array().unwrap().iter().all(|n| n["id"] != note["id"]), "the note went to A");
    } else {
        assert_eq!(status / 100, 4);
    }
    let (_, a_list) = app.call_as(&a_token, "/api/notes/list", &[]).await;
    assert_eq!(a_list.as_array().unwrap().len(), 1);
    assert_eq!(a_list[0]["title"], "A's secret plan");
}
on_both_databases!(one_tenant_never_sees_or_changes_another_tenants_notes);

async fn users_read_each_others_notes_but_change_only_their_own(kind: DbKind) {
    let app = TestApp::spawn(kind).await;
    let site = app.installed_tenant().await;
    let x = app.session_for(&site, "user-x").await;
    let y = app.session_for(&site, "user-y").await;
    let note = create(&app, &y, "Y's note").await.to_string();
    let (_, list) = app.call_as(&x, "/api/notes/list", &[]).await;
    assert_eq!(list[0]["mine"], false);
    assert_eq!(list[0]["author_account_id"], "user-y");
    let (status, _) =
        app.call_as(&x, "/api/notes/update", &[("id", &note), ("title", "X was here"), ("body", "")]).await;
    assert_eq!(status, 403, "X cannot edit Y's note");
    let (status, _) = app.call_as(&x, "/api/notes/delete", &[("id", &note)]).await;
    assert_eq!(status, 403);
    let (status, updated) =
        app.call_as(&y, "/api/notes/update", &[("id", &note), ("title", "edited"), ("body", "new")]).await;
    assert_eq!((status, updated["title"].as_str()), (200, Some("edited")));
    assert_eq!(app.call_as(&y, "/api/notes/delete", &[("id", &note)]).await.0, 200);
}
on_both_databases!(users_read_each_others_notes_but_change_only_their_own);

async fn bad_note_input_gets_a_clear_400_and_anonymous_users_cannot_write(kind: DbKind) {
    let app = TestApp::spawn(kind).await;
    let site = app.installed_tenant().await;
    let token = app.session_for(&site, "u").await;
    let long = "t".repeat(201);
    for (title, body) in [("", "x"), ("   ", "x"), (long.as_str(), "x")] {
        let (status, error) = app.call_as(&token, "/api/notes/create", &[("title", title), ("body", body)]).await;
        assert_eq!(status, 400, "{error}");
        assert!(error["Invalid"].is_string(), "{error}");
    }
    let page = app.open_page(&site, "/app", &[], None).await;
    let anonymous = page.session_token().unwrap();
    assert_eq!(app.call_as(&anonymous, "/api/notes/list", &[]).await.0, 200, "anonymous users read");
    assert_eq!(app.call_as(&anonymous, "/api/notes/create", &[("title", "t"), ("body", "b")]).await.0, 403);
}
on_both_databases!(bad_note_input_gets_a_clear_400_and_anonymous_users_cannot_write);

/// A site cannot fill the disk: past `NOTES_PER_SITE_MAX` a new note is a
/// clear 400, and other sites are unaffected.
async fn a_site_at_its_note_quota_gets_a_clear_refusal(kind: DbKind) {
    let app = TestApp::builder(kind).var("NOTES_PER_SITE_MAX", "3").start().await;
    let full = app.installed_tenant().await;
    let token = app.session_for(&full, "user-1").await;
    for i in 0..3 {
        create(&app, &token, &format!("note {i}")).await;
    }
    let (status, error) = app.call_as(&token, "/api/notes/create", &[("title", "one more"), ("body", "")]).await;
    assert_eq!(status, 400);
    assert!(error.to_string().contains("limit of 3 notes"), "{error}");
    let (_, list) = app.call_as(&token, "/api/notes/list", &[]).await;
    assert_eq!(list.as_array().map(Vec::len), Some(3), "nothing was added");
    let other = app.installed_tenant().await;
    let other_token = app.session_for(&other, "user-1").await;
    create(&app, &other_token, "another site's note").await;
}
on_both_databases!(a_site_at_its_note_quota_gets_a_clear_refusal);
