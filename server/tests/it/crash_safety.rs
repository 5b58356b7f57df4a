//! `kill -9` of the real server binary in the middle of installs, uninstalls
//! and (with the demo) note writes, 20 times on each database (`SOAK_ITERATIONS` times under
//! `cargo xtask soak`): after each restart every acknowledged write is there
//! and the database is sound (SQLite's integrity check). And `kill -9` of
//! `server rotate-key` part-way: the next run resumes where it stopped.

use std::{
    collections::{HashMap, HashSet},
    process::{Command, Stdio},
    sync::{Arc, Mutex},
    time::Duration,
};

use futures::{StreamExt, stream};

use hostkit::{Host, Tenant};

use crate::{
    on_both_databases,
    support::{
        app::{APP_KEY, jira_site},
        db::{DbKind, TestDb, random_hex},
        process::{ServerProcess, base_env},
    },
};

fn iterations() -> usize {
    std::env::var("SOAK_ITERATIONS").ok().and_then(|n| n.parse().ok()).unwrap_or(20)
}

/// What the server acknowledged before it was killed.
#[derive(Default)]
struct Acknowledged {
    installed: Vec<String>,
    uninstalled: Vec<String>,
    notes: Vec<String>, // demo
}

fn key() -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(hex::decode(random_hex(32)).unwrap())
}

/// A signed lifecycle callback; true if the server acknowledged it (204).
async fn lifecycle(host: &Host, http: &reqwest::Client, base_url: &str, tenant: &Tenant, event: &str) -> bool {
    let token = host.install_token(tenant, event);
    let request = http.post(format!("{base_url}/{event}")).json(&host.body(tenant, event));
    let sent = request.header("authorization", format!("JWT {token}")).timeout(Duration::from_secs(2)).send().await;
    sent.is_ok_and(|r| r.status() == 204)
}

/// Installs new tenants, uninstalls one of each pair and writes notes, until
/// the server dies under it.
// demo:begin
async fn load(host: &Host, http: &reqwest::Client, base_url: &str, token: &str, done: &Mutex<Acknowledged>) {
    // demo:end
    // no-demo: async fn load(host: &Host, http: &reqwest::Client, base_url: &str, done: &Mutex<Acknowledged>) {
    for i in 0.. {
        let tenant = Tenant::new(&jira_site());
        if !lifecycle(host, http, base_url, &tenant, "installed").await {
            return;
        }
        done.lock().unwrap().installed.push(tenant.client_key.clone());
        if i % 2 == 1 && lifecycle(host, http, base_url, &tenant, "uninstalled").await {
            done.lock().unwrap().uninstalled.push(tenant.client_key.clone());
        }
        // demo:begin
        let title = format!("note-{}", random_hex(6));
        let form = [("title", title.as_str()), ("body", "b")];
        let created = http.post(format!("{base_url}/api/notes/create")).header("authorization", format!("JWT {token}"));
        match created.form(&form).timeout(Duration::from_secs(2)).send().await {
            Ok(r) if r.status() == 200 => done.lock().unwrap().notes.push(title),
            _ => return,
        }
        // demo:end
    }
}

/// The installations and their states, and the database's own check, as stored.
async fn stored(url: &str) -> (HashMap<String, String>, String) {
    let db = server::store::Database::connect(url).await.expect("open the database after the crash");
    let states = "SELECT client_key, state FROM installations";
    let (states, check) = match &db.pool {
        server::store::Pool::Sqlite(pool) => (
            sqlx::query_as(states).fetch_all(pool).await.unwrap(),
            sqlx::query_scalar("PRAGMA integrity_check").fetch_one(pool).await.unwrap(),
        ),
        server::store::Pool::Postgres(pool) => {
            (sqlx::query_as(states).fetch_all(pool).await.unwrap(), postgres_integrity(pool).await)
        }
    };
    (states.into_iter().collect(), check)
}

// demo:begin
/// The note titles, as stored.
async fn stored_notes(url: &str) -> Vec<String> {
    let db = server::store::Database::connect(url).await.expect("open the database after the crash");
    let query = "SELECT title FROM notes";
    match &db.pool {
        server::store::Pool::Sqlite(pool) => sqlx::query_scalar(query).fetch_all(pool).await.unwrap(),
        server::store::Pool::Postgres(pool) => sqlx::query_scalar(query).fetch_all(pool).await.unwrap(),
    }
}
// demo:end

