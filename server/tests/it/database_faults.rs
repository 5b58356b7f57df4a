//! PostgreSQL going away under load (a restart, a failover): the app answers
//! 503, never 500 and never past the request deadline, tells the truth on
//! `/healthz`, and recovers within 5 s of the database coming back with every
//! acknowledged write kept. The outage is played by a proxy in front of the
//! real test cluster, so the other tests on it are not disturbed; a failover
//! by a primary and a standby of the test's own.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use sqlx::Connection;

use hostkit::Tenant;

use crate::support::{
    app::TestApp,
    cluster_pair::ClusterPair,
    db::DbKind,
    eventually::within,
    fault_proxy::{FaultProxy, cluster_address},
};

const REQUEST_DEADLINE: Duration = Duration::from_secs(5);
/// What a loaded 2-core machine may add to an answer past the server's own
/// deadline (the test's client and the server share the cores).
const SLACK: Duration = Duration::from_secs(3);

/// One note write; its status, how long it took, and its title if it was kept.
async fn write(app: &TestApp, token: &str, title: &str) -> (u16, Duration) {
    let started = Instant::now();
    let (status, _) = app.call_as(token, "/api/notes/create", &[("title", title), ("body", "b")]).await;
    (status, started.elapsed())
}

/// The app on the database `url` names (given the URL of the test's own
/// fresh database), with an installed tenant and a user's session token.
async fn app_on(url: impl FnOnce(&str) -> String + 'static) -> (Arc<TestApp>, Tenant, String) {
    let app = TestApp::builder(DbKind::Postgres)
        .var_from("DATABASE_URL", url)
        .var("HTTP_REQUEST_TIMEOUT_SECS", REQUEST_DEADLINE.as_secs().to_string())
        .start()
        .await;
    let tenant = app.installed_tenant().await;
    let token = app.session_for(&tenant, "user-1").await;
    (Arc::new(app), tenant, token)
}

