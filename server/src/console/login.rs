//! `GET/POST /console/login` and `POST /console/logout`.
//!
//! The login form's CSRF token is stateless (double submit): a random value
//! in a `__Host-` cookie, `SameSite=Strict`, and the same value in the form.
//! No session exists, and no session row is written, before a login succeeds,
//! so cookie-less requests for the form cannot fill the session table.

use std::{net::SocketAddr, sync::Arc};

use axum::{
    Extension, Form,
    extract::{ConnectInfo, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use tower_sessions::Session;

use super::{
    Operator, credential, html, session,
    throttle::{LoginThrottle, NotNow},
};
use crate::{
    client_address,
    error::{ConsoleError, Error},
    secrets::{constant_time_eq, random_hex},
    state::AppState,
};

/// The login form's token cookie.
const LOGIN_COOKIE: &str = "__Host-console-login";

pub(crate) async fn form(State(state): State<AppState>, session: Session) -> Result<Response, ConsoleError> {
    if state.config.operator.credential.is_none() {
        return Err(not_configured());
    }
    if session::logged_in_operator(&session, &state).await.is_ok() {
        return Ok(Redirect::to("/console").into_response());
    }
    login_form(StatusCode::OK, None)
}

/// The login page with a fresh token, in the form and in its cookie.
fn login_form(status: StatusCode, error: Option<&str>) -> Result<Response, ConsoleError> {
    let token = random_hex(32)?;
    let cookie = format!("{LOGIN_COOKIE}={token}; Path=/; Max-Age=1800; HttpOnly; Secure; SameSite=Strict");
    let cookie = HeaderValue::from_str(&cookie).map_err(|_| Error::Internal("login cookie".into()))?;
    Ok((status, [(header::SET_COOKIE, cookie)], Html(login_page(&token, error))).into_response())
}

/// Does the form's token equal its cookie's?
fn login_token_matches(headers: &HeaderMap, presented: &str) -> bool {
    let cookies = headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok());
    let mut pairs = cookies.flat_map(|line| line.split(';')).filter_map(|pair| pair.trim().split_once('='));
    pairs.any(|(name, value)| {
        name == LOGIN_COOKIE && !value.is_empty() && constant_time_eq(value.as_bytes(), presented.as_bytes())
    })
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    user: String,
    password: String,
    csrf: String,
}

pub(crate) async fn submit(
    State(state): State<AppState>,
    Extension(throttle): Extension<Arc<LoginThrottle>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    session: Session,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, ConsoleError> {
    let Some(credential) = state.config.operator.credential.clone() else { return Err(not_configured()) };
    if !login_token_matches(&headers, &form.csrf) {
        return Err(Error::Forbidden.into());
    }
    if form.user.len() > 64 {
        return Err(Error::BadRequest("operator names are at most 64 characters".into()).into());
    }
    // Counted per client network (an IPv6 /64 is one; behind a trusted proxy,
    // the address it forwards), whatever names it tries: wrong passwords for
    // a name never lock that operator out from another address.
    let network = client_address::counted(peer.ip(), &headers, &state.config.shares.trusted_proxies);
    let keys = vec![format!("ip:{network}")];
    // argon2 is slow and large on purpose: a few at a time, off the async workers.
    let turn = match throttle.begin(&keys) {
        Ok(turn) => turn,
        Err(NotNow::HeldBack(wait)) => {
            tracing::warn!(ip = %network, "operator login throttled");
            let retry = wait.as_secs().max(1).to_string();
            let page = html::page("Too many attempts", None, "<p>Wait a few minutes, then try again.</p>");
            return Ok((StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, retry)], Html(page)).into_response());
        }
        Err(NotNow::Busy) => {
            tracing::warn!(ip = %network, "operator login refused: too many password checks at once");
            let page = html::page("Busy", None, "<p>Too many logins at once. Try again in a moment.</p>");
            return Ok((StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "1")], Html(page)).into_response());
        }
    };
    let (user, password, checked) = (form.user.clone(), form.password, credential.clone());
    let ok = tokio::task::spawn_blocking(move || credential::verify(&checked, &user, &password)).await.unwrap_or(false);
    drop(turn);
    if !ok {
        tracing::warn!(ip = %peer.ip(), "operator login failed");
        return login_form(StatusCode::UNAUTHORIZED, Some("Wrong name or password."));
    }
    throttle.succeeded(&keys);
    session::log_in(&session, &credential, state.clock.now()).await?;
    tracing::info!(operator = %form.user, "operator logged in");
    let spent = format!("{LOGIN_COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict");
    let spent = HeaderValue::from_str(&spent).map_err(|_| Error::Internal("login cookie".into()))?;
    Ok(([(header::SET_COOKIE, spent)], Redirect::to("/console")).into_response())
}

#[derive(Deserialize)]
pub(crate) struct CsrfForm {
    csrf: String,
}

pub(crate) async fn logout(
    _: Operator,
    session: Session,
    Form(form): Form<CsrfForm>,
) -> Result<Redirect, ConsoleError> {
    if !session::csrf_matches(&session, &form.csrf).await {
        return Err(Error::Forbidden.into());
    }
    session::log_out(&session).await;
    Ok(Redirect::to("/console/login"))
}

fn login_page(csrf: &str, error: Option<&str>) -> String {
    let error =
        error.map(|e| format!(r#"<p class="error" id="login-error">{}</p>"#, html::escape(e))).unwrap_or_default();
    let body = format!(
        r#"{error}<form method="post" action="/console/login" class="card note-form">
<input type="hidden" name="csrf" value="{}">
<label for="user">Operator</label><input id="user" name="user" autocomplete="username" required>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button class="button" id="login">Log in</button></form>"#,
        html::escape(csrf)
    );
    html::page("Operator console", None, &body)
}

fn not_configured() -> ConsoleError {
    tracing::info!("operator console requested but no OPERATOR_USER is configured");
    Error::NotFound.into()
}
