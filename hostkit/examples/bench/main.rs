//! Load figures for the app, on loopback, against the real release binary:
//! `cargo xtask bench` builds everything and runs this.
//!
//! It starts `target/release/server` on a free port with a fresh SQLite
//! database and a local key server, installs tenants through the host test
//! kit, and prints latency percentiles and throughput; then the time from
//! process start to the first 200 on `/healthz`, the fair queue and the
//! flood of forged kids (`fairness`), and the time to hydrated
//! in throttled headless Chromium (`hydration`). Every loop is bounded in
//! count and time.

mod fairness;
mod hydration;
mod queue;

use std::{
    collections::HashMap,
    process::{Child, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use hostkit::{FakeHost, ForgeJwks, Host, Tenant};

const APP_KEY: &str = "rust-connect-app";
/// How long each load phase runs.
const LOAD_TIME: Duration = Duration::from_secs(10);

struct LoadResult {
    latencies: Vec<Duration>,
    errors: usize,
    wall: Duration,
}

impl LoadResult {
    fn print(mut self, name: &str) {
        let ok = self.latencies.len();
        report(&format!("{name}: {ok} ok, {} errors", self.errors), &mut self.latencies, Some(self.wall));
    }
}

/// `connections` workers send requests made by `make` back to back for
/// `duration` (and at most a million in all), timing each.
async fn load<F>(http: &reqwest::Client, connections: usize, duration: Duration, make: F) -> LoadResult
where
    F: Fn() -> reqwest::RequestBuilder + Sync,
{
    let _ = http;
    let started = Instant::now();
    let deadline = started + duration;
    let workers = (0..connections).map(|_| async {
        let mut latencies = Vec::new();
        let mut errors = 0;
        while Instant::now() < deadline && latencies.len() < 1_000_000 / connections {
            let sent = Instant::now();
            match make().send().await {
                Ok(r) if r.status().is_success() => {
                    let _ = r.bytes().await;
                    latencies.push(sent.elapsed());
                }
                _ => errors += 1,
            }
        }
        (latencies, errors)
    });
    let results = futures::future::join_all(workers).await;
    let wall = started.elapsed();
    let errors = results.iter().map(|(_, e)| e).sum();
    LoadResult { latencies: results.into_iter().flat_map(|(l, _)| l).collect(), errors, wall }
}

fn meta_token(html: &str) -> Option<String> {
    let marker = r#"<meta name="token" content=""#;
    let start = html.find(marker)? + marker.len();
    Some(html[start..start + html[start..].find('"')?].to_string())
}

/// The hydration bundle as the browser downloads it: raw, and the gzip and
/// brotli copies the server sends by content negotiation.
fn bundle_sizes() {
    let pkg = std::path::Path::new("target/site/pkg");
    let name = std::fs::read_to_string(pkg.join("bundle.txt")).unwrap_or_else(|_| "frontend".into());
    let size = |file: String| std::fs::metadata(pkg.join(file)).map(|m| m.len()).unwrap_or(0);
    for file in [format!("{}.js", name.trim()), format!("{}_bg.wasm", name.trim())] {
        let (raw, gz, br) = (size(file.clone()), size(format!("{file}.gz")), size(format!("{file}.br")));
        println!("{file}: {raw} bytes raw, {gz} gzip -9, {br} brotli");
    }
}

#[tokio::main]
async fn main() {
    let server_bin = std::env::args().nth(1).unwrap_or_else(|| "target/release/server".into());
    let dir = std::env::temp_dir().join(format!("connect-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("bench dir");
    if std::env::args().nth(2).as_deref() == Some("queue") {
        for (name, url) in databases(&dir) {
            queue::figures(&server_bin, &dir, name, &url).await;
        }
        let _ = std::fs::remove_dir_all(&dir);
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base_url = format!("http://127.0.0.1:{port}");
    let host = Host::start(&base_url, APP_KEY).await;
    let forge = ForgeJwks::start().await;
    let forge_app = hostkit::forge::app_id();
    let forge_env = [("FORGE_APP_ID", forge_app.clone()), ("FORGE_JWKS_URL", forge.url.clone())];
    let mut server =
        start_server(server_command(&server_bin, &dir, port, &base_url, &host.key_server.url(), &forge_env), &base_url)
            .await;
    let pid = server.id();

    println!("== installs (signed, RS256; key cached after the first) ==");
    let warm = Tenant::new("https://warm.atlassian.net");
    assert_eq!(host.install(&warm).await.status(), 204, "first install failed");
    let mut sequential = Vec::new();
    for i in 0..200 {
        let tenant = Tenant::new(&format!("https://seq-{i}.atlassian.net"));
        let started = Instant::now();
        let status = host.install(&tenant).await.status();
        sequential.push(started.elapsed());
        assert_eq!(status, 204);
    }
    report("sequential installs (200)", &mut sequential, None);
    let tenants: Vec<Tenant> = (0..200).map(|i| Tenant::new(&format!("https://par-{i}.atlassian.net"))).collect();
    let started = Instant::now();
    let timed = tenants.iter().map(|t| async {
        let s = Instant::now();
        let status = host.install(t).await.status();
        (s.elapsed(), status)
    });
    let results = futures::future::join_all(timed).await;
    let wall = started.elapsed();
    assert!(results.iter().all(|(_, s)| *s == 204), "a parallel install failed");
    let mut parallel: Vec<Duration> = results.into_iter().map(|(d, _)| d).collect();
    report("parallel installs (200 at once)", &mut parallel, Some(wall));

    println!("\n== verified iframe page (GET /app?jwt=…: verify, mint a session, render) ==");
    let tenant = Tenant::new("https://bench.atlassian.net");
    assert_eq!(host.install(&tenant).await.status(), 204);
    let page_url = host.page_url(&tenant, "/app", &[("project", "BENCH")], Some("bench-user"));
    let page = load(&host.http, 64, LOAD_TIME, || host.http.get(&page_url)).await;
    page.print("verified page");
    let html = host.http.get(&page_url).send().await.expect("page").text().await.expect("page body");
    let token = meta_token(&html).expect("a session token in the page");

    const CALL: &str = "/api/notes/list"; // no-demo: const CALL: &str = "/api/me/identity";
    println!("\n== server function with a session token (POST {CALL}) ==");
    let list_url = format!("{base_url}{CALL}");
    let call =
        load(&host.http, 64, LOAD_TIME, || host.http.post(&list_url).header("authorization", format!("JWT {token}")))
            .await;
    call.print(CALL);

    println!("\n== server function with a Forge Invocation Token (POST {CALL}, RS256) ==");
    let installation = hostkit::forge::installation_id();
    let forge_tenant =
        Tenant { installation_id: Some(installation.clone()), ..Tenant::new("https://forge.atlassian.net") };
    assert_eq!(host.install(&forge_tenant).await.status(), 204);
    // FITs live 25 s, longer than one load phase.
    let fit = forge.fit("forge-1", &forge_app, &installation, Some("bench-user"));
    let forge_call =
        load(&host.http, 64, LOAD_TIME, || host.http.post(&list_url).header("authorization", format!("Bearer {fit}")))
            .await;
    forge_call.print(&format!("{CALL} with a FIT"));

    println!("\nserver RSS after load: {} KiB", rss_kib(pid).unwrap_or(0));
    bundle_sizes();
    let _ = Command::new("kill").arg("-TERM").arg(pid.to_string()).status();
    let _ = server.wait();

    for (name, url) in databases(&dir) {
        webhook_bench(&server_bin, &dir, name, &url).await;
        fairness::queue_bench(&server_bin, &dir, name, &url).await; // demo
    }
    fairness::forged_kids_bench(&server_bin, &dir).await;
    startup_bench(&server_bin, &dir).await;
    hydration_bench(&server_bin, &dir).await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// The webhook figures' databases: SQLite, and PostgreSQL when `BENCH_POSTGRES_URL` names one.
fn databases(dir: &std::path::Path) -> Vec<(&'static str, String)> {
    let mut databases = vec![("SQLite", format!("sqlite://{}/webhooks.db", dir.display()))];
    databases.extend(std::env::var("BENCH_POSTGRES_URL").ok().map(|url| ("PostgreSQL", url)));
    databases
}

/// Process start to the first 200 on `/healthz`, on a database whose
/// migrations are already applied (the bench database of the first phase).
async fn startup_bench(bin: &str, dir: &std::path::Path) {
    println!("\n== start: process start to the first 200 on /healthz (migrations already applied) ==");
    let http = reqwest::Client::new();
    let mut samples = Vec::new();
    for _ in 0..5 {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let base_url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        let mut child = server_command(bin, dir, port, &base_url, "http://127.0.0.1:9", &[]).spawn().expect("start");
        loop {
            let answer = http.get(format!("{base_url}/healthz")).send().await;
            if answer.is_ok_and(|r| r.status() == 200) {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(30), "the server did not start");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        samples.push(started.elapsed());
        let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
        let _ = child.wait();
    }
    report("process start to healthy (5 starts)", &mut samples, None);
}

/// The general page in the fake host's frame, in throttled Chromium.
async fn hydration_bench(bin: &str, dir: &std::path::Path) {
    println!("\n== time to hydrated: /app in the fake host's frame, Chromium at 10 Mbit/s and 40 ms ==");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base_url = format!("http://127.0.0.1:{port}");
    let host = Arc::new(Host::start(&base_url, APP_KEY).await);
    let fake = FakeHost::start(host.clone()).await;
    let env = [
        ("CONNECT_ALL_JS_URL", format!("{}/all.js", fake.url)),
        ("CONNECT_HOST_ALLOWLIST", "http://localhost:*,https://*.atlassian.net".to_string()),
        ("CONNECT_FRAME_ANCESTORS", "https://*.atlassian.net http://localhost:*".to_string()),
        ("DATABASE_URL", format!("sqlite://{}/hydration.db", dir.display())),
    ];
    let mut server =
        start_server(server_command(bin, dir, port, &base_url, &host.key_server.url(), &env), &base_url).await;
    let tenant = fake.add_site("acme", "jira");
    fake.add_user("acme", "user-1", "Uma User", false);
    assert_eq!(host.install(&tenant).await.status(), 204, "install for the hydration bench");
    let browser = hydration::Browser::start(dir.join("chromium-profile")).await;
    browser.throttle().await;
    hydration::measure(&browser, &fake.host_page_url("acme", "/app", "user-1")).await;
    browser.close().await;
    let _ = Command::new("kill").arg("-TERM").arg(server.id().to_string()).status();
    let _ = server.wait();
}

/// Verified webhook deliveries: acknowledged (persisted, then 204) under
/// load, and processed by the server's workers until the queue drains.
async fn webhook_bench(bin: &str, dir: &std::path::Path, name: &str, database_url: &str) {
    println!("\n== webhook deliveries on {name} (POST /webhooks/jira-issue-created, JWT with qsh) ==");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base_url = format!("http://127.0.0.1:{port}");
    let host = Host::start(&base_url, APP_KEY).await;
    let key = bench_key();
    let env = [("DATABASE_URL", database_url.to_string()), ("APP_ENCRYPTION_KEY", key.clone())];
    let mut server =
        start_server(server_command(bin, dir, port, &base_url, &host.key_server.url(), &env), &base_url).await;
    let tenant = Tenant::new("https://hooks.atlassian.net");
    assert_eq!(host.install(&tenant).await.status(), 204);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let path = "/webhooks/jira-issue-created";
    let url = format!("{base_url}{path}");
    let started = Instant::now();
    let acked = load(&host.http, 64, LOAD_TIME, || {
        let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let body = hostkit::payload::issue_event("jira:issue_created", &format!("BENCH-{}", n % 500), "Load", "u");
        let token = tenant.sign(&tenant.claims("POST", path, &[], None));
        host.http
            .post(&url)
            .header("authorization", format!("JWT {token}"))
            .header("x-atlassian-webhook-identifier", format!("bench-{n}"))
            .json(&body)
    })
    .await;
    let delivered = acked.latencies.len();
    acked.print("acknowledged (2xx)");
    let drained = drain(bin, database_url, &key, Duration::from_secs(120)).await;
    let wall = started.elapsed();
    match drained {
        true => println!(
            "processed: {delivered} jobs in {:.2} s, {:.0} jobs/s",
            wall.as_secs_f64(),
            delivered as f64 / wall.as_secs_f64()
        ),
        false => println!("processed: the queue did not drain within 120 s"),
    }
    let _ = Command::new("kill").arg("-TERM").arg(server.id().to_string()).status();
    let _ = server.wait();
}

/// Waits until `server webhooks` reports nothing queued or running.
async fn drain(bin: &str, database_url: &str, key: &str, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        let out = Command::new(bin)
            .arg("webhooks")
            .env("DATABASE_URL", database_url)
            .env("APP_ENCRYPTION_KEY", key)
            .env("RUST_LOG", "warn")
            .output();
        let counts: serde_json::Value =
            out.ok().and_then(|o| serde_json::from_slice(&o.stdout).ok()).unwrap_or(serde_json::Value::Null);
        if counts.is_object() && counts["queued"].is_null() && counts["running"].is_null() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

/// Runs `command` (from [`server_command`]) and waits until `/healthz` answers.
async fn start_server(mut command: Command, base_url: &str) -> Child {
    let child = command.spawn().expect("start the server binary");
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while http.get(format!("{base_url}/healthz")).send().await.is_err() {
        assert!(Instant::now() < deadline, "the server did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child
}

fn server_command(
    bin: &str,
    dir: &std::path::Path,
    port: u16,
    base_url: &str,
    keys: &str,
    extra: &[(&'static str, String)],
) -> Command {
    let mut vars: HashMap<&str, String> = [
        ("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}")),
        ("APP_BASE_URL", base_url.to_string()),
        ("DATABASE_URL", format!("sqlite://{}/bench.db", dir.display())),
        ("CONNECT_KEYS_CDN_URL", keys.to_string()),
        ("APP_ENCRYPTION_KEY", bench_key()),
        ("RUST_LOG", "warn".to_string()),
    ]
    .into_iter()
    .collect();
    vars.extend(extra.iter().cloned());
    let mut command = Command::new(bin);
    command.envs(&vars).stdout(Stdio::null()).stderr(Stdio::inherit());
    command
}

fn report(name: &str, samples: &mut [Duration], wall: Option<Duration>) {
    samples.sort();
    let pct = |p: f64| samples[((samples.len() as f64 - 1.0) * p).round() as usize];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    print!("{name}: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms", ms(pct(0.5)), ms(pct(0.99)), ms(pct(1.0)));
    if let Some(wall) = wall {
        print!(", {:.0} req/s over {:.2} s", samples.len() as f64 / wall.as_secs_f64(), wall.as_secs_f64());
    }
    println!();
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()
}

/// One throwaway encryption key for the bench's databases, the same for
/// every start, so a restarted server opens what the last one sealed.
fn bench_key() -> String {
    use base64::Engine;
    static KEY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let key = KEY.get_or_init(|| {
        let bytes = hex::decode(hostkit::random_hex(32)).expect("hex");
        base64::engine::general_purpose::STANDARD.encode(bytes)
    });
    key.clone()
}
