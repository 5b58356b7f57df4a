//! A throwaway PostgreSQL cluster on loopback for the test run: a temporary
//! data directory, a free port, fsync off, stopped and deleted on drop. As
//! root it runs as the `postgres` user the Debian package creates, because
//! the server refuses to run as root.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{Context, Result, bail};

use crate::cmd;

pub fn bin_dir() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop()
}

pub struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    url: String,
}

impl Cluster {
    pub fn start() -> Result<Self> {
        let bin = bin_dir().context("PostgreSQL is not installed (apt-get install postgresql)")?;
        // /tmp, not TMPDIR: the postgres user must be able to reach the folder.
        let dir = PathBuf::from("/tmp").join(format!("connect-app-pg-{}", std::process::id()));
        remove_stale_clusters(&bin);
        std::fs::create_dir_all(&dir)?;
        if cmd::is_root() {
            cmd::status(Command::new("chown").args(["-R", "postgres:postgres"]).arg(&dir))?;
        }
        let port = free_port()?;
        let cluster = Self { bin, dir, url: format!("postgres://app@127.0.0.1:{port}/postgres") };
        // From here on, dropping `cluster` stops and removes whatever was made.
        let data = cluster.dir.join("data");
        let init = ["-D", &s(&data), "-A", "trust", "-U", "app", "--no-sync", "-E", "UTF8", "--no-locale"];
        run_as_owner(&cluster.bin.join("initdb"), &init, &cluster.dir)?;
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300",
            s(&cluster.dir)
        );
        let log = cluster.dir.join("log");
        run_as_owner(
            &cluster.bin.join("pg_ctl"),
            &["-D", &s(&data), "-l", &s(&log), "-w", "-o", &options, "start"],
            &cluster.dir,
        )?;
        eprintln!("xtask: PostgreSQL test cluster on 127.0.0.1:{port}");
        Ok(cluster)
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let _ = run_as_owner(&self.bin.join("pg_ctl"), &["-D", &s(&data), "-m", "fast", "-w", "stop"], &self.dir);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Stops and deletes clusters left by runs that were interrupted (Ctrl-C).
fn remove_stale_clusters(bin: &Path) {
    let Ok(entries) = std::fs::read_dir("/tmp") else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        // A cluster is stale when the xtask process that made it is gone.
        let owner = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix("connect-app-pg-"))
            .map(str::to_string);
        let stale = owner.is_some_and(|pid| !Path::new("/proc").join(pid).exists());
        if stale && path.join("data").exists() {
            let _ = run_as_owner(
                &bin.join("pg_ctl"),
                &["-D", &s(&path.join("data")), "-m", "immediate", "-w", "stop"],
                &path,
            );
        }
        if stale {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

fn run_as_owner(program: &Path, args: &[&str], cwd: &Path) -> Result<()> {
    let mut command = if cmd::is_root() {
        let runuser = ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .unwrap_or("runuser");
        let mut c = Command::new(runuser);
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    };
    command.args(args).current_dir(cwd).stdout(std::process::Stdio::null());
    cmd::status(&mut command).or_else(|e| bail!("{e:#} (PostgreSQL log: {})", cwd.join("log").display()))
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn s(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}
