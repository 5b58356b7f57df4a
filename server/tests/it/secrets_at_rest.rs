//! Shared secrets at rest (seed 004): bound to their tenant, unusable without
//! the key, re-encryptable under a new key while the app serves, and never
//! in logs.

use hostkit::Tenant;
use server::{
    maintenance,
    secrets::{AppKey, Keyring},
    store::{Pool, installations},
};

use crate::{
    on_both_databases,
    support::{
        app::{APP_KEY, TestApp, jira_site},
        db::DbKind,
        process::{ServerProcess, base_env},
        rows::dump,
    },
};

/// Every form in which `secret` could leak into storage: as it is, in hex
/// (either case) and in base64 (standard or URL-safe, padded or not).
fn encodings(secret: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    use base64::engine::{
        Engine,
        general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD},
    };
    vec![
        ("raw", secret.to_vec()),
        ("hex", hex::encode(secret).into_bytes()),
        ("HEX", hex::encode_upper(secret).into_bytes()),
        ("base64", STANDARD.encode(secret).into_bytes()),
        ("base64 unpadded", STANDARD_NO_PAD.encode(secret).into_bytes()),
        ("base64url", URL_SAFE.encode(secret).into_bytes()),
        ("base64url unpadded", URL_SAFE_NO_PAD.encode(secret).into_bytes()),
    ]
}

/// Every byte the app stored: each table's rows and, for SQLite, the
/// database file and its write-ahead log as they are on disk.
async fn stored_bytes(app: &TestApp) -> Vec<u8> {
    let mut bytes = dump(&app.raw_db).await;
    if let Some(path) = app.database_url().strip_prefix("sqlite://") {
        bytes.extend(std::fs::read(path).expect("the database file"));
        bytes.extend(std::fs::read(format!("{path}-wal")).unwrap_or_default());
    }
    bytes
}

/// Fails unless `secret` is absent from `stored` in every encoding.
fn assert_nowhere(stored: &[u8], what: &str, secret: &[u8]) {
    for (encoding, needle) in encodings(secret) {
        let found = stored.windows(needle.len()).any(|w| w == needle.as_slice());
        assert!(!found, "the {what} is stored in clear ({encoding})");
    }
}

async fn a_ciphertext_copied_to_another_tenant_does_not_open(kind: DbKind) {
    let app = TestApp::spawn(kind).await;
    let a = Tenant::new(&jira_site());
    let b = Tenant::new(&jira_site());
    assert_eq!(app.host.install(&a).await.status(), 204);
    assert_eq!(app.host.install(&b).await.status(), 204);
    // A is stored, sealed under the app's key, and opens before the copy.
    let key_id = AppKey::from_base64(&app.encryption_key).unwrap().id().to_string();
    let a_row = app.installation(&a.client_key).await.expect("A is stored");
    let a_sealed = &a_row.connect.as_ref().expect("A is a Connect tenant").secret;
    assert_eq!(a_sealed.key_id, key_id, "A's secret is sealed under the app's key");
    let sealed = a_sealed.ciphertext.clone();
    assert!(sealed.len() > a.shared_secret.len(), "a nonce and a tag beside the ciphertext");
    assert_nowhere(&sealed, "shared secret of A", a.shared_secret.as_bytes());
    assert_eq!(app.host.toggle(&a, "enabled").await.status(), 204, "A's own secret works before the copy");
    let b_row = app.installation(&b.client_key).await.unwrap();
    let b_sealed = b_row.connect.expect("B is a Connect tenant").secret;
    let sql = "UPDATE installations SET secret_ciphertext = $1, secret_key_id = $2 WHERE client_key = $3";
    match &app.raw_db.pool {
        Pool::Sqlite(p) => sqlx::query(sql)
            .bind(&b_sealed.ciphertext)
            .bind(&b_sealed.key_id)
            .bind(&a.client_key)
            .execute(p)
            .await
            .map(drop),
        Pool::Postgres(p) => sqlx::query(sql)
            .bind(&b_sealed.ciphertext)
            .bind(&b_sealed.key_id)
            .bind(&a.client_key)
            .execute(p)
            .await
            .map(drop),
    }
    .unwrap();
    let a_with_b_secret = Tenant { shared_secret: b.shared_secret.clone(), ..a.clone() };
    assert_eq!(
        app.host.toggle(&a_with_b_secret, "disabled").await.status(),
        401,
        "B's secret must not work for A (D-02)"
    );
    assert_eq!(app.host.toggle(&a, "disabled").await.status(), 401, "A's row no longer opens");
}
on_both_databases!(a_ciphertext_copied_to_another_tenant_does_not_open);

fn new_key() -> String {
    AppKey::generate_base64().unwrap()
}

