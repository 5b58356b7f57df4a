//! Connections at the edges: over the cap (in all, or for one client
//! network) a client reads a quick 503 rather
//! than hanging, a client that stops reading its answers loses its place, and
//! an idle keep-alive connection is closed.

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::support::{app::TestApp, db::DbKind, eventually::within};

const HEALTH: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

/// One request on a new connection; the answer's status line (empty if the
/// connection ended without one).
async fn status_line(addr: SocketAddr, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let _ = stream.write_all(request).await;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "no answer within 5 s: the connection hung");
    let text = String::from_utf8_lossy(&answer).to_string();
    text.lines().next().unwrap_or_default().to_string() + if text.contains("retry-after: 1") { " +retry" } else { "" }
}

/// Whether a new connection is served (not turned away with a 503).
async fn served(addr: SocketAddr) -> bool {
    status_line(addr, HEALTH).await.starts_with("HTTP/1.1 200")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_connection_cap_a_client_reads_a_quick_503_and_a_freed_place_is_served() {
    let app = TestApp::builder(DbKind::Sqlite).var("HTTP_MAX_CONNECTIONS", "2").start().await;
    let holders = [TcpStream::connect(app.addr).await.unwrap(), TcpStream::connect(app.addr).await.unwrap()];
    tokio::time::sleep(Duration::from_millis(200)).await;

    let started = Instant::now();
    assert_eq!(status_line(app.addr, HEALTH).await, "HTTP/1.1 503 Service Unavailable +retry");
    assert!(started.elapsed() < Duration::from_secs(2), "the 503 took {:?}", started.elapsed());

    drop(holders);
    within("closed connections free their places", Duration::from_secs(5), || served(app.addr)).await;
}

/// one client network holds at most `HTTP_MAX_CONNECTIONS_PER_NETWORK`
/// connections, far below the total cap; past it, the same quick 503 (other
/// networks keep theirs: `server/src/http/connection_caps.rs`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_network_holds_only_its_share_of_connections() {
    let app = TestApp::builder(DbKind::Sqlite)
        .var("HTTP_MAX_CONNECTIONS", "100")
        .var("HTTP_MAX_CONNECTIONS_PER_NETWORK", "3")
        .start()
        .await;
    let mut holders = Vec::new();
    for _ in 0..3 {
        holders.push(TcpStream::connect(app.addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(status_line(app.addr, HEALTH).await, "HTTP/1.1 503 Service Unavailable +retry");
    holders.pop();
    within("a closed connection gives its slot back", Duration::from_secs(5), || served(app.addr)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the built site (target/site/pkg, for an answer larger than the socket buffers): run by cargo xtask test"]
async fn a_client_that_stops_reading_its_answers_loses_the_connection_after_the_write_timeout() {
    let app = TestApp::builder(DbKind::Sqlite)
        .var("HTTP_MAX_CONNECTIONS", "1")
        .var("HTTP_WRITE_TIMEOUT_SECS", "1")
        .start()
        .await;
    let pkg = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/site/pkg");
    let name = std::fs::read_to_string(pkg.join("bundle.txt")).expect("cargo xtask site writes bundle.txt");
    // Far more answer than the sockets' buffers hold, asked for and never read.
    let request = format!("GET /pkg/{name}_bg.wasm HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut stalled = TcpStream::connect(app.addr).await.unwrap();
    stalled.write_all(request.repeat(200).as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        status_line(app.addr, HEALTH).await,
        "HTTP/1.1 503 Service Unavailable +retry",
        "the stalled one holds it"
    );

    within("the stalled reader loses its place", Duration::from_secs(8), || served(app.addr)).await;
    drop(stalled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_is_closed() {
    let app = TestApp::builder(DbKind::Sqlite).var("HTTP_HEADER_READ_TIMEOUT_SECS", "1").start().await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = stream.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"), "the first answer");

    // Kept alive, then silent: the server closes it (EOF) within the timeout and some slack.
    let started = Instant::now();
    let mut rest = Vec::new();
    let ended = tokio::time::timeout(Duration::from_secs(6), stream.read_to_end(&mut rest)).await;
    assert!(ended.is_ok(), "the idle connection was still open after 6 s");
    assert!(started.elapsed() >= Duration::from_millis(500), "closed at once, not after idling");
}