/// PostgreSQL's own checks (`amcheck`): every heap page of the app's tables
/// and every B-tree index against its table. "ok", or what they found.
async fn postgres_integrity(pool: &sqlx::PgPool) -> String {
    sqlx::query("CREATE EXTENSION IF NOT EXISTS amcheck").execute(pool).await.expect("amcheck (PostgreSQL contrib)");
    let heap: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname || ': ' || v.msg FROM pg_class c CROSS JOIN LATERAL verify_heapam(c.oid) v \
         WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace",
    )
    .fetch_all(pool)
    .await
    .expect("verify_heapam");
    // bt_index_check raises an error on the first corrupt index.
    let indexes: Result<Vec<i64>, sqlx::Error> = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT bt_index_check(c.oid, true) FROM pg_class c JOIN pg_am a ON a.oid = c.relam \
         WHERE c.relkind = 'i' AND a.amname = 'btree' AND c.relnamespace = 'public'::regnamespace) checked",
    )
    .fetch_all(pool)
    .await;
    match (heap.is_empty(), indexes) {
        (true, Ok(checked)) if checked.first().is_some_and(|n| *n > 0) => "ok".to_string(),
        (_, Ok(checked)) => format!("heap: {heap:?}; {checked:?} indexes checked"),
        (_, Err(e)) => format!("heap: {heap:?}; an index check failed: {e}"),
    }
}