/// Note writers and page loads until `until`, with every answer and each
/// acknowledged note's title.
struct Traffic {
    answers: Arc<Mutex<Vec<(u16, Duration)>>>,
    kept: Arc<Mutex<Vec<String>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Traffic {
    fn start(app: &Arc<TestApp>, token: &str, tenant: &Tenant, until: Instant) -> Self {
        let (answers, kept) = (Arc::new(Mutex::new(Vec::new())), Arc::new(Mutex::new(Vec::new())));
        let mut tasks: Vec<_> = (0..4)
            .map(|w| {
                let (app, token, answers, kept) = (app.clone(), token.to_string(), answers.clone(), kept.clone());
                tokio::spawn(async move {
                    for i in 0.. {
                        if Instant::now() > until {
                            break;
                        }
                        let title = format!("w{w}-{i}");
                        let (status, took) = write(&app, &token, &title).await;
                        answers.lock().unwrap().push((status, took));
                        if status == 200 {
                            kept.lock().unwrap().push(title);
                        }
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                })
            })
            .collect();
        // And the iframe page, whose proof and render read the database too.
        let (app, page_answers, tenant) = (app.clone(), answers.clone(), tenant.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < until {
                let started = Instant::now();
                let page = app.open_page(&tenant, "/app", &[], Some("user-1")).await;
                page_answers.lock().unwrap().push((page.status, started.elapsed()));
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }));
        Self { answers, kept, tasks }
    }

    /// Waits for the traffic to end and checks what every fault must show:
    /// only 200 or 503, each within the request deadline, and every
    /// acknowledged write in the table. Returns the answers and the 503s.
    async fn finish(self, app: &TestApp) -> (usize, usize) {
        for task in self.tasks {
            task.await.unwrap();
        }
        let answers = self.answers.lock().unwrap().clone();
        let unexpected: Vec<_> = answers.iter().filter(|(s, _)| *s != 200 && *s != 503).collect();
        assert!(unexpected.is_empty(), "only 200 or 503 while the database came and went: {unexpected:?}");
        let refused = answers.iter().filter(|(s, _)| *s == 503).count();
        let slowest = answers.iter().map(|(_, took)| *took).max().unwrap_or_default();
        assert!(slowest <= REQUEST_DEADLINE + SLACK, "an answer took {slowest:?}");
        assert_eq!(app.http.get(app.url("/healthz")).send().await.unwrap().status(), 200, "healthy again");
        let mut db = sqlx::PgConnection::connect(app.database_url()).await.unwrap();
        let stored: Vec<String> = sqlx::query_scalar("SELECT title FROM notes").fetch_all(&mut db).await.unwrap();
        let lost: Vec<_> = self.kept.lock().unwrap().iter().filter(|t| !stored.contains(t)).cloned().collect();
        assert!(lost.is_empty(), "acknowledged writes lost: {lost:?}");
        (answers.len(), refused)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run by cargo xtask test"]
async fn a_database_outage_under_load_gets_503s_then_recovers_without_losing_writes() {
    let cluster = cluster_address();
    let proxy = FaultProxy::start(cluster).await;
    let (from, to) = (cluster.to_string(), proxy.addr.to_string());
    let (app, tenant, token) = app_on(move |fresh| fresh.replacen(&from, &to, 1)).await;
    let traffic = Traffic::start(&app, &token, &tenant, Instant::now() + Duration::from_secs(6));

    tokio::time::sleep(Duration::from_secs(1)).await;
    proxy.down();
    tokio::time::sleep(Duration::from_millis(700)).await;
    let health = app.http.get(app.url("/healthz")).send().await.unwrap().status().as_u16();
    assert_eq!(health, 503, "/healthz while the database is down");
    tokio::time::sleep(Duration::from_millis(1300)).await;
    proxy.up();
    let recovered = until_writes_work(&app, &token, Duration::from_secs(10)).await;
    assert!(recovered < Duration::from_secs(5), "writes were refused {recovered:?} after the database came back");
    let (answers, refused) = traffic.finish(&app).await;
    assert!(refused > 0, "the outage was seen: {answers} answers");
    println!("outage: {answers} answers ({refused} of them 503), writes refused {recovered:?} after it");
}

/// A real restart (`pg_ctl restart -m fast`) of a server of the test's own
/// under the same traffic: its sessions are ended, new ones refused until it
/// is back, and writes work again within 5 s of that.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run by cargo xtask test"]
async fn a_real_postgresql_restart_under_load_answers_only_200_or_503_and_loses_no_write() {
    let server = ClusterPair::start_primary();
    let primary = server.primary;
    let (app, tenant, token) = app_on(move |_| format!("postgres://app@{primary}/app")).await;
    let traffic = Traffic::start(&app, &token, &tenant, Instant::now() + Duration::from_secs(5));

    tokio::time::sleep(Duration::from_secs(1)).await;
    let restarted = Instant::now();
    let server = tokio::task::spawn_blocking(move || server.restart_primary()).await.unwrap();
    let down_for = restarted.elapsed();
    let recovered = until_writes_work(&app, &token, Duration::from_secs(10)).await;
    assert!(recovered < Duration::from_secs(5), "writes were refused {recovered:?} after the restart");
    let (answers, refused) = traffic.finish(&app).await;
    drop(server);
    println!(
        "restart: took {down_for:?}; {answers} answers ({refused} of them 503); writes refused {recovered:?} after"
    );
}

/// Polls a note write until it is answered 200; how long writes were still
/// refused: from the call to the start of the last write answered 503 (zero
/// if the first worked). Counted from a write's start, so a write the
/// machine slows down cannot lengthen it. Every answer on the way must be
/// 503, within the request deadline.
async fn until_writes_work(app: &TestApp, token: &str, within: Duration) -> Duration {
    let started = Instant::now();
    let mut refused_until = Duration::ZERO;
    for i in 0.. {
        let sent = started.elapsed();
        let (status, took) = write(app, token, &format!("after-{i}")).await;
        if status == 200 {
            return refused_until;
        }
        refused_until = sent;
        assert_eq!(status, 503, "a write while the database is not writable");
        assert!(took <= REQUEST_DEADLINE + SLACK, "a write took {took:?}");
        assert!(started.elapsed() < within, "writes did not work again within {within:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    unreachable!()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run by cargo xtask test"]
async fn a_read_only_database_server_is_refused_until_it_takes_writes_again() {
    let app = TestApp::spawn(DbKind::Postgres).await;
    let tenant = app.installed_tenant().await;
    let token = app.session_for(&tenant, "user-1").await;
    let name = app.database_url().rsplit('/').next().unwrap().to_string();
    let admin = std::env::var("TEST_POSTGRES_URL").unwrap();
    let mut cluster = sqlx::PgConnection::connect(&admin).await.unwrap();

    // A failover onto a server that takes no writes: every session ends, and new ones are read-only.
    let read_only = format!("ALTER DATABASE {name} SET default_transaction_read_only = on");
    sqlx::query(&read_only).execute(&mut cluster).await.unwrap();
    let kick = format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'");
    sqlx::query(&kick).execute(&mut cluster).await.unwrap();
    // Each waits out the pool's 5 s for a writable connection, then gets 503.
    for i in 0..2 {
        let (status, took) = write(&app, &token, &format!("refused-{i}")).await;
        assert_eq!(status, 503, "a write against a read-only server");
        assert!(took <= REQUEST_DEADLINE + SLACK, "a refused write took {took:?}");
    }
    let health = app.http.get(app.url("/healthz")).send().await.unwrap().status();
    assert_eq!(health, 503, "/healthz says a read-only server is not healthy");

    let writable = format!("ALTER DATABASE {name} RESET default_transaction_read_only");
    sqlx::query(&writable).execute(&mut cluster).await.unwrap();
    let recovered = until_writes_work(&app, &token, Duration::from_secs(10)).await;
    assert!(recovered < Duration::from_secs(5), "writes were refused {recovered:?} after the server took writes");
    assert_eq!(app.http.get(app.url("/healthz")).send().await.unwrap().status(), 200);
    println!("read-only server: writes refused {recovered:?} after it took writes");
}

/// The titles of the notes stored on the server at `at`; none while a
/// standby has not yet replayed the schema (the table is not there yet).
async fn titles_on(at: SocketAddr) -> Vec<String> {
    let mut db = sqlx::PgConnection::connect(&format!("postgres://app@{at}/app")).await.unwrap();
    sqlx::query_scalar("SELECT title FROM notes").fetch_all(&mut db).await.unwrap_or_default()
}

/// A failover in which the old primary turns read-only in place, its sessions
/// alive, while the address the app connects to moves to the promoted
/// standby: the pool replaces its connections to the old server, so writes
/// work again within 5 s, and every later write lands on the new primary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run by cargo xtask test"]
async fn a_primary_that_turns_read_only_in_place_is_left_for_the_promoted_standby() {
    let pair = ClusterPair::start();
    let proxy = FaultProxy::start(pair.primary).await;
    let url = format!("postgres://app@{}/app", proxy.addr);
    let app = TestApp::builder(DbKind::Postgres).var("DATABASE_URL", url).start().await;
    let tenant = app.installed_tenant().await;
    let token = app.session_for(&tenant, "user-1").await;
    // Concurrent writes leave several pooled connections open to the primary.
    let before: Vec<String> = (0..8).map(|i| format!("before-{i}")).collect();
    for (status, _) in futures::future::join_all(before.iter().map(|t| write(&app, &token, t))).await {
        assert_eq!(status, 200, "a write before the failover");
    }
    let replayed = || async { titles_on(pair.standby).await.len() >= before.len() };
    within("the standby replayed the writes", Duration::from_secs(10), replayed).await;

    pair.sql(pair.primary, "ALTER SYSTEM SET default_transaction_read_only = on").await;
    pair.sql(pair.primary, "SELECT pg_reload_conf()").await;
    pair.promote_standby();
    proxy.switch(pair.standby);
    let recovered = until_writes_work(&app, &token, Duration::from_secs(10)).await;
    assert!(recovered < Duration::from_secs(5), "writes were refused {recovered:?} after the failover");
    let after: Vec<String> = (0..24).map(|i| format!("after-{i}")).collect();
    for (i, (status, _)) in
        futures::future::join_all(after.iter().map(|t| write(&app, &token, t))).await.iter().enumerate()
    {
        assert_eq!(*status, 200, "write {i} after the failover: no connection is left on the old primary");
    }
    assert_eq!(app.http.get(app.url("/healthz")).send().await.unwrap().status(), 200);
    let (on_new, on_old) = (titles_on(pair.standby).await, titles_on(pair.primary).await);
    assert!(after.iter().all(|t| on_new.contains(t) && !on_old.contains(t)), "later writes are on the new primary");
    assert!(before.iter().all(|t| on_new.contains(t)), "the new primary has the writes from before");
    println!("failover with the old primary read-only in place: writes refused {recovered:?} after it");
}
