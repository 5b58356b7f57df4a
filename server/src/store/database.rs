//! Opening the pool for either database, running the embedded migrations and
//! the health probe. The database value also carries this instance's cache of
//! installation rows, so every write through it can invalidate the cache.

use std::{
    str::FromStr,
    sync::{Arc, LazyLock},
    time::Duration,
};

use sqlx::{
    PgConnection, PgPool, SqlitePool,
    migrate::Migrator,
    postgres::PgPoolOptions,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

use super::installation_cache::InstallationCache;
use crate::{error::Result, read_only_alarm};

/// The house's migrations. A vendor's run after them in the same table, so
/// each set ignores the versions the other applied.
static SQLITE_MIGRATIONS: LazyLock<Migrator> = LazyLock::new(|| beside_others(sqlx::migrate!("../migrations/sqlite")));
static POSTGRES_MIGRATIONS: LazyLock<Migrator> =
    LazyLock::new(|| beside_others(sqlx::migrate!("../migrations/postgres")));
/// A vendor's migration versions start here, clear of the house's.
pub const VENDOR_VERSIONS_FROM: i64 = 10_000;

/// How long a request may wait for a pooled connection before it gets a 503.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long after a write refused as read-only each PostgreSQL connection is
/// checked before it is handed out (`read_only_alarm`).
const READ_ONLY_CHECK_WINDOW: Duration = Duration::from_secs(2);
/// How long SQLite waits on another writer's lock before reporting busy.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A vendor's migrations for each database: `sqlx::migrate!("migrations/sqlite")`
/// and `sqlx::migrate!("migrations/postgres")` in the vendor's crate.
pub struct VendorMigrations {
    pub sqlite: Migrator,
    pub postgres: Migrator,
}

fn beside_others(mut migrator: Migrator) -> Migrator {
    migrator.set_ignore_missing(true);
    migrator
}

#[derive(Clone, Debug)]
pub struct Database {
    pub pool: Pool,
    pub(crate) installations: Arc<InstallationCache>,
}

#[derive(Clone, Debug)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Database {
    /// Opens a pool for `url` (`sqlite:…` or `postgres://…`).
    pub async fn connect(url: &str) -> Result<Self> {
        let pool = match url.starts_with("sqlite:") {
            true => Self::connect_sqlite(url, 8, SqliteSynchronous::Full).await?,
            false => Self::connect_postgres(url, 16).await?,
        };
        Ok(Self { pool, installations: Arc::default() })
    }

    /// A pool of its own on the same database for the webhook workers, with
    /// this one's installation cache: however many handlers run at once, they
    /// never take the connections that requests (an acknowledgement) need.
    /// SQLite has one writer at a time, so two connections serve them, and
    /// their commits wait for no fsync (NORMAL): a worker's writes (claims,
    /// handler rows, outcomes) are redone if lost. The WAL keeps commits in
    /// order, so power loss takes the newest of them, never an outcome
    /// without the handler's writes before it, and the job runs again as
    /// after a crash; every acknowledgement (FULL) still reaches the disk
    /// before its 2xx, and with it every worker commit before it.
    pub(crate) async fn for_workers(&self, url: &str) -> Result<Self> {
        let pool = match &self.pool {
            // A database in memory is this pool's alone.
            Pool::Sqlite(_) if url.contains(":memory:") || url.contains("mode=memory") => return Ok(self.clone()),
            Pool::Sqlite(_) => Self::connect_sqlite(url, 1, SqliteSynchronous::Normal).await?,
            Pool::Postgres(_) => Self::connect_postgres(url, 8).await?,
        };
        Ok(Self { pool, installations: self.installations.clone() })
    }

    async fn connect_postgres(url: &str, connections: u32) -> Result<Pool> {
        let options = PgPoolOptions::new()
            .max_connections(connections)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .after_connect(|conn, _| Box::pin(refuse_read_only(conn)))
            .before_acquire(|conn, _| Box::pin(keep_unless_read_only(conn)));
        Ok(Pool::Postgres(options.connect(url).await?))
    }

    async fn connect_sqlite(url: &str, connections: u32, synchronous: SqliteSynchronous) -> Result<Pool> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL for requests: a 2xx for an install must survive power loss (threat F-01).
            .synchronous(synchronous)
            .busy_timeout(SQLITE_BUSY_TIMEOUT)
            .foreign_keys(true);
        if let Some(parent) = options.get_filename().parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        // Switching a new file to WAL needs it alone; another instance starting
        // (and migrating) beside this one may hold it: wait and try again.
        let mut attempt = 0;
        loop {
            let pool = SqlitePoolOptions::new()
                .max_connections(connections)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                // A file in this process cannot drop the connection; a ping
                // before each use only cost a round trip to its thread.
                .test_before_acquire(false)
                .connect_with(options.clone())
                .await;
            match pool {
                Ok(pool) => return Ok(Pool::Sqlite(pool)),
                Err(e) if attempt < 10 && is_busy(&e) => {
                    attempt += 1;
                    tracing::warn!(attempt, "sqlite file busy at start; retrying");
                    tokio::time::sleep(Duration::from_millis(100 * attempt)).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Applies the embedded migrations. PostgreSQL serialises concurrent
    /// starts with sqlx's advisory lock; SQLite retries, since a second
    /// process may be midway through the same migrations.
    pub async fn migrate(&self) -> Result<()> {
        self.run_migrations(&SQLITE_MIGRATIONS, &POSTGRES_MIGRATIONS).await?;
        self.refuse_a_newer_schema().await
    }

    /// The house's migrations ignore versions they do not know (a vendor's),
    /// so a database migrated by a newer release is caught here: an older
    /// binary must not run on a schema it does not know.
    async fn refuse_a_newer_schema(&self) -> Result<()> {
        let house = match &self.pool {
            Pool::Sqlite(_) => &*SQLITE_MIGRATIONS,
            Pool::Postgres(_) => &*POSTGRES_MIGRATIONS,
        };
        let sql = "SELECT version FROM _sqlx_migrations WHERE version < $1 ORDER BY version";
        let applied: Vec<i64> = match &self.pool {
            Pool::Sqlite(pool) => sqlx::query_scalar(sql).bind(VENDOR_VERSIONS_FROM).fetch_all(pool).await?,
            Pool::Postgres(pool) => sqlx::query_scalar(sql).bind(VENDOR_VERSIONS_FROM).fetch_all(pool).await?,
        };
        match applied.into_iter().find(|v| !house.iter().any(|m| m.version == *v)) {
            Some(version) => Err(crate::error::Error::Config(format!(
                "the database has migration {version}, which this release does not know: it was migrated by a \
                 newer release; run that one"
            ))),
            None => Ok(()),
        }
    }

    /// Applies a vendor's own migrations, after the house's. Their versions
    /// must be [`VENDOR_VERSIONS_FROM`] or more, so the two never meet.
    pub async fn migrate_vendor(&self, vendor: VendorMigrations) -> Result<()> {
        let low = |m: &Migrator| m.iter().map(|m| m.version).filter(|v| *v < VENDOR_VERSIONS_FROM).min();
        if let Some(version) = low(&vendor.sqlite).or(low(&vendor.postgres)) {
            return Err(crate::error::Error::Config(format!(
                "vendor migration {version} is below {VENDOR_VERSIONS_FROM}: number the vendor's migrations from \
                 there (a timestamp such as 20261207120000 is fine) so they never meet the house's"
            )));
        }
        let (sqlite, postgres) = (beside_others(vendor.sqlite), beside_others(vendor.postgres));
        self.run_migrations(&sqlite, &postgres).await
    }

    async fn run_migrations(&self, sqlite: &Migrator, postgres: &Migrator) -> Result<()> {
        match &self.pool {
            Pool::Postgres(pool) => Ok(postgres.run(pool).await?),
            Pool::Sqlite(pool) => {
                let mut attempt = 0;
                loop {
                    match sqlite.run(pool).await {
                        Ok(()) => return Ok(()),
                        Err(e) if attempt < 5 => {
                            attempt += 1;
                            tracing::warn!(attempt, error = %e, "sqlite migration retry");
                            tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
            }
        }
    }

    /// A round trip to the database, for `/healthz`. On PostgreSQL the server
    /// must also take writes: a read-only one is not healthy.
    pub async fn ping(&self) -> Result<()> {
        match &self.pool {
            Pool::Sqlite(pool) => sqlx::query("SELECT 1").execute(pool).await.map(drop)?,
            Pool::Postgres(pool) => refuse_read_only(&mut *pool.acquire().await?).await?,
        }
        Ok(())
    }

    pub(crate) fn kind(&self) -> &'static str {
        match self.pool {
            Pool::Sqlite(_) => "sqlite",
            Pool::Postgres(_) => "postgres",
        }
    }

    /// Connections the pool holds, and how many of them are idle.
    pub(crate) fn pool_use(&self) -> (u32, u32) {
        on_pool!(self, pool => (pool.size(), u32::try_from(pool.num_idle()).unwrap_or(u32::MAX)))
    }

    pub(crate) async fn close(&self) {
        on_pool!(self, pool => pool.close().await)
    }
}

/// SQLite's "database is locked" (SQLITE_BUSY, 5).
fn is_busy(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.code().as_deref() == Some("5"))
}

/// A pooled connection to a server that turned read-only in place is dropped,
/// so the pool connects again (to wherever the primary now is). Checked only
/// shortly after a write was refused as read-only.
async fn keep_unless_read_only(conn: &mut PgConnection) -> std::result::Result<bool, sqlx::Error> {
    if !read_only_alarm::sounded_within(READ_ONLY_CHECK_WINDOW) {
        return Ok(true);
    }
    if is_read_only(conn).await? {
        // Sounded again: idle connections to the same server are checked too.
        read_only_alarm::sound();
        return Ok(false);
    }
    Ok(true)
}

async fn is_read_only(conn: &mut PgConnection) -> std::result::Result<bool, sqlx::Error> {
    let read_only: String = sqlx::query_scalar("SHOW transaction_read_only").fetch_one(&mut *conn).await?;
    Ok(read_only == "on")
}

/// A new connection to a server that takes no writes (a demoted primary, a
/// standby after a failover, `default_transaction_read_only`) is refused, so
/// the pool only ever hands out connections to the primary; until there is
/// one again, requests get 503.
async fn refuse_read_only(conn: &mut PgConnection) -> std::result::Result<(), sqlx::Error> {
    if is_read_only(conn).await? {
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "the database server is read-only");
        return Err(sqlx::Error::Io(refused));
    }
    Ok(())
}
