//! A Forge page's `requestRemote` comes from the browser, cross-origin: the
//! app's API answers CORS for the origins of `FORGE_PAGE_ORIGINS` only, and
//! no other route answers it at all.

use reqwest::{Method, Response};

use crate::support::{app::TestApp, db::DbKind};

const PAGE_ORIGIN: &str = "https://acme.atlassian.net";

async fn app() -> TestApp {
    TestApp::builder(DbKind::Sqlite).var("FORGE_PAGE_ORIGINS", "https://*.atlassian.net").start().await
}

async fn preflight(app: &TestApp, path: &str, origin: &str) -> Response {
    let request = app.http.request(Method::OPTIONS, app.url(path)).header("origin", origin);
    let request = request
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization,content-type");
    request.send().await.unwrap()
}

fn header(response: &Response, name: &str) -> Option<String> {
    response.headers().get(name).map(|v| v.to_str().unwrap().to_ascii_lowercase())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_answers_a_preflight_from_a_forge_page_origin_and_no_other() {
    let app = app().await;
    let allowed = preflight(&app, "/api/me/identity", PAGE_ORIGIN).await;
    assert!(allowed.status().is_success(), "{}", allowed.status());
    assert_eq!(header(&allowed, "access-control-allow-origin").as_deref(), Some(PAGE_ORIGIN));
    let headers = header(&allowed, "access-control-allow-headers").unwrap_or_default();
    assert!(headers.contains("authorization") && headers.contains("content-type"), "{headers}");
    assert!(header(&allowed, "access-control-allow-methods").is_some_and(|m| m.contains("post")));
    assert_eq!(header(&allowed, "access-control-allow-credentials"), None, "no credentials");

    for origin in ["https://evil.example", "https://acme.atlassian.net.evil.example", "null"] {
        let refused = preflight(&app, "/api/me/identity", origin).await;
        assert_eq!(header(&refused, "access-control-allow-origin"), None, "{origin}");
    }
    for path in ["/installed", "/forge/events/installed", "/app", "/console/login", "/api/session/renew"] {
        let other = preflight(&app, path, PAGE_ORIGIN).await;
        assert_eq!(header(&other, "access-control-allow-origin"), None, "no CORS on {path}");
    }
}

/// The call itself, refused or not, names the origin, so the page can read
/// why; a call without a proof is still refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cross_origin_call_is_answered_with_the_origin_and_still_needs_its_proof() {
    let app = app().await;
    let tenant = app.installed_tenant().await;
    let session = app.session_for(&tenant, "user-1").await;
    let call = |auth: Option<String>| {
        let request = app.http.post(app.url("/api/me/identity")).header("origin", PAGE_ORIGIN).form(&[("x", "")]);
        match auth {
            Some(auth) => request.header("authorization", auth),
            None => request,
        }
        .send()
    };
    let unproven = call(None).await.unwrap();
    assert_eq!(unproven.status(), 401);
    assert_eq!(header(&unproven, "access-control-allow-origin").as_deref(), Some(PAGE_ORIGIN));
    let proven = call(Some(format!("JWT {session}"))).await.unwrap();
    assert_eq!(proven.status(), 200);
    assert_eq!(header(&proven, "access-control-allow-origin").as_deref(), Some(PAGE_ORIGIN));
}
