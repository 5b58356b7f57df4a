//! `kill -9` of the real server binary in the middle of installs, uninstalls
//! and note writes, 20 times on each database (`SOAK_ITERATIONS` times under
//! `cargo xtask soak`): after each restart every acknowledged write is there
//! and the database is sound (SQLite's integrity check).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

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
    notes: Vec<String>,
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
async fn load(host: &Host, http: &reqwest::Client, base_url: &str, token: &str, done: &Mutex<Acknowledged>) {
    for i in 0.. {
        let tenant = Tenant::new(&jira_site());
        if !lifecycle(host, http, base_url, &tenant, "installed").await {
            return;
        }
        done.lock().unwrap().installed.push(tenant.client_key.clone());
        if i % 2 == 1 && lifecycle(host, http, base_url, &tenant, "uninstalled").await {
            done.lock().unwrap().uninstalled.push(tenant.client_key.clone());
        }
        let title = format!("note-{}", random_hex(6));
        let form = [("title", title.as_str()), ("body", "b")];
        let created = http.post(format!("{base_url}/api/notes/create")).header("authorization", format!("JWT {token}"));
        match created.form(&form).timeout(Duration::from_secs(2)).send().await {
            Ok(r) if r.status() == 200 => done.lock().unwrap().notes.push(title),
            _ => return,
        }
    }
}

/// The installations and their states, and the note titles, as stored.
async fn stored(url: &str) -> (HashMap<String, String>, Vec<String>, String) {
    let db = server::store::Database::connect(url).await.expect("open the database after the crash");
    let (states, notes, check) = match &db.pool {
        server::store::Pool::Sqlite(pool) => (
            sqlx::query_as("SELECT client_key, state FROM installations").fetch_all(pool).await.unwrap(),
            sqlx::query_scalar("SELECT title FROM notes").fetch_all(pool).await.unwrap(),
            sqlx::query_scalar("PRAGMA integrity_check").fetch_one(pool).await.unwrap(),
        ),
        server::store::Pool::Postgres(pool) => (
            sqlx::query_as("SELECT client_key, state FROM installations").fetch_all(pool).await.unwrap(),
            sqlx::query_scalar("SELECT title FROM notes").fetch_all(pool).await.unwrap(),
            "ok".to_string(),
        ),
    };
    (states.into_iter().collect(), notes, check)
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
    let page = http.get(host.page_url(&author, "/app", &[], Some("user-1"))).send().await.unwrap();
    let html = page.text().await.unwrap();
    let token = html.split(r#"<meta name="token" content=""#).nth(1).and_then(|t| t.split('"').next()).unwrap();
    let token = token.to_string();
    let mut server = Some(server);

    let iterations = iterations();
    for iteration in 0..iterations {
        let running = match server.take() {
            Some(first) => first,
            None => ServerProcess::start_in(dir.path(), &base_url, &vars).await,
        };
        let writer = {
            let (host, http, base_url, token, done) = (&host, &http, &base_url, &token, &done);
            async move { load(host, http, base_url, token, done).await }
        };
        let kill = async {
            tokio::time::sleep(Duration::from_millis(100 + 37 * (iteration as u64 % 7))).await;
            running.kill_hard();
        };
        tokio::join!(writer, kill);

        let (states, notes, check) = stored(&db.url).await;
        assert_eq!(check, "ok", "iteration {iteration}: the database file is sound");
        let done = done.lock().unwrap();
        for client_key in &done.installed {
            assert!(states.contains_key(client_key), "iteration {iteration}: acknowledged install {client_key} lost");
        }
        for client_key in &done.uninstalled {
            assert_eq!(states[client_key], "uninstalled", "iteration {iteration}: acknowledged uninstall lost");
        }
        let missing: Vec<_> = done.notes.iter().filter(|t| !notes.contains(t)).collect();
        assert!(missing.is_empty(), "iteration {iteration}: acknowledged notes lost: {missing:?}");
    }
    let done = done.lock().unwrap();
    assert!(done.installed.len() > iterations, "the load did work: {} installs", done.installed.len());
    println!(
        "{kind:?}: {iterations} kill -9s, {} installs, {} uninstalls, {} notes acknowledged, all kept",
        done.installed.len(),
        done.uninstalled.len(),
        done.notes.len()
    );
}
on_both_databases!(every_acknowledged_write_survives_kill_9);
