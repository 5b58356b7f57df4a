//! The operator console: a cookie session that must be earned, protected
//! and can be ended; CSRF on every change; throttled logins.

use std::sync::OnceLock;

use hostkit::Tenant;
use reqwest::{StatusCode, header};

use crate::support::{
    app::{TestApp, jira_site},
    app_builder::TestAppBuilder,
    db::DbKind,
};

pub(crate) const PASSWORD: &str = "a long operator password";

pub(crate) fn password_hash() -> String {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| server::console::hash_password(PASSWORD).unwrap()).clone()
}

/// The app with an operator, `ops`, whose password is [`PASSWORD`].
fn console_app() -> TestAppBuilder {
    TestApp::builder(DbKind::Sqlite).var("OPERATOR_USER", "ops").var("OPERATOR_PASSWORD_HASH", password_hash())
}

/// A browser-like operator: keeps its cookies by hand (they are `Secure`,
/// and these requests are plain loopback HTTP).
pub(crate) struct Operator<'a> {
    app: &'a TestApp,
    http: reqwest::Client,
    cookies: Vec<(String, String)>,
}

impl<'a> Operator<'a> {
    pub(crate) fn new(app: &'a TestApp) -> Self {
        Self { app, http: app.http.clone(), cookies: Vec::new() }
    }

    /// An operator whose requests come from another loopback address.
    pub(crate) fn from_address(app: &'a TestApp, address: &str) -> Self {
        let client = reqwest::Client::builder()
            .local_address(address.parse::<std::net::IpAddr>().expect("an address"))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Self { app, http: client, cookies: Vec::new() }
    }

    /// An operator whose requests reach the app through a trusted proxy that names `client`.
    pub(crate) fn behind_proxy(app: &'a TestApp, client: &str) -> Self {
        let forwarded = header::HeaderMap::from_iter([(
            header::HeaderName::from_static("x-forwarded-for"),
            header::HeaderValue::from_str(client).expect("an address"),
        )]);
        let client = reqwest::Client::builder()
            .default_headers(forwarded)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Self { app, http: client, cookies: Vec::new() }
    }

    /// The `Cookie` header this operator sends, if any.
    pub(crate) fn cookie(&self) -> Option<String> {
        let pairs: Vec<String> = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
        (!pairs.is_empty()).then(|| pairs.join("; "))
    }

    /// The value of the console's session cookie, once there is one.
    pub(crate) fn session_id(&self) -> Option<String> {
        self.cookies.iter().find(|(k, _)| k == "__Host-console").map(|(_, v)| v.clone())
    }

    pub(crate) async fn get(&mut self, path: &str) -> (StatusCode, String) {
        let mut request = self.http.get(self.app.url(path));
        if let Some(c) = self.cookie() {
            request = request.header(header::COOKIE, c);
        }
        let response = request.send().await.unwrap();
        self.remember(&response);
        let status = response.status();
        (status, response.text().await.unwrap())
    }

