//! The crate's one error type. Variants say what went wrong in terms a caller
//! can act on; `http::error` maps each to a status once, and renders it for
//! the surface it is shown on (JSON, a server function, an iframe page, the
//! operator console). Messages never carry a secret, a token or a raw body.

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("configuration: {0}")]
    Config(String),
    #[error("database: {0}")]
    Database(#[source] sqlx::Error),
    #[error("database migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("bad request: {0}")]
    BadRequest(String),
    /// The request's proof did not verify; the reason is safe to send.
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    #[error("forbidden")]
    Forbidden,
    /// The caller's installation is disabled on its site.
    #[error("the app is disabled on this site")]
    AppDisabled,
    /// A page for site administrators, opened by someone who is not one.
    #[error("not a site administrator")]
    NotAdmin,
    /// The operator console needs a login first.
    #[error("operator login required")]
    LoginRequired,
    #[error("not found")]
    NotFound,
    #[error("payload too large")]
    PayloadTooLarge,
    /// This client's refused requests are over its share; retry after the wait.
    #[error("too many refused requests from this client")]
    TooManyRefusals(std::time::Duration),
    /// The tenant has as many unfinished webhook jobs as it may; Jira retries.
    #[error("this site's webhook backlog is full")]
    BacklogFull,
    #[error("temporarily unavailable: {0}")]
    Unavailable(String),
    /// The tenant's site cannot be asked, and retrying will not help soon
    /// (a tenant born on Forge whose system token has not arrived yet); the
    /// reason is safe to send.
    #[error("the site cannot be asked: {0}")]
    SiteRefused(String),
    #[error("internal: {0}")]
    Internal(String),
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        crate::read_only_alarm::note(&e);
        Self::Database(e)
    }
}

/// An error on an operator-console page: the same [`Error`], shown as the
/// console's HTML page instead of JSON. Console handlers return it, so `?`
/// on any store call renders a console page.
#[derive(Debug)]
pub(crate) struct ConsoleError(pub Error);

impl<E: Into<Error>> From<E> for ConsoleError {
    fn from(e: E) -> Self {
        Self(e.into())
    }
}
