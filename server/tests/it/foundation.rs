//! The foundation: descriptor, health, security headers on every route,
//! request limits, and storage bootstrap on both databases.

use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::{
    on_both_databases,
    support::{app::TestApp, db::DbKind},
};

async fn the_descriptor_has_the_connect_shape(kind: DbKind) {
    let app = TestApp::spawn(kind).await;
    let response = app.http.get(app.url("/atlassian-connect.json")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let first = response.bytes().await.unwrap();
    let second = app.http.get(app.url("/atlassian-connect.json")).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(first, second, "the descriptor must be byte-stable");

    let d: Value = serde_json::from_slice(&first).unwrap();
    assert_eq!(d["baseUrl"], app.base_url.as_str());
    assert_eq!(d["authentication"], serde_json::json!({ "type": "jwt" }));
    assert_eq!(d["apiMigrations"], serde_json::json!({ "signed-install": true, "context-qsh": true }));
    assert_eq!(
        d["lifecycle"],
        serde_json::json!({
            "installed": "/installed", "uninstalled": "/uninstalled", "enabled": "/enabled", "disabled": "/disabled"
        })
    );
    // Least privilege: WRITE and ACT_AS_USER only because "Share to issue" comments as the user.
    assert_eq!(d["scopes"], serde_json::json!(["READ", "WRITE", "ACT_AS_USER"]), "exactly the agreed scopes");
    assert_eq!(d["modules"]["generalPages"][0]["url"], "/app");
    assert_eq!(d["modules"]["adminPages"][0]["url"], "/admin");
}
on_both_databases!(the_descriptor_has_the_connect_shape);

async fn healthz_checks_the_database(kind: DbKind) {
    let app = TestApp::spawn(kind).await;
    let response = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], if kind == DbKind::Sqlite { "sqlite" } else { "postgres" });
}
on_both_databases!(healthz_checks_the_database);

