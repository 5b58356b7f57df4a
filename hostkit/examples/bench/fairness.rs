//! Figures for the flood defences, against the release server: webhook
//! queue throughput with and without a noisy tenant and the quiet tenant's
//! latency behind the noisy one's backlog; and what 1,000 forged installs
//! with made-up kids cost the key server, with a genuine install among them.

use std::time::{Duration, Instant};

use futures::StreamExt;
use hostkit::{Host, Tenant, jwt};

use super::{APP_KEY, server_command, start_server};
use super::{bench_key, drain, meta_token}; // demo

// demo:begin
const PATH: &str = "/webhooks/jira-issue-created";

/// Sends `count` deliveries for `tenant`, 64 at a time, about 50 issues; returns how many were acknowledged.
async fn send(host: &Host, tenant: &Tenant, base_url: &str, prefix: &str, count: usize) -> usize {
    let sends = (0..count).map(|i| {
        let body = hostkit::payload::issue_event("jira:issue_created", &format!("Q-{}", i % 50), "Load", "u");
        let token = tenant.sign(&tenant.claims("POST", PATH, &[], None));
        let request = host.http.post(format!("{base_url}{PATH}")).header("authorization", format!("JWT {token}"));
        let request = request.header("x-atlassian-webhook-identifier", format!("{prefix}-{i}")).json(&body);
        async move { request.send().await.is_ok_and(|r| r.status().is_success()) }
    });
    futures::stream::iter(sends).buffer_unordered(64).filter(|ok| std::future::ready(*ok)).count().await
}

/// How many events the tenant's Activity view lists (its processed deliveries, at most 100).
async fn activity(host: &Host, base_url: &str, token: &str) -> usize {
    let answer =
        host.http.post(format!("{base_url}/api/activity/list")).header("authorization", format!("JWT {token}"));
    let list: serde_json::Value = match answer.send().await {
        Ok(response) => response.json().await.unwrap_or_default(),
        Err(_) => return 0,
    };
    list.as_array().map_or(0, Vec::len)
}

pub async fn queue_bench(bin: &str, dir: &std::path::Path, name: &str, database_url: &str) {
    println!("\n== fair webhook queue on {name}: a quiet tenant beside a noisy one ==");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base_url = format!("http://127.0.0.1:{port}");
    let host = Host::start(&base_url, APP_KEY).await;
    let key = bench_key();
    let env = [("DATABASE_URL", database_url.to_string()), ("APP_ENCRYPTION_KEY", key.clone())];
    let mut server =
        start_server(server_command(bin, dir, port, &base_url, &host.key_server.url(), &env), &base_url).await;
    let (quiet, noisy) = (Tenant::new("https://quiet.atlassian.net"), Tenant::new("https://noisy.atlassian.net"));
    // A tenant with nothing processed yet: its Activity view shows when its one delivery ran.
    let late = Tenant::new("https://late.atlassian.net");
    for tenant in [&quiet, &noisy, &late] {
        assert_eq!(host.install(tenant).await.status(), 204);
    }

    let started = Instant::now();
    let alone = send(&host, &quiet, &base_url, "alone", 2_000).await;
    let drained = drain(bin, database_url, &key, Duration::from_secs(120)).await;
    print_throughput("one tenant alone", alone, started.elapsed(), drained);

    let started = Instant::now();
    let flood = send(&host, &noisy, &base_url, "noisy", 10_000).await;
    let flooded = started.elapsed();
    let page_url = host.page_url(&late, "/app", &[], Some("bench-user"));
    let html = host.http.get(&page_url).send().await.expect("page").text().await.expect("page body");
    let token = meta_token(&html).expect("a session token in the page");
    let sent = Instant::now();
    assert_eq!(send(&host, &late, &base_url, "behind", 1).await, 1, "the quiet tenant's delivery");
    while activity(&host, &base_url, &token).await == 0 && sent.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    println!(
        "another tenant's delivery behind a {flood}-delivery backlog (sent in {:.1} s): \
         processed {:.0} ms after it was sent",
        flooded.as_secs_f64(),
        sent.elapsed().as_secs_f64() * 1000.0
    );
    let drained = drain(bin, database_url, &key, Duration::from_secs(300)).await;
    print_throughput("with the noisy tenant", flood + 1, started.elapsed(), drained);
    let _ = std::process::Command::new("kill").arg("-TERM").arg(server.id().to_string()).status();
    let _ = server.wait();
}
fn print_throughput(what: &str, jobs: usize, wall: Duration, drained: bool) {
    match drained {
        true => println!(
            "queue throughput, {what}: {jobs} jobs received and processed in {:.2} s, {:.0} jobs/s",
            wall.as_secs_f64(),
            jobs as f64 / wall.as_secs_f64()
        ),
        false => println!("queue throughput, {what}: the queue did not drain"),
    }
}
// demo:end

/// An unsigned-looking install signed with a made-up kid, from the proxy's address as Atlassian's.
async fn forged(host: &Host, base_url: &str, kid: &str) -> u16 {
    let tenant = Tenant::new("https://forged.atlassian.net");
    let claims = host.install_claims(&tenant, "installed").to_string();
    let token = jwt::raw(&format!(r#"{{"alg":"RS256","typ":"JWT","kid":"{kid}"}}"#), &claims, None) + "c2ln";
    let request = host.http.post(format!("{base_url}/installed")).header("authorization", format!("JWT {token}"));
    let answer = request.json(&host.body(&tenant, "installed")).send().await;
    answer.map_or(0, |r| r.status().as_u16())
}

pub async fn forged_kids_bench(bin: &str, dir: &std::path::Path) {
    println!(
        "\n== 1,000 forged installs with made-up kids from Atlassian's own address, a genuine install among them =="
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base_url = format!("http://127.0.0.1:{port}");
    let host = Host::start(&base_url, APP_KEY).await;
    let env = [("DATABASE_URL", format!("sqlite://{}/forged.db", dir.display()))];
    let mut server =
        start_server(server_command(bin, dir, port, &base_url, &host.key_server.url(), &env), &base_url).await;
    let run = hostkit::random_hex(4);
    let started = Instant::now();
    let flood = futures::stream::iter((0..1000).map(|i| {
        let (host, base_url, kid) = (&host, &base_url, format!("made-up-{run}-{i}"));
        async move { forged(host, base_url, &kid).await }
    }))
    .buffer_unordered(32)
    .collect::<Vec<u16>>();
    let genuine = async {
        tokio::time::sleep(Duration::from_secs(5)).await;
        let rotated = Host::with_key_server(&base_url, APP_KEY, host.key_server.clone());
        let sent = Instant::now();
        (rotated.install(&Tenant::new("https://genuine.atlassian.net")).await.status().as_u16(), sent.elapsed())
    };
    let (statuses, (status, waited)) = futures::join!(flood, genuine);
    let wall = started.elapsed();
    let refused = statuses.iter().filter(|s| **s == 401 || **s == 429).count();
    println!(
        "forged: {refused} of {} refused in {:.1} s; key server fetches: {} for 1,000 forged kids and 1 genuine",
        statuses.len(),
        wall.as_secs_f64(),
        host.key_server.requests().len()
    );
    println!("genuine install with a new kid, mid-flood: {status} after {:.0} ms", waited.as_secs_f64() * 1000.0);
    let _ = std::process::Command::new("kill").arg("-TERM").arg(server.id().to_string()).status();
    let _ = server.wait();
}
