//! A PostgreSQL primary and its streaming standby, clusters of the test's
//! own, for what the shared test cluster cannot play: a failover (it needs
//! server-wide settings and a promotion) and a real restart. Stopped and removed on drop. As root
//! the servers run as the `postgres` user, which the Debian package creates.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use sqlx::Connection;

pub struct ClusterPair {
    bin: PathBuf,
    dir: PathBuf,
    pub primary: SocketAddr,
    pub standby: SocketAddr,
}

impl ClusterPair {
    /// Starts the primary, then a standby streaming from it, with a database `app` on both.
    pub fn start() -> Self {
        let mut pair = Self::start_primary();
        let port = pair.primary.port().to_string();
        let standby = s(&pair.dir.join("standby"));
        let backup = ["-D", &standby, "-h", "127.0.0.1", "-p", &port, "-U", "app", "-R", "-X", "stream", "-c", "fast"];
        pair.run("pg_basebackup", &backup);
        pair.standby = pair.start_server("standby");
        pair
    }

    /// Only the primary, with a database `app`.
    pub fn start_primary() -> Self {
        let bin = bin_dir();
        remove_stale(&bin);
        let dir = PathBuf::from("/tmp").join(format!("{PREFIX}{}-{}", std::process::id(), random()));
        std::fs::create_dir_all(&dir).unwrap();
        if is_root() {
            assert!(Command::new("chown").args(["-R", "postgres:postgres"]).arg(&dir).status().unwrap().success());
        }
        let mut pair = Self { bin, primary: free_address(), standby: free_address(), dir };
        let primary = s(&pair.dir.join("primary"));
        pair.run("initdb", &["-D", &primary, "-A", "trust", "-U", "app", "--no-sync", "-E", "UTF8", "--no-locale"]);
        pair.primary = pair.start_server("primary");
        pair.run("createdb", &["-h", "127.0.0.1", "-p", &pair.primary.port().to_string(), "-U", "app", "app"]);
        pair
    }

    /// `pg_ctl restart -m fast`: sessions ended, the server down, then up again.
    pub fn restart_primary(self) -> Self {
        self.run("pg_ctl", &["-D", &s(&self.dir.join("primary")), "-m", "fast", "-w", "restart"]);
        self
    }

    /// The standby becomes a primary that takes writes.
    pub fn promote_standby(&self) {
        self.run("pg_ctl", &["-D", &s(&self.dir.join("standby")), "-w", "promote"]);
    }

    /// Runs `sql` in the database `app` on the server at `at`.
    pub async fn sql(&self, at: SocketAddr, sql: &str) {
        let mut db = sqlx::PgConnection::connect(&format!("postgres://app@{at}/app")).await.unwrap();
        sqlx::query(sql).execute(&mut db).await.unwrap();
    }

    /// Starts the cluster `name` on a free port and says which. A port is
    /// free when picked but another test's server may take it before this one
    /// listens, so a failed start tries another port (three in all).
    fn start_server(&self, name: &str) -> SocketAddr {
        let (data, log) = (s(&self.dir.join(name)), s(&self.dir.join(format!("{name}.log"))));
        for _ in 0..3 {
            let at = free_address();
            let options = format!("-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off", at.port(), s(&self.dir));
            let args = ["-D", data.as_str(), "-l", log.as_str(), "-w", "-o", options.as_str(), "start"];
            if self.as_owner("pg_ctl").args(args).status().is_ok_and(|status| status.success()) {
                return at;
            }
        }
        panic!("pg_ctl could not start {name} on three ports; logs in {}", self.dir.display());
    }

    fn run(&self, program: &str, args: &[&str]) {
        let status = self.as_owner(program).args(args).status().unwrap();
        assert!(status.success(), "{program} {args:?} failed; logs in {}", self.dir.display());
    }

    /// `program` from PostgreSQL's bin folder, as the user that owns the clusters.
    fn as_owner(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        let mut command = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        };
        command.current_dir(&self.dir).stdout(Stdio::null());
        command
    }
}

impl Drop for ClusterPair {
    fn drop(&mut self) {
        for name in ["standby", "primary"] {
            let stop = ["-D", &s(&self.dir.join(name)), "-m", "immediate", "-w", "stop"];
            let _ = self.as_owner("pg_ctl").args(stop).stderr(Stdio::null()).status();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

const PREFIX: &str = "connect-app-own-pg-";

/// Stops and removes the clusters of test runs that were killed (no drop ran).
fn remove_stale(bin: &Path) {
    let Ok(entries) = std::fs::read_dir("/tmp") else { return };
    for dir in entries.flatten().map(|e| e.path()) {
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
        let Some(pid) = name.strip_prefix(PREFIX).and_then(|rest| rest.split('-').next()) else { continue };
        if Path::new("/proc").join(pid).exists() {
            continue;
        }
        let stale = ClusterPair { bin: bin.to_path_buf(), dir, primary: free_address(), standby: free_address() };
        drop(stale);
    }
}

fn bin_dir() -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is installed: run the tests with `cargo xtask test`")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop().expect("a PostgreSQL version with initdb")
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|out| out.stdout.starts_with(b"0\n"))
}

fn free_address() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

fn random() -> String {
    crate::support::db::random_hex(4)
}

fn s(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}