/// Every path the app serves, enumerated from the sources the router is
/// built from: the descriptor, the Leptos route list, the server-function
/// registry, and the fixed routes; plus a static asset and a 404.
fn route_inventory() -> Vec<(reqwest::Method, String)> {
    use server::connect::{
        descriptor::{Descriptor, TEMPLATE},
        lifecycle::LifecycleEvent,
    };
    let descriptor = Descriptor::render(TEMPLATE, "https://x.example").unwrap();
    let mut routes: Vec<(reqwest::Method, String)> = vec![
        (reqwest::Method::GET, "/atlassian-connect.json".into()),
        (reqwest::Method::GET, "/healthz".into()),
        (reqwest::Method::GET, "/pkg/frontend.js".into()),
        (reqwest::Method::GET, "/pkg/frontend.css".into()),
        (reqwest::Method::GET, "/no/such/page".into()),
        (reqwest::Method::GET, "/console".into()),
        (reqwest::Method::GET, "/console/login".into()),
        (reqwest::Method::POST, "/console/logout".into()),
    ];
    routes.extend(LifecycleEvent::ALL.iter().map(|event| (reqwest::Method::POST, event.path().to_string())));
    routes.extend(descriptor.module_paths().into_iter().map(|p| (reqwest::Method::GET, p)));
    routes.extend(app::router::Page::paths().map(|path| (reqwest::Method::GET, path.to_string())));
    for (path, method) in leptos::server_fn::axum::server_fn_paths() {
        routes.push((reqwest::Method::from_bytes(method.as_str().as_bytes()).unwrap(), path.to_string()));
    }
    routes.sort_by(|a, b| a.1.cmp(&b.1));
    routes.dedup();
    routes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_carries_the_security_headers() {
    let app = TestApp::spawn(DbKind::Sqlite).await;
    let routes = route_inventory();
    assert!(routes.len() >= 10, "the inventory found too few routes: {routes:?}");
    for (method, path) in routes {
        let response = app.http.request(method.clone(), app.url(&path)).send().await.unwrap();
        let h = response.headers();
        let what = format!("{method} {path} ({})", response.status());
        assert_eq!(h["strict-transport-security"], "max-age=31536000; includeSubDomains", "{what}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{what}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{what}");
        let cache = h["cache-control"].to_str().unwrap();
        if path.starts_with("/pkg/") {
            assert!(cache.contains("no-cache"), "{what}: {cache}");
        } else {
            assert_eq!(cache, "no-cache, no-store", "{what}");
        }
        let csp = h["content-security-policy"].to_str().unwrap();
        let iframe_page = path == "/app" || path.starts_with("/app/") || path == "/admin";
        if iframe_page {
            assert!(csp.contains("frame-ancestors https://*.atlassian.net https://*.jira.com"), "{what}: {csp}");
            assert!(h.get("x-frame-options").is_none(), "{what}: iframe pages must be frameable");
        } else {
            assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
        }
    }
}

/// Sends `head` and all of `body` before reading a byte, as Node's `fetch`
/// and Java's HTTP client do; returns the status line the server sent.
async fn send_all_then_read(app: &TestApp, head: String, body: &[u8]) -> std::io::Result<String> {
    let mut stream = tokio::net::TcpStream::connect(app.addr).await?;
    stream.write_all(head.as_bytes()).await?;
    for chunk in body.chunks(64 * 1024) {
        stream.write_all(chunk).await?;
    }
    let mut answer = vec![0; 4096];
    let read = tokio::time::timeout(Duration::from_secs(20), stream.read(&mut answer)).await??;
    Ok(String::from_utf8_lossy(&answer[..read]).lines().next().unwrap_or_default().to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_body_is_answered_413_to_a_client_that_sends_it_all_first() {
    let app = TestApp::spawn(DbKind::Sqlite).await;
    let five_mb = vec![b'a'; 5 * 1024 * 1024];
    for path in ["/api/public/app_info", "/installed", "/webhooks/jira-issue-created"] {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            five_mb.len()
        );
        let status = send_all_then_read(&app, head, &five_mb).await;
        let status = status.unwrap_or_else(|e| panic!("{path}: the server cut the upload off: {e}"));
        assert_eq!(status, "HTTP/1.1 413 Payload Too Large", "{path}");
    }
    let health = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200, "and keeps serving");
}

/// The same with Node's own `fetch` (undici), the client that got `EPIPE`
/// instead of the answer when the server closed while it was still sending.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Node: run by cargo xtask test"]
async fn nodes_fetch_reads_the_413_for_an_oversized_body() {
    let app = TestApp::spawn(DbKind::Sqlite).await;
    let script = "const body = Buffer.alloc(5 * 1024 * 1024, 97);\n\
                  const headers = { 'content-type': 'application/json' };\n\
                  fetch(process.argv[1], { method: 'POST', headers, body })\n\
                  .then(async (r) => { await r.text(); console.log(r.status); })\n\
                  .catch((e) => { console.log(`error ${e.cause?.code ?? e.message}`); });";
    for path in ["/api/public/app_info", "/installed", "/webhooks/jira-issue-created"] {
        let node = tokio::process::Command::new("node").arg("-e").arg(script).arg(app.url(path)).output();
        let out = node.await.expect("node runs (cargo xtask test installs it)");
        let printed = String::from_utf8_lossy(&out.stdout);
        assert_eq!(printed.trim(), "413", "{path}: {printed}{}", String::from_utf8_lossy(&out.stderr));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_header_sender_is_cut_off_while_others_are_served() {
    let app = TestApp::builder(DbKind::Sqlite).var("HTTP_HEADER_READ_TIMEOUT_SECS", "1").start().await;
    let mut slow = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let started = Instant::now();

    let health = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200, "a normal request is served meanwhile");

    // Trickle one header byte at a time; the server must close the socket.
    let closed = async {
        let mut buf = [0u8; 512];
        for _ in 0..40 {
            if slow.write_all(b"X").await.is_err() {
                return true;
            }
            match tokio::time::timeout(Duration::from_millis(250), slow.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return true,
                Ok(Ok(_)) => return true, // an error response before closing also ends it
                Err(_) => {}
            }
        }
        false
    }
    .await;
    assert!(closed, "the slow connection was still open after 10 s");
    assert!(started.elapsed() < Duration::from_secs(8));
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run by cargo xtask test"]
async fn two_instances_migrating_an_empty_postgres_at_once_both_come_up() {
    let db = crate::support::db::TestDb::new(DbKind::Postgres).await;
    let start = || async {
        let database = server::store::Database::connect(&db.url).await?;
        database.migrate().await?;
        database.ping().await
    };
    let (a, b) = tokio::join!(start(), start());
    a.unwrap();
    b.unwrap();
}

#[tokio::test]
async fn two_instances_migrating_an_empty_sqlite_file_at_once_both_come_up() {
    let db = crate::support::db::TestDb::new(DbKind::Sqlite).await;
    let start = || async {
        let database = server::store::Database::connect(&db.url).await?;
        database.migrate().await?;
        database.ping().await
    };
    let (a, b) = tokio::join!(start(), start());
    a.unwrap();
    b.unwrap();
}

/// H-02: in-process TLS speaks TLS 1.2 and 1.3 and refuses older versions
/// (openssl's own client tries each, with its security level lowered so the
/// old versions are really offered).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_process_tls_accepts_only_tls_1_2_and_1_3() {
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
    let app = TestApp::builder(DbKind::Sqlite)
        .var("TLS_CERT_FILE", cert_path.display().to_string())
        .var("TLS_KEY_FILE", key_path.display().to_string())
        .start()
        .await;
    let https = reqwest::Client::builder().danger_accept_invalid_certs(true).build().unwrap();
    let health = https.get(format!("https://127.0.0.1:{}/healthz", app.addr.port())).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert!(health.headers().contains_key("strict-transport-security"));

    let port = app.addr.port();
    for (version, accepted) in [("-tls1_3", true), ("-tls1_2", true), ("-tls1_1", false), ("-tls1", false)] {
        let output = tokio::task::spawn_blocking(move || {
            std::process::Command::new("openssl")
                .args([
                    "s_client",
                    "-brief",
                    "-connect",
                    &format!("127.0.0.1:{port}"),
                    version,
                    "-cipher",
                    "DEFAULT:@SECLEVEL=0",
                ])
                .stdin(std::process::Stdio::null())
                .output()
                .expect("openssl is installed by cargo xtask test")
        })
        .await
        .unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        let negotiated = text.contains("Protocol version: TLSv1");
        assert_eq!(negotiated, accepted, "{version}: {text}");
    }
}

/// F-06: a writer that holds SQLite's lock past busy_timeout makes an
/// install answer 503 (Atlassian retries), and nothing is half-stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_install_blocked_by_a_held_sqlite_lock_gets_503_then_succeeds() {
    use sqlx::{Connection, SqliteConnection};
    let app = TestApp::spawn(DbKind::Sqlite).await;
    let tenant = hostkit::Tenant::new(&crate::support::app::jira_site());
    let mut blocker = SqliteConnection::connect(&app.db.url).await.unwrap();
    sqlx::query("BEGIN IMMEDIATE").execute(&mut blocker).await.unwrap();
    let started = Instant::now();
    let response = app.host.install(&tenant).await;
    assert_eq!(response.status(), 503, "a locked database is a retryable failure");
    assert!(started.elapsed() < Duration::from_secs(12));
    sqlx::query("ROLLBACK").execute(&mut blocker).await.unwrap();
    assert!(app.installation(&tenant.client_key).await.is_none(), "nothing stored");
    assert_eq!(app.host.install(&tenant).await.status(), 204, "the retry succeeds");
}

/// The bundle is served under content-hashed names, cached for a year,
/// precompressed by content negotiation; HTML and API answers are never stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the built site: run by cargo xtask test"]
async fn the_bundle_is_hashed_precompressed_and_immutable() {
    let app = TestApp::spawn(DbKind::Sqlite).await;
    let pkg = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/site/pkg");
    let name = std::fs::read_to_string(pkg.join("bundle.txt")).expect("cargo xtask site writes bundle.txt");
    let (_, html) = {
        let tenant = app.installed_tenant().await;
        let page = app.open_page(&tenant, "/app", &[], Some("user-1")).await;
        (page.status, page.html)
    };
    assert!(html.contains(&format!("/pkg/{name}.js")) && html.contains(&format!("/pkg/{name}_bg.wasm")), "{html}");
    // The test client decompresses nothing (reqwest without its gzip/brotli features).
    let plain = &app.http;
    for (file, encoding) in [(format!("{name}_bg.wasm"), "br"), (format!("{name}.js"), "gzip")] {
        let url = app.url(&format!("/pkg/{file}"));
        let response = plain.get(&url).header("accept-encoding", encoding).send().await.unwrap();
        assert_eq!(response.status(), 200, "{file}");
        assert_eq!(response.headers()["content-encoding"], encoding, "{file}");
        assert_eq!(response.headers()["cache-control"], "public, max-age=31536000, immutable", "{file}");
        let ext = if encoding == "br" { "br" } else { "gz" };
        let stored = std::fs::read(pkg.join(format!("{file}.{ext}"))).unwrap();
        assert_eq!(response.bytes().await.unwrap().as_ref(), stored.as_slice(), "{file}: the precompressed copy");
        let identity = plain.get(&url).send().await.unwrap();
        assert!(identity.headers().get("content-encoding").is_none(), "no encoding unless asked");
    }
    let api = app.http.post(app.url("/api/public/app_info")).send().await.unwrap();
    assert_eq!(api.headers()["cache-control"], "no-cache, no-store");
}
