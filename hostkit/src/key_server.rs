//! A local stand-in for `connect-install-keys.atlassian.com`: serves PEM
//! public keys at `/{kid}` on loopback, records every request it gets, and
//! misbehaves on demand so tests can see the app survive it.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{Router, extract::State, http::StatusCode, http::Uri, response::IntoResponse};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyServerMode {
    /// Serve known keys, 404 for the rest.
    Normal,
    /// Answer 500 to everything.
    Down,
    /// Wait this long before answering normally.
    Slow(Duration),
    /// Answer 200 with 5 MB of data.
    Huge,
    /// Answer 200 with text that is not a PEM key.
    NotPem,
}

#[derive(Default)]
struct Inner {
    keys: HashMap<String, String>,
    mode: Option<KeyServerMode>,
    requests: Vec<String>,
}

#[derive(Clone)]
pub struct KeyServer {
    pub addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
    _task: Arc<tokio::task::JoinHandle<()>>,
}

impl KeyServer {
    pub async fn start() -> Self {
        Self::start_on("127.0.0.1:0").await
    }

    /// As [`KeyServer::start`], on a chosen loopback address.
    pub async fn start_on(addr: &str) -> Self {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = Router::new().fallback(serve_key).with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind(addr).await.expect("bind key server");
        let addr = listener.local_addr().expect("key server address");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, inner, _task: Arc::new(task) }
    }

    /// The base URL to configure as `CONNECT_KEYS_CDN_URL`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn add_key(&self, kid: &str, public_pem: &str) {
        self.lock().keys.insert(kid.to_string(), public_pem.to_string());
    }

    pub fn set_mode(&self, mode: KeyServerMode) {
        self.lock().mode = Some(mode);
    }

    /// Paths requested so far, in order.
    pub fn requests(&self) -> Vec<String> {
        self.lock().requests.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

async fn serve_key(State(inner): State<Arc<Mutex<Inner>>>, uri: Uri) -> axum::response::Response {
    let (mode, key) = {
        let mut guard = inner.lock().unwrap_or_else(|e| e.into_inner());
        guard.requests.push(uri.path().to_string());
        let kid = uri.path().trim_start_matches('/');
        (guard.mode.clone().unwrap_or(KeyServerMode::Normal), guard.keys.get(kid).cloned())
    };
    match mode {
        KeyServerMode::Down => (StatusCode::INTERNAL_SERVER_ERROR, "down").into_response(),
        KeyServerMode::Huge => (StatusCode::OK, vec![b'A'; 5 * 1024 * 1024]).into_response(),
        KeyServerMode::NotPem => (StatusCode::OK, "<html>not a key</html>").into_response(),
        KeyServerMode::Slow(delay) => {
            tokio::time::sleep(delay).await;
            found_or_404(key)
        }
        KeyServerMode::Normal => found_or_404(key),
    }
}

fn found_or_404(key: Option<String>) -> axum::response::Response {
    match key {
        Some(pem) => (StatusCode::OK, pem).into_response(),
        None => (StatusCode::NOT_FOUND, "no such key").into_response(),
    }
}