async fn a_key_rotation_re_encrypts_every_row_while_the_app_serves(kind: DbKind) {
    let k1 = new_key();
    let k2 = new_key();
    let first = TestApp::builder(kind).var("APP_ENCRYPTION_KEY", k1.clone()).start().await;
    let tenants: Vec<Tenant> = (0..5).map(|_| Tenant::new(&jira_site())).collect();
    for t in &tenants {
        assert_eq!(first.host.install(t).await.status(), 204);
    }
    let db_url = first.db.url.clone();
    let cdn = first.host.key_server.url();
    let on_same_db = |key: String, previous: Option<String>| {
        let app = TestApp::builder(kind)
            .var("DATABASE_URL", db_url.clone())
            .var("CONNECT_KEYS_CDN_URL", cdn.clone())
            .var("APP_ENCRYPTION_KEY", key);
        match previous {
            Some(p) => app.var("APP_ENCRYPTION_KEY_PREVIOUS", p),
            None => app,
        }
    };
    // D-03: an instance with another key cannot use the rows, and never falls back.
    let wrong = on_same_db(new_key(), None).start().await;
    assert_eq!(wrong.host.toggle(&tenants[0], "disabled").await.status(), 401);

    // Rolling restart with k2 primary and k1 previous, then re-encrypt live.
    let rotating = on_same_db(k2.clone(), Some(k1.clone())).start().await;
    let keyring = Keyring::new(AppKey::from_base64(&k2).unwrap(), vec![AppKey::from_base64(&k1).unwrap()]);
    let report = maintenance::reencrypt_all(&rotating.raw_db, &keyring).await.unwrap();
    assert_eq!(report.reencrypted, 5);
    let ids = installations::key_ids_in_use(&rotating.raw_db).await.unwrap();
    assert_eq!(ids, vec![(keyring.primary().id().to_string(), 5)], "every row shows k2");
    assert_eq!(rotating.host.toggle(&tenants[0], "disabled").await.status(), 204);

    // k1 removed: everything still verifies.
    let after = on_same_db(k2.clone(), None).start().await;
    for t in &tenants[1..] {
        assert_eq!(after.host.toggle(t, "disabled").await.status(), 204);
    }
    // D-06: neither key is in the database, in any encoding, nor a secret in clear.
    let raw = stored_bytes(&after).await;
    for (what, key) in [("old key", &k1), ("new key", &k2)] {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD.decode(key).unwrap();
        assert_nowhere(&raw, what, &bytes);
    }
    for t in &tenants {
        assert_nowhere(&raw, "shared secret", t.shared_secret.as_bytes());
    }
}
on_both_databases!(a_key_rotation_re_encrypts_every_row_while_the_app_serves);

/// D-05: the real binary at RUST_LOG=trace through a full flow, forged
/// requests included; its whole output must hold no secret, token or key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_token_or_key_appears_in_trace_logs() {
    let dir = tempfile::tempdir().unwrap();
    let (base_url, mut vars) = base_env(dir.path());
    let host = hostkit::Host::start(&base_url, APP_KEY).await;
    let forge = hostkit::ForgeJwks::start().await;
    let forge_app = hostkit::forge::app_id();
    let key = new_key();
    vars.insert("CONNECT_KEYS_CDN_URL".into(), host.key_server.url());
    vars.insert("FORGE_APP_ID".into(), forge_app.clone());
    vars.insert("FORGE_JWKS_URL".into(), forge.url.clone());
    vars.insert("APP_ENCRYPTION_KEY".into(), key.clone());
    vars.insert("RUST_LOG".into(), "trace".into());
    let server = ServerProcess::start(dir, base_url.clone(), vars).await;

    let installation = hostkit::forge::installation_id();
    let tenant = Tenant { installation_id: Some(installation.clone()), ..Tenant::new(&jira_site()) };
    let token = host.install_token(&tenant, "installed");
    assert_eq!(
        host.post_lifecycle("installed", &host.body(&tenant, "installed"), Some(format!("JWT {token}"))).await.status(),
        204
    );
    host.toggle(&tenant, "enabled").await;
    // A Forge call with the app's system token (FT-11).
    let fit = forge.fit("forge-1", &forge_app, &installation, Some("user-1"));
    let system_token = format!("system-token-{}", hostkit::random_hex(24));
    let forge_call = reqwest::Client::new()
        .post(format!("{base_url}/api/me/identity"))
        .header("authorization", format!("Bearer {fit}"))
        .header("x-forge-oauth-system", &system_token);
    assert_eq!(forge_call.send().await.unwrap().status(), 200);
    let forged = tenant.with_new_secret();
    let forged_token = forged.sign(&forged.claims("POST", "/installed", &[], None));
    host.post_lifecycle("installed", &host.body(&forged, "installed"), Some(format!("JWT {forged_token}"))).await;
    host.toggle(&forged, "disabled").await;
    host.uninstall(&tenant).await;

    let logs = server.stop();
    assert!(logs.contains("lifecycle event"), "the server's logs were not captured: {}", &logs[..logs.len().min(500)]);
    for (what, secret) in [
        ("shared secret", tenant.shared_secret.as_str()),
        ("forged secret", forged.shared_secret.as_str()),
        ("install JWT", token.as_str()),
        ("forged JWT", forged_token.as_str()),
        ("Forge Invocation Token", fit.as_str()),
        ("Forge system token", system_token.as_str()),
        ("encryption key", key.as_str()),
    ] {
        assert!(!logs.contains(secret), "the {what} appears in the logs");
    }
}
