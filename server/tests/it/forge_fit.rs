//! Forge Invocation Tokens on the app's server functions: a Connect tenant
//! joined to its Forge installationId by a signed install is reached through
//! a FIT, the user taken from its principal (FT-01); every forged, stale or
//! misplaced FIT is refused with 401 and changes nothing (FT-02 to FT-05,
//! FT-07); Forge's keys rotate, and a flood of made-up kids neither blocks a
//! genuine new key nor floods the JWKS (FT-05, FT-06).

use std::time::{Duration, Instant};

use hostkit::{ForgeJwks, InstallKey, Tenant, forge, jwt}; // no-demo: use hostkit::{ForgeJwks, Tenant, forge, jwt};
use serde_json::{Value, json}; // no-demo: use serde_json::Value;
use server::connect::forge_event::ForgeEvent;

use crate::{
    on_both_databases, // demo
    support::{
        app::{TestApp, jira_site},
        db::DbKind,
        rows::Unchanged, // demo
    },
};

struct ForgeApp {
    app: TestApp,
    forge: ForgeJwks,
    app_id: String,
    tenant: Tenant,
    installation: String,
}

/// The app with Forge support on, and a Connect-on-Forge tenant installed by
/// a signed `installed` callback that carries its installationId.
async fn forge_app(kind: DbKind) -> ForgeApp {
    let forge = ForgeJwks::start().await;
    let app_id = forge::app_id();
    let app = TestApp::builder(kind)
        .var("FORGE_APP_ID", app_id.clone())
        .var("FORGE_JWKS_URL", forge.url.clone())
        .start()
        .await;
    let installation = forge::installation_id();
    let tenant = Tenant { installation_id: Some(installation.clone()), ..Tenant::new(&jira_site()) };
    assert_eq!(app.host.install(&tenant).await.status(), 204);
    ForgeApp { app, forge, app_id, tenant, installation }
}

impl ForgeApp {
    async fn with_fit(&self, fit: &str, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
        self.app.call(path, Some(&format!("Bearer {fit}")), form).await
    }

    fn fit(&self, principal: Option<&str>) -> String {
        self.forge.fit("forge-1", &self.app_id, &self.installation, principal)
    }

    /// The tenant's Forge installation, as its FITs describe it.
    fn install(&self) -> forge::ForgeInstall {
        let site = forge::ForgeInstall::new(&self.app_id, "c0ffee", "https://api.atlassian.com/ex/jira/c0ffee");
        forge::ForgeInstall { installation_id: self.installation.clone(), ..site }
    }

    /// Forge's hourly trigger, with `system_token` as its endpoint asks.
    async fn hourly_with(&self, system_token: &str) {
        let url = self.app.url(ForgeEvent::Hourly.path());
        let install = self.install();
        let delivered = self.forge.deliver(&url, &install, ForgeEvent::Hourly.as_str(), Some(system_token), 0);
        assert_eq!(delivered.await.status(), 204);
    }
}