async fn every_acknowledged_write_survives_kill_9(kind: DbKind) {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(kind).await;
    let (base_url, mut vars) = base_env(dir.path());
    let host = Host::start(&base_url, APP_KEY).await;
    vars.insert("DATABASE_URL".into(), db.url.clone());
    vars.insert("APP_ENCRYPTION_KEY".into(), key());
    vars.insert("APP_SESSION_KEY".into(), key());
    vars.insert("CONNECT_KEYS_CDN_URL".into(), host.key_server.url());
    vars.insert("CONNECT_HOST_ALLOWLIST".into(), "http://localhost:*,https://*.atlassian.net".into());
    let http = reqwest::Client::new();
    let done = Arc::new(Mutex::new(Acknowledged::default()));

    let server = ServerProcess::start_in(dir.path(), &base_url, &vars).await;
    let author = Tenant::new(&jira_site());
    assert!(lifecycle(&host, &http, &base_url, &author, "installed").await);
    // demo:begin
    let page = http.get(host.page_url(&author, "/app", &[], Some("user-1"))).send().await.unwrap();
    let html = page.text().await.unwrap();
    let token = html.split(r#"<meta name="token" content=""#).nth(1).and_then(|t| t.split('"').next()).unwrap();
    let token = token.to_string();
    // demo:end
    let mut server = Some(server);

    let iterations = iterations();
    for iteration in 0..iterations {
        let running = match server.take() {
            Some(first) => first,
            None => ServerProcess::start_in(dir.path(), &base_url, &vars).await,
        };
        // demo:begin
        let writer = {
            let (host, http, base_url, token, done) = (&host, &http, &base_url, &token, &done);
            async move { load(host, http, base_url, token, done).await }
        };
        // demo:end
        // no-demo: let writer = load(&host, &http, &base_url, &done);
        let kill = async {
            tokio::time::sleep(Duration::from_millis(100 + 37 * (iteration as u64 % 7))).await;
            running.kill_hard();
        };
        tokio::join!(writer, kill);

        let (states, check) = stored(&db.url).await;
        let notes = stored_notes(&db.url).await; // demo
        assert_eq!(check, "ok", "iteration {iteration}: the database file is sound");
        let done = done.lock().unwrap();
        for client_key in &done.installed {
            assert!(states.contains_key(client_key), "iteration {iteration}: acknowledged install {client_key} lost");
        }
        for client_key in &done.uninstalled {
            assert_eq!(states[client_key], "uninstalled", "iteration {iteration}: acknowledged uninstall lost");
        }
        // demo:begin
        let missing: Vec<_> = done.notes.iter().filter(|t| !notes.contains(t)).collect();
        assert!(missing.is_empty(), "iteration {iteration}: acknowledged notes lost: {missing:?}");
        // demo:end
    }
    let done = done.lock().unwrap();
    assert!(done.installed.len() > iterations, "the load did work: {} installs", done.installed.len());
    let (installs, uninstalls) = (done.installed.len(), done.uninstalled.len());
    println!("{kind:?}: {iterations} kill -9s, {installs} installs, {uninstalls} uninstalls acknowledged, all kept");
    println!("{kind:?}: and {} notes acknowledged, all kept", done.notes.len()); // demo
}
on_both_databases!(every_acknowledged_write_survives_kill_9);

/// The key id each installation's secret is sealed under.
async fn key_ids(url: &str) -> HashMap<String, String> {
    let db = server::store::Database::connect(url).await.expect("open the database");
    let query = "SELECT client_key, secret_key_id FROM installations";
    let rows: Vec<(String, String)> = match &db.pool {
        server::store::Pool::Sqlite(pool) => sqlx::query_as(query).fetch_all(pool).await.unwrap(),
        server::store::Pool::Postgres(pool) => sqlx::query_as(query).fetch_all(pool).await.unwrap(),
    };
    rows.into_iter().collect()
}

/// How many of `tenants` the server at `host` lets open a verified page.
async fn verified_pages(host: &Host, http: &reqwest::Client, tenants: &[Tenant]) -> usize {
    let pages = stream::iter(tenants).map(|tenant| async move {
        let page = http.get(host.page_url(tenant, "/app", &[], Some("user-1"))).send().await;
        page.is_ok_and(|r| r.status() == 200)
    });
    pages.buffer_unordered(8).filter(|ok| std::future::ready(*ok)).count().await
}

/// `server rotate-key`, killed with `kill -9` after `after` unless it is
/// done by then. True if it finished on its own.
async fn rotate_until_killed(dir: &std::path::Path, vars: &HashMap<String, String>, after: Duration) -> bool {
    let mut rotation = Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("rotate-key")
        .env_clear()
        .envs(vars)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start rotate-key");
    tokio::time::sleep(after).await;
    let finished = rotation.try_wait().unwrap().is_some_and(|status| status.success());
    let _ = rotation.kill();
    let _ = rotation.wait();
    finished
}

/// Secrets sealed under an old key, then `rotate-key` killed later and later
/// until a run finishes: after every kill each secret is under one key or
/// the other and opens (every tenant still verifies on the serving app), no
/// secret goes back, and the run that finishes leaves them all under the new
/// key, which then verifies them alone.
async fn a_key_rotation_killed_part_way_resumes(kind: DbKind) {
    const TENANTS: usize = 200;
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(kind).await;
    let (base_url, mut vars) = base_env(dir.path());
    let host = Host::start(&base_url, APP_KEY).await;
    let (old_key, new_key) = (key(), key());
    vars.insert("DATABASE_URL".into(), db.url.clone());
    vars.insert("APP_ENCRYPTION_KEY".into(), old_key.clone());
    vars.insert("APP_SESSION_KEY".into(), key());
    vars.insert("CONNECT_KEYS_CDN_URL".into(), host.key_server.url());
    vars.insert("CONNECT_HOST_ALLOWLIST".into(), "http://localhost:*,https://*.atlassian.net".into());
    let http = reqwest::Client::new();
    let server = ServerProcess::start_in(dir.path(), &base_url, &vars).await;
    let tenants: Vec<Tenant> = (0..TENANTS).map(|_| Tenant::new(&jira_site())).collect();
    for tenant in &tenants {
        assert!(lifecycle(&host, &http, &base_url, tenant, "installed").await, "install {}", tenant.client_key);
    }
    server.kill_hard();
    let before = key_ids(&db.url).await;
    let old_ids: HashSet<&String> = before.values().collect();
    assert_eq!((before.len(), old_ids.len()), (TENANTS, 1), "every secret under the old key");

    vars.insert("APP_ENCRYPTION_KEY".into(), new_key);
    vars.insert("APP_ENCRYPTION_KEY_PREVIOUS".into(), old_key);
    let server = ServerProcess::start_in(dir.path(), &base_url, &vars).await;
    let (mut rotated_before, mut killed_part_way) = (HashSet::new(), 0);
    for attempt in 1..=200u64 {
        let finished = rotate_until_killed(dir.path(), &vars, Duration::from_millis(10 * attempt)).await;
        let ids = key_ids(&db.url).await;
        let rotated: HashSet<String> =
            ids.iter().filter(|(_, id)| !old_ids.contains(id)).map(|(k, _)| k.clone()).collect();
        let distinct: HashSet<&String> = ids.values().collect();
        assert!(distinct.len() <= 2 && ids.len() == TENANTS, "attempt {attempt}: keys {distinct:?}");
        assert!(rotated.is_superset(&rotated_before), "attempt {attempt}: a re-sealed secret went back");
        assert_eq!(verified_pages(&host, &http, &tenants).await, TENANTS, "attempt {attempt}: a tenant fails");
        if !finished && rotated.len() > rotated_before.len() && rotated.len() < TENANTS {
            killed_part_way += 1;
        }
        rotated_before = rotated;
        if finished {
            assert_eq!(rotated_before.len(), TENANTS, "a finished rotation leaves every secret under the new key");
            break;
        }
    }
    assert_eq!(rotated_before.len(), TENANTS, "the rotation finished within the attempts");
    assert!(killed_part_way > 0, "no kill landed in the middle of a rotation");
    server.kill_hard();

    vars.remove("APP_ENCRYPTION_KEY_PREVIOUS");
    let server = ServerProcess::start_in(dir.path(), &base_url, &vars).await;
    assert_eq!(verified_pages(&host, &http, &tenants).await, TENANTS, "the new key alone opens every secret");
    server.kill_hard();
    println!("{kind:?}: rotate-key killed part-way {killed_part_way} times, then resumed; {TENANTS} secrets rotated");
}
on_both_databases!(a_key_rotation_killed_part_way_resumes);
