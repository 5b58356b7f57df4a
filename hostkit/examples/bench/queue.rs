//! `cargo xtask bench queue`: the webhook queue's two rates on one database.
//! Acknowledged: verified deliveries persisted and answered 2xx a second,
//! with 4 workers processing beside them. Processed: jobs a second that 4
//! workers run to the end (the demo handler writes a row for each) from a
//! backlog, with nothing else running; and whether the live run kept up
//! (what was still queued when its load ended).

use std::{
    process::{Child, Command},
    sync::atomic::{AtomicUsize, Ordering},
    time::{Duration, Instant},
};

use hostkit::{Host, Tenant};

use super::{APP_KEY, LOAD_TIME, bench_key, drain, load, server_command, start_server};

const PATH: &str = "/webhooks/jira-issue-created";
const WORKERS: &str = "4";

pub async fn figures(bin: &str, dir: &std::path::Path, name: &str, database_url: &str) {
    println!("\n== webhook queue on {name}: {WORKERS} workers ==");
    let key = bench_key();
    let (acked, left, live) = live_run(bin, dir, database_url, &key).await;
    println!("live: {left} jobs still queued when the load ended; all processed after {live:.2} s");
    let (queued, drained) = backlog_run(bin, dir, database_url, &key).await;
    let processed = queued as f64 / drained.as_secs_f64();
    println!("backlog: {queued} jobs drained in {:.2} s", drained.as_secs_f64());
    println!("queue: acknowledged {acked:.0}/s, processed {processed:.0}/s ({name})");
}

/// Load with workers beside it: acknowledged a second, jobs left at the end
/// of the load, and seconds from its start until the queue was empty.
async fn live_run(bin: &str, dir: &std::path::Path, database_url: &str, key: &str) -> (f64, usize, f64) {
    let (host, mut server, base_url) = start(bin, dir, database_url, key, WORKERS).await;
    let tenant = Tenant::new("https://live.atlassian.net");
    assert_eq!(host.install(&tenant).await.status(), 204);
    let started = Instant::now();
    let acked = send(&host, &tenant, &base_url, "live").await;
    let left = unfinished(bin, database_url, key);
    let drained = drain(bin, database_url, key, Duration::from_secs(300)).await;
    let live = if drained { started.elapsed().as_secs_f64() } else { f64::NAN };
    stop(&mut server);
    (acked as f64 / LOAD_TIME.as_secs_f64(), left, live)
}

/// A backlog queued by an instance that only receives, then drained by
/// one with the workers: how many, and how long the drain took.
async fn backlog_run(bin: &str, dir: &std::path::Path, database_url: &str, key: &str) -> (usize, Duration) {
    let (host, mut receiver, base_url) = start(bin, dir, database_url, key, "0").await;
    let tenant = Tenant::new("https://backlog.atlassian.net");
    assert_eq!(host.install(&tenant).await.status(), 204);
    let queued = send(&host, &tenant, &base_url, "backlog").await;
    stop(&mut receiver);
    let (_host, mut workers, _) = start(bin, dir, database_url, key, WORKERS).await;
    let started = Instant::now();
    let drained = drain(bin, database_url, key, Duration::from_secs(300)).await;
    let took = started.elapsed();
    stop(&mut workers);
    assert!(drained, "the backlog did not drain within 300 s");
    (queued, took)
}

async fn start(
    bin: &str,
    dir: &std::path::Path,
    database_url: &str,
    key: &str,
    workers: &str,
) -> (Host, Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base_url = format!("http://127.0.0.1:{port}");
    let host = Host::start(&base_url, APP_KEY).await;
    let env = [
        ("DATABASE_URL", database_url.to_string()),
        ("APP_ENCRYPTION_KEY", key.to_string()),
        ("WEBHOOK_WORKERS", workers.to_string()),
        // The load queues more than the default per-tenant quota.
        ("WEBHOOK_TENANT_BACKLOG", "10000000".to_string()),
    ];
    let server = start_server(server_command(bin, dir, port, &base_url, &host.key_server.url(), &env), &base_url).await;
    (host, server, base_url)
}

/// Deliveries for LOAD_TIME on 64 connections, about 500 issues; how many were acknowledged.
async fn send(host: &Host, tenant: &Tenant, base_url: &str, prefix: &str) -> usize {
    let next = AtomicUsize::new(0);
    let url = format!("{base_url}{PATH}");
    let acked = load(&host.http, 64, LOAD_TIME, || {
        let n = next.fetch_add(1, Ordering::Relaxed);
        let body = hostkit::payload::issue_event("jira:issue_created", &format!("Q-{}", n % 500), "Load", "u");
        let token = tenant.sign(&tenant.claims("POST", PATH, &[], None));
        host.http
            .post(&url)
            .header("authorization", format!("JWT {token}"))
            .header("x-atlassian-webhook-identifier", format!("{prefix}-{n}"))
            .json(&body)
    })
    .await;
    acked.latencies.len()
}

/// Jobs queued or running, as `server webhooks` counts them.
fn unfinished(bin: &str, database_url: &str, key: &str) -> usize {
    let out = Command::new(bin)
        .arg("webhooks")
        .env("DATABASE_URL", database_url)
        .env("APP_ENCRYPTION_KEY", key)
        .env("RUST_LOG", "warn")
        .output();
    let counts: serde_json::Value =
        out.ok().and_then(|o| serde_json::from_slice(&o.stdout).ok()).unwrap_or(serde_json::Value::Null);
    ["queued", "running"].iter().map(|s| counts[*s].as_u64().unwrap_or(0) as usize).sum()
}

fn stop(server: &mut Child) {
    let _ = Command::new("kill").arg("-TERM").arg(server.id().to_string()).status();
    let _ = server.wait();
}
