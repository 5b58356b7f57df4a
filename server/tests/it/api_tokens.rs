//! Server functions accept the app's session token or a context JWT, in the
//! Authorization header only (threat catalogue C-01…C-09, S-01…S-10).

use hostkit::jwt;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::json;

use crate::{
    on_both_databases,
    support::{app::TestApp, db::DbKind},
};

const CALL: &str = "/api/me/identity";

fn claims_of(token: &str) -> serde_json::Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

async fn the_page_issues_a_session_token_bound_to_tenant_user_and_generation(kind: DbKind) {
    let app = TestApp::spawn(kind).await;
    let tenant = app.installed_tenant().await;
    let token = app.session_for(&tenant, "user-1").await;
    let c = claims_of(&token);
    let tenant_id = app.installation(&tenant.client_key).await.unwrap().tenant_id;
    assert_eq!(c["tenant"], tenant_id.as_str(), "S-01: the tenant's own id");
    assert_eq!(c["sub"], "user-1");
    assert_eq!(c["typ"], "session");
    assert_eq!(c["aud"], "rust-connect-app-api");
    assert_eq!(c["gen"], 1);
    assert!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap() <= 900, "lifetime at most 15 minutes");
    assert!(c["jti"].as_str().unwrap().len() >= 32, "128-bit jti");
    for scheme in ["JWT", "Bearer", "jwt"] {
        let (status, body) = app.call(CALL, Some(&format!("{scheme} {token}")), &[]).await;
        assert_eq!(status, 200, "{scheme}: {body}");
    }
    let landing = app.get_page(&app.url("/")).await;
    assert!(landing.session_token().is_none(), "S-02: no token for an unauthenticated page");
}
on_both_databases!(the_page_issues_a_session_token_bound_to_tenant_user_and_generation);

async fn context_jwts_work_on_the_api_only_with_the_exact_context_qsh(kind: DbKind) {
    let app = TestApp::spawn(kind).await;
    let tenant = app.installed_tenant().await;
    let context = tenant.context_token("user-1", 900);
    assert_eq!(app.call_as(&context, CALL, &[]).await.0, 200, "C-01");
    let page_token = tenant.sign(&tenant.claims("GET", "/app", &[], Some("user-1")));
    assert_eq!(app.call_as(&page_token, CALL, &[]).await.0, 401, "C-02 iframe token on the API");
    for qsh in [json!(""), json!("CONTEXT-QSH"), json!(null)] {
        let mut c = tenant.claims("GET", "/", &[], Some("u"));
        c["qsh"] = qsh.clone();
        assert_eq!(app.call_as(&tenant.sign(&c), CALL, &[]).await.0, 401, "C-04 {qsh}");
    }
    let expired = tenant.context_token("user-1", -120);
    assert_eq!(app.call_as(&expired, CALL, &[]).await.0, 401, "C-06 expired");
    assert_eq!(app.call_as(&tenant.context_token("user-1", 900), CALL, &[]).await.0, 200, "C-06 a new one works");
    // C-08: never from the query string or a cookie.
    let in_query = app.http.post(app.url(&format!("{CALL}?jwt={context}"))).send().await.unwrap();
    assert_eq!(in_query.status(), 401);
    let in_cookie = app.http.post(app.url(CALL)).header("cookie", format!("jwt={context}")).send().await.unwrap();
    assert_eq!(in_cookie.status(), 401);
    // C-09: odd spacing and two headers are refused.
    assert_eq!(app.call(CALL, Some(&format!("JWT  {context}")), &[]).await.0, 401);
    let two = app
        .http
        .post(app.url(CALL))
        .header("authorization", format!("JWT {context}"))
        .header("authorization", format!("JWT {context}"))
        .send()
        .await
        .unwrap();
    assert_eq!(two.status(), 401);
}
on_both_databases!(context_jwts_work_on_the_api_only_with_the_exact_context_qsh);

async fn a_context_jwt_renews_the_session_and_a_session_cannot_renew_itself(kind: DbKind) {
    let app = TestApp::spawn(kind).await;
    let tenant = app.installed_tenant().await;
    let session = app.session_for(&tenant, "user-1").await;
    let (status, grant) = app.call_as(&tenant.context_token("user-1", 900), "/api/session/renew", &[]).await;
    assert_eq!(status, 200, "{grant}");
    let fresh = grant["token"].as_str().unwrap();
    assert_eq!(claims_of(fresh)["sub"], "user-1");
    assert_eq!(app.call_as(fresh, CALL, &[]).await.0, 200);
    assert_eq!(app.call_as(&session, "/api/session/renew", &[]).await.0, 403, "only a context JWT buys a session");
}
on_both_databases!(a_context_jwt_renews_the_session_and_a_session_cannot_renew_itself);

