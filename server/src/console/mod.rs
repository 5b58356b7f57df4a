//! The operator console at `/console`: first-party (outside Jira), for the
//! vendor who runs the app. Cookie sessions with tower-sessions on the app's
//! own database (HttpOnly, Secure, SameSite=Strict, `__Host-` name, rotated
//! on login, idle and absolute expiry, destroyed on logout), a CSRF token on
//! every form, a throttled login, argon2 password hashes in configuration.

mod credential;
pub(crate) mod html;
pub(crate) mod login;
mod session;
mod throttle;
pub(crate) mod views;
pub(crate) mod webhook_views;

use tower_sessions::{Expiry, SessionManagerLayer, SessionStore, cookie::SameSite};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

pub use credential::{MIN_PASSWORD_LEN, hash_password};
pub(crate) use session::{Operator, logged_in_operator};
pub(crate) use throttle::LoginThrottle;
/// The networks the login throttle remembers: the flood test must go past it.
#[doc(hidden)]
pub use throttle::MAX_KEYS as LOGIN_THROTTLE_MAX_KEYS;

use crate::{
    config::Config,
    error::Result,
    store::{Database, Pool},
};

const COOKIE_NAME: &str = "__Host-console";

/// The console's cookie session on `store` (the app's own database).
pub(crate) fn sessions<S: SessionStore + Clone>(store: S, config: &Config) -> SessionManagerLayer<S> {
    let idle = tower_sessions::cookie::time::Duration::seconds(config.operator.idle.as_secs() as i64);
    SessionManagerLayer::new(store)
        .with_name(COOKIE_NAME)
        .with_secure(true)
        .with_http_only(true)
        .with_same_site(SameSite::Strict)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(idle))
}

/// Creates the session table (idempotent, retried: instances may start together)
/// and removes expired sessions every minute from then on.
pub(crate) async fn prepare_store(db: &Database) -> Result<()> {
    use tower_sessions::ExpiredDeletion;
    let period = tokio::time::Duration::from_secs(60);
    for attempt in 0..5u64 {
        let migrated = match &db.pool {
            Pool::Sqlite(pool) => SqliteStore::new(pool.clone()).migrate().await,
            Pool::Postgres(pool) => PostgresStore::new(pool.clone()).migrate().await,
        };
        match migrated {
            Ok(()) => break,
            Err(e) if attempt < 4 => {
                tracing::warn!(error = %e, "session store migration retry");
                tokio::time::sleep(std::time::Duration::from_millis(200 * (attempt + 1))).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
    match &db.pool {
        Pool::Sqlite(pool) => drop(tokio::spawn(SqliteStore::new(pool.clone()).continuously_delete_expired(period))),
        Pool::Postgres(pool) => {
            drop(tokio::spawn(PostgresStore::new(pool.clone()).continuously_delete_expired(period)))
        }
    }
    Ok(())
}
