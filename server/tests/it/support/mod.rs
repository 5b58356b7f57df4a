//! What the behaviour tests share: a spawned app, fresh databases, a browser.

pub mod app;
pub mod app_builder;
pub mod browser;
pub mod cluster_pair; // demo
pub mod db;
pub mod eventually;
pub mod fault_proxy;
pub mod pages;
pub mod process;
pub mod rows;

/// Declares one test per database: `sqlite` runs everywhere, `postgres`
/// needs the cluster `cargo xtask test` starts (TEST_POSTGRES_URL).
#[macro_export]
macro_rules! on_both_databases {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::support::db::DbKind::Sqlite).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[ignore = "needs PostgreSQL: run by cargo xtask test"]
            async fn postgres() {
                super::$name($crate::support::db::DbKind::Postgres).await
            }
        }
    };
}
