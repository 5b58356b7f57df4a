//! The real `server` binary as a child process, for what only a whole
//! process shows: its log output and its command line.

use std::{
    collections::HashMap,
    path::PathBuf,
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

use super::eventually::within;

pub struct ServerProcess {
    child: Child,
    log: PathBuf,
    _dir: Option<tempfile::TempDir>,
}

/// The environment a test server needs, on a free port and a fresh SQLite file.
pub fn base_env(dir: &std::path::Path) -> (String, HashMap<String, String>) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base_url = format!("http://127.0.0.1:{port}");
    let vars = [
        ("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}")),
        ("APP_BASE_URL", base_url.clone()),
        ("DATABASE_URL", format!("sqlite://{}/app.db", dir.display())),
        ("LEPTOS_SITE_ROOT", concat!(env!("CARGO_MANIFEST_DIR"), "/../target/site").to_string()),
        ("CONNECT_HOST_ALLOWLIST", "https://*.atlassian.net".to_string()),
    ];
    (base_url, vars.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

/// Runs `server <args>` to completion in `dir` with `vars` as its whole
/// configuration, feeding `stdin`.
pub fn run_cli(dir: &std::path::Path, args: &[&str], vars: &HashMap<String, String>, stdin: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_server"))
        .args(args)
        .env_clear()
        .envs(vars)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run server");
    if let Some(mut input) = child.stdin.take() {
        let _ = input.write_all(stdin.as_bytes());
    }
    child.wait_with_output().expect("server output")
}

impl ServerProcess {
    /// Starts `server` and waits until `/healthz` answers.
    pub async fn start(dir: tempfile::TempDir, base_url: String, vars: HashMap<String, String>) -> Self {
        let mut started = Self::start_in(dir.path(), &base_url, &vars).await;
        started._dir = Some(dir);
        started
    }

    /// Starts `server` in `dir`, which outlives it (a restart finds its files).
    pub async fn start_in(dir: &std::path::Path, base_url: &str, vars: &HashMap<String, String>) -> Self {
        let log = dir.join("server.log");
        let out = std::fs::File::create(&log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_server"))
            .env_clear()
            .envs(vars)
            .current_dir(dir)
            .stdout(Stdio::from(out.try_clone().unwrap()))
            .stderr(Stdio::from(out))
            .spawn()
            .expect("start server");
        let (http, health) = (reqwest::Client::new(), format!("{base_url}/healthz"));
        within("the server started", Duration::from_secs(30), || async { http.get(&health).send().await.is_ok() })
            .await;
        Self { child, log, _dir: None }
    }

    /// Stops the server (SIGTERM, so it drains) and returns everything it logged.
    pub fn stop(mut self) -> String {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(25);
        while self.child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl ServerProcess {
    /// `kill -9`: no drain, no shutdown hook.
    pub fn kill_hard(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}