async fn sessions_die_with_uninstall_disable_and_reinstall(kind: DbKind) {
    let app = TestApp::spawn(kind).await;
    let tenant = app.installed_tenant().await;
    let session = app.session_for(&tenant, "u").await;
    app.host.install(&tenant.with_new_secret()).await;
    assert_eq!(app.call_as(&session, CALL, &[]).await.0, 401, "S-05 a reinstall bumps the generation");

    let second = app.installed_tenant().await;
    let session = app.session_for(&second, "u").await;
    app.host.toggle(&second, "disabled").await;
    assert_eq!(app.call_as(&session, CALL, &[]).await.0, 401, "disabled");
    app.host.toggle(&second, "enabled").await;
    assert_eq!(app.call_as(&session, CALL, &[]).await.0, 200, "enabled again, same generation");
    app.host.uninstall(&second).await;
    assert_eq!(app.call_as(&session, CALL, &[]).await.0, 401, "S-05 uninstalled");
}
on_both_databases!(sessions_die_with_uninstall_disable_and_reinstall);

async fn session_tokens_are_not_accepted_where_host_tokens_belong_and_vice_versa(kind: DbKind) {
    let app = TestApp::spawn(kind).await;
    let tenant = app.installed_tenant().await;
    let session = app.session_for(&tenant, "u").await;
    let page = app.get_page(&app.url(&format!("/app?jwt={session}"))).await;
    assert_eq!(page.status, 401, "S-03 session token on an iframe route");
    let lifecycle =
        app.host.post_lifecycle("enabled", &app.host.body(&tenant, "enabled"), Some(format!("JWT {session}"))).await;
    assert_eq!(lifecycle.status(), 401, "S-03 session token on a lifecycle route");

    // S-04: a session-shaped token signed with the tenant's secret, with the real kid.
    let kid = jsonwebtoken::decode_header(&session).unwrap().kid.unwrap();
    let header = json!({"alg": "HS256", "typ": "JWT", "kid": kid}).to_string();
    let forged = jwt::raw(
        &header,
        &claims_of(&session).to_string(),
        Some((&EncodingKey::from_secret(tenant.shared_secret.as_bytes()), Algorithm::HS256)),
    );
    assert_eq!(app.call_as(&forged, CALL, &[]).await.0, 401, "S-04");
    // S-08: the session validator refuses the same attacks as the others.
    let none = jwt::raw(&json!({"alg": "none", "kid": kid}).to_string(), &claims_of(&session).to_string(), None);
    assert_eq!(app.call_as(&none, CALL, &[]).await.0, 401, "S-08 alg none");
    let mut tampered = claims_of(&session);
    tampered["tenant"] = json!("someone-else");
    let (message, signature) = session.rsplit_once('.').unwrap();
    let header_part = message.split('.').next().unwrap();
    use base64::Engine;
    let body = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tampered.to_string());
    assert_eq!(
        app.call_as(&format!("{header_part}.{body}.{signature}"), CALL, &[]).await.0,
        401,
        "S-08 tampered claims"
    );
    let unknown_kid = jwt::raw(
        &json!({"alg": "HS256", "kid": "s-unknown"}).to_string(),
        &claims_of(&session).to_string(),
        Some((&EncodingKey::from_secret(b"guess"), Algorithm::HS256)),
    );
    assert_eq!(app.call_as(&unknown_kid, CALL, &[]).await.0, 401, "S-06 unknown kid");
}
on_both_databases!(session_tokens_are_not_accepted_where_host_tokens_belong_and_vice_versa);

async fn a_rotated_session_key_keeps_old_tokens_and_instances_share_keys(kind: DbKind) {
    let old = server::secrets::AppKey::generate_base64().unwrap();
    let new = server::secrets::AppKey::generate_base64().unwrap();
    let first = TestApp::builder(kind).var("APP_SESSION_KEY", old.clone()).start().await;
    let tenant = first.installed_tenant().await;
    let token = first.session_for(&tenant, "u").await;
    let db_url = first.db.url.clone();
    let keys_cdn = first.host.key_server.url();
    let enc = first.encryption_key.clone();
    let second = TestApp::builder(kind)
        .var("DATABASE_URL", db_url)
        .var("CONNECT_KEYS_CDN_URL", keys_cdn)
        .var("APP_ENCRYPTION_KEY", enc)
        .var("APP_SESSION_KEY", new.clone())
        .var("APP_SESSION_KEY_PREVIOUS", old.clone())
        .start()
        .await;
    assert_eq!(second.call_as(&token, CALL, &[]).await.0, 200, "S-06/S-07: minted on one instance, used on another");
    let fresh = second.session_for(&tenant, "u").await;
    assert_eq!(first.call_as(&fresh, CALL, &[]).await.0, 401, "an instance without the new key refuses its tokens");
}
on_both_databases!(a_rotated_session_key_keeps_old_tokens_and_instances_share_keys);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_cors_grant_for_foreign_origins() {
    let app = TestApp::spawn(DbKind::Sqlite).await;
    let preflight = app
        .http
        .request(reqwest::Method::OPTIONS, app.url(CALL))
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .unwrap();
    assert!(preflight.headers().get("access-control-allow-origin").is_none(), "S-09");
    let post = app.http.post(app.url(CALL)).header("origin", "https://evil.example").send().await.unwrap();
    assert!(post.headers().get("access-control-allow-origin").is_none());
    assert!(post.headers().get("access-control-allow-credentials").is_none());
}