// demo:begin
async fn a_connect_tenant_is_reached_through_a_fit_after_its_signed_install(kind: DbKind) {
    let f = forge_app(kind).await;
    let session = f.app.session_for(&f.tenant, "user-1").await;
    let (status, _) = f.app.call_as(&session, "/api/notes/create", &[("title", "From Connect"), ("body", "")]).await;
    assert_eq!(status, 200);

    let (status, notes) = f.with_fit(&f.fit(Some("user-1")), "/api/notes/list", &[]).await;
    assert_eq!(status, 200, "{notes}");
    assert_eq!(notes[0]["title"], "From Connect", "the same tenant's notes");
    assert_eq!(notes[0]["mine"], true, "the principal is the user");
    let (status, created) =
        f.with_fit(&f.fit(Some("user-1")), "/api/notes/create", &[("title", "From Forge"), ("body", "")]).await;
    assert_eq!((status, created["author_account_id"].as_str()), (200, Some("user-1")));

    // No principal: no user. Reading works, writing (user-only) is refused.
    assert_eq!(f.with_fit(&f.fit(None), "/api/notes/list", &[]).await.0, 200);
    assert_eq!(f.with_fit(&f.fit(None), "/api/notes/create", &[("title", "x"), ("body", "")]).await.0, 403);
    // A FIT never buys a session token.
    assert_eq!(f.with_fit(&f.fit(Some("user-1")), "/api/session/renew", &[]).await.0, 403);
}
on_both_databases!(a_connect_tenant_is_reached_through_a_fit_after_its_signed_install);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_stale_and_misplaced_fits_are_refused_and_change_nothing() {
    let f = forge_app(DbKind::Sqlite).await;
    let now = hostkit::now();
    let claims = || forge::fit_claims(&f.app_id, &f.installation, Some("user-1"));
    let with = |key: &str, value: Value| {
        let mut c = claims();
        c[key] = value;
        c
    };
    let ghost = InstallKey::generate("ghost");
    let mut expired = with("exp", json!(now - 60));
    expired["iat"] = json!(now - 90);
    expired["nbf"] = json!(now - 90);
    let hs256_with_public_key = jwt::raw(
        r#"{"alg":"HS256","typ":"JWT","kid":"forge-1"}"#,
        &claims().to_string(),
        Some((
            &jsonwebtoken::EncodingKey::from_secret(f.forge.public_pem("forge-1").as_bytes()),
            jsonwebtoken::Algorithm::HS256,
        )),
    );
    let battery: Vec<(&str, String)> = vec![
        ("expired", f.forge.sign("forge-1", &expired)),
        ("not yet valid", f.forge.sign("forge-1", &with("nbf", json!(now + 120)))),
        ("wrong aud", f.forge.sign("forge-1", &with("aud", json!(forge::app_id())))),
        ("wrong iss", f.forge.sign("forge-1", &with("iss", json!("forge/other-token")))),
        ("alg none", jwt::raw(r#"{"alg":"none","kid":"forge-1"}"#, &claims().to_string(), None) + "AAAA"),
        ("HS256 under the JWKS public key", hs256_with_public_key),
        ("a kid the JWKS does not have", jwt::rs256(&claims(), &ghost)),
        (
            "an installation never seen verified",
            f.forge.fit("forge-1", &f.app_id, &forge::installation_id(), Some("user-1")),
        ),
    ];
    for (what, fit) in &battery {
        let unchanged = Unchanged::record(&f.app.raw_db).await;
        let (status, body) = f.with_fit(fit, "/api/notes/create", &[("title", "forged"), ("body", "")]).await;
        assert_eq!(status, 401, "{what}: {body}");
        assert_eq!(body, "Unauthorized", "{what}: the same body as every refusal");
        unchanged.check(what).await;
    }
    // In the query string, and two tokens at once.
    let fit = f.fit(Some("user-1"));
    let unchanged = Unchanged::record(&f.app.raw_db).await;
    let in_query = f.app.http.post(f.app.url(&format!("/api/notes/list?jwt={fit}"))).send().await.unwrap();
    assert_eq!(in_query.status(), 401, "a FIT in the query string");
    unchanged.check("a FIT in the query string").await;
    let two = f
        .app
        .http
        .post(f.app.url("/api/notes/list"))
        .header("authorization", format!("Bearer {fit}"))
        .header("authorization", format!("Bearer {fit}"))
        .send()
        .await
        .unwrap();
    assert_eq!(two.status(), 401, "two tokens at once");
    unchanged.check("two FITs at once").await;

    let session = f.app.session_for(&f.tenant, "user-1").await;
    let (_, notes) = f.app.call_as(&session, "/api/notes/list", &[]).await;
    assert_eq!(notes, json!([]), "nothing was written");
}
// demo:end

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_kid_costs_one_fetch_and_a_rotated_key_is_found_despite_a_flood() {
    let f = forge_app(DbKind::Sqlite).await;
    assert_eq!(f.with_fit(&f.fit(Some("user-1")), "/api/me/identity", &[]).await.0, 200);
    let after_first = f.forge.fetches();
    assert_eq!(after_first, 1, "the key set is fetched once, then cached");
    assert_eq!(f.with_fit(&f.fit(Some("user-1")), "/api/me/identity", &[]).await.0, 200);
    assert_eq!(f.forge.fetches(), 1, "a known kid costs no fetch");

    // 200 made-up kids, at once: refused, and the JWKS host barely notices.
    let claims = forge::fit_claims(&f.app_id, &f.installation, Some("user-1")).to_string();
    let flood = (0..200).map(|i| {
        let fit = jwt::raw(&format!(r#"{{"alg":"RS256","kid":"made-up-{i}"}}"#), &claims, None) + "c2ln";
        let f = &f;
        async move { f.with_fit(&fit, "/api/me/identity", &[]).await.0 }
    });
    let statuses = futures::future::join_all(flood).await;
    assert!(statuses.iter().all(|s| *s == 401), "made-up kids are refused: {statuses:?}");
    assert!(f.forge.fetches() <= after_first + 1, "at most one refetch per interval: {}", f.forge.fetches());

    // Forge rotates right after the flood's refetch: the first FIT under the
    // new key waits for the next refetch and is accepted, never refused.
    f.forge.add_key("forge-2");
    let rotated = f.forge.fit("forge-2", &f.app_id, &f.installation, Some("user-1"));
    let started = Instant::now();
    assert_eq!(f.with_fit(&rotated, "/api/me/identity", &[]).await.0, 200, "the genuine new key, first time");
    assert!(started.elapsed() < Duration::from_secs(7), "it waited {:?}", started.elapsed());
    assert!(f.forge.fetches() <= after_first + 2, "fetches stay bounded: {}", f.forge.fetches());
}

/// A system token as Forge sends one: a JWT whose `exp` the app reads.
fn system_token(exp: i64) -> String {
    use base64::Engine;
    let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!(r#"{{"exp":{exp}}}"#));
    format!("eyJhbGciOiJSUzI1NiJ9.{claims}.system-{}", hostkit::random_hex(16))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_newest_system_token_is_kept_sealed_and_never_in_clear() {
    let f = forge_app(DbKind::Sqlite).await;
    let now = hostkit::now();
    let tenant_id = f.app.installation(&f.tenant.client_key).await.unwrap().tenant_id;
    let stored = || async {
        let server::store::Pool::Sqlite(pool) = &f.app.raw_db.pool else { unreachable!() };
        let row: Option<(i64, Vec<u8>)> =
            sqlx::query_as("SELECT expires_at, token_ciphertext FROM forge_system_tokens WHERE tenant_id = $1")
                .bind(tenant_id.as_str())
                .fetch_optional(pool)
                .await
                .unwrap();
        row
    };
    let (first, newer, older) = (system_token(now + 3600), system_token(now + 7200), system_token(now + 1800));
    f.hourly_with(&first).await;
    let (expires, sealed) = stored().await.expect("the token is kept");
    assert_eq!(expires, now + 3600, "with its own expiry");
    assert!(!sealed.windows(first.len()).any(|w| w == first.as_bytes()), "sealed, not in clear");
    f.hourly_with(&newer).await;
    assert_eq!(stored().await.unwrap().0, now + 7200, "a longer-lived token replaces it");
    f.hourly_with(&older).await;
    assert_eq!(stored().await.unwrap().0, now + 7200, "a shorter-lived one does not");

    // A page's call names its own headers: a token it made up is never kept.
    let made_up = system_token(now + 4 * 3600);
    let call = f.app.http.post(f.app.url("/api/me/identity")).bearer_auth(f.fit(Some("user-1")));
    assert_eq!(call.header("x-forge-oauth-system", &made_up).send().await.unwrap().status(), 200);
    assert_eq!(stored().await.unwrap().0, now + 7200, "a UI call's system token header is ignored");

    let path = f.app.db.url.trim_start_matches("sqlite://").to_string();
    let mut file = std::fs::read(&path).unwrap();
    file.extend(std::fs::read(format!("{path}-wal")).unwrap_or_default());
    for token in [&first, &newer, &older, &made_up] {
        let secret_part = token.rsplit('.').next().unwrap();
        assert!(!file.windows(secret_part.len()).any(|w| w == secret_part.as_bytes()), "no token in the database file");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_rotation_re_seals_the_system_tokens_too() {
    use server::secrets::{AppKey, Keyring};
    let f = forge_app(DbKind::Sqlite).await;
    f.hourly_with(&system_token(hostkit::now() + 3600)).await;
    let key_id = || async {
        let server::store::Pool::Sqlite(pool) = &f.app.raw_db.pool else { unreachable!() };
        let (id,): (String,) =
            sqlx::query_as("SELECT token_key_id FROM forge_system_tokens").fetch_one(pool).await.unwrap();
        id
    };
    let old = AppKey::from_base64(&f.app.encryption_key).unwrap();
    assert_eq!(key_id().await, old.id());

    let new = AppKey::from_base64(&AppKey::generate_base64().unwrap()).unwrap();
    let new_id = new.id().to_string();
    let keyring = Keyring::new(new, vec![old]);
    let report = server::maintenance::reencrypt_all(&f.app.raw_db, &keyring).await.unwrap();
    assert_eq!(report.reencrypted, 2, "the shared secret and the system token: {report:?}");
    assert_eq!(key_id().await, new_id, "the token is sealed under the new key");
}
