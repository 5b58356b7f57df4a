//! The operator's cookie session (tower-sessions on the app's database):
//! who is logged in, since when, and the CSRF token every form must echo.

use ids::UnixTime;
use secrecy::ExposeSecret;
use tower_sessions::Session;

use sha2::{Digest, Sha256};

use crate::{
    config::OperatorCredential,
    error::{Error, Result},
    secrets::{constant_time_eq, random_hex},
    state::AppState,
};

const OPERATOR: &str = "operator";
const LOGIN_AT: &str = "login_at";
const CSRF: &str = "csrf";
/// A fingerprint of the credential used to log in: changing or removing the
/// operator in configuration ends the sessions made with the old one.
const CREDENTIAL: &str = "credential";

/// A logged-in operator, within the absolute session lifetime: the proof
/// of the console's routes (`http::proof`).
#[derive(Clone)]
pub(crate) struct Operator {
    pub name: String,
    pub csrf: String,
}

/// The logged-in operator, or `LoginRequired`. A session past its absolute
/// lifetime is destroyed (idle expiry is the store's job).
pub(crate) async fn logged_in_operator(session: &Session, state: &AppState) -> Result<Operator> {
    let name: Option<String> = session.get(OPERATOR).await.ok().flatten();
    let login_at: Option<UnixTime> = session.get(LOGIN_AT).await.ok().flatten();
    let csrf: Option<String> = session.get(CSRF).await.ok().flatten();
    let credential: Option<String> = session.get(CREDENTIAL).await.ok().flatten();
    let current = state.config.operator.credential.as_ref().map(fingerprint);
    match (name, login_at, csrf) {
        (Some(name), Some(at), Some(csrf))
            if state.clock.now() - at < state.config.operator.max_session.as_secs() as i64
                && credential.is_some()
                && credential == current =>
        {
            Ok(Operator { name, csrf })
        }
        (Some(_), _, _) => {
            let _ = session.flush().await;
            Err(Error::LoginRequired)
        }
        _ => Err(Error::LoginRequired),
    }
}

/// Starts a fresh session for the operator of `credential`: a new id (no
/// fixation), a new CSRF token.
pub(crate) async fn log_in(session: &Session, credential: &OperatorCredential, now: UnixTime) -> Result<()> {
    let csrf = random_hex(32)?;
    let store = |e: tower_sessions::session::Error| Error::Unavailable(format!("session store: {e}"));
    session.cycle_id().await.map_err(store)?;
    session.insert(OPERATOR, &credential.user).await.map_err(store)?;
    session.insert(CREDENTIAL, fingerprint(credential)).await.map_err(store)?;
    session.insert(LOGIN_AT, now).await.map_err(store)?;
    session.insert(CSRF, csrf).await.map_err(store)
}

/// Ends the session on the server: the cookie's id no longer means anything.
pub(crate) async fn log_out(session: &Session) {
    let _ = session.flush().await;
}

/// Does `presented` equal this session's CSRF token?
pub(crate) async fn csrf_matches(session: &Session, presented: &str) -> bool {
    match session.get::<String>(CSRF).await {
        Ok(Some(expected)) => constant_time_eq(expected.as_bytes(), presented.as_bytes()),
        _ => false,
    }
}

fn fingerprint(credential: &OperatorCredential) -> String {
    let digest =
        Sha256::digest(format!("{}\0{}", credential.user, credential.password_hash.expose_secret()).as_bytes());
    hex::encode(&digest[..16])
}