    pub(crate) async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let mut request = self.http.post(self.app.url(path)).form(form);
        if let Some(c) = self.cookie() {
            request = request.header(header::COOKIE, c);
        }
        let response = request.send().await.unwrap();
        self.remember(&response);
        response
    }

    fn remember(&mut self, response: &reqwest::Response) {
        for set in response.headers().get_all(header::SET_COOKIE) {
            let set = set.to_str().unwrap();
            let Some((name, value)) = set.split(';').next().and_then(|pair| pair.split_once('=')) else { continue };
            self.cookies.retain(|(k, _)| k != name);
            if !set.contains("Max-Age=0") {
                self.cookies.push((name.to_string(), value.to_string()));
            }
        }
    }

    pub(crate) async fn csrf(&mut self, path: &str) -> String {
        let (_, html) = self.get(path).await;
        let marker = r#"name="csrf" value=""#;
        let start = html.find(marker).expect("a CSRF field") + marker.len();
        html[start..start + 64].to_string()
    }

    pub(crate) async fn log_in(&mut self, password: &str) -> reqwest::Response {
        let csrf = self.csrf("/console/login").await;
        self.post("/console/login", &[("user", "ops"), ("password", password), ("csrf", &csrf)]).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_pages_need_a_session_and_the_cookie_is_locked_down() {
    let app = console_app().start().await;
    let tenant = Tenant::new(&jira_site());
    app.host.install(&tenant).await;
    let mut op = Operator::new(&app);
    for path in
        ["/console", "/console/orphans", "/console/keys", &format!("/console/installations/{}", tenant.client_key)]
    {
        let response = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(response.headers()[header::LOCATION], "/console/login");
    }
    let login_page = app.http.get(app.url("/console/login")).send().await.unwrap();
    let login_cookie = login_page.headers()[header::SET_COOKIE].to_str().unwrap().to_string();
    assert!(login_cookie.starts_with("__Host-console-login="), "only the form's token before a login: {login_cookie}");
    let response = op.log_in(PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let set_cookies: Vec<String> =
        response.headers().get_all(header::SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_string()).collect();
    let session_cookie = set_cookies.iter().find(|c| c.starts_with("__Host-console=")).expect("a session cookie");
    for cookie in [&login_cookie, session_cookie] {
        for flag in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
            assert!(cookie.contains(flag), "{flag} missing from {cookie}");
        }
        assert!(!cookie.contains("Domain"), "a __Host- cookie has no Domain");
    }
    assert!(op.session_id().is_some());
    let (status, html) = op.get("/console").await;
    assert_eq!(status, 200);
    assert!(html.contains(&tenant.client_key));
    assert!(!html.contains(&tenant.shared_secret), "never a secret");
    let (status, detail) = op.get(&format!("/console/installations/{}", tenant.client_key)).await;
    assert_eq!(status, 200);
    assert!(detail.contains("installed") && !detail.contains(&tenant.shared_secret));
    let (_, found) = op.get(&format!("/console?q={}", &tenant.base_url[8..20])).await;
    assert!(found.contains(&tenant.client_key), "search by base URL");
    let (_, none) = op.get("/console?q=no-such-site").await;
    assert!(!none.contains(&tenant.client_key));
    let (status, keys) = op.get("/console/keys").await;
    assert_eq!(status, 200);
    assert!(keys.contains("primary"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_passwords_are_refused_then_throttled() {
    let app = console_app().start().await;
    let mut op = Operator::new(&app);
    for _ in 0..5 {
        assert_eq!(op.log_in("not the password").await.status(), StatusCode::UNAUTHORIZED);
    }
    let throttled = op.log_in(PASSWORD).await;
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS, "even the right password waits");
    assert!(throttled.headers().contains_key(header::RETRY_AFTER));
    // The guesses came from one address: the operator, elsewhere, is not locked out.
    let mut elsewhere = Operator::from_address(&app, "127.0.0.2");
    assert_eq!(
        elsewhere.log_in(PASSWORD).await.status(),
        StatusCode::SEE_OTHER,
        "the right password from a fresh address"
    );
}

/// Wrong logins from more IPv6 networks than the throttle's table holds (behind a trusted
/// proxy, as a cloud load balancer forwards them) fill it; the operator, from a network never
/// seen, still gets in. A table that refused new keys when full would lock the operator out
/// here. The flood is sized from the table, so a larger table cannot make the test vacuous.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_logs_in_after_a_flood_from_more_networks_than_the_throttle_holds() {
    use futures::StreamExt;
    let app = console_app().var("TRUSTED_PROXIES", "127.0.0.1").start().await;
    let token = "f".repeat(64);
    let cookie = format!("__Host-console-login={token}");
    let form = [("user", "ops"), ("password", "a guess"), ("csrf", token.as_str())];
    let (app_ref, cookie_ref, form_ref) = (&app, &cookie, &form);
    let networks = u32::try_from(server::console::LOGIN_THROTTLE_MAX_KEYS + 100).unwrap();
    let statuses: Vec<StatusCode> = futures::stream::iter(0..networks)
        .map(|n| async move {
            let request = app_ref.http.post(app_ref.url("/console/login")).form(form_ref);
            let request = request.header(header::COOKIE, cookie_ref);
            let request = request.header("x-forwarded-for", format!("2001:db8:{:x}:{:x}::1", n >> 16, n & 0xffff));
            request.send().await.unwrap().status()
        })
        .buffer_unordered(32)
        .collect()
        .await;
    let refused = |s: &StatusCode| *s == StatusCode::UNAUTHORIZED || *s == StatusCode::TOO_MANY_REQUESTS;
    assert!(statuses.iter().all(refused), "every guess is refused: {:?}", statuses.iter().find(|s| !refused(s)));
    let mut operator = Operator::behind_proxy(&app, "2001:db8:ffff:1::7");
    assert_eq!(operator.log_in(PASSWORD).await.status(), StatusCode::SEE_OTHER, "the operator gets in");
    assert_eq!(operator.get("/console").await.0, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_ends_the_session_on_the_server_and_forms_need_the_csrf_token() {
    let app = console_app().start().await;
    let mut op = Operator::new(&app);
    op.log_in(PASSWORD).await;
    let session_cookie = op.cookie().unwrap();
    assert_eq!(op.post("/console/logout", &[("csrf", "forged")]).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(op.get("/console").await.0, 200, "a forged logout changed nothing");

    let csrf = op.csrf("/console").await;
    assert_eq!(op.post("/console/logout", &[("csrf", &csrf)]).await.status(), StatusCode::SEE_OTHER);
    let replay = app.http.get(app.url("/console")).header(header::COOKIE, &session_cookie).send().await.unwrap();
    assert_eq!(replay.status(), StatusCode::SEE_OTHER, "the old cookie means nothing after logout");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_orphan_is_purged_now_only_with_the_csrf_token() {
    let app = console_app().start().await;
    let old = Tenant::new(&jira_site());
    app.host.install(&old).await;
    app.host.install(&Tenant::new(&old.base_url)).await;
    let mut op = Operator::new(&app);
    op.log_in(PASSWORD).await;
    let (_, orphans) = op.get("/console/orphans").await;
    assert!(orphans.contains(&old.client_key) && orphans.contains("Purge after"));
    let path = format!("/console/orphans/{}/purge", old.client_key);
    assert_eq!(op.post(&path, &[("csrf", "nope")]).await.status(), StatusCode::FORBIDDEN);
    assert!(app.installation(&old.client_key).await.is_some());
    let csrf = op.csrf("/console/orphans").await;
    assert_eq!(op.post(&path, &[("csrf", &csrf)]).await.status(), StatusCode::SEE_OTHER);
    assert!(app.installation(&old.client_key).await.is_none(), "purged now");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_expire_when_idle_and_after_their_absolute_lifetime() {
    let app = console_app().var("OPERATOR_SESSION_IDLE_SECS", "2").start().await;
    let mut op = Operator::new(&app);
    op.log_in(PASSWORD).await;
    assert_eq!(op.get("/console").await.0, 200);
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!(op.get("/console").await.0, StatusCode::SEE_OTHER, "idle expiry");

    let app = console_app().start().await;
    let mut op = Operator::new(&app);
    op.log_in(PASSWORD).await;
    assert_eq!(op.get("/console").await.0, 200);
    app.clock.advance(8 * 3600 + 1);
    assert_eq!(op.get("/console").await.0, StatusCode::SEE_OTHER, "absolute expiry");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_the_operator_credential_ends_existing_sessions() {
    let app = console_app().start().await;
    let mut op = Operator::new(&app);
    op.log_in(PASSWORD).await;
    assert_eq!(op.get("/console").await.0, 200);
    let cookie = op.cookie().unwrap();
    let db_url = app.db.url.clone();
    let key = app.encryption_key.clone();
    let new_hash = server::console::hash_password("a different long password").unwrap();
    let restarted = TestApp::builder(DbKind::Sqlite)
        .var("DATABASE_URL", db_url)
        .var("APP_ENCRYPTION_KEY", key)
        .var("OPERATOR_USER", "ops")
        .var("OPERATOR_PASSWORD_HASH", new_hash)
        .start()
        .await;
    let response = restarted.http.get(restarted.url("/console")).header(header::COOKIE, &cookie).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "a session made with the old password is over");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_failure_shows_an_error_page_not_an_empty_table() {
    let app = console_app().start().await;
    let tenant = Tenant::new(&jira_site());
    app.host.install(&tenant).await;
    let mut op = Operator::new(&app);
    op.log_in(PASSWORD).await;
    assert!(op.get("/console").await.1.contains(&tenant.client_key));
    // The operator's session lives on; the installations table does not.
    let server::store::Pool::Sqlite(pool) = &app.raw_db.pool else { unreachable!("the console app runs on SQLite") };
    sqlx::query("ALTER TABLE installations RENAME TO installations_gone").execute(pool).await.unwrap();
    let detail = format!("/console/installations/{}", tenant.client_key);
    for path in ["/console", "/console/orphans", "/console/keys", detail.as_str()] {
        let (status, page) = op.get(path).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{path}");
        assert!(page.contains(r#"id="console-error""#), "{path}: an error page: {page}");
        assert!(!page.contains("<table"), "{path}: no table pretending to be empty");
        assert!(page.contains("Log out") || page.contains("Operator console"), "{path}: in the console's layout");
    }
}

/// Asking for the login form, or sending it with a wrong token, writes no
/// session row: before a login succeeds the console keeps no state at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_session_row_exists_before_a_login_succeeds() {
    let app = console_app().start().await;
    let rows = || async {
        let server::store::Pool::Sqlite(pool) = &app.raw_db.pool else {
            unreachable!("the console app runs on SQLite")
        };
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM tower_sessions").fetch_one(pool).await.unwrap()
    };
    for _ in 0..50 {
        assert_eq!(app.http.get(app.url("/console/login")).send().await.unwrap().status(), StatusCode::OK);
    }
    let mut op = Operator::new(&app);
    assert_eq!(op.log_in("not the password").await.status(), StatusCode::UNAUTHORIZED);
    let forged = op.post("/console/login", &[("user", "ops"), ("password", PASSWORD), ("csrf", "forged")]).await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN, "the form's token must match its cookie");
    let mut no_cookie = Operator::new(&app);
    let token = no_cookie.csrf("/console/login").await;
    no_cookie.cookies.clear();
    let cookieless =
        no_cookie.post("/console/login", &[("user", "ops"), ("password", PASSWORD), ("csrf", &token)]).await;
    assert_eq!(cookieless.status(), StatusCode::FORBIDDEN, "a token without its cookie is refused");
    assert_eq!(rows().await, 0, "no session row before a login");
    assert_eq!(op.log_in(PASSWORD).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(rows().await, 1, "one row for the logged-in operator");
    assert!(op.cookie().is_some_and(|c| !c.contains("__Host-console-login")), "the form's token is spent");
}
