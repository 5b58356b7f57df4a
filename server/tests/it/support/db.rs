//! A fresh database per test: a SQLite file in a temporary directory, or a
//! new database in the PostgreSQL cluster named by TEST_POSTGRES_URL.

use sqlx::{Connection, PgConnection};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DbKind {
    Sqlite,
    Postgres,
}

pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub async fn new(kind: DbKind) -> Self {
        match kind {
            DbKind::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}/app.db", dir.path().display());
                Self { url, _dir: Some(dir) }
            }
            DbKind::Postgres => {
                let admin = std::env::var("TEST_POSTGRES_URL")
                    .expect("TEST_POSTGRES_URL is not set: run the tests with `cargo xtask test`");
                let name = format!("t_{}", random_hex(8));
                let mut conn = PgConnection::connect(&admin).await.expect("connect to the test cluster");
                sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.expect("create database");
                let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
                Self { url: format!("{base}/{name}"), _dir: None }
            }
        }
    }
}

pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("random bytes");
    hex::encode(buf)
}
