//! Iframe pages check the host's page JWT before anything renders
//! (threat catalogue I-01…I-23).

use hostkit::{Tenant, jwt};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};

use crate::{
    on_both_databases,
    support::{app::TestApp, db::DbKind},
};

/// The page with a token made from `claims` (or `raw`), expecting `status`.
async fn open_with_token(app: &TestApp, path_and_query: &str, token: &str) -> crate::support::pages::Page {
    let separator = if path_and_query.contains('?') { '&' } else { '?' };
    app.get_page(&app.url(&format!("{path_and_query}{separator}jwt={token}"))).await
}

async fn a_valid_page_jwt_renders_the_app_with_a_session_token(kind: DbKind) {
    let app = TestApp::spawn(kind).await;
    let tenant = app.installed_tenant().await;
    let url = app.host.page_url(&tenant, "/app", &[("project", "A")], Some("user-1"));
    let page = app.get_page(&url).await;
    assert_eq!(page.status, 200, "I-01");
    assert!(page.html.contains(r#"<meta name="token""#));
    let jwt_in_url = url.split("jwt=").nth(1).unwrap();
    assert!(!page.html.contains(jwt_in_url), "I-22: the page JWT must not appear in the HTML");
    assert_eq!(page.headers["referrer-policy"], "no-referrer");
    assert!(
        page.headers["content-security-policy"].to_str().unwrap().contains("frame-ancestors https://*.atlassian.net")
    );
    // Rendered in one piece: one buffer sent with its length, not a chunked stream.
    let length = page.headers.get("content-length").and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    assert_eq!(length, Some(page.html.len()), "the page carries its Content-Length");
    assert!(page.headers.get("transfer-encoding").is_none(), "the page is not chunked");
    // I-23: the same URL replayed within its lifetime is accepted (qsh binds the URL).
    assert_eq!(app.get_page(&url).await.status, 200);
}
on_both_databases!(a_valid_page_jwt_renders_the_app_with_a_session_token);

async fn a_page_jwt_is_bound_to_method_path_and_query(kind: DbKind) {
    let app = TestApp::spawn(kind).await;
    let tenant = app.installed_tenant().await;
    let token = tenant.sign(&tenant.claims("GET", "/app", &[("project", "A")], Some("u")));
    assert_eq!(open_with_token(&app, "/app?project=A", &token).await.status, 200);
    for other in ["/app?project=B", "/admin?project=A", "/app/help?project=A"] {
        let page = open_with_token(&app, other, &token).await;
        assert_eq!(page.status, 401, "I-02 {other}");
        assert!(page.html.contains("could not be opened") && !page.html.contains(&token));
    }
    let as_post = app.http.post(app.url(&format!("/app?project=A&jwt={token}"))).send().await.unwrap();
    // The qsh names GET: as a POST the same token proves nothing.
    assert_eq!(as_post.status(), 401, "I-02 as POST");
}
on_both_databases!(a_page_jwt_is_bound_to_method_path_and_query);

async fn forged_and_malformed_page_tokens_get_the_same_401_page(kind: DbKind) {
    let app = TestApp::spawn(kind).await;
    let tenant = app.installed_tenant().await;
    let other = app.installed_tenant().await;
    let now = hostkit::now();
    let qsh = hostkit::qsh::qsh("GET", "/app", &[]);
    let good = json!({"iss": tenant.client_key, "sub": "u", "qsh": qsh, "iat": now, "exp": now + 180});
    let secret = EncodingKey::from_secret(tenant.shared_secret.as_bytes());
    let with = |change: &dyn Fn(&mut Value)| {
        let mut c = good.clone();
        change(&mut c);
        tenant.sign(&c)
    };
    let mut tokens: Vec<(&str, String)> = vec![
        ("I-03 context token", with(&|c| c["qsh"] = json!("context-qsh"))),
        (
            "I-04 no qsh",
            with(&|c| {
                c.as_object_mut().unwrap().remove("qsh");
            }),
        ),
        ("I-11 unknown issuer", with(&|c| c["iss"] = json!("nobody"))),
        ("I-12 signed with another tenant's secret", other.sign(&good)),
        ("I-13 expired beyond the leeway", with(&|c| c["exp"] = json!(now - 61))),
        (
            "I-13 no exp",
            with(&|c| {
                c.as_object_mut().unwrap().remove("exp");
            }),
        ),
        ("I-15 issued in the future", with(&|c| c["iat"] = json!(now + 600))),
        ("I-14 exp as text", with(&|c| c["exp"] = json!("never"))),
        (
            "I-14 exp huge float",
            jwt::raw(
                r#"{"alg":"HS256"}"#,
                &good.to_string().replace(&format!("\"exp\":{}", now + 180), "\"exp\":1e309"),
                Some((&secret, Algorithm::HS256)),
            ),
        ),
        ("I-14 nbf far future text", with(&|c| c["nbf"] = json!("99999999999"))),
        (
            "I-16 duplicate iss",
            jwt::raw(
                r#"{"alg":"HS256"}"#,
                &good.to_string().replacen('{', &format!("{{\"iss\":\"{}\",", other.client_key), 1),
                Some((&secret, Algorithm::HS256)),
            ),
        ),
        ("I-06 alg none", jwt::raw(r#"{"alg":"none"}"#, &good.to_string(), None)),
        ("I-09 HS512", jwt::raw(r#"{"alg":"HS512"}"#, &good.to_string(), Some((&secret, Algorithm::HS512)))),
        (
            "I-08 blank key",
            jwt::raw(r#"{"alg":"HS256"}"#, &good.to_string(), Some((&EncodingKey::from_secret(b""), Algorithm::HS256))),
        ),
        ("I-18 two segments", "eyJhbGciOiJIUzI1NiJ9.e30".to_string()),
        ("I-18 four segments", format!("{}.x", tenant.sign(&good))),
        ("I-20 iss null", with(&|c| c["iss"] = Value::Null)),
        ("I-20 iat true", with(&|c| c["iat"] = json!(true))),
        ("I-21 50 KB token", "a".repeat(50 * 1024)),
    ];
    let valid = tenant.sign(&good);
    let (message, signature) = valid.rsplit_once('.').unwrap();
    tokens.push(("I-07 null signature", format!("{message}.")));
    tokens.push(("I-07 truncated signature", format!("{message}.{}", &signature[..signature.len() - 4])));
    tokens.push(("I-17 padded", format!("{valid}=")));
    let mut bodies = Vec::new();
    for (what, token) in tokens {
        let page = open_with_token(&app, "/app", &token).await;
        assert_eq!(page.status, 401, "{what}");
        assert!(page.session_token().is_none(), "{what}: no session for a refused page (S-02)");
        bodies.push(page.html);
    }
    bodies.dedup();
    assert_eq!(bodies.len(), 1, "every refusal looks the same (I-11)");
    assert_eq!(open_with_token(&app, "/app", &valid).await.status, 200, "the untampered token still works");
    // I-13: 30 s past exp is within the 60 s leeway.
    assert_eq!(open_with_token(&app, "/app", &with(&|c| c["exp"] = json!(now - 30))).await.status, 200);
}
on_both_databases!(forged_and_malformed_page_tokens_get_the_same_401_page);

async fn a_token_in_the_query_and_the_header_is_refused(kind: DbKind) {
    let app = TestApp::spawn(kind).await;
    let tenant = app.installed_tenant().await;
    let url = app.host.page_url(&tenant, "/app", &[], Some("u"));
    let token = url.split("jwt=").nth(1).unwrap().to_string();
    let response = app.http.get(&url).header("authorization", format!("JWT {token}")).send().await.unwrap();
    assert_eq!(response.status(), 401, "I-19");
    let twice = format!("{url}&jwt={token}");
    assert_eq!(app.get_page(&twice).await.status, 401, "two jwt parameters");
    assert_eq!(app.get_page(&app.url("/app")).await.status, 401, "no token at all");
}
on_both_databases!(a_token_in_the_query_and_the_header_is_refused);

async fn inactive_installations_get_no_page(kind: DbKind) {
    let app = TestApp::spawn(kind).await;
    let tenant = app.installed_tenant().await;
    app.host.toggle(&tenant, "disabled").await;
    let page = app.open_page(&tenant, "/app", &[], Some("u")).await;
    assert_eq!(page.status, 403);
    assert!(page.html.contains("disabled"), "a disabled app says so");
    app.host.toggle(&tenant, "enabled").await;
    assert_eq!(app.open_page(&tenant, "/app", &[], Some("u")).await.status, 200);

    // A site import orphans the old clientKey: its JWTs are refused.
    let imported = Tenant::new(&tenant.base_url);
    app.host.install(&imported).await;
    assert_eq!(app.open_page(&tenant, "/app", &[], Some("u")).await.status, 401, "orphan");
    assert_eq!(app.open_page(&imported, "/app", &[], Some("u")).await.status, 200);

    app.host.uninstall(&imported).await;
    assert_eq!(app.open_page(&imported, "/app", &[], Some("u")).await.status, 401, "uninstalled");
    let reinstalled = imported.with_new_secret();
    app.host.install(&reinstalled).await;
    assert_eq!(
        app.open_page(&imported, "/app", &[], Some("u")).await.status,
        401,
        "L-11: the old secret stops working"
    );
    assert_eq!(app.open_page(&reinstalled, "/app", &[], Some("u")).await.status, 200, "the new one works");
}
on_both_databases!(inactive_installations_get_no_page);

/// The policy of a rendered page: no inline script runs but the page's own,
/// under a nonce that is new with every response; other responses admit no
/// inline script at all.
#[tokio::test]
async fn a_page_admits_only_its_own_inline_script_under_a_fresh_nonce() {
    let app = TestApp::spawn(DbKind::Sqlite).await;
    let tenant = app.installed_tenant().await;
    let mut nonces = Vec::new();
    for _ in 0..2 {
        let page = app.open_page(&tenant, "/app", &[], Some("user-1")).await;
        assert_eq!(page.status, 200);
        let csp = page.headers["content-security-policy"].to_str().unwrap().to_string();
        let script_src = csp.split("; ").find(|d| d.starts_with("script-src")).unwrap().to_string();
        assert!(!script_src.contains("unsafe-inline"), "{script_src}");
        let nonce = script_src.split("'nonce-").nth(1).and_then(|n| n.split('\'').next()).expect("a nonce");
        assert!(nonce.len() >= 22, "128 bits or more: {nonce}");
        let inline: Vec<&str> =
            page.html.split("<script").skip(1).filter(|s| !s.trim_start().starts_with("src=")).collect();
        assert!(!inline.is_empty(), "the page hydrates through an inline module script");
        for script in inline {
            let head = script.split('>').next().unwrap_or_default();
            assert!(head.contains(&format!("nonce=\"{nonce}\"")), "every inline script carries it: <script{head}>");
        }
        nonces.push(nonce.to_string());
    }
    assert_ne!(nonces[0], nonces[1], "a new nonce for every response");
    let health = app.http.get(app.url("/healthz")).send().await.unwrap();
    let csp = health.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(!csp.contains("nonce-") && !csp.contains("'unsafe-inline' 'wasm"), "{csp}");
}
